"""helix primers: pairs from a code set, every figure re-checked with primer3-py."""

import argparse

import numpy as np
import primer3
import pytest

from helix_media.cli import main
from helix_media.cli import primers as primers_cli
from helix_media.design import primers
from helix_media.design.codesets import distances, pack
from helix_media.dna.constraints import Constraints, motif_hits
from helix_media.dna.nucleotides import (
    GC_BASE,
    from_string,
    from_strings,
    reverse_complement,
    to_string,
)
from helix_media.errors import HelixError

HELIX_PRIMER = "TAAGCCACGCTTGTGATGAC"


def _rc(seq: str) -> str:
    return seq[::-1].translate(str.maketrans("ACGT", "TGCA"))


def _end_ok(oligo: str, clamp: int, max_end_gc: int) -> bool:
    """primer3's PRIMER_GC_CLAMP / PRIMER_MAX_END_GC on one primer as ordered, 5'->3'."""
    tail = oligo[len(oligo) - clamp :] if clamp else ""
    return all(c in "GC" for c in tail) and sum(c in "GC" for c in oligo[-5:]) <= max_end_gc


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
        f, ro = p.forward.seq, p.reverse_oligo
        for s in (f, ro):
            assert lim.tm_min <= primer3.calc_tm(s) <= lim.tm_max
        assert abs(primer3.calc_tm(f) - primer3.calc_tm(ro)) <= lim.max_tm_diff


def test_primer3_checks_are_on_the_ordered_oligos(proposed):
    """Hairpin, self-dimer and cross-dimer hold for what is synthesized: the forward word and
    the reverse complement of the reverse word, and the records report exactly those."""
    pairs, _ = proposed
    lim = primers.Limits()
    for p in pairs:
        f, ro = p.forward.seq, p.reverse_oligo
        assert ro == _rc(p.reverse.seq) and (p.forward.oligo, p.reverse.oligo) == (f, ro)
        for rec, oligo in ((p.forward, f), (p.reverse, ro)):
            hairpin = primer3.calc_hairpin(oligo).dg / 1000
            homodimer = primer3.calc_homodimer(oligo).dg / 1000
            assert hairpin >= lim.hairpin_dg and homodimer >= lim.dimer_dg, oligo
            assert rec.hairpin_dg == pytest.approx(hairpin, abs=1e-9)
            assert rec.homodimer_dg == pytest.approx(homodimer, abs=1e-9)
            assert rec.tm == pytest.approx(primer3.calc_tm(oligo), abs=1e-9)
        heterodimer = primer3.calc_heterodimer(f, ro).dg / 1000
        assert heterodimer >= lim.dimer_dg
        assert p.heterodimer_dg == pytest.approx(heterodimer, abs=1e-9)


def test_reverse_role_is_screened_on_the_reverse_complement():
    # as ordered, TGCGATAGCTGAGTACGTCT has a -2.08 kcal/mol hairpin; its strand word passes
    word = _rc("TGCGATAGCTGAGTACGTCT")
    assert primer3.calc_hairpin(word).dg / 1000 >= -2 > primer3.calc_hairpin(_rc(word)).dg / 1000
    lifted = primers.Limits(gc_clamp=0)  # both 3' ends pass; only primer3 tells them apart
    checks = primers.Screen(from_strings([word]), lifted)
    assert [e[0] for e in checks.end_ok] == [True, True]
    assert checks.primer(0, primers.REVERSE) is None
    fwd = checks.primer(0, primers.FORWARD)
    assert fwd is not None and fwd.oligo == fwd.seq == word and checks.usable(0)
    rev = primers.thermo(word, reverse=True)
    assert (rev.seq, rev.oligo) == (word, _rc(word)) and rev.hairpin_dg < -2


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


def test_ordered_primers_have_gc_clamp_and_end_gc_limit(proposed):
    pairs, _ = proposed
    lim = primers.Limits()
    assert (lim.gc_clamp, lim.max_end_gc) == (1, 3)
    for p in pairs:
        # the strand ends in the reverse word; the reverse primer is ordered as its complement
        assert p.reverse_oligo == _rc(p.reverse.seq)
        for oligo in (p.forward.seq, p.reverse_oligo):
            assert oligo[-1] in "GC" and _end_ok(oligo, 1, 3), oligo


def test_roles_match_reference_on_both_strands():
    rng = np.random.default_rng(5)
    words = rng.integers(0, 4, (400, 20)).astype(np.uint8)
    for clamp, k in [(0, 5), (1, 3), (2, 3), (3, 3), (0, 0), (5, 5)]:
        fwd, rev = primers.roles(words, primers.Limits(gc_clamp=clamp, max_end_gc=k))
        seqs = [to_string(w) for w in words]
        assert fwd.tolist() == [_end_ok(s, clamp, k) for s in seqs]
        assert rev.tolist() == [_end_ok(_rc(s), clamp, k) for s in seqs]


