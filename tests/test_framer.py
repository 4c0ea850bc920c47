"""The helix framer: 240-nt strands valid as a whole, RS over nucleotides, strand independence."""

import numpy as np
import pytest
import reedsolo

from helix_media import plugins
from helix_media.dna import rs


@pytest.fixture(scope="module")
def framer():
    return plugins.get_framer("helix")


@pytest.fixture(scope="module")
def coder(framer):
    return plugins.get_coder("enumerative", constraints=framer.constraints)


def _strands(framer, coder, n=300, seed=0):
    rng = np.random.default_rng(seed)
    payload = rng.integers(0, 2, (n, framer.payload_bits(coder))).astype(np.uint8)
    payload[:20] = 0  # all-zero payloads (whitening happens upstream, in the pipeline)
    payload[20:40] = 1
    addresses = rng.choice(20_000, n, replace=False)
    return addresses, payload, framer.frame(addresses, payload, coder)


def test_layout_and_whole_strand_constraints(framer, coder):
    _, _, strands = _strands(framer, coder)
    assert strands.shape[1] == 240 and framer.payload_bits(coder) == 300
    report = framer.check(strands)
    assert report.ok(framer.constraints).all()
    assert report.gc.min() >= 0.45 and report.gc.max() <= 0.55
    assert report.max_homopolymer.max() <= 3 and report.motif_hits.max() == 0


def test_roundtrip(framer, coder):
    addresses, payload, strands = _strands(framer, coder)
    parsed = framer.parse(strands, coder)
    assert parsed.ok.all() and (parsed.corrected == 0).all()
    np.testing.assert_array_equal(parsed.addresses, addresses)
    np.testing.assert_array_equal(parsed.payload, payload)


def test_three_substitutions_anywhere_are_corrected(framer, coder):
    addresses, payload, strands = _strands(framer, coder, n=200, seed=1)
    rng = np.random.default_rng(2)
    damaged = strands.copy()
    for row in damaged:
        pos = rng.choice(240, 3, replace=False)
        row[pos] = (row[pos] + rng.integers(1, 4, 3)) % 4
    parsed = framer.parse(damaged, coder)
    assert parsed.ok.all()
    np.testing.assert_array_equal(parsed.payload, payload)
    np.testing.assert_array_equal(parsed.addresses, addresses)


def test_heavy_damage_fails_only_that_strand(framer, coder):
    addresses, payload, strands = _strands(framer, coder, n=50, seed=3)
    damaged = strands.copy()
    damaged[7, 30:120] = np.random.default_rng(4).integers(0, 4, 90)
    parsed = framer.parse(damaged, coder)
    assert not parsed.ok[7] and parsed.addresses[7] == -1
    others = np.arange(50) != 7
    assert parsed.ok[others].all()
    np.testing.assert_array_equal(parsed.payload[others], payload[others])


def test_vectorized_parity_matches_reedsolo():
    msgs = np.random.default_rng(5).integers(0, 256, (50, 42)).astype(np.uint8)
    codec = reedsolo.RSCodec(6)
    expected = [bytes(codec.encode(bytearray(m.tobytes()))[42:]) for m in msgs]
    assert [p.tobytes() for p in rs.parity(msgs, 6)] == expected


def test_parity_words_have_no_runs_or_sites(framer):
    words = framer.words
    assert len({w.tobytes() for w in words}) == 256
    assert (words[:, 1:] != words[:, :-1]).all()
