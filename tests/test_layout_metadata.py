"""Metadata blobs: HXM2 (raw deflate with the preset dictionary), still reading HXM1 (zlib)."""

import json
import struct
import zlib

import numpy as np
import pytest

from helix_media.blocks import layout
from helix_media.blocks.metadata_dictionary import (
    METADATA_ZDICT_V2,
    METADATA_ZDICT_V2_CRC32,
    METADATA_ZDICT_V2_LEN,
)

BITS, ADDRESS_BITS, COPIES = 300, 25, 3  # the helix framer's metadata strands
PRIMERS = {"primer5": "TAAGCCACGCTTGTGATGAC", "primer3": "GTCGTTAGCATACCAGGAAC"}

HELIX_META = {
    "format": "helix-media",
    "version": 1,
    "writer": "helix-media 0.1.0",
    "codec": "helix",
    "codec_params": {
        "version": 1,
        "gop": 8,
        "mask": 0.6,
        "slice_bytes": 37,
        "models": {
            "encoder": "d7bcde80576f490f",
            "decoder": "6dae11c3527081b3",
            "predictor": "36356e3300adffc1",
            "context": "50f62642b5f4de2e",
        },
    },
    "video": {"width": 320, "height": 240, "fps": [24, 1], "frames": 48},
    "coder": "enumerative",
    "framer": {"name": "helix", **PRIMERS},
    "seed": 0,
    "payload_bits": 300,
    "streams": {
        "video": {
            "first_strand": 0,
            "strands": 96,
            "units": [
                [0, 0, 8, 0, 555, 2807935061],
                [1, 8, 8, 555, 555, 2881299942],
                [2, 16, 8, 1110, 555, 1940389362],
                [3, 24, 8, 1665, 592, 1763231516],
                [4, 32, 8, 2257, 629, 3040987647],
                [5, 40, 8, 2886, 666, 1915094892],
            ],
            "params": {},
            "slice_bytes": 37,
        }
    },
}

BITSTREAM_META = {
    "format": "helix-media",
    "version": 1,
    "writer": "helix-media 0.2.0",
    "codec": "bitstream",
    "codec_params": {
        "version": 1,
        "video_codec": "libx265",
        "extradata": "AAAAAUABDAH//wFgAAADAJAAAAMAAAMAPJWYCQAAAAFCAQEBYAAAAwCQAAADAAADADygFi"
        "AkWWVmkkyuaAgAAAMACAAAAwDIQAAAAAFEAcFytGJA",
        "gop": 16,
        "crf": 26,
        "width": 176,
        "height": 144,
        "coded_width": 176,
        "coded_height": 144,
        "frames": 40,
    },
    "video": {"width": 176, "height": 144, "fps": [25, 1], "frames": 40},
    "coder": "enumerative",
    "framer": {"name": "helix", **PRIMERS},
    "seed": 7,
    "payload_bits": 300,
    "streams": {
        "video": {
            "first_strand": 0,
            "strands": 177,
            "units": [
                [0, 0, 16, 0, 1916, 3815969356],
                [1, 16, 16, 1916, 2967, 2297060274],
                [2, 32, 8, 4883, 1741, 2819712706],
            ],
            "params": {},
            "slice_bytes": 0,
        },
        "audio": {
            "first_strand": 177,
            "strands": 300,
            "units": [[0, 0, 47688, 0, 7012, 123456789], [1, 47688, 30000, 7012, 4321, 42]],
            "params": {
                "codec": "opus",
                "sample_rate": 48000,
                "layout": "mono",
                "source_sample_rate": 44100,
                "bitrate": 32000,
                "frame_size": 960,
                "packets_per_unit": 50,
                "delay": 312,
                "extradata": "T3B1c0hlYWQBATgBRKwAAAAAAA==",
                "samples": 77688,
            },
            "slice_bytes": 0,
        },
    },
    "outer_code": {
        "scheme": "rs-cauchy",
        "redundancy": 0.05,
        "block_bits": 300,
        "data_strands": 477,
        "symbol_bits": 12,
    },
}

ODD_META = {"x": "y" * 300, "ü": ["ß", None, 1.5, -3, True], "nested": {"a": list(range(40))}}


