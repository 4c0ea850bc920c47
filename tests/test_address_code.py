"""The helix framer's addresses: distance-3 code, inside the constraints, one error corrected."""

import numpy as np
import pytest
from helix_media_builtins.framers import address_code

from helix_media import plugins
from helix_media.dna.constraints import check


@pytest.fixture(scope="module")
def code():
    return plugins.get_framer("helix").address_code


def test_check_matrix_columns_pairwise_independent():
    h = address_code.H
    for i in range(16):
        for j in range(i + 1, 16):
            for e in (1, 2, 3):  # column j is no multiple of column i
                assert not (address_code.gf4_mul(h[:, i], np.uint8(e)) == h[:, j]).all()


def test_minimum_distance_three(code):
    idx = np.arange(3000)
    words = code.encode(idx, np.zeros(3000, bool))
    assert len({w.tobytes() for w in words}) == 3000
    for start in range(0, 3000, 500):
        d = (words[start : start + 500, None, :] != words[None, :, :]).sum(axis=2)
        d[np.arange(len(d)), np.arange(start, start + len(d))] = 99
        assert d.min() >= 3


def test_addresses_obey_constraints_after_the_primer(code):
    idx = np.arange(5000)
    for meta in (False, True):
        words = code.encode(idx, np.full(5000, meta))
        gc = words.__ge__(1) & words.__le__(2)  # C=1, G=2
        assert ((gc.sum(axis=1) >= 7) & (gc.sum(axis=1) <= 9)).all()
        with_primer = np.concatenate([np.tile(code.context, (5000, 1)), words], axis=1)
        report = check(with_primer, code.constraints)
        assert report.max_homopolymer.max() <= 3
        own = check(code.context[None], code.constraints).motif_hits[0]
        assert (report.motif_hits == own).all()


def test_roundtrip_and_single_substitution_corrected(code):
    rng = np.random.default_rng(0)
    idx = rng.choice(100_000, 2000, replace=False)
    meta = rng.random(2000) < 0.2
    words = code.encode(idx, meta)
    got, got_meta, corrected = code.decode(words)
    np.testing.assert_array_equal(got, idx)
    np.testing.assert_array_equal(got_meta, meta)
    assert (corrected == 0).all()
    damaged = words.copy()
    pos = rng.integers(0, 16, 2000)
    damaged[np.arange(2000), pos] ^= rng.integers(1, 4, 2000).astype(np.uint8)
    got, got_meta, corrected = code.decode(damaged)
    np.testing.assert_array_equal(got, idx)
    np.testing.assert_array_equal(got_meta, meta)
    assert (corrected == 1).all()


def test_invalid_words_are_rejected(code):
    aaaa = np.zeros((1, 16), dtype=np.uint8)  # all-A: a codeword of the linear code, invalid
    index, _, _ = code.decode(aaaa)
    assert index[0] == -1
