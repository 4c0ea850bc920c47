"""The main jobs, encoding side: a video file or any file -> strands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from helix_media.archive.dna_av_output import OutputContainer
from helix_media.archive.results import EncodeResult
from helix_media.archive.sources import file_packets, is_file_codec, is_video_path, mux_video
from helix_media.archive.strands import (
    check_layout_options,
    encode_packets,
    framer_params_for,
    write_result,
)
from helix_media.blocks.outer_code import Redundancy
from helix_media.errors import HelixError

if TYPE_CHECKING:
    from helix_media.media.video_io import VideoSource


def encode_video(
    source_path: str | VideoSource,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    audio: bool = True,
    metadata_copies: int = 3,
    redundancy: Redundancy = None,
    stream_redundancy: dict[str, float] | None = None,
    codec_options: dict[str, Any] | None = None,
    progress: bool = False,
    strand_length: int | None = None,
) -> EncodeResult:
    """Encode a video file into strands, written to ``output_path`` if given: the PyAV loop
    of :func:`helix_media.open` (``add_stream``, ``encode``, ``mux``) over its frames.

    ``redundancy`` R > 0 adds ceil(R * k) parity strands per segment of k data strands (an
    outer erasure code), so that share of lost strands costs nothing; None (the default) is
    auto, sized per segment for 2 % random strand loss (:func:`.outer_code.auto_redundancy`);
    0 is none; an :class:`.outer_code.Auto` sizes it for another share of lost strands.
    ``stream_redundancy`` sets it per stream (``{"video": 0.1}``: the base layer alone).
    ``strand_length``: the framer's strand length (helix: 200-300 nt, default 240).
    ``source_path``: a video file, or a source already open (a stream on standard input,
    :func:`helix_media.cli.pipes.stdin_video`).
    """
    dna = OutputContainer(
        output_path,
        coder=coder,
        framer=framer,
        strand_length=strand_length,
        redundancy=redundancy,
        stream_redundancy=stream_redundancy,
        seed=seed,
        metadata_copies=metadata_copies,
    )
    with dna:
        not_kept = mux_video(
            dna,
            source_path,
            codec=codec,
            quality=quality,
            audio=audio,
            codec_options=codec_options,
            progress=progress,
        )
    dna.result.not_kept = not_kept
    return dna.result


def encode_file(
    source_path: str,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: Redundancy = None,
    strand_length: int | None = None,
) -> EncodeResult:
    """Store any file losslessly (codec ``raw`` unless another file codec is named); its
    name, size and SHA-256 go into the metadata and are checked on decoding. ``redundancy``
    and ``strand_length``: as :func:`encode_video`."""
    check_layout_options(redundancy, metadata_copies)
    framer_params = framer_params_for(framer, strand_length)
    packets, fields = file_packets(source_path, codec or "raw", quality)
    r = encode_packets(
        packets,
        fields,
        coder=coder,
        framer=framer,
        framer_params=framer_params,
        seed=seed,
        metadata_copies=metadata_copies,
        redundancy=redundancy,
    )
    if output_path is not None:
        write_result(output_path, r)
    return r


def encodes_as_file(source_path: str | VideoSource, codec: str | None = None) -> bool:
    """True when :func:`encode_any` stores ``source_path`` as a file (:func:`encode_file`):
    ``codec`` is a file codec (``raw``), or no codec is named and the path has no video
    suffix (:data:`.sources.VIDEO_SUFFIXES`); False: it is a video (:func:`encode_video`)."""
    if not isinstance(source_path, str):
        return False  # a video source already open
    return is_file_codec(codec) or (codec is None and not is_video_path(source_path))


def encode_any(
    source_path: str | VideoSource,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: Redundancy = None,
    strand_length: int | None = None,
    audio: bool = True,
    stream_redundancy: dict[str, float] | None = None,
    codec_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> EncodeResult:
    """A video or any file -> strands, whichever it is (the twin of :func:`.decode.decode_any`):
    a file codec (``codec="raw"``), or no codec and a path without a video suffix, stores the
    file's bytes losslessly (:func:`encode_file`); anything else is a video
    (:func:`encode_video`, with the default video codec when ``codec`` is None).
    :func:`encodes_as_file` says which beforehand.

    Every option is :func:`encode_video`'s; ``audio``, ``progress`` and ``codec_options`` do
    nothing to a file, and ``stream_redundancy`` is refused for one (HelixError: a file is
    one stream).
    """
    shared: dict[str, Any] = {
        "codec": codec,
        "coder": coder,
        "framer": framer,
        "quality": quality,
        "seed": seed,
        "metadata_copies": metadata_copies,
        "redundancy": redundancy,
        "strand_length": strand_length,
    }
    if encodes_as_file(source_path, codec):
        assert isinstance(source_path, str)  # encodes_as_file: an open source is a video
        if stream_redundancy:
            raise HelixError("--stream-redundancy is for video archives; a file is one stream")
        return encode_file(source_path, output_path, **shared)
    return encode_video(
        source_path,
        output_path,
        **shared,
        audio=audio,
        stream_redundancy=stream_redundancy,
        codec_options=codec_options,
        progress=progress,
    )
