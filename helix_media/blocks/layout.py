"""Packets <-> addressed payload blocks, and the self-describing metadata.

Each stream (video, audio) is a run of strands: its packets' bytes are concatenated and cut
into blocks of ``payload_bits``; a lost strand damages only the packets that overlap it, and a
CRC32 per packet (kept in the metadata) tells which (strand-aligned streams, whose packets
decode slice by slice, need none). The metadata (codec, dimensions, frame rate, packet table
in the compact form of :func:`compact_units`) is compact JSON in strands of its own, stored
``copies`` times under metadata addresses, so decoding needs nothing but the strands. Blob:
magic ``HXM2``, body length and CRC32 (">II"), then the JSON as raw deflate with a fixed preset
dictionary of typical metadata (:mod:`.metadata_dictionary`, frozen for this magic: a third of
plain zlib's bytes or less); old ``HXM1`` blobs (plain zlib) still decode.

Address layout (``framer.address_bits`` = B): data strand ``i`` has address ``i``; metadata
chunk ``c`` of copy ``k`` has the top bit set and ``c * 32 + k`` below it, so metadata
addresses stay small numbers (framers may spend less on small addresses).
"""

from __future__ import annotations

import itertools
import json
import math
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from helix_media.blocks.metadata_dictionary import METADATA_ZDICT_V2
from helix_media.media.codec import Packet, run_lengths

META_MAGIC = b"HXM2"  # body: raw deflate with the preset METADATA_ZDICT_V2
META_MAGIC_V1 = b"HXM1"  # body: plain zlib (archives written before HXM2); read only
COPY_BITS = 5


def bytes_to_blocks(data: bytes, block_bits: int) -> np.ndarray:
    """Bytes -> (n_blocks, block_bits) bits, zero-padded at the end."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    n = max(1, -(-len(bits) // block_bits)) if len(bits) else 0
    out = np.zeros(n * block_bits, dtype=np.uint8)
    out[: len(bits)] = bits
    return out.reshape(n, block_bits)


def blocks_to_bytes(blocks: np.ndarray) -> bytes:
    bits = np.asarray(blocks, dtype=np.uint8).reshape(-1)
    return np.packbits(bits[: len(bits) - len(bits) % 8]).tobytes()


@dataclass
class StreamLayout:
    first_strand: int
    strands: int
    units: list[list[int]]  # [index, pts, duration, byte_offset, nbytes, crc32]
    params: dict[str, Any] = field(default_factory=dict)
    slice_bytes: int = 0  # > 0: strand i holds bytes [i * slice_bytes, (i + 1) * slice_bytes)

    def overlapping(self, start: int, stop: int) -> list[list[int]]:
        """The units (GOPs) whose frames overlap frames ``[start, stop)``."""
        return [u for u in self.units if u[1] < stop and u[1] + u[2] > start]


def metadata_address(address_bits: int, copy: int, chunk: int) -> int:
    return (1 << (address_bits - 1)) | (chunk << COPY_BITS) | copy


def split_metadata_address(address_bits: int, address: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metadata addresses -> (copy, chunk)."""
    low = address & ((1 << (address_bits - 1)) - 1)
    return low & ((1 << COPY_BITS) - 1), low >> COPY_BITS


def pack_streams(
    packets: list[Packet], block_bits: int
) -> tuple[np.ndarray, np.ndarray, dict[str, StreamLayout]]:
    """Packets -> (addresses, payload blocks, per-stream layout for the metadata)."""
    by_stream: dict[str, list[Packet]] = {}
    for p in packets:
        by_stream.setdefault(p.stream, []).append(p)
    blocks, layouts, first = [], {}, 0
    for name, plist in by_stream.items():
        units, offset, chunks = [], 0, []
        slice_bytes = plist[0].slice_bytes
        for p in plist:
            # a strand-aligned packet's slices decode on their own, each checked by its
            # strand's Reed-Solomon code: no packet CRC (0) to spend metadata on
            crc = 0 if slice_bytes else zlib.crc32(p.data)
            units.append([p.index, p.pts, p.duration, offset, len(p.data), crc])
            chunks.append(p.data)
            offset += len(p.data)
        if slice_bytes:
            b = _slices_to_blocks(b"".join(chunks), slice_bytes, block_bits)
        else:
            b = bytes_to_blocks(b"".join(chunks), block_bits)
        blocks.append(b)
        layouts[name] = StreamLayout(first, len(b), units, slice_bytes=slice_bytes)
        first += len(b)
    payload = np.concatenate(blocks) if blocks else np.zeros((0, block_bits), dtype=np.uint8)
    return np.arange(len(payload), dtype=np.int64), payload, layouts


