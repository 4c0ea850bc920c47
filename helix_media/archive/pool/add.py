"""`pool add`: new items and a new catalogue generation, appended to a pool's strands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from helix_media import __version__, distributed, plugins
from helix_media.archive.pool.catalogue import (
    CATALOGUE_CHUNKS,
    CATALOGUE_COPIES,
    GENERATIONS,
    MAX_METADATA_CHUNK,
    Catalogue,
    Item,
)
from helix_media.archive.pool.lock import pool_lock
from helix_media.archive.pool.source import PoolSource, pool_framer, primer_params, read_catalogue
from helix_media.blocks import layout
from helix_media.blocks.outer_code import Redundancy
from helix_media.errors import HelixError


# -- adding items ------------------------------------------------------------------------------
def _catalogue_strands(fr, cat: Catalogue) -> np.ndarray:
    from helix_media.blocks.whitening import whiten

    bits = fr.payload_bits(fr.metadata_coder)
    addr, blocks = layout.metadata_blocks(cat.to_json(), bits, fr.address_bits, CATALOGUE_COPIES)
    if len(blocks) // CATALOGUE_COPIES > CATALOGUE_CHUNKS:
        raise HelixError(f"the catalogue outgrew its {CATALOGUE_CHUNKS} chunks (too many items)")
    addr = addr + ((cat.generation * CATALOGUE_CHUNKS) << layout.COPY_BITS)
    return fr.frame(addr, whiten(addr, blocks, 0, fr), fr.metadata_coder)


def _add_items(
    pool: str,
    paths: list[str],
    *,
    codec: str | None = None,
    quality: int | None = None,
    coder: str | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: Redundancy = None,
    own_primers: bool = False,
    progress: bool = False,
) -> tuple[Catalogue, list[Item], int]:
    """Add files and videos to ``pool`` (created if missing); returns (catalogue, new items,
    strands added). Only strands are added: old ones are kept as they are. ``redundancy``:
    each item's outer code, None (the default) auto, as for a lone archive."""
    from helix_media.archive.strands import check_layout_options, encode_packets
    from helix_media.strandio.strand_files import read_strands, write_strands

    if not paths:
        raise HelixError("nothing to add")
    check_layout_options(redundancy, metadata_copies)
    if Path(pool).suffix.lower() != ".dnapkt":
        raise HelixError(f"{pool}: a pool is a .dnapkt file")
    for path in paths:
        if Path(path).exists() and Path(pool).exists() and os.path.samefile(path, pool):
            raise HelixError(f"{path}: is the pool itself; a pool cannot be added to itself")
    fr = pool_framer(None)
    old = np.zeros((0, fr.strand_length), dtype=np.uint8)
    cat = Catalogue()
    if Path(pool).exists():
        source = PoolSource(pool)
        if source.damage:  # rewriting it would drop its damaged strands, maybe whole items
            raise HelixError(
                f"{pool}: the pool is damaged ({source.damage}); pool add rewrites it and "
                "would lose what is damaged: nothing added. Add to an intact copy, or get "
                "its items out first (helix pool get)"
            )
        cat = read_catalogue(source)
        old = read_strands(pool)[1]
        old = np.stack(old) if old else np.zeros((0, fr.strand_length), dtype=np.uint8)
    if cat.unreadable_newer:
        raise HelixError(
            f"{pool}: catalogue generation {cat.unreadable_newer[-1]} is unreadable (the newest "
            f"readable is {cat.generation}); adding now could lose items"
        )
    if cat.generation + 1 >= GENERATIONS:
        raise HelixError(f"{pool}: all {GENERATIONS} catalogue generations are used")
    names = [it.name for it in cat.items] + [Path(p).name for p in paths]
    for name in {n for n in names if names.count(n) > 1}:
        raise HelixError(f"{pool}: two items named {name!r} (items are named by file name)")
    new_items, new_strands = [], []
    primers = _primer_pairs(len(paths), cat) if own_primers else [None] * len(paths)
    # the codec jobs (the slow part) side by side on a cluster, if there is one; the
    # strands are laid out one item after another, as without a cluster
    on_cluster = distributed.current() is not None
    jobs = [
        (path, pair, codec, quality, coder, redundancy, progress and not on_cluster)
        for path, pair in zip(paths, primers, strict=True)
    ]
    for (path, pair, *_), (video, packets, fields, stream_params, by_stream) in zip(
        jobs, distributed.map_jobs(_item_packets, jobs, "items"), strict=True
    ):
        name = Path(path).name
        chunk0 = cat.next_chunk() if not new_items else _next_chunk(new_items[-1])
        data0 = cat.next_data() if not new_items else sum(new_items[-1].data)
        r = encode_packets(
            packets,
            fields,
            coder=coder,
            framer_params=primer_params(pair),
            seed=seed,
            metadata_copies=metadata_copies,
            redundancy=redundancy,
            stream_redundancy=by_stream,
            stream_params=stream_params,
            address_offset=data0,
            metadata_chunk_offset=chunk0,
        )
        chunks = r.metadata_strands // metadata_copies
        if chunk0 + chunks > MAX_METADATA_CHUNK:
            raise HelixError(f"{pool}: the pool's metadata address space is full")
        v = fields.get("video") or {}
        item = Item(
            name,
            "video" if video else "file",
            fields["codec"],
            [data0, r.data_strands],
            [chunk0, chunks, metadata_copies],
            fields["file"]["size"] if not video else r.payload_bytes,
            list(pair) if pair else None,
            v.get("frames"),
            v.get("fps"),
        )
        new_items.append(item)
        new_strands.append(r.strands)
    cat = Catalogue(cat.generation + 1, cat.items + new_items)
    new_strands.append(_catalogue_strands(fr, cat))
    added = np.concatenate(new_strands)
    header = {
        "framer": fr.name,
        "codec": "pool",
        "pool": True,
        "strand_length": fr.strand_length,
        "writer": f"helix-media {__version__}",
    }
    write_strands(pool, np.concatenate([old, added]), header)
    return cat, new_items, len(added)


