"""A pool's strands or reads, and what reading by address gets from them: the catalogue, an
item's metadata, an item's data blocks."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from helix_media import plugins
from helix_media.archive.pool.catalogue import (
    CATALOGUE_CHUNKS,
    CATALOGUE_COPIES,
    GENERATIONS,
    ITEM_CHUNK_BASE,
    MAX_METADATA_CHUNK,
    Catalogue,
    Item,
    catalogue_from_json,
    printable,
)
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import POOL_FORMAT, check_metadata
from helix_media.distributed import parse_strands
from helix_media.errors import HelixError
from helix_media.readpath.paired import check_reads_span_strands, merge_files
from helix_media.readpath.read_stream import ReadParts


# -- strands or reads of a pool ---------------------------------------------------------------
class PoolSource:
    """A pool's clean strands (``.dnapkt``, held) or sequencing reads (FASTA/FASTQ, streamed
    from the file at each pick, never held); :meth:`pick` decodes only the strands of given
    addresses and counts what it touched. ``reads2``: the R2 FASTQ of paired-end reads whose
    R1 FASTQ is ``path``; mates are merged first (:attr:`pairs`: what merging did)."""

    def __init__(self, path: str, reads2: str | None = None, archive: int | None = None) -> None:
        from helix_media.archive.parse import current_archive
        from helix_media.strandio.strand_files import is_sequence_file

        self.path = str(path)
        #: the pool to read where the strands hold several (``--archive``; see read_catalogue)
        self.archive = current_archive() if archive is None else archive
        self.pairs: dict[str, int] | None = None
        #: a .dnapkt's damage: packets left out (None: none), what was wrong with its header
        self.damaged_packets: int | None = None
        self.damaged_header: str | None = None
        self.framer = pool_framer(None)
        n = self.framer.strand_length
        self.strands: np.ndarray | None = None
        self.reads: ReadParts | None = None
        if reads2 is not None:
            seqs, pairs = merge_files(path, reads2)
            self.reads, self.pairs = ReadParts(self.path, seqs), pairs.to_json()
        elif is_sequence_file(self.path):
            self.reads = ReadParts(self.path)
            check_reads_span_strands(self.path, self.reads.first, n)
        else:
            # damaged packets are lost strands, as for a lone archive; a damaged header is
            # read around (the packets carry their length and CRC)
            header, seqs = _read_pool_strands(self.path)
            self.damaged_packets = header.get("damaged_packets")
            self.damaged_header = header.get("damaged_header")
            usable = [s for s in seqs if len(s) == n]
            self.strands = np.stack(usable) if usable else None
            # the header says so, or (a damaged header, strands that went through FASTA) the
            # strands do: a pool's catalogue is in its DNA
            if seqs and not header.get("pool") and not holds_pool(self.strands):
                raise HelixError(f"{path}: not a pool (make one with helix pool add)")
        if (self.strands is None) if self.reads is None else not len(self.reads.first):
            raise HelixError(f"{path}: no strands")
        self.clean = self.reads is None
        self.touched: dict[str, int] = {}
        self.read_reports: dict[str, dict[str, int]] = {}

    def pick(
        self, fr, addresses: np.ndarray | None, what: str, keys: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None, tuple | None]:
        """Strands (clean, or consensus estimates from reads) whose address is one of
        ``addresses`` (or whose cluster key is one of ``keys``), with the read path's
        erasures and alternatives (see :func:`.estimates.with_alternatives`; None for
        clean strands); counted under ``what``."""
        keys = fr.address_keys(addresses) if keys is None else keys
        if keys is None:
            raise HelixError(f"framer {fr.name!r} has no addresses to pick strands by")
        if self.clean:
            rows = _rows_with_keys(fr, self.strands, keys)
            self.touched[what] = self.touched.get(what, 0) + len(rows)
            return self.strands[rows], None, None
        from helix_media.archive.parse import estimate_strands

        est = estimate_strands(fr, self.reads, self.path, select=keys)
        self.touched[what] = self.touched.get(what, 0) + len(est.strands)
        self.read_reports[what] = est.report.to_json()
        if est.report.clusters < est.report.clustered:  # reads, not one copy per strand
            return est.strands, est.erasures, (est.alternatives, est.alternative_of)
        return est.strands, None, None

    @property
    def damage(self) -> str | None:
        """What is damaged in the pool's ``.dnapkt`` (None: nothing)."""
        what = [self.damaged_header] if self.damaged_header else []
        if self.damaged_packets:
            what.append(f"{self.damaged_packets} damaged packets")
        elif self.damaged_packets is not None and not self.damaged_header:
            what.append("damaged trailer")
        return "; ".join(what) or None