def compact_units(units: list[list[int]], slice_bytes: int = 0) -> list[list[int]] | dict:
    """A stream's packet table -> its stored form. The usual table (consecutive indices, each
    packet starting where the one before ends, in time and in bytes) is kept as its first
    index and pts, the durations run-length coded, the sizes (in slices for strand-aligned
    streams) and the CRC32s unless all are 0 (strand-aligned streams: see :func:`pack_streams`);
    any other table as it is. Lossless: :func:`expand_units` gives the table back."""
    if not units:
        return units
    index, pts, duration, offset, nbytes, crc = (list(c) for c in zip(*units, strict=True))
    unit = slice_bytes or 1
    regular = (
        index == list(range(index[0], index[0] + len(units)))
        and pts == [pts[0] + int(t) for t in np.cumsum([0, *duration[:-1]])]
        and offset == [int(o) for o in np.cumsum([0, *nbytes[:-1]])]
        and all(n % unit == 0 for n in nbytes)
    )
    if not regular:
        return units
    table = {
        "index": index[0],
        "pts": pts[0],
        "durations": run_lengths(duration),
        "sizes": [n // unit for n in nbytes],
    }
    if any(crc):
        table["crc32"] = crc
    return table


def expand_units(stored: list[list[int]] | dict, slice_bytes: int = 0) -> list[list[int]]:
    """Inverse of :func:`compact_units`. ValueError for a table that is not one (metadata
    from DNA is checked, not trusted: run lengths must add up to the sizes listed)."""
    if isinstance(stored, list):
        return stored
    if not isinstance(stored, dict) or not isinstance(stored.get("sizes"), list):
        raise ValueError("bad packet table")
    runs, sizes = stored.get("durations"), stored["sizes"]
    if not isinstance(runs, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(_is_count(x) for x in r) for r in runs
    ):
        raise ValueError("bad packet table durations")
    if sum(count for _, count in runs) != len(sizes) or not all(map(_is_count, sizes)):
        raise ValueError("packet table durations and sizes disagree")
    crc = stored.get("crc32", [0] * len(sizes))
    if not isinstance(crc, list) or len(crc) != len(sizes) or not all(map(_is_count, crc)):
        raise ValueError("bad packet table CRCs")
    if not (_is_count(stored.get("index")) and _is_count(stored.get("pts"))):
        raise ValueError("bad packet table start")
    duration = [d for d, count in runs for _ in range(count)]
    nbytes = [n * (slice_bytes or 1) for n in stored["sizes"]]
    units, pts, offset = [], stored["pts"], 0
    for k, (d, n, c) in enumerate(zip(duration, nbytes, crc, strict=True)):
        units.append([stored["index"] + k, pts, d, offset, n, c])
        pts, offset = pts + d, offset + n
    return units


def _is_count(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1 << 53


def _map_units(meta: dict[str, Any], fn) -> dict[str, Any]:
    """``meta`` with each stream's packet table passed through ``fn(units, slice_bytes)``."""
    if not isinstance(meta, dict) or not isinstance(meta.get("streams"), dict):
        return meta
    streams = {
        k: {**v, "units": fn(v["units"], v.get("slice_bytes", 0))}
        if isinstance(v, dict) and "units" in v
        else v
        for k, v in meta["streams"].items()
    }
    return {**meta, "streams": streams}


def metadata_blocks(
    meta: dict[str, Any], block_bits: int, address_bits: int, copies: int
) -> tuple[np.ndarray, np.ndarray]:
    """Metadata dict -> (addresses, blocks) for ``copies`` copies. Packet tables go in whichever
    form deflates shorter: compacted (:func:`compact_units`) or as lists, which the preset
    dictionary knows (a table of CRC32s compresses better that way)."""
    body = min(
        (
            compress_metadata(json.dumps(m, separators=(",", ":")).encode())
            for m in (_map_units(meta, compact_units), meta)
        ),
        key=len,
    )
    b = bytes_to_blocks(metadata_blob(body), block_bits)
    addrs = [metadata_address(address_bits, k, c) for k in range(copies) for c in range(len(b))]
    return np.array(addrs, dtype=np.int64), np.tile(b, (copies, 1))


def metadata_blob(body: bytes) -> bytes:
    """A compressed metadata body -> the stored blob: magic, length, CRC32, body."""
    return META_MAGIC + struct.pack(">II", len(body), zlib.crc32(body)) + body


def recover_metadata(
    addresses: np.ndarray, blocks: np.ndarray, address_bits: int
) -> dict[str, Any] | None:
    """Rebuild the metadata from whatever copies of each chunk survived (majority per chunk);
    None if it cannot be read. Where strands of several archives share metadata addresses,
    the one whose chunks are most common."""
    found = recover_all_metadata(addresses, blocks, address_bits)
    return found[0] if found else None


#: Most combinations of differing chunk copies tried (several archives' metadata strands at
#: the same addresses); each costs a CRC of the blob.
MAX_COMBINATIONS = 4096


def recover_all_metadata(
    addresses: np.ndarray, blocks: np.ndarray, address_bits: int
) -> list[dict[str, Any]]:
    """Every metadata blob that the surviving chunk copies spell with a valid CRC, most
    common chunks first. One archive gives one; reads of several archives that share
    primers (and so metadata addresses) give each archive's metadata, none mixed up."""
    _, chunk = split_metadata_address(address_bits, addresses)
    if len(chunk) == 0:
        return []
    variants: dict[int, list[bytes]] = {}
    for c in np.unique(chunk).tolist():
        votes = Counter(r.tobytes() for r in blocks[chunk == c])
        variants[c] = [v for v, _ in votes.most_common()]
    if 0 not in variants:
        return []
    block_bits = blocks.shape[1]
    found, seen = [], set()
    for head in variants[0]:
        blob0 = blocks_to_bytes(np.frombuffer(head, dtype=np.uint8)[None, :])
        if blob0[:4] not in (META_MAGIC, META_MAGIC_V1) or len(blob0) < 12:
            continue
        length, crc = struct.unpack(">II", blob0[4:12])
        n_chunks = -(-(12 + length) * 8 // block_bits)
        rest = [variants.get(c, []) for c in range(1, n_chunks)]
        if not all(rest) or math.prod(map(len, rest)) > MAX_COMBINATIONS:
            rest = [v[:1] for v in rest]  # too many to try: the majority copy of each chunk
        for combo in itertools.product(*rest):
            rows = [np.frombuffer(b, dtype=np.uint8) for b in (head, *combo)]
            if len(rows) < n_chunks:
                break
            blob = blocks_to_bytes(np.stack(rows))
            body = blob[12 : 12 + length]
            if len(body) != length or zlib.crc32(body) != crc or body in seen:
                continue
            try:
                text = decompress_metadata(body, v1=blob[:4] == META_MAGIC_V1)
                meta = _map_units(json.loads(text), expand_units)
            # TypeError: slice_bytes not a number; RecursionError: [[[...]]] thousands deep,
            # which no writer of ours makes (a crafted blob, refused like a damaged one)
            except (zlib.error, ValueError, TypeError, RecursionError):
                continue
            seen.add(body)
            found.append(meta)
            break
    return found


def compress_metadata(text: bytes) -> bytes:
    """Metadata JSON -> an ``HXM2`` body: raw deflate (no zlib header) primed with the preset
    dictionary, which typical metadata repeats almost whole."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=METADATA_ZDICT_V2)
    return c.compress(text) + c.flush()


#: The most metadata JSON a blob may inflate to. Real metadata is well under 2 MB (a two-hour
#: video's packet table); deflate inflates up to ~1000x, so a crafted blob of a few hundred
#: kB of chunks would otherwise become gigabytes of JSON (and more as Python objects).
MAX_METADATA_TEXT = 16 << 20


def decompress_metadata(body: bytes, v1: bool = False) -> bytes:
    """An ``HXM2`` body (``v1``: an ``HXM1`` one, plain zlib) -> the JSON bytes (zlib.error if
    it is not a whole deflate stream or inflates past :data:`MAX_METADATA_TEXT`)."""
    d = zlib.decompressobj() if v1 else zlib.decompressobj(-15, zdict=METADATA_ZDICT_V2)
    text = d.decompress(body, MAX_METADATA_TEXT + 1)
    if len(text) > MAX_METADATA_TEXT:
        raise zlib.error(f"metadata inflates past {MAX_METADATA_TEXT} bytes (crafted)")
    if not d.eof:
        raise zlib.error("truncated metadata deflate stream")
    return text


def _slices_to_blocks(data: bytes, slice_bytes: int, block_bits: int) -> np.ndarray:
    """Whole slices, one per block (zero bits after each slice)."""
    if slice_bytes * 8 > block_bits or len(data) % slice_bytes:
        raise ValueError(f"slices of {slice_bytes} bytes do not fit {block_bits}-bit blocks")
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).reshape(-1, slice_bytes * 8)
    return np.pad(bits, ((0, 0), (0, block_bits - slice_bytes * 8)))


def _unpack_slices(
    layout: StreamLayout, name: str, blocks: dict[int, np.ndarray]
) -> tuple[list[Packet], list[list[int]]]:
    """Strand-aligned stream: a packet survives while any of its slices does."""
    s = layout.slice_bytes
    packets, lost = [], []
    for index, pts, duration, offset, nbytes, _crc in layout.units:
        first = layout.first_strand + offset // s
        rows = [blocks.get(first + k) for k in range(nbytes // s)]
        missing = [k for k, r in enumerate(rows) if r is None]
        if nbytes and len(missing) == len(rows):
            lost.append([index, pts, duration])
            continue
        data = b"".join(bytes(s) if r is None else np.packbits(r[: s * 8]).tobytes() for r in rows)
        packets.append(Packet(data, name, index, pts, duration, slice_bytes=s, lost_slices=missing))
    return packets, lost


def unpack_stream(
    layout: StreamLayout, name: str, blocks: dict[int, np.ndarray], block_bits: int
) -> tuple[list[Packet], list[list[int]]]:
    """Blocks by strand index -> (intact packets, the unit rows that were lost or damaged)."""
    if layout.slice_bytes:
        return _unpack_slices(layout, name, blocks)
    zero = np.zeros(block_bits, dtype=np.uint8)
    # blocks may be longer than block_bits (an outer code's unused tail bits)
    rows = [blocks.get(layout.first_strand + i, zero)[:block_bits] for i in range(layout.strands)]
    present = np.array([layout.first_strand + i in blocks for i in range(layout.strands)])
    data = blocks_to_bytes(np.stack(rows)) if rows else b""
    packets, lost = [], []
    for index, pts, duration, offset, nbytes, crc in layout.units:
        first = offset * 8 // block_bits
        last = ((offset + nbytes) * 8 - 1) // block_bits if nbytes else first
        chunk = data[offset : offset + nbytes]
        if nbytes and (not present[first : last + 1].all() or zlib.crc32(chunk) != crc):
            lost.append([index, pts, duration])
            continue
        packets.append(Packet(chunk, name, index, pts, duration))
    return packets, lost
