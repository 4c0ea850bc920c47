"""``helix bench coders``: dispatch, the n/a hook for tokens, and the guarantees in its table."""

import pytest

from helix_media.cli import main

GUARANTEED = ("FSM only", "FSM + fixed Kronecker", "TK-SCONE", "enumerative")


@pytest.mark.slow
def test_bench_coders_table(capsys):
    assert main(["bench", "coders", "--strands", "30", "--no-external"]) == 0
    out = capsys.readouterr().out
    assert "(a) HELIX tokenizer bit tensors: n/a (tokenizer not built yet)" in out
    assert "ROUND TRIP FAILED" not in out
    rows = [line for line in out.splitlines() if line.startswith(GUARANTEED)]
    assert len(rows) >= 5 * len(GUARANTEED)  # every data group that exists, every row
    for line in rows:
        cells = line[26:].split()  # bits/nt, GC dev, max hom, pad %, fallback %, viol %, ...
        assert int(cells[2]) <= 3 and float(cells[5]) == 0.0, line
    assert "Library gain" in out
