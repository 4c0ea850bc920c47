"""Fuzz targets for pools, crafted metadata and ``.dnapkt`` headers (see :mod:`.fuzzing`).

A CRC protects strands from random damage, not from a buggy or hostile writer, so these
targets forge what a writer controls and then re-encode it *with the encoder's own functions*
(valid CRCs, valid strands): a pool's catalogue (item counts, sizes, address and chunk ranges,
names), an item's metadata (frame counts, sizes, types, nesting, missing keys) and the
container header. Each input is what ``helix pool list`` and ``helix pool get`` read, run
in-process through the library calls the CLI makes. The seed pool (a small file and a 16-frame
video) is built once per process; each input costs a few milliseconds.

Inputs of the ``pool`` and ``header`` targets are a request line (JSON: item, start, duration)
then the ``.dnapkt`` bytes; ``metadata`` inputs are a request line then the item's metadata
JSON text, so a crash is kept as a readable file.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helix_media.archive.pool.catalogue import CATALOGUE_CHUNKS, CATALOGUE_COPIES

#: values a hostile writer puts where counts, sizes, ranges and names belong
ODD = (None, -1, 0, 1, 2**31, 2**63, 10**9, 1e9, -(2**70), float("inf"), float("nan"), 1.5,
       "", "x", "\x1b[2J", "../../x", "a" * 5000, True, [], {}, [0], [-1, -1], [0, 2**40],
       [2**24, 5], [0, 10**6, 3], [1024, 1, 0], [1024, 1, 33], [[0, 0, 0, 0, 0, 0]],
       {"a": 1}, "helix-pool", "helix-media")  # fmt: skip
DEEP = "\u0000deep\u0000"  # replaced by [[[...]]] nested thousands deep in the JSON text


@dataclass
class PoolSeed:
    """The seed pool, taken apart: strands by purpose, the catalogue and items' metadata."""

    header: dict[str, Any]
    items: list[dict[str, Any]]  # catalogue entries
    metas: list[dict[str, Any]]  # each item's metadata
    meta_strands: list[np.ndarray]  # each item's metadata strands
    data_strands: list[np.ndarray]
    catalogue: np.ndarray  # generation 0's strands
    dnapkt: bytes
    scratch: Path  # where inputs are written (one file, rewritten)


