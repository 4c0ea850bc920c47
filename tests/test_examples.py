"""The examples run as users run them: as scripts, on a small clip."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def small_clip(tmp_path):
    """20 frames of a moving gradient, 64x48 at 24 fps, written with plain PyAV."""
    path = tmp_path / "small.mp4"
    y, x = np.mgrid[0:48, 0:64]
    with av.open(str(path), "w") as c:
        stream = c.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(20):
            img = np.stack([(x * 4 + i * 6) % 256, (y * 5) % 256, (x + y) % 256], -1)
            frame = av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            c.mux(stream.encode(frame.reformat(format="yuv420p")))
        c.mux(stream.encode(None))
    return path


def _run(script: str, *args: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pyav_loop(small_clip):
    out = _run("pyav_loop.py", small_clip)
    assert "GOP 0: frames 0-15" in out and "GOP 1: frames 16-19" in out
    assert "20 frames, 2 packets" in out


def test_mux_to_mp4(small_clip, tmp_path):
    target = tmp_path / "out" / "round_trip.mp4"
    out = _run("mux_to_mp4.py", small_clip, target)
    assert "20 frames" in out
    with av.open(str(target)) as c:
        stream = c.streams.video[0]
        assert stream.average_rate == 24
        assert sum(1 for _ in c.decode(stream)) == 20


@pytest.mark.slow
def test_a_pyav_pipeline_writes_dna_and_another_reads_it(small_clip, tmp_path):
    dna = tmp_path / "clip.dnapkt"
    assert "strands for 20 frames (bitstream)" in _run("write_dna.py", small_clip, dna)
    back = tmp_path / "back.mp4"
    assert "20 frames 64x48" in _run("read_dna.py", dna, back)
    with av.open(str(back)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 20