def _hxm1_blocks(meta, copies=COPIES):
    """Addresses and blocks as metadata_blocks wrote them before HXM2 (plain zlib)."""
    body = zlib.compress(json.dumps(meta, separators=(",", ":")).encode(), 9)
    blob = b"HXM1" + struct.pack(">II", len(body), zlib.crc32(body)) + body
    b = layout.bytes_to_blocks(blob, BITS)
    addrs = [
        layout.metadata_address(ADDRESS_BITS, k, c) for k in range(copies) for c in range(len(b))
    ]
    return np.array(addrs, dtype=np.int64), np.tile(b, (copies, 1))


@pytest.mark.parametrize("meta", [HELIX_META, BITSTREAM_META, ODD_META])
def test_round_trip(meta):
    addrs, blocks = layout.metadata_blocks(meta, BITS, ADDRESS_BITS, COPIES)
    assert len(blocks) % COPIES == 0 and blocks.shape[1] == BITS
    copy, chunk = layout.split_metadata_address(ADDRESS_BITS, addrs)
    n = len(blocks) // COPIES
    assert sorted(zip(copy.tolist(), chunk.tolist(), strict=True)) == [
        (k, c) for k in range(COPIES) for c in range(n)
    ]
    blob = layout.blocks_to_bytes(blocks[:n])
    assert blob[:4] == b"HXM2"
    assert layout.recover_metadata(addrs, blocks, ADDRESS_BITS) == meta
    # any order of the strands, and one copy alone, will do
    order = np.random.default_rng(1).permutation(len(addrs))
    assert layout.recover_metadata(addrs[order], blocks[order], ADDRESS_BITS) == meta
    one = copy == 2
    assert layout.recover_metadata(addrs[one], blocks[one], ADDRESS_BITS) == meta


def test_hxm2_body_is_raw_deflate_with_the_dictionary():
    addrs, blocks = layout.metadata_blocks(HELIX_META, BITS, ADDRESS_BITS, 1)
    blob = layout.blocks_to_bytes(blocks)
    length, crc = struct.unpack(">II", blob[4:12])
    body = blob[12 : 12 + length]
    assert zlib.crc32(body) == crc
    d = zlib.decompressobj(-15, zdict=METADATA_ZDICT_V2)
    stored = json.loads(d.decompress(body) + d.flush())
    assert layout.recover_metadata(addrs, blocks, ADDRESS_BITS) == HELIX_META
    if isinstance(stored["streams"]["video"]["units"], dict):  # the compact form was shorter
        stored["streams"]["video"]["units"] = layout.expand_units(
            stored["streams"]["video"]["units"], 37
        )
    assert stored == HELIX_META
    with pytest.raises(zlib.error):
        zlib.decompress(body)


def _table(sizes, durations, crcs, first_index=0, first_pts=0):
    units, pts, offset = [], first_pts, 0
    for k, (n, d, c) in enumerate(zip(sizes, durations, crcs, strict=True)):
        units.append([first_index + k, pts, d, offset, n, c])
        pts, offset = pts + d, offset + n
    return units


@pytest.mark.parametrize(
    "units, slice_bytes, compact",
    [
        (_table([407, 444, 407, 370], [8, 8, 8, 3], [0] * 4), 37, True),  # helix
        (_table([1916, 2967, 1741], [16, 16, 8], [3815969356, 7, 42]), 0, True),  # bitstream
        (_table([7012, 4321], [47688, 30000], [1, 2], first_index=5, first_pts=99), 0, True),
        (_table([74, 40], [8, 8], [0, 0]), 37, False),  # a size that is not whole slices
        ([[0, 0, 8, 0, 74, 0], [2, 8, 8, 74, 74, 0]], 37, False),  # an index left out
        ([[0, 0, 8, 0, 74, 0], [1, 8, 8, 111, 74, 0]], 37, False),  # a gap in the bytes
        ([], 0, False),
    ],
)
def test_packet_tables_are_stored_compactly_and_come_back_whole(units, slice_bytes, compact):
    stored = layout.compact_units(units, slice_bytes)
    assert isinstance(stored, dict) == compact
    assert layout.expand_units(json.loads(json.dumps(stored)), slice_bytes) == units
    if compact:
        assert ("crc32" in stored) == any(u[5] for u in units)


