"""Pools: many videos and files in one oligo pool, read back by item and by time range.

Address space (helix framer, 25-bit addresses):

* **data**: item ``i`` owns the contiguous data addresses ``[first, first + count)`` (its
  data strands, then its outer-code parity); inside its own metadata, strand indices stay
  0-based and ``address_offset`` says where they start, so the whole decoder is unchanged.
* **metadata**: the metadata address ``chunk << 5 | copy`` (see :mod:`layout`) is split into
  regions: catalogue generation ``g`` owns chunks ``[64 g, 64 g + 64)`` for ``g < 16``; items'
  own metadata follow from chunk 1024 on, each a contiguous run of chunks.

The **catalogue** (item names, kinds, address and chunk ranges, primers) is a metadata blob
like an archive's (magic, length, CRC, zlib JSON), stored ``copies`` times with the pool's
primers. ``pool add`` only *adds* strands: the new items and a new catalogue generation; a
reader takes the newest generation it can read, so an already synthesized pool is extended by
synthesizing the new strands alone.

**Random access.** Reads or strands are picked by address *before* decoding: the framer's
``address_keys`` turns an address range into cluster keys, and only strands (or read
clusters) with those keys are decoded. A time range needs the catalogue, the item's metadata,
and the data strands of the GOPs that overlap it (from the packet table: unit byte ranges ->
strand indices); nothing else is touched, and the counts are reported. Optionally an item gets
its own primer pair (``own_primers``), which is how a lab reads one item physically (PCR with
its primers); other items' reads then fail primer trimming.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, distributed, layout, plugins
from .dna_av import conceal_gaps
from .errors import HelixError
from .metadata_schema import POOL_FORMAT, check_catalogue, check_metadata
from .paired import check_reads_span_strands, merge_files

CATALOGUE_CHUNKS = 64  # metadata chunks per catalogue generation (~2.4 kB compressed)
GENERATIONS = 16  # catalogue generations, i.e. `pool add` runs per pool
ITEM_CHUNK_BASE = CATALOGUE_CHUNKS * GENERATIONS
MAX_METADATA_CHUNK = 10_000  # the helix framer resolves ~330k metadata addresses (32 per chunk)
CATALOGUE_COPIES = 5


@dataclass
class Item:
    """One catalogue entry: where an item's strands live and what it is."""

    name: str
    kind: str  # "video" or "file"
    codec: str
    data: list[int]  # [first data address, data strands incl. outer parity]
    metadata: list[int]  # [first metadata chunk, chunks, copies]
    size: int  # file bytes, or bytes of packets for a video
    primers: list[str] | None = None  # [5', 3'] when the item has its own pair
    frames: int | None = None
    fps: list[int] | None = None

    @property
    def strands(self) -> int:
        return self.data[1] + self.metadata[1] * self.metadata[2]

    @property
    def duration_s(self) -> float | None:
        if self.frames is None or not self.fps:
            return None
        return self.frames / float(Fraction(*self.fps))

    def data_addresses(self, indices: np.ndarray | None = None) -> np.ndarray:
        idx = np.arange(self.data[1]) if indices is None else np.asarray(indices, dtype=np.int64)
        return self.data[0] + idx

    def metadata_addresses(self, address_bits: int) -> np.ndarray:
        first, chunks, copies = self.metadata
        return np.array(
            [
                layout.metadata_address(address_bits, k, first + c)
                for c in range(chunks)
                for k in range(copies)
            ],
            dtype=np.int64,
        )


@dataclass
class Catalogue:
    generation: int = -1  # -1: an empty pool
    items: list[Item] = field(default_factory=list)
    #: newer generations whose strands are there but do not decode: this catalogue may lack
    #: the items they added
    unreadable_newer: list[int] = field(default_factory=list)

    def find(self, name: str) -> Item:
        for it in self.items:
            if it.name == name:
                return it
        known = ", ".join(it.name for it in self.items) or "none"
        newer = (
            f"; catalogue generation(s) {self.unreadable_newer} are unreadable, the item may "
            f"be listed there (this is generation {self.generation})"
            if self.unreadable_newer
            else ""
        )
        raise HelixError(f"no item {name!r} in the pool (items: {known}){newer}")

    def next_data(self) -> int:
        return max((it.data[0] + it.data[1] for it in self.items), default=0)

    def next_chunk(self) -> int:
        return max((it.metadata[0] + it.metadata[1] for it in self.items), default=ITEM_CHUNK_BASE)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": POOL_FORMAT,
            "version": 1,
            "writer": f"helix-media {__version__}",
            "generation": self.generation,
            "items": [asdict(it) for it in self.items],
        }


