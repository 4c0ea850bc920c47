"""One item out of a pool, whole or a time range, touching only the strands it needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from helix_media.archive.pool.catalogue import Item
from helix_media.archive.pool.source import (
    PoolSource,
    read_catalogue,
    read_item_blocks,
    read_item_metadata,
)
from helix_media.archive.results import DecodeResult
from helix_media.blocks import layout
from helix_media.errors import HelixError
from helix_media.media.codec import layer_of


# -- time ranges -------------------------------------------------------------------------------
def frame_range(video: dict[str, Any], start: float, duration: float) -> tuple[int, int]:
    """[start, start + duration) seconds -> frames [f0, f1) (every frame shown in it)."""
    fps = Fraction(*video["fps"])
    if start < 0 or duration <= 0 or not math.isfinite(start + duration):
        raise HelixError("--start must be >= 0 and --duration > 0")
    frames = video.get("frames")  # optional in metadata (checked as an integer where given)
    if frames is None:
        raise HelixError(
            "the item's metadata gives no frame count, so a time range cannot be placed; "
            "get the whole item (no --start/--duration)"
        )
    f0 = math.floor(Fraction(start) * fps)
    f1 = min(int(frames), math.ceil(Fraction(start + duration) * fps))
    if f0 >= int(frames):
        raise HelixError(f"--start {start} is past the end ({frames / float(fps):.2f} s)")
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


def range_units(
    meta: dict[str, Any], f0: int, f1: int, layers: int | None = None
) -> tuple[list[list[int]], np.ndarray]:
    """Video units (GOPs) overlapping frames [f0, f1) and the strand indices they occupy in
    the first ``layers`` video layers (default: all)."""
    bits = int(meta["payload_bits"])
    idx: set[int] = set()
    units: dict[str, list[list[int]]] = {}
    for name, s in meta["streams"].items():
        layer = layer_of(name)
        if layer is None or (layers is not None and layer >= max(layers, 1)):
            continue
        stream = layout.StreamLayout(**s)
        units[name] = stream.overlapping(f0, f1)
        idx.update(i for u in units[name] for i in unit_strands(stream, u, bits))
    return units["video"], np.array(sorted(idx), dtype=np.int64)


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
    #: what was lost, every stream counted, as a lone archive's decode reports it
    #: (``report.complete``, ``report.loss_report()``)
    report: DecodeResult | None = None


def decode_item(
    source: PoolSource | str,
    name: str,
    start: float | None = None,
    duration: float | None = None,
    layers: int | None = None,
) -> ItemResult:
    """One item of a pool (``.dnapkt`` strands or reads of the whole pool), whole or, for a
    video, the frames of ``[start, start + duration)`` seconds read from their GOPs only;
    ``layers``: a layered codec's first layers only."""
    from helix_media.archive.decode import decode_media, file_bytes
    from helix_media.archive.dna_av import InputContainer
    from helix_media.archive.parse import recover_lost

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
            data = file_bytes(meta, blocks, f"{source.path}:{name}")  # whole, or raises
            report = DecodeResult(
                meta, 0, stats["strands_read"], stats["strands_ok"], stats["symbols_corrected"],
                stats=stats,
            )  # fmt: skip
            return ItemResult(
                item, meta, data=data, touched=dict(source.touched), stats=stats, report=report
            )
        media = decode_media(source.path, parsed=(fr, meta, blocks, stats), layers=layers)
        return ItemResult(
            item,
            meta,
            frames=media.frames,
            concealed=media.result.concealed_frames,
            audio_frames=media.audio_frames,
            audio_params=media.audio_params,
            touched=dict(source.touched),
            stats=media.result.stats,
            report=media.result,
        )
    f0, f1 = frame_range(meta["video"], start or 0.0, duration or math.inf)
    units, indices = range_units(meta, f0, f1, layers)
    blocks, stats = read_item_blocks(source, fr, meta, item, indices)
    if "outer_code" in meta and not all(int(i) in blocks for i in indices):
        # a needed strand is lost: the outer code needs the rest of the item's strands
        rest = np.setdiff1d(np.arange(item.data[1]), indices)
        more, _ = read_item_blocks(source, fr, meta, item, rest)
        blocks.update(more)
        recover_lost(meta, blocks, stats)
    dna = InputContainer(
        source.path, parsed=(fr, meta, blocks, stats), frames=(f0, f1), layers=layers
    )
    _count_range(stats, blocks, indices)
    frames = list(dna.decode(video=0))
    concealed = dna.report.concealed_frames
    if len(concealed) == len(frames):
        raise HelixError(f"{source.path}: no frame of {name!r} in that range could be read")
    stats["units"] = [u[0] for u in units]
    return ItemResult(
        item, meta, frames=frames, first_frame=f0, concealed=concealed,
        touched=dict(source.touched), stats=stats, report=dna.report,
    )  # fmt: skip


def _count_range(stats: dict[str, Any], blocks: dict[int, Any], indices: np.ndarray) -> None:
    """Count a time range's data strands as the ones its loss report is about: all that
    its frames need (the container counted whole layers; the outer code may have run on
    the whole item, whose other strands it only needed as helpers)."""
    stats["data_strands"] = len(indices)
    stats["data_strands_found"] = sum(int(i) in blocks for i in indices)
    stats.pop("strands_unrecoverable", None)


def get_item(
    pool: str,
    name: str,
    output: str,
    start: float | None = None,
    duration: float | None = None,
    reads2: str | None = None,
    layers: int | None = None,
) -> ItemResult:
    """Write one item (a file's bytes, whatever OUT's suffix; a video or a range of it).
    ``reads2``: see :class:`PoolSource` (stats: "pairs"). What was lost is in
    ``report`` (exit 3 in the CLI), exactly as for a lone archive's decode."""
    from helix_media.strandio.atomic import atomic_output, check_target, staged_output

    check_target(output)
    source = PoolSource(pool, reads2)
    r = decode_item(source, name, start, duration, layers)
    if source.pairs is not None:
        r.stats["pairs"] = source.pairs
    if r.data is not None:
        with atomic_output(output) as f:
            f.write(r.data)
        return r
    from helix_media.media.codec import VideoInfo
    from helix_media.media.video_io import VideoSink

    v = VideoInfo.from_json(r.meta["video"])
    info = VideoInfo(v.width, v.height, v.fps, len(r.frames))
    with staged_output(output) as path, VideoSink(path, info, audio_params=r.audio_params) as sink:
        for frame in r.frames:
            sink.write(frame)
        for af in r.audio_frames:
            sink.write(af)
    return r