def test_compact_packet_table_saves_metadata_strands():
    """A helix archive of 15 GOPs (no packet CRCs: its slices decode on their own)."""
    units = _table([407, 444] * 7 + [407], [8] * 15, [0] * 15)
    meta = {**HELIX_META, "streams": {"video": {**HELIX_META["streams"]["video"], "units": units}}}
    _, blocks = layout.metadata_blocks(meta, BITS, ADDRESS_BITS, 1)
    as_lists = layout.compress_metadata(json.dumps(meta, separators=(",", ":")).encode())
    assert len(blocks) < len(layout.bytes_to_blocks(b"HXM2" + bytes(8) + as_lists, BITS))
    addrs, blocks = layout.metadata_blocks(meta, BITS, ADDRESS_BITS, COPIES)
    assert layout.recover_metadata(addrs, blocks, ADDRESS_BITS) == meta


def test_dictionary_is_frozen():
    """HXM2 archives decode only with these exact bytes: a new dictionary needs a new magic."""
    assert len(METADATA_ZDICT_V2) == METADATA_ZDICT_V2_LEN == 2762
    assert zlib.crc32(METADATA_ZDICT_V2) == METADATA_ZDICT_V2_CRC32 == 0xAFD6A586
    assert layout.META_MAGIC == b"HXM2"


@pytest.mark.parametrize("meta", [HELIX_META, BITSTREAM_META, ODD_META])
def test_old_hxm1_blobs_still_decode(meta):
    addrs, blocks = _hxm1_blocks(meta)
    assert layout.recover_metadata(addrs, blocks, ADDRESS_BITS) == meta


@pytest.mark.parametrize("meta", [HELIX_META, BITSTREAM_META])
def test_never_more_blocks_than_list_tables_and_fewer_than_plain_zlib(meta):
    body = layout.compress_metadata(json.dumps(meta, separators=(",", ":")).encode())
    _, blocks = layout.metadata_blocks(meta, BITS, ADDRESS_BITS, 1)
    assert len(blocks) <= len(layout.bytes_to_blocks(b"HXM2" + bytes(8) + body, BITS))
    _, old = _hxm1_blocks(meta, copies=1)
    assert len(blocks) < len(old)


@pytest.mark.parametrize("hxm1", [False, True])
def test_damaged_chunks(hxm1):
    addrs, blocks = (
        _hxm1_blocks(HELIX_META)
        if hxm1
        else layout.metadata_blocks(HELIX_META, BITS, ADDRESS_BITS, COPIES)
    )
    copy, chunk = layout.split_metadata_address(ADDRESS_BITS, addrs)
    # one bad copy of a chunk: the other two outvote it
    bad = blocks.copy()
    bad[(copy == 0) & (chunk == 1), 5:40] ^= 1
    assert layout.recover_metadata(addrs, bad, ADDRESS_BITS) == HELIX_META
    # every copy of a chunk damaged (differently): the CRC refuses it
    for k in range(COPIES):
        bad[(copy == k) & (chunk == 1), 10 + k] ^= 1
    assert layout.recover_metadata(addrs, bad, ADDRESS_BITS) is None
    # a chunk missing altogether, or no strands at all
    keep = chunk != 0
    assert layout.recover_metadata(addrs[keep], blocks[keep], ADDRESS_BITS) is None
    assert layout.recover_metadata(addrs[:0], blocks[:0], ADDRESS_BITS) is None


def test_unknown_magic_and_bad_body_give_none():
    body = b"\xff" * 20  # not a deflate stream, but a correct CRC
    for magic in (b"HXM9", b"HXM2", b"HXM1"):
        blob = magic + struct.pack(">II", len(body), zlib.crc32(body)) + body
        b = layout.bytes_to_blocks(blob, BITS)
        addrs = np.array([layout.metadata_address(ADDRESS_BITS, 0, c) for c in range(len(b))])
        assert layout.recover_metadata(addrs, b, ADDRESS_BITS) is None