# -- strands or reads of a pool ---------------------------------------------------------------
class PoolSource:
    """A pool's clean strands (``.dnapkt``) or sequencing reads (FASTA/FASTQ), read once;
    :meth:`pick` decodes only the strands of given addresses and counts what it touched.
    ``reads2``: the R2 FASTQ of paired-end reads whose R1 FASTQ is ``path``; mates are merged
    first (:attr:`pairs`: what merging did)."""

    def __init__(self, path: str, reads2: str | None = None) -> None:
        from .strand_files import read_strands

        self.path = str(path)
        self.pairs: dict[str, int] | None = None
        if reads2 is None:
            header, seqs = read_strands(path, allow_n=True)
        else:
            seqs, pairs = merge_files(path, reads2)
            header, self.pairs = {}, pairs.to_json()
        if not seqs:
            raise HelixError(f"{path}: no strands")
        self.header = header
        self.framer = _framer(None)
        self.clean = bool(header)
        n = self.framer.strand_length
        if not self.clean and reads2 is None:
            check_reads_span_strands(path, seqs, n)
        if self.clean:
            if not header.get("pool"):
                raise HelixError(f"{path}: not a pool (make one with helix pool add)")
            self.strands = np.stack([s for s in seqs if len(s) == n]) if seqs else None
            self.reads: list[np.ndarray] = []
        else:
            self.strands, self.reads = None, seqs
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
        from .pipeline import estimate_strands

        est = estimate_strands(fr, self.reads, self.path, select=keys)
        self.touched[what] = self.touched.get(what, 0) + len(est.strands)
        self.read_reports[what] = est.report.to_json()
        erasures = est.erasures if est.report.clusters < est.report.clustered else None
        return est.strands, erasures


def _framer(primers: list[str] | None):
    fr = plugins.get_framer(
        None, **({"primer5": primers[0], "primer3": primers[1]} if primers else {})
    )
    if fr.address_keys(np.zeros(1, dtype=np.int64)) is None:
        raise HelixError(f"pools need a framer with addresses, not {fr.name!r}")
    return fr


