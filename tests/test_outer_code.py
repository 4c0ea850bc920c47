"""Outer erasure code across strands: any k of a segment's strands give back its data."""

import numpy as np
import pytest

from helix_media.blocks.outer_code import OuterCode, choose_symbol_bits


def _blocks(n, bits, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (n, bits)).astype(np.uint8)


def test_symbol_size_uses_the_whole_payload():
    assert choose_symbol_bits(300) == 12
    assert choose_symbol_bits(304) in (8, 16)
    code = OuterCode.create(0.1, 301, 10)
    assert code.data_bits == code.symbols * code.symbol_bits <= 301


@pytest.mark.parametrize("n,redundancy,bits", [(5000, 0.1, 300), (700, 0.3, 304), (3, 0.5, 300)])
def test_recovers_up_to_the_parity_count_per_segment(n, redundancy, bits):
    code = OuterCode.create(redundancy, bits, n)
    data = _blocks(n, bits)
    data[:, code.data_bits :] = 0
    parity = code.parity(data)
    assert parity.shape == (code.parity_strands, bits)
    assert sum(s.data_count for s in code.segments()) == n
    assert all(s.data_count + s.parity_count <= 2**code.symbol_bits for s in code.segments())
    rng = np.random.default_rng(1)
    pool = {i: b for i, b in enumerate(np.concatenate([data, parity]))}
    for seg in code.segments():  # lose exactly as many strands as the segment has parity
        members = [*range(seg.data_start, seg.data_start + seg.data_count)]
        members += [*range(seg.parity_start, seg.parity_start + seg.parity_count)]
        for i in rng.choice(members, seg.parity_count, replace=False):
            del pool[int(i)]
    recovered, missing, _ = code.recover(pool)
    assert missing == 0 and recovered > 0
    np.testing.assert_array_equal(np.stack([pool[i] for i in range(n)]), data)


def test_too_many_losses_leave_the_rest_untouched():
    code = OuterCode.create(0.1, 300, 400)
    data = _blocks(400, 300, seed=2)
    pool = {i: b for i, b in enumerate(np.concatenate([data, code.parity(data)]))}
    for i in range(60):  # 60 lost data strands > 40 parity strands
        del pool[i]
    recovered, missing, _ = code.recover(pool)
    assert (recovered, missing) == (0, 60)
    assert all((pool[i] == data[i]).all() for i in range(60, 400))


def test_json_roundtrip_and_validation():
    code = OuterCode.create(0.25, 300, 1234)
    assert OuterCode.from_json(code.to_json()) == code
    with pytest.raises(ValueError):
        OuterCode.create(0.0, 300, 10)


def test_ranges_protect_only_their_strands():
    ranges = ((0, 100, 0.2), (300, 50, 0.1))
    code = OuterCode.create(0.0, 300, 400, ranges)
    assert code.parity_strands == 20 + 5
    assert [(s.data_start, s.data_count) for s in code.segments()] == [(0, 100), (300, 50)]
    data = _blocks(400, 300, seed=3)
    data[:, code.data_bits :] = 0
    parity = code.parity(data)
    pool = {i: b for i, b in enumerate(np.concatenate([data, parity]))}
    for i in [*range(20), *range(300, 305), 150]:  # each range at its limit, one unprotected
        del pool[i]
    assert code.recover(pool) == (25, 1, 0)
    assert all((pool[i] == data[i]).all() for i in range(400) if i != 150)


def test_ranges_json_roundtrip_and_validation():
    code = OuterCode.create(0.0, 300, 400, ((10, 90, 0.25),))
    j = code.to_json()
    assert j["scheme"] == "rs-cauchy-ranges"  # readers of the plain scheme refuse it
    assert OuterCode.from_json(j) == code
    for bad in ([[0, 100, 0.1], [50, 10, 0.1]], [[0, 500, 0.1]], [[0, 10, 0]], [[0, 10]], []):
        with pytest.raises(ValueError):
            OuterCode.from_json({**j, "ranges": bad})


def test_for_streams_uses_the_plain_code_where_all_streams_are_equal():
    spans = {"video": (0, 300), "video.1": (300, 600), "audio": (900, 20)}
    assert OuterCode.for_streams(0.1, {}, spans, 300) == OuterCode.create(0.1, 300, 920)
    assert OuterCode.for_streams(0.0, {"video": 0.1, "video.1": 0.1, "audio": 0.1}, spans, 300) \
        == OuterCode.create(0.1, 300, 920)  # fmt: skip
    assert OuterCode.for_streams(0.0, {}, spans, 300) is None
    base_only = OuterCode.for_streams(0.0, {"video": 0.2}, spans, 300)
    assert base_only.ranges == ((0, 300, 0.2),) and base_only.parity_strands == 60
    more = OuterCode.for_streams(0.05, {"video": 0.2}, spans, 300)
    assert more.ranges == ((0, 300, 0.2), (300, 600, 0.05), (900, 20, 0.05))


def _damaged_pool(code, data, lose, wrong, seed):
    """Data + parity with ``lose`` strands removed and ``wrong`` others given random bit
    errors in their protected bits: (pool, strands removed, strands made wrong)."""
    rng = np.random.default_rng(seed)
    pool = {i: b.copy() for i, b in enumerate(np.concatenate([data, code.parity(data)]))}
    lost = [int(i) for i in rng.choice(len(pool), lose, replace=False)]
    for i in lost:
        del pool[i]
    bad = [int(i) for i in rng.choice(sorted(pool), wrong, replace=False)]
    for i in bad:
        pool[i][rng.choice(code.data_bits, 20, replace=False)] ^= 1
    return pool, lost, bad


@pytest.mark.parametrize("lose,wrong", [(0, 1), (30, 1), (120, 3), (0, 14)])
def test_spare_parity_finds_and_replaces_wrong_blocks(lose, wrong):
    code = OuterCode.create(0.2, 300, 800)  # one segment, 160 parity strands
    data = _blocks(800, 300, seed=4)
    data[:, code.data_bits :] = 0
    pool, lost, bad = _damaged_pool(code, data, lose, wrong, seed=lose + wrong)
    r = code.recover(pool)
    # every wrong data block is found and rebuilt; a wrong parity block only where it is
    # used (the first parity strands of those present are the solution's and the checks)
    assert r.missing == 0 and sum(i < 800 for i in bad) <= r.wrong <= wrong
    assert r.recovered == sum(i < 800 for i in lost + bad)
    np.testing.assert_array_equal(np.stack([pool[i] for i in range(800)]), data)


def test_wrong_blocks_beyond_the_spare_parity_are_left_alone():
    code = OuterCode.create(0.05, 300, 100)  # 5 parity strands: 4 lost, 1 left as a check
    data = _blocks(100, 300, seed=5)
    data[:, code.data_bits :] = 0
    pool = {i: b.copy() for i, b in enumerate(np.concatenate([data, code.parity(data)]))}
    for j in range(4):
        del pool[100 + j]
    pool[7][:20] ^= 1
    r = code.recover(pool)  # the one check sees the error but cannot say where it is
    assert r == (0, 0, 0)
    assert (pool[7] != data[7]).any()
