"""helix primers: pairs from a code set, every figure re-checked with primer3-py."""

import argparse

import numpy as np
import primer3
import pytest

from helix_media import primers
from helix_media.codesets import distances, pack
from helix_media.constraints import Constraints, motif_hits
from helix_media.errors import HelixError
from helix_media.nucleotides import GC_BASE, from_string, reverse_complement

HELIX_PRIMER = "TAAGCCACGCTTGTGATGAC"


@pytest.fixture(scope="module")
def proposed():
    return primers.propose_pairs(
        pairs=4, distance=9, pool=1200, seconds=0.5, seed=3, avoid=(HELIX_PRIMER,)
    )


def test_pairs_pass_primer3(proposed):
    pairs, set_size = proposed
    lim = primers.Limits()
    assert len(pairs) == 4 and set_size >= 8
    for p in pairs:
        f, r = p.forward.seq, p.reverse.seq
        for s in (f, r):
            assert lim.tm_min <= primer3.calc_tm(s) <= lim.tm_max
            assert primer3.calc_hairpin(s).dg / 1000 >= lim.hairpin_dg
            assert primer3.calc_homodimer(s).dg / 1000 >= lim.dimer_dg
        assert primer3.calc_heterodimer(f, r).dg / 1000 >= lim.dimer_dg
        assert abs(primer3.calc_tm(f) - primer3.calc_tm(r)) <= lim.max_tm_diff


def test_primers_form_a_code_set_away_from_reverse_complements(proposed):
    pairs, _ = proposed
    seqs = [s for p in pairs for s in (p.forward.seq, p.reverse.seq)]
    w = np.stack([from_string(s) for s in seqs])
    assert (GC_BASE[w].sum(axis=1) == 10).all() and (w[:, 1:] != w[:, :-1]).all()
    assert (motif_hits(w, Constraints().motifs) == 0).all()
    codes, rc = pack(w), pack(reverse_complement(w))
    d = distances(codes[:, None], codes[None, :], 20)
    drc = distances(codes[:, None], rc[None, :], 20)
    off = ~np.eye(len(w), dtype=bool)
    assert d[off].min() >= 9 and drc.min() >= 9
    helix = from_string(HELIX_PRIMER)
    for h in (helix, reverse_complement(helix)):  # --avoid kept the helix primer's distance
        assert distances(codes, pack(h[None])[0], 20).min() >= 9


def test_cli(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    primers.add_arguments(parser)
    out = tmp_path / "pairs.tsv"
    args = parser.parse_args(
        ["--pairs", "2", "--pool", "800", "--seconds", "0.3", "--distance", "9", "--out", str(out)]
    )
    assert primers.run(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("2 primer pairs from a code set of")
    rows = out.read_text().splitlines()
    assert rows[0].startswith("forward\treverse\ttm_f") and len(rows) == 3
    with pytest.raises(HelixError, match="tm-min"):
        primers.run(parser.parse_args(["--tm-min", "70", "--tm-max", "60"]))
    with pytest.raises(HelixError, match="no primer pair"):
        primers.run(parser.parse_args(["--tm-min", "90", "--tm-max", "95", "--pool", "200"]))
