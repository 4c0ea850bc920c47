"""EORS-style code sets: distance, GC and run rules; sizes against the paper; the CLI hooks."""

import argparse
import itertools

import numpy as np
import pytest

from helix_media.cli import codes as codes_cli
from helix_media.design import codesets
from helix_media.dna.nucleotides import GC_BASE
from helix_media.errors import HelixError


def test_valid_words_follow_the_rules():
    for n in range(1, 9):
        w = codesets.valid_words(n)
        assert (GC_BASE[w].sum(axis=1) == n // 2).all()
        assert (w[:, 1:] != w[:, :-1]).all()
        brute = [
            p
            for p in itertools.product(range(4), repeat=n)
            if all(a != b for a, b in itertools.pairwise(p)) and sum(GC_BASE[list(p)]) == n // 2
        ]
        assert len(w) == len(brute)


def test_distances_match_a_direct_count():
    w = codesets.valid_words(7)
    rng = np.random.default_rng(0)
    a, b = w[rng.integers(len(w), size=500)], w[rng.integers(len(w), size=500)]
    d = codesets.distances(codesets.pack(a), codesets.pack(b))
    np.testing.assert_array_equal(d, (a != b).sum(axis=1))


@pytest.mark.parametrize("n,d", [(4, 3), (6, 3), (6, 4), (7, 6), (8, 4)])
@pytest.mark.slow
def test_sets_are_valid_and_at_least_the_papers(n, d):
    words = codesets.build_code_set(n, d, seconds=1.0, seed=1)
    assert codesets.min_distance(words) >= d
    assert (GC_BASE[words].sum(axis=1) == n // 2).all()
    assert (words[:, 1:] != words[:, :-1]).all()
    assert len({w.tobytes() for w in words}) == len(words)
    assert len(words) >= codesets.PAPER_TABLE1[(n, d)][1]


def test_odd_length_full_distance_allows_only_three_words():
    """The paper's 4 for N = D = 9 is impossible under its own GC rule (bound: 3)."""
    assert codesets.upper_bound(9, 9) == 3 < codesets.PAPER_TABLE1[(9, 9)][1]
    # exhaustive check of the argument on N = D = 5: no 4 words differ everywhere
    w = codesets.valid_words(5)
    codes = codesets.pack(w)
    far = codesets.distances(codes[:, None], codes[None, :]) == 5
    best = max(
        (len(c) for c in _cliques(far, 4)),
        default=0,
    )
    assert best == 3 == len(codesets.build_code_set(5, 5, seconds=0.5))
    assert len(codesets.build_code_set(8, 8, seconds=0.5)) == 4  # even N: four are possible


def _cliques(adj, limit):
    """All cliques of up to ``limit`` vertices (small graphs only)."""
    n = len(adj)
    stack = [([v], np.flatnonzero(adj[v] & (np.arange(n) > v))) for v in range(n)]
    while stack:
        clique, cand = stack.pop()
        yield clique
        if len(clique) < limit:
            for u in cand:
                stack.append((clique + [u], cand[(cand > u) & adj[u, cand]]))


def test_cli_prints_and_writes(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    codes_cli.add_arguments(parser)
    out = tmp_path / "codes.txt"
    args = parser.parse_args(["--length", "6", "--distance", "4", "--seconds", "0.5"])
    assert codes_cli.run(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{len(lines) - 1} words of length 6") and "EORS 21" in lines[0]
    args = parser.parse_args(["-n", "6", "-d", "4", "--seconds", "0.5", "--out", str(out)])
    assert codes_cli.run(args) == 0
    words = out.read_text().split()
    assert words == lines[1:] and all(len(x) == 6 for x in words)
    with pytest.raises(HelixError, match="distance must be"):
        codes_cli.run(parser.parse_args(["-n", "6", "-d", "7"]))
    with pytest.raises(HelixError, match="word length"):
        codes_cli.run(parser.parse_args(["-n", "40", "-d", "3"]))
