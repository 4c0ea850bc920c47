"""Strands -> a video file (GOP by GOP, damage concealed) or a stored file's bytes (whole or
not at all)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from helix_media import plugins
from helix_media.archive.parse import read_dna, recover_lost
from helix_media.archive.results import DecodedMedia, DecodeResult
from helix_media.blocks import layout
from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo

if TYPE_CHECKING:
    import av


def decode_media(
    input_path: str,
    *,
    progress: bool = False,
    parsed: tuple | None = None,
    decoder_options: dict[str, Any] | None = None,
    layers: int | None = None,
) -> DecodedMedia:
    """Strands (``.dnapkt``, FASTA, FASTQ) -> all decoded frames in memory; damage is
    concealed. ``parsed``: what :func:`read_dna` already returned for ``input_path``. For
    GOP-by-GOP decoding, use :func:`helix_media.open`."""
    from helix_media.archive.dna_av_input import InputContainer

    dna = InputContainer(input_path, parsed=parsed, decoder_options=decoder_options, layers=layers)
    frames = list(_progress(dna.decode(video=0), dna.info, progress))
    audio_frames = list(dna.decode(audio=0))
    return DecodedMedia(dna.info, frames, audio_frames, dna.audio_params, dna.report)


def _progress(frames, info: VideoInfo, show: bool):
    return tqdm(frames, total=info.frames, desc="decode", unit="frame", disable=not show)


def decode_video(
    input_path: str,
    output_path: str,
    *,
    progress: bool = False,
    parsed: tuple | None = None,
    decoder_options: dict[str, Any] | None = None,
    layers: int | None = None,
) -> DecodeResult:
    """Decode strands into a video file (container and codecs from ``output_path``'s suffix),
    GOP by GOP: memory holds one GOP's frames, not the video's. A FIFO or a device as
    ``output_path`` is streamed to, never replaced (see :func:`staged_output`)."""
    from helix_media.archive.dna_av_input import InputContainer
    from helix_media.media.video_io import VideoSink
    from helix_media.strandio.atomic import staged_output

    dna = InputContainer(input_path, parsed=parsed, decoder_options=decoder_options, layers=layers)
    with (
        staged_output(output_path) as path,
        VideoSink(path, dna.info, audio_params=dna.audio_params) as sink,
    ):
        write_frames(sink, _progress(dna.decode(video=0), dna.info, progress), dna.decode(audio=0))
    return dna.report


def write_frames(sink, video: Iterable[av.VideoFrame], audio: Iterable[av.AudioFrame]) -> None:
    """Video frames, then audio frames, into ``sink`` (a :class:`VideoSink`) as they are
    decoded: none is kept, so memory holds a GOP's frames, not the video's
    (:func:`decode_video`, ``helix pool get``)."""
    for frame in video:
        sink.write(frame)
    for af in audio:
        sink.write(af)


def file_bytes(
    meta: dict[str, Any], blocks: dict[int, np.ndarray], source: str = "the archive"
) -> bytes:
    """A file archive's data blocks -> the stored bytes, checked against size and SHA-256.
    Raises HelixError naming what was lost: a file is returned whole or not at all."""
    import hashlib

    from helix_media.media.codec import FileCodec

    info = meta["file"]
    file_codec = plugins.get_codec(meta["codec"])
    if not isinstance(file_codec, FileCodec):
        raise HelixError(f"{source}: codec {meta['codec']!r} is not a file codec")
    stream = layout.StreamLayout(**meta["streams"]["file"]) if "file" in meta["streams"] else None
    packets, lost = [], []
    if stream is not None:
        packets, lost = layout.unpack_stream(stream, "file", blocks, int(meta["payload_bits"]))
    if lost:
        nbytes = sum(u[2] for u in lost)
        raise HelixError(
            f"{source}: {len(lost)} of {len(stream.units)} chunks of {info['name']} lost or "
            f"damaged ({nbytes} bytes); more coverage or --redundancy would have saved them"
        )
    data = file_codec.unpack(packets, meta["codec_params"])
    if len(data) != info["size"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise HelixError(f"{source}: {info['name']} decoded with a wrong size or SHA-256")
    return data


def decode_file(
    input_path: str,
    output_path: str,
    *,
    parsed: tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]] | None = None,
) -> DecodeResult:
    """Strands of a file archive -> the stored bytes at ``output_path`` (whatever its suffix),
    written atomically and only when size and SHA-256 match."""
    from helix_media.strandio.atomic import atomic_output

    _, meta, blocks, stats = parsed or read_dna(input_path)
    if meta.get("kind") != "file":
        raise HelixError(f"{input_path}: holds a video, not a file")
    recover_lost(meta, blocks, stats)
    data = file_bytes(meta, blocks, input_path)
    with atomic_output(output_path) as f:
        f.write(data)
    return DecodeResult(
        meta, 0, stats["strands_read"], stats["strands_ok"], stats["symbols_corrected"], {}, [],
        stats,
    )  # fmt: skip


def decode_any(
    input_path: str,
    output_path: str,
    *,
    progress: bool = False,
    framer: str | None = None,
    reads2: str | None = None,
    decoder_options: dict[str, Any] | None = None,
    layers: int | None = None,
) -> DecodeResult:
    """Strands -> a file archive's bytes or a video file, whichever the metadata says.
    ``framer``, ``reads2`` (paired-end reads: R1 in ``input_path``): see :func:`read_dna`.
    ``layers``: a layered video codec's first layers only (see :class:`InputContainer`)."""
    parsed = read_dna(input_path, framer, reads2)
    if parsed[1].get("format") == "helix-pool":
        raise HelixError(f"{input_path}: a pool; use helix pool list / helix pool get")
    if parsed[1].get("kind") == "file":
        return decode_file(input_path, output_path, parsed=parsed)
    return decode_video(
        input_path,
        output_path,
        progress=progress,
        parsed=parsed,
        decoder_options=decoder_options,
        layers=layers,
    )
