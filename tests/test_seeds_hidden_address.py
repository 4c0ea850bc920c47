"""The hidden-address framer: groups, 8 screened 23-nt fragments, no index, RS at the end."""

import numpy as np
import pytest
from helix_media_builtins.framers import hidden_address as ha
from screening_helpers import KINDS, assert_all_blocks, blocks, encode_kinds, make_payload

from helix_media import plugins
from helix_media.blocks import layout
from helix_media.channel.damage import damage
from helix_media.dna.nucleotides import GC_BASE


@pytest.fixture(scope="module")
def fr():
    return plugins.get_framer("hidden-address")


@pytest.fixture(scope="module")
def encoded(fr):
    return encode_kinds(fr, 150)


@pytest.mark.parametrize("kind", KINDS)
def test_roundtrip_constraints_and_local_gc(fr, encoded, kind):
    payload, strands = encoded[kind]
    assert strands.shape[1] == fr.strand_length == 246
    assert fr.check(strands).ok(fr.constraints).all()
    keys = fr.cluster_keys(strands[:, 20 : fr.cluster_span])  # what reads are clustered by
    assert len(set(keys.tolist())) == len(strands)
    frags = strands[:, 20 : 20 + 184].reshape(len(strands), 8, 23)
    gc = GC_BASE[frags].sum(axis=2)
    assert gc.min() >= 11 and gc.max() <= 12  # every fragment is 45-55 % GC on its own
    assert_all_blocks(fr.parse(strands, fr.metadata_coder), payload)


def test_the_address_is_hidden_in_the_fragment_order(fr, encoded):
    """No index field: a strand's group is the hash of its fragments, in the chosen order."""
    _, strands = encoded["random"]
    ok, _, frags = fr._read(strands, None)
    assert ok.all()
    fp = ha.fingerprint(frags)
    sizes = ha.group_sizes(150, fr.group_blocks)
    data = fp != ha.PLAIN_FP
    assert (data.sum(), len(sizes)) == (len(strands) - ha.DESCRIPTOR_COPIES, 3)
    assert set(fp[data].tolist()) == {0, 1, 2}
    # per group: overhead as set, and seeds (droplet ids) unique within the group
    for g, nb in enumerate(sizes):
        rows = frags[fp == g]
        assert len(rows) == np.ceil(nb * 1.5)
        seeds = (rows >> np.uint64(ha.SEG_BITS)).reshape(-1)
        assert len(set(seeds.tolist())) == seeds.size
    # the order matters: swapping two fragments changes the hash (almost always)
    swapped = frags[data][:, [1, 0, 2, 3, 4, 5, 6, 7]]
    assert (ha.fingerprint(swapped) != fp[data]).mean() > 0.99


@pytest.mark.parametrize("dropout", [0.1, 0.2])
def test_decodes_under_dropout_and_substitutions(fr, encoded, dropout):
    payload, strands = encoded["zero"]
    damaged, _ = damage(strands, dropout=dropout, substitutions=2, seed=7)
    assert_all_blocks(fr.parse(damaged, fr.metadata_coder), payload)


def test_metadata_strands_are_found_in_a_mixed_pool(fr):
    data = make_payload("random", 20, 272, 3)
    m_addr, m_blocks = layout.metadata_blocks({"a": list(range(40))}, 272, fr.address_bits, 3)
    pool = np.concatenate(
        [
            fr.frame(m_addr, m_blocks, fr.metadata_coder),
            fr.frame(np.arange(20), data, fr.metadata_coder),
        ]
    )
    assert fr.check(pool).ok(fr.constraints).all()
    parsed = fr.parse(pool[::-1], fr.metadata_coder, fr.metadata_coder)
    meta = parsed.ok & fr.is_metadata(parsed.addresses)
    assert sorted(parsed.addresses[meta].tolist()) == sorted(m_addr.tolist())
    recovered = layout.recover_metadata(
        parsed.addresses[meta], parsed.payload[meta], fr.address_bits
    )
    assert recovered == {"a": list(range(40))}
    got = blocks(parsed)
    assert all((got[i] == data[i]).all() for i in range(20))


def test_paper_setting_one_strand_per_group():
    """As in the paper: each group is one sequence whose 8 fragments decode it exactly."""
    fr = plugins.get_framer("hidden-address", group_blocks=1, overhead=0)
    payload = make_payload("repetitive", 40, 272, 9)
    strands = fr.frame(np.arange(40), payload, fr.metadata_coder)
    assert len(strands) == 40 + ha.DESCRIPTOR_COPIES
    assert fr.check(strands).ok(fr.constraints).all()
    got = blocks(fr.parse(strands, fr.metadata_coder))
    assert all((got[i] == payload[i]).all() for i in range(40))
    assert fr.density()["bits_per_nt"] == pytest.approx(272 / 246)
