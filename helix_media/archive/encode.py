"""The main jobs, encoding side: a video file or any file -> strands."""

from __future__ import annotations

from typing import Any

from helix_media.archive.dna_av_output import OutputContainer
from helix_media.archive.results import EncodeResult
from helix_media.archive.sources import file_packets, mux_video
from helix_media.archive.strands import (
    check_layout_options,
    encode_packets,
    framer_params_for,
    write_result,
)


def encode_video(
    source_path: str,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    audio: bool = True,
    metadata_copies: int = 3,
    redundancy: float | None = None,
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
    0 is none. ``stream_redundancy`` sets it per stream (``{"video": 0.1}``: the base layer
    alone). ``strand_length``: the framer's strand length (helix: 200-300 nt, default 240).
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
    redundancy: float | None = None,
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
