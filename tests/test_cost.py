"""``helix bench cost``: RD curves in real strands, their interpolation, the --quick table."""

from __future__ import annotations

import pytest

from helix_media.benchmarks.cost import REFERENCE, SETTINGS, per_minute, strands_at
from helix_media.cli import bench as bench_cli
from helix_media.cli.bench.cost import main
from helix_media.resources import sample_clip


def test_strands_at_interpolates_in_log_strands_and_never_extrapolates():
    pts = [(40, 100, 24000, 33.0), (30, 400, 96000, 37.0)]  # (CRF, strands, nt, PSNR)
    assert strands_at(pts, 35.0) == pytest.approx(200)  # halfway in log strands
    assert strands_at(pts, 33.0) == pytest.approx(100)
    assert strands_at(pts, 32.9) is None and strands_at(pts, 37.1) is None
    # a point whose PSNR does not rise with its strands is not on the curve
    assert strands_at([*pts, (35, 300, 72000, 32.0)], 35.0) == pytest.approx(200)
    assert strands_at(pts[:1], 33.0) is None


def test_per_minute_scales_by_the_clips_rate():
    from fractions import Fraction

    assert per_minute(480, 48, Fraction(24), 240) == (14400, 14400 * 240)


def test_the_reference_and_the_default_are_in_every_run():
    """1032ac2's default (x265 medium) is the reference; exactly one setting is bitstream's
    current default; both are in --quick."""
    defaults = [s for s in SETTINGS if s.default]
    assert len(defaults) == 1 and defaults[0].quick
    assert SETTINGS[0].name == REFERENCE and SETTINGS[0].quick
    assert SETTINGS[0].options == {"video_codec": "libx265"} and not SETTINGS[0].default
    assert "cost" in bench_cli.available()


@pytest.mark.slow
def test_quick_run_prints_the_tables(capsys):
    assert main(["--quick", "--frames", "8", "--clips", str(sample_clip())]) == 0
    out = capsys.readouterr().out
    assert "| vs reference at 35 dB |" in out
    rows = [line for line in out.splitlines() if line.startswith("| sample.mp4 |")]
    assert any(REFERENCE in r and r.endswith("| +0.0% |") for r in rows)
    assert any("(default)" in r for r in rows)
    assert "encode fps at 640x360" in out
    assert "--target-psnr 35" in out