def _read_pool_strands(path: str) -> tuple[dict[str, Any], list[np.ndarray]]:
    """(header, strands) of a pool's strand file, salvaging a damaged ``.dnapkt``."""
    from helix_media.strandio.strand_files import _suffix, read_strands

    if _suffix(path) != ".dnapkt":
        return read_strands(path, allow_n=True)
    from helix_media.strandio.container_reader import read_dnapkt

    if not os.path.exists(path):
        raise HelixError(f"{path}: no such file")
    header, strands = read_dnapkt(path, salvage=True)
    return header, list(strands)


def _rows_with_keys(fr, s: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Rows of strands ``s`` with the framer's primers and one of the cluster ``keys``."""
    p5, p3 = len(fr.primer5), len(fr.primer3)
    mine = (s[:, :p5] == fr.primer5).all(1) & (s[:, -p3:] == fr.primer3).all(1)
    rows = np.flatnonzero(mine)
    return rows[np.isin(fr.cluster_keys(s[rows, p5 : fr.cluster_span]), keys)]


def catalogue_addresses(fr) -> np.ndarray:
    """Every address a catalogue generation's strands may have."""
    chunk = np.repeat(np.arange(ITEM_CHUNK_BASE, dtype=np.int64), CATALOGUE_COPIES)
    copy = np.tile(np.arange(CATALOGUE_COPIES, dtype=np.int64), ITEM_CHUNK_BASE)
    return layout.metadata_address(fr.address_bits, copy, chunk)


_CATALOGUE_KEYS: dict[tuple, np.ndarray] = {}


def catalogue_keys(fr) -> np.ndarray:
    """Cluster keys of :func:`catalogue_addresses`, kept per framer layout (5120 addresses
    to encode: most of a ``pool list``'s time otherwise)."""
    key = (fr.name, fr.address_bits, fr.primer5.tobytes(), fr.primer3.tobytes())
    if key not in _CATALOGUE_KEYS:
        keys = fr.address_keys(catalogue_addresses(fr))
        keys.setflags(write=False)  # shared
        _CATALOGUE_KEYS[key] = keys
    return _CATALOGUE_KEYS[key]


def holds_pool(strands: np.ndarray | None, fr=None) -> bool:
    """Whether clean strands hold a pool catalogue (any generation): how a pool is known
    where no header says so (strands from FASTA, a ``.dnapkt`` whose header is damaged)."""
    fr = fr or pool_framer(None)
    if strands is None or not len(strands) or strands.shape[1] != fr.strand_length:
        return False
    rows = _rows_with_keys(fr, strands, catalogue_keys(fr))
    return bool(_all_catalogues(fr, strands[rows], None))


def primer_params(primers: list[str] | tuple[str, str] | None) -> dict[str, str]:
    """Framer parameters of an item with its own primer pair (none for the pool's own)."""
    return {"primer5": primers[0], "primer3": primers[1]} if primers else {}


def pool_framer(primers: list[str] | None):
    """The pool's framer, or an item's with its own primers."""
    fr = plugins.get_framer(None, **primer_params(primers))
    if fr.address_keys(np.zeros(1, dtype=np.int64)) is None:
        raise HelixError(f"pools need a framer with addresses, not {fr.name!r}")
    return fr


def _metadata_blob(fr, strands, erasures, first_chunk: int, chunks: int | None):
    """Metadata strands -> the blob stored from chunk ``first_chunk`` (or None)."""
    found = _metadata_blobs(fr, strands, erasures, first_chunk, chunks)
    return found[0] if found else None


def _metadata_blobs(fr, strands, erasures, first_chunk: int, chunks: int | None) -> list:
    """Metadata strands -> every blob stored from chunk ``first_chunk`` (several where pools
    that share primers were mixed), most common first."""
    from helix_media.blocks.whitening import whiten

    if not len(strands):
        return []
    parsed = parse_strands(fr, strands, fr.metadata_coder, fr.metadata_coder, erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    addresses = parsed.addresses[is_meta]
    _, chunk = layout.split_metadata_address(fr.address_bits, addresses)
    keep = (chunk >= first_chunk) & ((chunk < first_chunk + chunks) if chunks else True)
    blocks = whiten(addresses[keep], parsed.payload[is_meta][keep], 0, fr)
    shifted = addresses[keep] - (first_chunk << layout.COPY_BITS)
    return layout.recover_all_metadata(shifted, blocks, fr.address_bits)


def pool_id(blob: dict[str, Any]) -> int:
    """A pool's identity, the same in every catalogue generation: from its first item (name,
    addresses and size never change once added); 0 for an empty catalogue."""
    import json
    import zlib

    items = blob.get("items") or []
    if not items:
        return 0
    first = {k: items[0].get(k) for k in ("name", "kind", "data", "metadata", "size")}
    return zlib.crc32(json.dumps(first, sort_keys=True).encode()) or 1


def _all_catalogues(fr, strands, erasures) -> list[tuple[int, dict[str, Any]]]:
    """Every readable catalogue blob, as (generation, blob), newest generation first (several
    pools' catalogues where reads of pools that share primers were mixed)."""
    from helix_media.blocks.whitening import whiten

    if not len(strands):
        return []
    parsed = parse_strands(fr, strands, fr.metadata_coder, fr.metadata_coder, erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    addresses = parsed.addresses[is_meta]
    blocks = whiten(addresses, parsed.payload[is_meta], 0, fr)
    _, chunk = layout.split_metadata_address(fr.address_bits, addresses)
    out = []
    for g in range(GENERATIONS - 1, -1, -1):
        keep = (chunk >= g * CATALOGUE_CHUNKS) & (chunk < (g + 1) * CATALOGUE_CHUNKS)
        if not keep.any():
            continue
        shifted = addresses[keep] - ((g * CATALOGUE_CHUNKS) << layout.COPY_BITS)
        for blob in layout.recover_all_metadata(shifted, blocks[keep], fr.address_bits):
            if isinstance(blob, dict) and blob.get("format") == POOL_FORMAT:
                out.append((g, blob))
    return out


def read_catalogue(source: PoolSource) -> Catalogue:
    """The newest readable catalogue generation of the pool. Where the strands hold several
    pools' catalogues (reads of pools with the same primers), the pool named by
    ``source.archive`` (its :func:`pool_id`); none named: an error listing them, never one
    pool's catalogue over another's items."""
    fr = source.framer
    strands, erasures, _ = source.pick(fr, None, "catalogue", catalogue_keys(fr))
    present = _generations_present(fr, strands, erasures)
    found = []
    for g, blob in _all_catalogues(fr, strands, erasures):
        try:
            found.append((g, pool_id(catalogue_from_json(blob, source.path).to_json()), blob))
        except HelixError:
            continue
    pools: dict[int, tuple[int, dict[str, Any]]] = {}
    for g, pid, blob in found:
        pools.setdefault(pid, (g, blob))  # newest generation first
    if not pools:
        raise HelixError(f"{source.path}: no readable pool catalogue")
    if source.archive is not None and source.archive not in pools:
        raise HelixError(
            f"{source.path}: no pool {source.archive} here (pools found: "
            f"{', '.join(map(str, pools))})"
        )
    if source.archive is None and len(pools) > 1:
        listing = "; ".join(
            f"{pid} ({', '.join(printable(it['name']) for it in blob['items'][:3])}"
            f"{', ...' if len(blob['items']) > 3 else ''})"
            for pid, (_, blob) in pools.items()
        )
        raise HelixError(
            f"{source.path}: holds {len(pools)} pools with the same primers: {listing}; "
            "choose one with --archive ID"
        )
    pid = source.archive if source.archive is not None else next(iter(pools))
    g, blob = pools[pid]
    cat = catalogue_from_json(blob, source.path)
    check_items(cat, fr, source)
    cat.pool_id, cat.other_pools = pid, [p for p in pools if p != pid]
    # newer generations that do not decode (another pool's readable ones are not this one's)
    cat.unreadable_newer = [p for p in present if p > g and p not in {h for h, _, _ in found}]
    return cat


def check_items(cat: Catalogue, fr, source: PoolSource) -> None:
    """HelixError where the catalogue claims what the pool cannot hold (forged or damaged: a
    valid CRC does not make it true): address and chunk ranges outside their regions or
    overlapping, a size the item's strands cannot carry, and (clean strands) far more data
    strands than the pool has, so that nothing is sized from an unchecked claim."""
    from helix_media.archive.parse import CLAIM_FACTOR, CLAIM_SLACK

    data_space = 1 << (fr.address_bits - 1)
    held = None if source.strands is None else len(source.strands)
    bound = None if held is None else CLAIM_SLACK + CLAIM_FACTOR * held
    per_strand = fr.strand_length // 4  # bytes: 2 bits a base, more than any coder stores
    spans: list[tuple[int, int, str]] = []
    chunks: list[tuple[int, int, str]] = []

    def fail(it: Item, what: str) -> HelixError:
        return HelixError(
            f"{source.path}: damaged or forged pool catalogue (generation {cat.generation}): "
            f"item {printable(it.name)!r} {what}; not read"
        )

    for it in cat.items:
        first, count = it.data
        if first + count > data_space:
            raise fail(it, f"claims data addresses up to {first + count}, past the {data_space} "
                           "there are")  # fmt: skip
        if bound is not None and count > bound:
            raise fail(it, f"claims {count} data strands, the pool holds {held} strands")
        if it.size > count * per_strand:
            raise fail(it, f"claims {it.size} bytes, its {count} data strands hold at most "
                           f"{count * per_strand}")  # fmt: skip
        c0, n, copies = it.metadata
        if not (c0 >= ITEM_CHUNK_BASE and c0 + n <= MAX_METADATA_CHUNK and n >= 1):
            raise fail(it, f"claims metadata chunks {c0}-{c0 + n - 1}, outside "
                           f"{ITEM_CHUNK_BASE}-{MAX_METADATA_CHUNK - 1}")  # fmt: skip
        if not 1 <= copies <= 1 << layout.COPY_BITS:
            raise fail(it, f"claims {copies} metadata copies (1-{1 << layout.COPY_BITS})")
        spans.append((first, first + count, it.name))
        chunks.append((c0, c0 + n, it.name))
    for ranges, what in ((spans, "data addresses"), (chunks, "metadata chunks")):
        ranges.sort()
        for (_, end, a), (start, _, b) in zip(ranges, ranges[1:], strict=False):
            if start < end:
                raise HelixError(
                    f"{source.path}: damaged or forged pool catalogue (generation "
                    f"{cat.generation}): items {printable(a)!r} and {printable(b)!r} share "
                    f"{what}; not read"
                )


def _generations_present(fr, strands, erasures) -> list[int]:
    """Catalogue generations with at least one strand that decodes (readable or not whole)."""
    if not len(strands):
        return []
    parsed = parse_strands(fr, strands, fr.metadata_coder, fr.metadata_coder, erasures)
    addresses = parsed.addresses[parsed.ok & fr.is_metadata(parsed.addresses)]
    _, chunk = layout.split_metadata_address(fr.address_bits, addresses)
    return sorted({int(c) // CATALOGUE_CHUNKS for c in chunk if c < ITEM_CHUNK_BASE})


def read_item_metadata(source: PoolSource, item: Item):
    """(item framer, item metadata) from the item's own metadata strands."""
    fr = pool_framer(item.primers)
    strands, erasures, _ = source.pick(fr, item.metadata_addresses(fr.address_bits), "metadata")
    metas = _metadata_blobs(fr, strands, erasures, item.metadata[0], item.metadata[1])
    if not metas:
        raise HelixError(f"{source.path}: the metadata of {item.name!r} is unreadable")
    # another pool's item may share these metadata chunks: the one that is this item
    mine = [m for m in metas if _is_item(m, item)]
    meta = check_metadata(mine[0] if mine else metas[0], f"{source.path}: {item.name}")
    check_item_strands(meta, item, source.path)
    return fr, meta


def check_item_strands(meta: dict[str, Any], item: Item, path: str) -> None:
    """HelixError unless the item's metadata lays out exactly the data strands the catalogue
    gives it: a reader sizes its work by the metadata's streams, and only the catalogue's
    count is checked against the pool (:func:`check_items`)."""
    from helix_media.archive.parse import expected_data_strands

    if "streams" not in meta:  # a catalogue where an item's metadata should be
        raise HelixError(f"{path}: the metadata of {printable(item.name)!r} is not an item's")
    claimed = expected_data_strands(meta)
    if claimed != item.data[1]:
        raise HelixError(
            f"{path}: damaged or forged metadata of {printable(item.name)!r}: it lays out "
            f"{claimed} data strands, the catalogue gives the item {item.data[1]}; not read"
        )


def _is_item(meta: Any, item: Item) -> bool:
    """Whether metadata ``meta`` is the catalogue's ``item`` (kind and size agree)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("streams"), dict):
        return False
    if item.kind == "file":
        return isinstance(meta.get("file"), dict) and meta["file"].get("size") == item.size
    try:
        size = sum(u[4] for s in meta["streams"].values() for u in s["units"])
    except (KeyError, TypeError, IndexError):
        return False
    return meta.get("kind") != "file" and size == item.size


def read_item_blocks(
    source: PoolSource, fr, meta: dict[str, Any], item: Item, indices: np.ndarray
) -> tuple[dict[int, np.ndarray], dict[str, Any]]:
    """Data blocks of the item's strand ``indices`` (0-based), keyed by index."""
    from helix_media.archive.estimates import select_blocks, with_alternatives
    from helix_media.archive.keys import framer_key
    from helix_media.blocks.whitening import whiten

    strands, erasures, alts = source.pick(fr, item.data_addresses(indices), "data")
    stats: dict[str, Any] = {
        "strands_read": len(strands),
        "strands_ok": 0,
        "symbols_corrected": 0,
        # what a lone archive's decode counts, so that loss is reported the same way
        "data_strands": len(indices),
        "data_strands_found": 0,
        "from_reads": not source.clean,  # (the outer code checks such strands)
    }
    if not len(strands):
        stats["strands_failed"] = 0
        return {}, stats
    cd = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    key = framer_key(fr, meta)
    parsed = with_alternatives(
        fr, parse_strands(fr, strands, cd, None, erasures, key), alts, cd, key
    )
    ok = parsed.ok & ~fr.is_metadata(parsed.addresses)
    blocks = whiten(parsed.addresses[ok], parsed.payload[ok], meta["seed"], fr, cd)
    picked = select_blocks(parsed.addresses[ok], blocks, parsed.corrected[ok])
    offset, wanted = item.data[0], set((indices).tolist())
    out = {a - offset: b for a, b in picked.items() if a - offset in wanted}
    stats.update(
        strands_ok=int(parsed.ok.sum()),
        symbols_corrected=int(parsed.corrected[parsed.ok].sum()),
        strands_failed=int((~parsed.ok).sum()),
        data_strands_found=len(out),
    )
    return out, stats
