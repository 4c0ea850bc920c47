"""A pool's strands or reads, and what reading by address gets from them: the catalogue, an
item's metadata, an item's data blocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from helix_media import plugins
from helix_media.archive.pool.catalogue import (
    CATALOGUE_CHUNKS,
    CATALOGUE_COPIES,
    GENERATIONS,
    ITEM_CHUNK_BASE,
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
        from helix_media.strandio.strand_files import is_sequence_file, read_strands

        self.path = str(path)
        #: the pool to read where the strands hold several (``--archive``; see read_catalogue)
        self.archive = current_archive() if archive is None else archive
        self.pairs: dict[str, int] | None = None
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
            header, seqs = read_strands(path, allow_n=True)
            if seqs and not header.get("pool"):
                raise HelixError(f"{path}: not a pool (make one with helix pool add)")
            usable = [s for s in seqs if len(s) == n]
            self.strands = np.stack(usable) if usable else None
        if (self.strands is None) if self.reads is None else not len(self.reads.first):
            raise HelixError(f"{path}: no strands")
        self.clean = self.reads is None
        self.touched: dict[str, int] = {}
        self.read_reports: dict[str, dict[str, int]] = {}

    def pick(self, fr, addresses: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray | None]:
        """Strands (clean, or consensus estimates from reads) whose address is one of
        ``addresses``, with the read path's erasures; counted under ``what``."""
        keys = fr.address_keys(addresses)
        if keys is None:
            raise HelixError(f"framer {fr.name!r} has no addresses to pick strands by")
        if self.clean:
            s = self.strands
            p5, p3 = len(fr.primer5), len(fr.primer3)
            mine = (s[:, :p5] == fr.primer5).all(1) & (s[:, -p3:] == fr.primer3).all(1)
            rows = np.flatnonzero(mine)
            rows = rows[np.isin(fr.cluster_keys(s[rows, p5 : fr.cluster_span]), keys)]
            self.touched[what] = self.touched.get(what, 0) + len(rows)
            return s[rows], None
        from helix_media.archive.parse import estimate_strands

        est = estimate_strands(fr, self.reads, self.path, select=keys)
        self.touched[what] = self.touched.get(what, 0) + len(est.strands)
        self.read_reports[what] = est.report.to_json()
        erasures = est.erasures if est.report.clusters < est.report.clustered else None
        return est.strands, erasures


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
    addrs = [
        layout.metadata_address(fr.address_bits, k, c)
        for c in range(ITEM_CHUNK_BASE)
        for k in range(CATALOGUE_COPIES)
    ]
    strands, erasures = source.pick(fr, np.array(addrs, dtype=np.int64), "catalogue")
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
    cat.pool_id, cat.other_pools = pid, [p for p in pools if p != pid]
    # newer generations that do not decode (another pool's readable ones are not this one's)
    cat.unreadable_newer = [p for p in present if p > g and p not in {h for h, _, _ in found}]
    return cat


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
    strands, erasures = source.pick(fr, item.metadata_addresses(fr.address_bits), "metadata")
    metas = _metadata_blobs(fr, strands, erasures, item.metadata[0], item.metadata[1])
    if not metas:
        raise HelixError(f"{source.path}: the metadata of {item.name!r} is unreadable")
    # another pool's item may share these metadata chunks: the one that is this item
    mine = [m for m in metas if _is_item(m, item)]
    return fr, check_metadata(mine[0] if mine else metas[0], f"{source.path}: {item.name}")


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
    from helix_media.archive.keys import framer_key
    from helix_media.archive.parse import select_blocks
    from helix_media.blocks.whitening import whiten

    strands, erasures = source.pick(fr, item.data_addresses(indices), "data")
    stats: dict[str, Any] = {
        "strands_read": len(strands),
        "strands_ok": 0,
        "symbols_corrected": 0,
        # what a lone archive's decode counts, so that loss is reported the same way
        "data_strands": len(indices),
        "data_strands_found": 0,
    }
    if not len(strands):
        stats["strands_failed"] = 0
        return {}, stats
    cd = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    parsed = parse_strands(fr, strands, cd, None, erasures, framer_key(fr, meta))
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
