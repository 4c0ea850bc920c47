"""``helix bench memory`` measures every step in its own process and prints a table."""

import pytest

from helix_media.cli import main


@pytest.mark.slow
def test_bench_memory_prints_four_measured_steps(capsys):
    assert main(["bench", "memory", "--minutes", "0.05", "--size", "64x48"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    steps = {r.split("|")[1].strip(): r.split("|")[2:5] for r in rows[1:]}
    assert set(steps) == {
        "encode (default codec)", "simulate reads", "decode from .dnapkt", "decode from reads",
    }  # fmt: skip
    for mb, seconds, status in steps.values():
        assert 20 < float(mb) < 4000 and float(seconds) > 0 and int(status) == 0
