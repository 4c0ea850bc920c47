"""One item out of a pool, whole or a time range, touching only the strands it needs."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn

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
from helix_media.media.codec import VideoInfo, layer_of

if TYPE_CHECKING:
    from helix_media.archive.dna_av_input import InputContainer


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
    #: a video item's frames (the range's); from :func:`get_item`, which streams them to OUT
    #: without keeping them, the numbers of the frames written
    frames: Sequence[Any] = field(default_factory=list)
    first_frame: int = 0
    concealed: list[int] = field(default_factory=list)
    audio_frames: list[Any] = field(default_factory=list)
    audio_params: dict[str, Any] | None = None
    touched: dict[str, int] = field(default_factory=dict)  # strands decoded, by purpose
    stats: dict[str, Any] = field(default_factory=dict)
    #: what was lost, every stream counted, as a lone archive's decode reports it
    #: (``report.complete``, ``report.loss_report()``)
    report: DecodeResult | None = None
    #: :func:`open_item`'s video, not decoded yet (its frames: :func:`item_streams`)
    video: InputContainer | None = field(default=None, repr=False)
    ranged: bool = False
    frames_stop: int | None = None  # the frames are first_frame..frames_stop - 1


def open_item(
    source: PoolSource | str,
    name: str,
    start: float | None = None,
    duration: float | None = None,
    layers: int | None = None,
) -> ItemResult:
    """:func:`decode_item` up to the decoding of a video: its strands read and checked, the
    item's :class:`InputContainer` in ``video`` (frames from ``first_frame`` on, decoded by
    :func:`item_streams` GOP by GOP); a file item comes back whole."""
    from helix_media.archive.decode import file_bytes
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
        dna = InputContainer(source.path, parsed=(fr, meta, blocks, stats), layers=layers)
        return ItemResult(
            item, meta, concealed=dna.report.concealed_frames, audio_params=dna.audio_params,
            touched=dict(source.touched), stats=dna.report.stats, report=dna.report, video=dna,
            frames_stop=dna.info.frames or 0,
        )  # fmt: skip
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
    if next(dna.demux(dna.streams.video[0]), None) is None:  # every GOP of the range lost:
        _unreadable_range(source.path, name)  # said before anything is written
    stats["units"] = [u[0] for u in units]
    return ItemResult(
        item, meta, first_frame=f0, concealed=dna.report.concealed_frames,
        touched=dict(source.touched), stats=stats, report=dna.report, video=dna, ranged=True,
        frames_stop=f1,
    )  # fmt: skip


def _unreadable_range(pool: str, name: str) -> NoReturn:
    raise HelixError(f"{pool}: no frame of {name!r} in that range could be read")


def item_streams(r: ItemResult) -> tuple[Iterator[Any], Iterator[Any]]:
    """An opened video item's (:func:`open_item`) video and audio frames, each decoded as it
    is taken, GOP by GOP (a range has no sound). A range none of whose frames could be read
    raises once its frames are all taken."""
    dna = r.video
    if dna is None:
        raise HelixError(f"{r.item.name!r}: not an opened video item")
    if not r.ranged:
        return dna.decode(video=0), dna.decode(audio=0)
    return _range_frames(dna, r.item.name), iter(())


def _range_frames(dna: InputContainer, name: str) -> Iterator[Any]:
    n = 0
    for frame in dna.decode(video=0):
        n += 1
        yield frame
    if len(dna.report.concealed_frames) == n:
        _unreadable_range(dna.path, name)


def item_video_info(r: ItemResult) -> VideoInfo:
    """The picture a video item (or range) is written as: the metadata's size and rate, a
    frame every 1/fps."""
    v = VideoInfo.from_json(r.meta["video"])
    stop = r.frames_stop if r.frames_stop is not None else r.first_frame + len(r.frames)
    return VideoInfo(v.width, v.height, v.fps, stop - r.first_frame)


def decode_item(
    source: PoolSource | str,
    name: str,
    start: float | None = None,
    duration: float | None = None,
    layers: int | None = None,
) -> ItemResult:
    """One item of a pool (``.dnapkt`` strands or reads of the whole pool), whole or, for a
    video, the frames of ``[start, start + duration)`` seconds read from their GOPs only;
    ``layers``: a layered codec's first layers only. A video's frames are all held in memory
    (``frames``, ``audio_frames``): to write them, :func:`get_item` streams them instead."""
    r = open_item(source, name, start, duration, layers)
    if r.video is not None:
        video, audio = item_streams(r)
        r.frames = list(video)
        r.audio_frames = list(audio)
        r.video = None
    return r


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
    ``report`` (exit 3 in the CLI), exactly as for a lone archive's decode. A video is
    streamed to OUT GOP by GOP (as :func:`decode_video` does): memory holds the item's
    packets, not its frames; ``frames`` then numbers the frames written."""
    from helix_media.archive.decode import write_frames
    from helix_media.media.video_io import VideoSink
    from helix_media.strandio.atomic import atomic_output, check_target, staged_output

    check_target(output)
    source = PoolSource(pool, reads2)
    r = open_item(source, name, start, duration, layers)
    if source.pairs is not None:
        r.stats["pairs"] = source.pairs
    if r.data is not None:
        with atomic_output(output) as f:
            f.write(r.data)
        return r
    info = item_video_info(r)
    with staged_output(output) as path, VideoSink(path, info, audio_params=r.audio_params) as sink:
        write_frames(sink, *item_streams(r))
    r.frames, r.video = range(r.first_frame, r.first_frame + sink.frames_written), None
    return r