def _tiny_video(path: Path) -> None:
    import av

    y, x = np.mgrid[0:32, 0:32]
    base = np.stack([x * 8, y * 8, (x + y) * 4], axis=2).clip(0, 255).astype(np.uint8)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for i in range(16):
            for p in s.encode(av.VideoFrame.from_ndarray(np.roll(base, i, 1), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


@functools.cache
def pool_seed() -> PoolSeed:
    """Built once per process: ``pool add`` of a file and a video, then read back."""
    from helix_media.archive import pool
    from helix_media.archive.pool.source import read_item_metadata
    from helix_media.strandio.container_reader import read_dnapkt

    d = Path(tempfile.mkdtemp(prefix="helix-fuzz-"))
    (d / "notes.txt").write_bytes(b"pool notes\n" * 40)
    _tiny_video(d / "clip.mp4")
    path = d / "seed.dnapkt"
    cat, _, _ = pool.add_items(
        str(path), [str(d / "notes.txt"), str(d / "clip.mp4")], codec="bitstream", redundancy=0.1
    )
    header, strands = read_dnapkt(path)
    source = pool.PoolSource(str(path))
    metas, meta_strands, data_strands, at = [], [], [], 0
    for it in cat.items:  # `pool add` writes each item's metadata then data strands
        n_meta = it.metadata[1] * it.metadata[2]
        meta_strands.append(strands[at : at + n_meta])
        data_strands.append(strands[at + n_meta : at + n_meta + it.data[1]])
        at += n_meta + it.data[1]
        metas.append(read_item_metadata(source, it)[1])
    return PoolSeed(
        header, cat.to_json()["items"], metas, meta_strands, data_strands, strands[at:],
        path.read_bytes(), d,
    )  # fmt: skip


def metadata_strands(text: bytes, first_chunk: int, copies: int, primers=None) -> np.ndarray:
    """Metadata JSON text -> framed strands from chunk ``first_chunk`` on, as ``pool add``
    makes them (:func:`layout.metadata_blocks`, whitening, the metadata coder)."""
    from helix_media.archive.pool.source import pool_framer
    from helix_media.blocks import layout
    from helix_media.blocks.whitening import whiten

    fr = pool_framer(primers)
    blob = layout.metadata_blob(layout.compress_metadata(text))
    blocks = layout.bytes_to_blocks(blob, fr.payload_bits(fr.metadata_coder))
    chunks = np.arange(len(blocks), dtype=np.int64) + first_chunk
    chunks = chunks[chunks < 1 << (fr.address_bits - 1 - layout.COPY_BITS)]  # addressable
    addr = np.concatenate([layout.metadata_address(fr.address_bits, k, chunks)
                           for k in range(copies)])  # fmt: skip
    blocks = np.tile(blocks[: len(chunks)], (copies, 1))
    return fr.frame(addr, whiten(addr, blocks, 0, fr), fr.metadata_coder)


def dnapkt(strands: np.ndarray, header: dict[str, Any]) -> bytes:
    from helix_media.strandio.strand_files import write_strands

    path = pool_seed().scratch / "build.dnapkt"
    write_strands(path, strands, header)
    return path.read_bytes()


# -- mutations ---------------------------------------------------------------------------------
def _walk(doc: Any, rng: np.random.Generator) -> tuple[Any, Any] | None:
    """A random (container, key) inside ``doc``."""
    node, key = doc, None
    while isinstance(node, (dict, list)) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[int(rng.integers(len(keys)))]
        child = node[key]
        if not isinstance(child, (dict, list)) or not child or rng.random() < 0.3:
            return node, key
        node = child
    return None


def forge(doc: Any, rng: np.random.Generator, edits: int | None = None) -> bytes:
    """A JSON document with one to four hostile edits (odd values, keys removed or renamed,
    lists emptied or repeated, nesting thousands deep) -> its JSON text."""
    doc = copy.deepcopy(doc)
    for _ in range(edits or int(rng.integers(1, 5))):
        found = _walk(doc, rng)
        if found is None:
            continue
        node, key = found
        op = rng.random()
        if isinstance(node, dict) and op < 0.2:
            node.pop(key, None)
        elif isinstance(node, dict) and op < 0.25:
            node[str(key) + "x"] = node.pop(key)
        elif isinstance(node[key], list) and op < 0.35:
            node[key] = node[key] * int(rng.choice([0, 2, 1000]))
        elif op < 0.4:
            node[key] = DEEP
        else:
            node[key] = copy.deepcopy(ODD[int(rng.integers(len(ODD)))])
    return _dumps_capped(doc, int(rng.choice([50, 3000, 100_000])))


#: the longest JSON text :func:`forge` makes: one byte more than any reader inflates
#: (``layout.MAX_METADATA_TEXT``), so a text cut there still tries that limit. Lists repeated
#: 1000 times inside lists repeated 1000 times made 200 MB texts (and 700 MB peaks in the
#: fuzzer itself, the inputs made from them being 2-3 MB of strands).
MAX_FORGED_TEXT = (16 << 20) + 1


def _dumps_capped(doc: Any, depth: int) -> bytes:
    """``doc`` as compact JSON, :data:`DEEP` replaced by nesting ``depth`` deep, cut at
    :data:`MAX_FORGED_TEXT` characters without making more of it."""
    deep, nest = json.dumps(DEEP), "[" * depth + "]" * depth
    out, n = io.StringIO(), 0  # not a list of the (millions of) small chunks
    for chunk in json.JSONEncoder(separators=(",", ":")).iterencode(doc):
        n += out.write(chunk.replace(deep, nest))  # a string is never split across chunks
        if n >= MAX_FORGED_TEXT:
            break
    return out.getvalue()[:MAX_FORGED_TEXT].encode()


def _request(rng: np.random.Generator, names: list[str]) -> dict[str, Any]:
    """What ``pool get`` is asked for: an item, whole or a time range."""
    req: dict[str, Any] = {"item": names[int(rng.integers(len(names)))] if names else "x"}
    if rng.random() < 0.4:
        req["start"] = float(rng.choice([0.0, 0.1, 0.5, 1e9]))
        req["duration"] = float(rng.choice([0.1, 0.3, 1e9]))
    return req


def split_input(data: bytes) -> tuple[dict[str, Any], bytes]:
    line, _, rest = data.partition(b"\n")
    return json.loads(line), rest


def mutate_pool(seed: bytes, rng: np.random.Generator) -> bytes:
    """Half byte edits of the ``.dnapkt`` (bit flips, cuts, splices), half a forged catalogue
    (sizes, counts, address and chunk ranges, names) in generation 0 or a newer one."""
    from helix_media.benchmarks._fuzz_mutations import mutate

    s = pool_seed()
    names = [it["name"] for it in s.items]
    if rng.random() < 0.45:
        return json.dumps(_request(rng, names)).encode() + b"\n" + mutate(s.dnapkt, rng)
    cat = {"format": "helix-pool", "version": 1, "generation": 0, "items": s.items}
    text = forge(cat, rng)
    with contextlib.suppress(ValueError, TypeError, KeyError, RecursionError):
        names = [it["name"] for it in json.loads(text)["items"]]
    g = int(rng.choice([0, 0, 1, 15]))
    forged = metadata_strands(text, g * CATALOGUE_CHUNKS, CATALOGUE_COPIES)
    keep = [*s.meta_strands, *s.data_strands] + ([s.catalogue] if g else [])
    return (
        json.dumps(_request(rng, names)).encode()
        + b"\n"
        + dnapkt(np.concatenate([*keep, forged]), s.header)
    )


def mutate_metadata(seed: bytes, rng: np.random.Generator) -> bytes:  # noqa: ARG001
    """An item's metadata (packet tables compacted, as the encoder stores them) with hostile
    edits, or one of the usual traps set on purpose."""
    from helix_media.blocks import layout

    s = pool_seed()
    k = int(rng.integers(len(s.items)))
    meta = copy.deepcopy(s.metas[k])
    for st in meta["streams"].values():
        if rng.random() < 0.7:
            st["units"] = layout.compact_units(st["units"], st.get("slice_bytes", 0))
    trap = int(rng.integers(8))
    if trap == 0 and "video" in meta:
        meta["video"]["frames"] = int(rng.choice([0, 1, 10**9]))
    elif trap == 1 and "file" in meta:
        meta["file"]["size"] = int(rng.choice([0, 2**40, 10**9]))
    elif trap == 2:
        meta.pop(str(rng.choice(sorted(meta))))
    text = forge(meta, rng, None if trap > 2 else 1)
    return json.dumps(_request(rng, [s.items[k]["name"]])).encode() + b"\n" + text


def mutate_header(seed: bytes, rng: np.random.Generator) -> bytes:
    """A forged header (valid CRC, whatever JSON a writer puts there, a wrong length field),
    or byte edits of the header's bytes, before the seed pool's packets."""
    from helix_media.benchmarks._fuzz_mutations import mutate
    from helix_media.strandio.container import PREAMBLE, U32

    s = pool_seed()
    req = json.dumps(_request(rng, [it["name"] for it in s.items])).encode() + b"\n"
    (length,) = U32.unpack_from(s.dnapkt, PREAMBLE.size)
    head_end = PREAMBLE.size + U32.size + length + U32.size
    if rng.random() < 0.3:
        return req + mutate(s.dnapkt[:head_end], rng) + s.dnapkt[head_end:]
    text = forge(s.header, rng)
    if rng.random() < 0.2:
        text = text[: int(rng.integers(len(text) + 1))]
    claimed = len(text) if rng.random() < 0.8 else int(rng.choice([0, 2**32 - 1, len(text) + 9]))
    version = s.dnapkt[PREAMBLE.size - 4 : PREAMBLE.size]  # the CRC covers major, minor
    crc = zlib.crc32(version + struct.pack("<I", claimed) + text)
    head = s.dnapkt[: PREAMBLE.size] + U32.pack(claimed) + text + U32.pack(crc)
    return req + head + s.dnapkt[head_end:]


# -- targets -----------------------------------------------------------------------------------
def _read_pool(path: Path, req: dict[str, Any]) -> None:
    """``helix pool list`` then ``helix pool get`` (decoding, not writing), in-process."""
    from helix_media.archive.pool import PoolSource, decode_item, format_list, read_catalogue

    source = PoolSource(str(path))
    cat = read_catalogue(source)
    format_list(cat, str(path))
    json.dumps(cat.to_json() | {"pool_id": cat.pool_id})
    decode_item(source, req["item"], req.get("start"), req.get("duration"))


def target_pool(workdir: Path, data: bytes) -> None:
    req, body = split_input(data)
    path = workdir / "pool.dnapkt"
    path.write_bytes(body)
    _read_pool(path, req)


target_header = target_pool  # the same reads; only the mutations differ


#: where a crafted item's metadata goes (past the seed's items), the catalogue pointing there
FORGED_CHUNK = 1100


def target_metadata(workdir: Path, data: bytes) -> None:
    """The item's metadata replaced by strands made from the crafted JSON (and the catalogue
    pointing at them); whatever the checks let through must be usable by ``pool get`` (and by
    the lone-archive readers)."""
    from helix_media.archive.parse import expected_data_strands
    from helix_media.benchmarks._fuzz_mutations import metadata_round
    from helix_media.blocks.layout import StreamLayout
    from helix_media.blocks.metadata_schema import check_metadata
    from helix_media.errors import HelixError
    from helix_media.media.codec import VideoInfo

    req, text = split_input(data)
    s = pool_seed()
    k = next((i for i, it in enumerate(s.items) if it["name"] == req["item"]), 0)
    copies = s.items[k]["metadata"][2]
    forged = metadata_strands(text, FORGED_CHUNK, copies)
    items = copy.deepcopy(s.items)
    items[k]["metadata"] = [FORGED_CHUNK, len(forged) // copies, copies]
    cat = {"format": "helix-pool", "version": 1, "generation": 0, "items": items}
    cat_strands = metadata_strands(json.dumps(cat).encode(), 0, CATALOGUE_COPIES)
    rest = [a for i, a in enumerate(s.meta_strands) if i != k]
    path = workdir / "pool.dnapkt"
    strands = np.concatenate([*rest, forged, *s.data_strands, cat_strands])
    path.write_bytes(dnapkt(strands, s.header))
    for meta in metadata_round(text):  # the blob as any reader decodes it
        try:
            check_metadata(meta, "fuzz")
        except HelixError:
            continue  # refused: the pool read below must refuse it too
        if "streams" not in meta:  # a catalogue: not an item's metadata
            continue
        expected_data_strands(meta)
        for st in meta["streams"].values():
            StreamLayout(**st)
        if "video" in meta:
            VideoInfo.from_json(meta["video"])
    _read_pool(path, req)