def test_gc_clamp_zero_lifts_the_clamp():
    lifted = primers.Limits(gc_clamp=0, max_end_gc=5)
    draw = primers.candidates(20, 1500, np.random.default_rng(2), lifted)
    assert (draw == primers.candidates(20, 1500, np.random.default_rng(2))).all()
    seqs = [to_string(w) for w in draw]
    # words no primer of the default rule could be, in either orientation, are kept
    assert any(s[-1] in "AT" and s[0] in "AT" for s in seqs)
    clamped = primers.candidates(20, 1500, np.random.default_rng(2), primers.Limits())
    assert all(_end_ok(s, 1, 3) or _end_ok(_rc(s), 1, 3) for s in map(to_string, clamped))
    # --gc-clamp 0 alone keeps the end-GC limit
    fwd, rev = primers.roles(draw, primers.Limits(gc_clamp=0))
    assert (fwd == (GC_BASE[draw[:, -5:]].sum(1) <= 3)).all() and (~fwd).any()
    pairs, _ = primers.propose_pairs(pairs=2, distance=9, pool=800, seconds=0.3, limits=lifted)
    assert len(pairs) == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--gc-clamp", "4"], "more than --max-end-gc 3"),
        (["--gc-clamp", "3", "--max-end-gc", "2"], "more than --max-end-gc 2"),
        (["--gc-clamp", "25", "--max-end-gc", "5"], "--gc-clamp must be 0..20"),
        (["--gc-clamp", "9", "--length", "16", "--max-end-gc", "5"], "primer holds 8"),
        (["--gc-clamp", "-1"], "--gc-clamp must be 0..20"),
        (["--max-end-gc", "6"], "--max-end-gc must be 0..5"),
    ],
)
def test_impossible_clamp_is_a_one_line_error(argv, message, capsys):
    assert main(["primers", *argv]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("error: --") and captured.err.count("\n") == 1
    assert message in captured.err
    with pytest.raises(HelixError, match="--gc-clamp"):
        primers.propose_pairs(limits=primers.Limits(gc_clamp=21, max_end_gc=5))


def test_cli(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    primers_cli.add_arguments(parser)
    out = tmp_path / "pairs.tsv"
    args = parser.parse_args(
        ["--pairs", "2", "--pool", "800", "--seconds", "0.3", "--distance", "9", "--out", str(out)]
    )
    assert primers_cli.run(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("2 primer pairs from a code set of")
    assert "GC clamp 1, <= 3 G/C in the last 5" in text.splitlines()[0]
    rows = out.read_text().splitlines()
    head = rows[0].split("\t")
    assert head == [
        "forward",
        "reverse",
        "tm_f",
        "tm_ro",
        "hairpin_f",
        "hairpin_ro",
        "selfdimer_f",
        "selfdimer_ro",
        "dimer_f_ro",
        "reverse_oligo",
    ]
    assert len(rows) == 3 and "_ro: primer3's figures for the forward oligo / reverse_oligo" in text
    for row in rows[1:]:
        col = dict(zip(head, row.split("\t"), strict=True))
        f, ro = col["forward"], col["reverse_oligo"]
        assert ro == _rc(col["reverse"])
        assert _end_ok(f, 1, 3) and _end_ok(ro, 1, 3)
        # the _ro figures are the reverse oligo's, the dimer is forward x reverse oligo
        assert col["hairpin_ro"] == f"{primer3.calc_hairpin(ro).dg / 1000:.2f}"
        assert col["selfdimer_ro"] == f"{primer3.calc_homodimer(ro).dg / 1000:.2f}"
        assert col["dimer_f_ro"] == f"{primer3.calc_heterodimer(f, ro).dg / 1000:.2f}"
    with pytest.raises(HelixError, match="tm-min"):
        primers_cli.run(parser.parse_args(["--tm-min", "70", "--tm-max", "60"]))
    with pytest.raises(HelixError, match="no primer pair"):
        primers_cli.run(parser.parse_args(["--tm-min", "90", "--tm-max", "95", "--pool", "200"]))


def test_a_search_of_fixed_moves_gives_the_same_pairs_however_slow_the_machine(monkeypatch):
    """Pools design their primers this way: a time-bounded search would pick other primers
    (so other strands) on a slower or busier machine."""
    from helix_media.design import codeset_search

    def forward(pairs):
        return [(p.forward.seq, p.reverse.seq) for p in pairs]

    here = forward(primers.propose_pairs(pairs=3, seed=4, moves=200)[0])
    clock = iter(range(0, 10**9, 1000))  # every look at the clock: 1000 s later
    monkeypatch.setattr(codeset_search.time, "monotonic", lambda: next(clock))
    assert forward(primers.propose_pairs(pairs=3, seed=4, moves=200)[0]) == here