def _metadata_blob(fr, strands, erasures, first_chunk: int, chunks: int | None):
    """Metadata strands -> the blob stored from chunk ``first_chunk`` (or None)."""
    from .pipeline import whiten

    if not len(strands):
        return None
    parsed = fr.parse(strands, fr.metadata_coder, fr.metadata_coder, erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    addresses = parsed.addresses[is_meta]
    _, chunk = layout.split_metadata_address(fr.address_bits, addresses)
    keep = (chunk >= first_chunk) & ((chunk < first_chunk + chunks) if chunks else True)
    blocks = whiten(addresses[keep], parsed.payload[is_meta][keep], 0, fr)
    shifted = addresses[keep] - (first_chunk << layout.COPY_BITS)
    return layout.recover_metadata(shifted, blocks, fr.address_bits)


def read_catalogue(source: PoolSource) -> Catalogue:
    """The newest readable catalogue generation of the pool."""
    fr = source.framer
    addrs = [
        layout.metadata_address(fr.address_bits, k, c)
        for c in range(ITEM_CHUNK_BASE)
        for k in range(CATALOGUE_COPIES)
    ]
    strands, erasures = source.pick(fr, np.array(addrs, dtype=np.int64), "catalogue")
    present = _generations_present(fr, strands, erasures)
    for g in range(GENERATIONS - 1, -1, -1):
        blob = _metadata_blob(fr, strands, erasures, g * CATALOGUE_CHUNKS, CATALOGUE_CHUNKS)
        if blob is not None and blob.get("format") == POOL_FORMAT:
            cat = catalogue_from_json(blob, source.path)
            cat.unreadable_newer = [p for p in present if p > g]
            return cat
    raise HelixError(f"{source.path}: no readable pool catalogue")


def catalogue_from_json(blob: dict[str, Any], source: str) -> Catalogue:
    """A catalogue read from DNA -> :class:`Catalogue` (HelixError if it is malformed)."""
    check_catalogue(blob, source)
    return Catalogue(int(blob["generation"]), [Item(**it) for it in blob["items"]])


def _generations_present(fr, strands, erasures) -> list[int]:
    """Catalogue generations with at least one strand that decodes (readable or not whole)."""
    if not len(strands):
        return []
    parsed = fr.parse(strands, fr.metadata_coder, fr.metadata_coder, erasures)
    addresses = parsed.addresses[parsed.ok & fr.is_metadata(parsed.addresses)]
    _, chunk = layout.split_metadata_address(fr.address_bits, addresses)
    return sorted({int(c) // CATALOGUE_CHUNKS for c in chunk if c < ITEM_CHUNK_BASE})


def read_item_metadata(source: PoolSource, item: Item):
    """(item framer, item metadata) from the item's own metadata strands."""
    fr = _framer(item.primers)
    strands, erasures = source.pick(fr, item.metadata_addresses(fr.address_bits), "metadata")
    meta = _metadata_blob(fr, strands, erasures, item.metadata[0], item.metadata[1])
    if meta is None:
        raise HelixError(f"{source.path}: the metadata of {item.name!r} is unreadable")
    return fr, check_metadata(meta, f"{source.path}: {item.name}")


def read_item_blocks(
    source: PoolSource, fr, meta: dict[str, Any], item: Item, indices: np.ndarray
) -> tuple[dict[int, np.ndarray], dict[str, Any]]:
    """Data blocks of the item's strand ``indices`` (0-based), keyed by index."""
    from .pipeline import _key, select_blocks, whiten

    strands, erasures = source.pick(fr, item.data_addresses(indices), "data")
    stats: dict[str, Any] = {"strands_read": len(strands), "strands_ok": 0, "symbols_corrected": 0}
    if not len(strands):
        stats["strands_failed"] = 0
        return {}, stats
    cd = plugins.get_coder(meta["coder"], constraints=fr.constraints)
    parsed = fr.parse(strands, cd, None, erasures, **_key(fr, meta))
    ok = parsed.ok & ~fr.is_metadata(parsed.addresses)
    blocks = whiten(parsed.addresses[ok], parsed.payload[ok], meta["seed"], fr, cd)
    picked = select_blocks(parsed.addresses[ok], blocks, parsed.corrected[ok])
    offset, wanted = item.data[0], set((indices).tolist())
    out = {a - offset: b for a, b in picked.items() if a - offset in wanted}
    stats.update(
        strands_ok=int(parsed.ok.sum()),
        symbols_corrected=int(parsed.corrected[parsed.ok].sum()),
        strands_failed=int((~parsed.ok).sum()),
    )
    return out, stats


# -- time ranges -------------------------------------------------------------------------------
def frame_range(video: dict[str, Any], start: float, duration: float) -> tuple[int, int]:
    """[start, start + duration) seconds -> frames [f0, f1) (every frame shown in it)."""
    fps = Fraction(*video["fps"])
    if start < 0 or duration <= 0 or not math.isfinite(start + duration):
        raise HelixError("--start must be >= 0 and --duration > 0")
    f0 = math.floor(Fraction(start) * fps)
    f1 = min(int(video["frames"]), math.ceil(Fraction(start + duration) * fps))
    if f0 >= int(video["frames"]):
        raise HelixError(f"--start {start} is past the end ({video['frames'] / float(fps):.2f} s)")
    return f0, f1


def unit_strands(stream: layout.StreamLayout, unit: list[int], block_bits: int) -> range:
    """Strand indices holding one unit's bytes (from the packet table)."""
    offset, nbytes = unit[3], unit[4]
    s = getattr(stream, "slice_bytes", 0)  # strand-aligned streams: one slice per strand
    if s:
        return range(
            stream.first_strand + offset // s, stream.first_strand + -(-(offset + nbytes) // s)
        )
    first = offset * 8 // block_bits
    last = ((offset + nbytes) * 8 - 1) // block_bits if nbytes else first
    return range(stream.first_strand + first, stream.first_strand + last + 1)


def range_units(meta: dict[str, Any], f0: int, f1: int) -> tuple[list[list[int]], np.ndarray]:
    """Video units (GOPs) overlapping frames [f0, f1) and the strand indices they occupy."""
    stream = layout.StreamLayout(**meta["streams"]["video"])
    units = [u for u in stream.units if u[1] < f1 and u[1] + u[2] > f0]
    bits = int(meta["payload_bits"])
    idx = sorted({i for u in units for i in unit_strands(stream, u, bits)})
    return units, np.array(idx, dtype=np.int64)


# -- reading items -----------------------------------------------------------------------------
@dataclass
class ItemResult:
    item: Item
    meta: dict[str, Any]
    data: bytes | None = None  # a file item's bytes
    frames: list[Any] = field(default_factory=list)  # a video item's frames (the range's)
    first_frame: int = 0
    concealed: list[int] = field(default_factory=list)
    audio_frames: list[Any] = field(default_factory=list)
    audio_params: dict[str, Any] | None = None
    touched: dict[str, int] = field(default_factory=dict)  # strands decoded, by purpose
    stats: dict[str, Any] = field(default_factory=dict)


def decode_item(
    source: PoolSource | str,
    name: str,
    start: float | None = None,
    duration: float | None = None,
) -> ItemResult:
    """One item of a pool (``.dnapkt`` strands or reads of the whole pool), whole or, for a
    video, the frames of ``[start, start + duration)`` seconds read from their GOPs only."""
    from .codec import VideoInfo
    from .pipeline import decode_media, file_bytes, recover_lost

    source = source if isinstance(source, PoolSource) else PoolSource(source)
    item = read_catalogue(source).find(name)
    fr, meta = read_item_metadata(source, item)
    ranged = start is not None or duration is not None
    if ranged and item.kind != "video":
        raise HelixError(f"{name!r} is a file; --start/--duration select part of a video")
    if not ranged:
        blocks, stats = read_item_blocks(source, fr, meta, item, np.arange(item.data[1]))
        if item.kind == "file":
            recover_lost(meta, blocks, stats)
            data = file_bytes(meta, blocks, f"{source.path}:{name}")
            return ItemResult(item, meta, data=data, touched=dict(source.touched), stats=stats)
        media = decode_media(source.path, parsed=(fr, meta, blocks, stats))
        return ItemResult(
            item,
            meta,
            frames=media.frames,
            concealed=media.result.concealed_frames,
            audio_frames=media.audio_frames,
            audio_params=media.audio_params,
            touched=dict(source.touched),
            stats=media.result.stats,
        )
    f0, f1 = frame_range(meta["video"], start or 0.0, duration or math.inf)
    units, indices = range_units(meta, f0, f1)
    blocks, stats = read_item_blocks(source, fr, meta, item, indices)
    if "outer_code" in meta and not all(int(i) in blocks for i in indices):
        # a needed strand is lost: the outer code needs the rest of the item's strands
        rest = np.setdiff1d(np.arange(item.data[1]), indices)
        more, _ = read_item_blocks(source, fr, meta, item, rest)
        blocks.update(more)
        recover_lost(meta, blocks, stats)
    stream = layout.StreamLayout(**meta["streams"]["video"])
    wanted = {u[0] for u in units}
    sub = layout.StreamLayout(**{**vars(stream), "units": units})
    packets, _ = layout.unpack_stream(sub, "video", blocks, int(meta["payload_bits"]))
    info = VideoInfo.from_json(meta["video"])
    decoder = plugins.get_codec(meta["codec"]).decoder(info, meta["codec_params"])
    decoded = (
        f for p in [*(p for p in packets if p.index in wanted), None] for f in decoder.decode(p)
    )
    concealed: list[int] = []
    frames = list(conceal_gaps(decoded, f0, f1, info, concealed))
    if len(concealed) == len(frames):
        raise HelixError(f"{source.path}: no frame of {name!r} in that range could be read")
    stats["units"] = [u[0] for u in units]
    return ItemResult(
        item, meta, frames=frames, first_frame=f0, concealed=concealed,
        touched=dict(source.touched), stats=stats,
    )  # fmt: skip


def get_item(
    pool: str,
    name: str,
    output: str,
    start: float | None = None,
    duration: float | None = None,
    reads2: str | None = None,
) -> ItemResult:
    """Write one item (a file's bytes, whatever OUT's suffix; a video or a range of it).
    ``reads2``: see :class:`PoolSource` (stats: "pairs")."""
    from .atomic import atomic_output, check_target

    check_target(output)
    source = PoolSource(pool, reads2)
    r = decode_item(source, name, start, duration)
    if source.pairs is not None:
        r.stats["pairs"] = source.pairs
    if r.data is not None:
        with atomic_output(output) as f:
            f.write(r.data)
        return r
    from .codec import VideoInfo
    from .video_io import VideoSink

    v = VideoInfo.from_json(r.meta["video"])
    info = VideoInfo(v.width, v.height, v.fps, len(r.frames))
    with VideoSink(output, info, audio_params=r.audio_params) as sink:
        for frame in r.frames:
            sink.write(frame)
        for af in r.audio_frames:
            sink.write(af)
    return r


# -- adding items ------------------------------------------------------------------------------
def _catalogue_strands(fr, cat: Catalogue) -> np.ndarray:
    from .pipeline import whiten

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
    redundancy: float = 0.0,
    own_primers: bool = False,
    progress: bool = False,
) -> tuple[Catalogue, list[Item], int]:
    """Add files and videos to ``pool`` (created if missing); returns (catalogue, new items,
    strands added). Only strands are added: old ones are kept as they are."""
    from .pipeline import check_layout_options, encode_packets
    from .strand_files import read_strands, write_strands

    if not paths:
        raise HelixError("nothing to add")
    check_layout_options(redundancy, metadata_copies)
    if Path(pool).suffix.lower() != ".dnapkt":
        raise HelixError(f"{pool}: a pool is a .dnapkt file")
    for path in paths:
        if Path(path).exists() and Path(pool).exists() and os.path.samefile(path, pool):
            raise HelixError(f"{path}: is the pool itself; a pool cannot be added to itself")
    fr = _framer(None)
    old = np.zeros((0, fr.strand_length), dtype=np.uint8)
    cat = Catalogue()
    if Path(pool).exists():
        source = PoolSource(pool)
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
    for (path, pair, *_), (video, packets, fields, stream_params) in zip(
        jobs, distributed.map_jobs(_item_packets, jobs, "items"), strict=True
    ):
        name = Path(path).name
        chunk0 = cat.next_chunk() if not new_items else _next_chunk(new_items[-1])
        data0 = cat.next_data() if not new_items else sum(new_items[-1].data)
        r = encode_packets(
            packets,
            fields,
            coder=coder,
            framer_params={"primer5": pair[0], "primer3": pair[1]} if pair else None,
            seed=seed,
            metadata_copies=metadata_copies,
            redundancy=redundancy,
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
    redundancy: float,
    progress: bool,
) -> tuple[bool, list, dict[str, Any], dict[str, Any] | None]:
    """One item's codec job: (is a video, packets, fields, stream parameters)."""
    from .pipeline import file_packets, is_file_codec, is_video_path, video_packets

    if is_file_codec(codec) or not is_video_path(path):
        packets, fields = file_packets(path, codec if is_file_codec(codec) else "raw", quality)
        return False, packets, fields, None
    packets, fields, stream_params, _ = video_packets(
        path,
        codec=codec,
        quality=quality,
        progress=progress,
        coder=coder,
        framer_params={"primer5": pair[0], "primer3": pair[1]} if pair else None,
        redundancy=redundancy,
    )
    fields["kind"] = "video"
    return True, packets, fields, stream_params


def add_items(pool: str, paths: list[str], **options: Any) -> tuple[Catalogue, list[Item], int]:
    """:func:`_add_items` under an exclusive lock on the pool: two adds at once never lose an
    item; the second fails at once with "pool is in use" instead."""
    import fcntl

    from .atomic import check_target

    check_target(pool)
    lock_path = os.path.join(os.path.dirname(os.path.abspath(pool)), f".{Path(pool).name}.lock")
    with open(lock_path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise HelixError(f"{pool}: pool is in use (another helix pool add); try again") from exc
        try:
            return _add_items(pool, paths, **options)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _next_chunk(item: Item) -> int:
    return item.metadata[0] + item.metadata[1]


def _primer_pairs(n: int, cat: Catalogue) -> list[tuple[str, str]]:
    """``n`` new primer pairs, far from the pool's and every item's primers (EORS code set,
    checked with primer3) that the framer accepts (addresses exist after them)."""
    from .primers import propose_pairs

    fr = _framer(None)
    taken = [_bases(fr.primer5), _bases(fr.primer3)]
    taken += [p for it in cat.items for p in (it.primers or [])]
    out: list[tuple[str, str]] = []
    seed = len(taken)
    while len(out) < n and seed < len(taken) + 20:
        pairs, _ = propose_pairs(pairs=n - len(out) + 2, seed=seed, avoid=tuple(taken))
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


# -- probing -----------------------------------------------------------------------------------
def range_cost(
    pool: str,
    name: str,
    start: float | None,
    duration: float | None,
    price: float,
    reads2: str | None = None,
) -> dict[str, Any]:
    """Strands (and USD) to read for one item or a time range of it, without decoding data.
    ``reads2``: see :class:`PoolSource`."""
    source = PoolSource(pool, reads2)
    item = read_catalogue(source).find(name)
    fr, meta = read_item_metadata(source, item)
    n_meta = item.metadata[1] * item.metadata[2]
    catalogue = source.touched.get("catalogue", 0)
    out: dict[str, Any] = {"item": name, "kind": item.kind, "item_strands": item.strands}
    if start is None and duration is None:
        data = item.data[1]
    else:
        if item.kind != "video":
            raise HelixError(f"{name!r} is a file; --start/--duration select part of a video")
        f0, f1 = frame_range(meta["video"], start or 0.0, duration or math.inf)
        units, idx = range_units(meta, f0, f1)
        data = len(idx)
        out.update(frames=[f0, f1], gops=[u[0] for u in units])
    total = catalogue + n_meta + data
    out.update(
        catalogue_strands=catalogue,
        metadata_strands=n_meta,
        data_strands=data,
        strands=total,
        cost_usd=round(total * price, 4),
        price_per_strand_usd=price,
    )
    return out


def format_range_cost(c: dict[str, Any]) -> str:
    what = (
        f"frames {c['frames'][0]}-{c['frames'][1] - 1} (GOPs {c['gops'][0]}-{c['gops'][-1]})"
        if "frames" in c
        else "the whole item"
    )
    return (
        f"{c['item']}: {what}: {c['strands']} strands to read ({c['catalogue_strands']} "
        f"catalogue + {c['metadata_strands']} metadata + {c['data_strands']} data, of the "
        f"item's {c['item_strands']}), ${c['cost_usd']:.2f} at ${c['price_per_strand_usd']}"
        " per strand"
    )


def format_list(cat: Catalogue, pool: str) -> str:
    lines = [
        f"{pool}: catalogue generation {cat.generation}, {len(cat.items)} items",
        f"  {'name':<24}{'kind':<7}{'codec':<11}{'bytes':>10}{'duration':>10}"
        f"{'strands':>9}  data addresses   primers",
    ]
    for it in cat.items:
        dur = f"{it.duration_s:.2f} s" if it.duration_s is not None else "-"
        lines.append(
            f"  {it.name:<24}{it.kind:<7}{it.codec:<11}{it.size:>10}{dur:>10}{it.strands:>9}"
            f"  {it.data[0]}-{it.data[0] + it.data[1] - 1:<10} "
            f"{'own' if it.primers else 'pool'}"
        )
    return "\n".join(lines)
