"""LT code (robust soliton, peeling + Gaussian elimination) of the fountain framers."""

import numpy as np
import pytest
from helix_media_builtins.framers import lt_code


def test_robust_soliton_is_a_distribution():
    for k in (1, 2, 7, 100, 5000):
        cdf = lt_code.robust_soliton(k)
        assert np.all(np.diff(cdf) >= 0) and cdf[-1] == pytest.approx(1.0)
        assert len(cdf) <= k
    assert lt_code.mean_degree(1000) > 10  # DNA Fountain's c, delta: few uncovered blocks


def test_neighbours_are_distinct_deterministic_and_in_range():
    seeds = np.arange(5000, dtype=np.uint64)
    nb = lt_code.neighbours(seeds, 300)
    assert np.array_equal(nb, lt_code.neighbours(seeds, 300))
    valid = nb >= 0
    assert valid[:, 0].all() and nb.max() < 300
    srt = np.sort(np.where(valid, nb, -np.arange(1, nb.shape[1] + 1)), axis=1)
    assert (srt[:, 1:] != srt[:, :-1]).all()  # no block twice in a droplet
    # salt changes the droplets (groups of the hidden-address framer differ)
    assert not np.array_equal(nb, lt_code.neighbours(seeds, 300, salt=1))


@pytest.mark.parametrize("k", [1, 3, 40, 2000])
def test_decode_recovers_every_source(k):
    rng = np.random.default_rng(k)
    src = rng.integers(0, 2**63, (k, 3), dtype=np.uint64)
    seeds = rng.choice(2**31, lt_code.droplets_needed(k, 0.3) + 8, replace=False).astype(np.uint64)
    res = lt_code.decode(seeds, lt_code.encode(src, seeds), k)
    assert res.known.all()
    np.testing.assert_array_equal(res.blocks, src)


def test_elimination_finishes_what_peeling_cannot():
    k = 400
    rng = np.random.default_rng(1)
    src = rng.integers(0, 2**63, (k, 2), dtype=np.uint64)
    seeds = np.arange(int(k * 1.1), dtype=np.uint64)
    res = lt_code.decode(seeds, lt_code.encode(src, seeds), k)
    assert res.peeled < k and res.known.all()  # peeling stalls; GF(2) elimination solves it
    np.testing.assert_array_equal(res.blocks, src)


def test_too_few_droplets_give_only_correct_blocks():
    k = 500
    rng = np.random.default_rng(2)
    src = rng.integers(0, 2**63, (k, 1), dtype=np.uint64)
    seeds = np.arange(300, dtype=np.uint64)
    res = lt_code.decode(seeds, lt_code.encode(src, seeds), k)
    assert not res.known.all()
    np.testing.assert_array_equal(res.blocks[res.known], src[res.known])