def _item_packets(
    path: str,
    pair: tuple[str, str] | None,
    codec: str | None,
    quality: int | None,
    coder: str | None,
    redundancy: Redundancy,
    progress: bool,
) -> tuple[bool, list, dict[str, Any], dict[str, Any] | None, dict[str, float] | None]:
    """One item's codec job: (is a video, packets, fields, stream parameters, the outer code
    per stream its codec asks for)."""
    from helix_media.archive.sources import (
        file_packets,
        is_file_codec,
        is_video_path,
        video_packets,
    )

    if is_file_codec(codec) or not is_video_path(path):
        packets, fields = file_packets(path, codec if is_file_codec(codec) else "raw", quality)
        return False, packets, fields, None, None
    packets, fields, stream_params, by_stream = video_packets(
        path,
        codec=codec,
        quality=quality,
        coder=coder,
        framer_params=primer_params(pair),
        redundancy=redundancy,
        progress=progress,
    )
    return True, packets, fields, stream_params, by_stream


def add_items(pool: str, paths: list[str], **options: Any) -> tuple[Catalogue, list[Item], int]:
    """:func:`_add_items` under the pool's exclusive lock (:func:`pool_lock`, the same under
    every name of the pool): two adds at once never lose an item; the second fails at once
    with "pool is in use" instead. Through a symlink, the link's target is the pool added to
    (and replaced); the link stays a link."""
    with pool_lock(pool) as target:
        return _add_items(target, paths, **options)


def _next_chunk(item: Item) -> int:
    return item.metadata[0] + item.metadata[1]


#: the primer code-set search's steps (about 0.2 s here): a step count, not a time budget,
#: so the same items give the same primers, hence the same strands, on any machine or load
PRIMER_SEARCH_MOVES = 1000


def _primer_pairs(n: int, cat: Catalogue) -> list[tuple[str, str]]:
    """``n`` new primer pairs, far from the pool's and every item's primers (EORS code set,
    checked with primer3) that the framer accepts (addresses exist after them)."""
    from helix_media.design.primers import propose_pairs

    fr = pool_framer(None)
    taken = [_bases(fr.primer5), _bases(fr.primer3)]
    taken += [p for it in cat.items for p in (it.primers or [])]
    out: list[tuple[str, str]] = []
    seed = len(taken)
    while len(out) < n and seed < len(taken) + 20:
        pairs, _ = propose_pairs(
            pairs=n - len(out) + 2, seed=seed, avoid=tuple(taken), moves=PRIMER_SEARCH_MOVES
        )
        seed += 1
        for pair in pairs:
            a, b = pair.forward.seq, pair.reverse.seq
            if len(out) < n and _usable(a, b):
                out.append((a, b))
                taken += [a, b]
    if len(out) < n:
        raise HelixError("could not find enough primer pairs for --own-primers")
    return out


def _usable(primer5: str, primer3: str) -> bool:
    """Whether the helix framer can frame strands with this pair (constraints, addresses)."""
    try:
        fr = plugins.get_framer(None, primer5=primer5, primer3=primer3)
        cd = plugins.get_coder(None, constraints=fr.constraints)
        addr = np.array([0, 1, 2, (1 << (fr.address_bits - 1)) | 3], dtype=np.int64)
        rng = np.random.default_rng(0)
        bits = rng.integers(0, 2, (len(addr), fr.payload_bits(cd)), dtype=np.uint8)
        s = fr.frame(addr, bits, cd)
        return bool(fr.check(s).ok(fr.constraints).all())
    except (ValueError, RuntimeError, HelixError):
        return False


def _bases(b: np.ndarray) -> str:
    return "".join("ACGT"[int(x)] for x in b)
