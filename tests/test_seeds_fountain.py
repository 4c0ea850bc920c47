"""The fountain framer (DNA Fountain): screened droplets, whole-strand constraints, dropout."""

import numpy as np
import pytest
from screening_helpers import KINDS, assert_all_blocks, blocks, encode_kinds, make_payload

from helix_media import plugins
from helix_media.blocks import layout
from helix_media.channel.damage import damage
from helix_media.dna.constraints import check


@pytest.fixture(scope="module")
def fr():
    return plugins.get_framer("fountain")


@pytest.fixture(scope="module")
def encoded(fr):
    return encode_kinds(fr, 300)


@pytest.mark.parametrize("kind", KINDS)
def test_roundtrip_and_every_strand_obeys_the_constraints(fr, encoded, kind):
    payload, strands = encoded[kind]
    assert strands.shape[1] == fr.strand_length == 240
    assert len(strands) >= 300 * 1.35  # overhead droplets (+ descriptors)
    report = fr.check(strands)
    assert report.ok(fr.constraints).all()
    assert report.gc.min() >= 0.45 and report.gc.max() <= 0.55
    assert report.max_homopolymer.max() <= 3 and report.motif_hits.max() == 0
    # the generic check (primers in place count as hits, nothing else does)
    assert (check(strands, fr.constraints).motif_hits == 2).all()
    assert len({s.tobytes() for s in strands}) == len(strands)  # all distinct molecules
    keys = fr.cluster_keys(strands[:, 20 : fr.cluster_span])  # what reads are clustered by
    assert len(set(keys.tolist())) == len(strands)
    assert_all_blocks(fr.parse(strands, fr.metadata_coder), payload)


@pytest.mark.parametrize("dropout", [0.1, 0.2])
def test_decodes_under_dropout_and_substitutions(fr, encoded, dropout):
    payload, strands = encoded["zero"]
    damaged, _ = damage(strands, dropout=dropout, substitutions=2, seed=3)
    assert_all_blocks(fr.parse(damaged, fr.metadata_coder), payload)


def test_heavy_loss_returns_only_correct_blocks(fr, encoded):
    payload, strands = encoded["random"]
    damaged, _ = damage(strands, dropout=0.6, seed=4)
    parsed = fr.parse(damaged, fr.metadata_coder)
    got = blocks(parsed)
    assert len(got) < 300
    assert all((row == payload[a]).all() for a, row in got.items())


def test_metadata_strands_are_found_in_a_mixed_pool(fr):
    bits = fr.payload_bits(fr.metadata_coder)
    data = make_payload("random", 50, bits, 5)
    m_addr, m_blocks = layout.metadata_blocks({"x": "y" * 300}, bits, fr.address_bits, 3)
    pool = np.concatenate(
        [
            fr.frame(m_addr, m_blocks, fr.metadata_coder),
            fr.frame(np.arange(50), data, fr.metadata_coder),
        ]
    )
    assert fr.check(pool).ok(fr.constraints).all()
    pool = pool[np.random.default_rng(6).permutation(len(pool))]
    parsed = fr.parse(pool, fr.metadata_coder, fr.metadata_coder)
    meta = parsed.ok & fr.is_metadata(parsed.addresses)
    assert sorted(parsed.addresses[meta].tolist()) == sorted(m_addr.tolist())
    recovered = layout.recover_metadata(parsed.addresses[meta], parsed.payload[meta], 23)
    assert recovered == {"x": "y" * 300}
    got = blocks(parsed)
    assert all((got[i] == data[i]).all() for i in range(50))


def test_non_contiguous_addresses_become_plain_strands(fr):
    bits = fr.payload_bits(fr.metadata_coder)
    addresses = np.array([5, 900, 17, 123456])
    payload = make_payload("zero", 4, bits)
    strands = fr.frame(addresses, payload, fr.metadata_coder)
    assert len(strands) == 4 and fr.check(strands).ok(fr.constraints).all()
    parsed = fr.parse(strands, fr.metadata_coder)
    assert sorted(parsed.addresses.tolist()) == sorted(addresses.tolist())


def test_rs_corrects_two_substitutions_and_erasures(fr, encoded):
    payload, strands = encoded["random"]
    damaged = strands.copy()
    damaged[:, [30, 100]] = (damaged[:, [30, 100]] + 1) % 4
    parsed = fr.parse(damaged, fr.metadata_coder)
    assert (parsed.corrected[parsed.ok] >= 0).all()
    assert len(blocks(parsed)) == 300
    erased = np.zeros(strands.shape, bool)
    erased[:, 40:52] = True  # 3 whole RS symbols marked unreliable by consensus
    hit = strands.copy()
    hit[:, 40:52] = 0
    assert len(blocks(fr.parse(hit, fr.metadata_coder, None, erased))) == 300
    erased[:, 52:56] = True  # a 4th: no redundancy left to tell right from wrong
    assert fr.parse(hit, fr.metadata_coder, None, erased).ok.sum() == 0


def test_a_small_archive_survives_the_loss_its_overhead_pays_for(fr):
    """Twenty blocks, a fifth of the droplets lost, ten loss patterns: each decodes (spare
    droplets beyond k, not the overhead share alone, make a small system solvable)."""
    payload = make_payload("random", 20, fr.payload_bits(fr.metadata_coder))
    strands = fr.frame(np.arange(20), payload, fr.metadata_coder)
    for seed in range(10):
        damaged, _ = damage(strands, dropout=0.2, substitutions=1, seed=seed)
        assert_all_blocks(fr.parse(damaged, fr.metadata_coder), payload)


def test_density_is_reported(fr):
    d = fr.density()
    assert d["bits_per_strand"] == 336 and d["strand_nt"] == 240
    assert d["bits_per_nt"] == pytest.approx(336 / 240 / 1.35)
    dna_fountain = plugins.get_framer("fountain", overhead=0.07, nsym=2, body_nt=152)
    assert dna_fountain.density()["bits_per_nt_without_primers"] == pytest.approx(1.57, abs=0.01)


def test_a_miscorrected_droplet_does_not_corrupt_blocks(fr, encoded):
    """An RS miscorrection yields a valid-looking wrong droplet; the consistency check drops
    the doubtful droplets (those RS had to correct) and decodes again."""
    payload, strands = encoded["random"]
    ok, _, headers, raw = fr._read(strands, None)
    i = int(np.flatnonzero(ok & (headers >> 31 == 0))[5])  # a droplet
    wrong = raw[i].copy()
    wrong[:40] ^= 1
    bad = fr._build(headers[i : i + 1], wrong[None])[0]
    bad[[60, 150]] = (bad[[60, 150]] + 1) % 4  # RS corrects these two: doubt 2
    pool = strands.copy()
    pool[i] = bad
    parsed = fr.parse(pool, fr.metadata_coder)
    got = blocks(parsed)
    assert len(got) == 300 and all((got[a] == payload[a]).all() for a in got)
