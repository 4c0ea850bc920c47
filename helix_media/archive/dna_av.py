"""DNA as a PyAV-shaped container: ``helix_media.open(path, "w" | "r")``.

Writing mirrors ``av.open(path, "w")``: ``add_stream`` (or ``add_stream_from_template``),
``stream.encode(frame)`` -> packets, ``container.mux(packets)``; closing lays the packets out
in strands and writes them (``.dnapkt``, ``.fasta``). Reading (``.dnapkt``, FASTA, FASTQ
reads) mirrors ``av.open(path)``: ``container.streams.video[0]``, ``container.demux()``,
``container.decode(video=0)`` yielding ``av.VideoFrame`` GOP by GOP (memory bounded by a
GOP), lost GOPs concealed; ``container.report`` says what was lost.

    with helix_media.open("out.dnapkt", "w", redundancy=0.1) as dna:
        stream = dna.add_stream("bitstream", rate=24, width=320, height=240)
        for frame in av_container.decode(video=0):
            dna.mux(stream.encode(frame))
        dna.mux(stream.encode(None))

The reader (:mod:`dna_av_input`) and the writer (:mod:`dna_av_output`) live apart, as PyAV
keeps ``container/input`` and ``container/output``; this module opens them (and re-exports
their names, for older imports).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, overload

from helix_media.archive.dna_av_input import (
    InputAudioStream,
    InputContainer,
    InputVideoStream,
    covering,
)
from helix_media.archive.dna_av_output import (
    OutputAudioStream,
    OutputContainer,
    OutputVideoStream,
)
from helix_media.archive.dna_av_streams import Streams
from helix_media.errors import HelixError

__all__ = [
    "InputAudioStream",
    "InputContainer",
    "InputVideoStream",
    "OutputAudioStream",
    "OutputContainer",
    "OutputVideoStream",
    "Streams",
    "covering",
    "open",
]


@overload
def open(path: str | Path, mode: Literal["r"] = "r", **options: Any) -> InputContainer: ...
@overload
def open(path: str | Path, mode: Literal["w"], **options: Any) -> OutputContainer: ...
@overload
def open(path: str | Path, mode: str, **options: Any) -> InputContainer | OutputContainer: ...


def open(  # noqa: A001 - shaped like av.open
    path: str | Path, mode: str = "r", **options: Any
) -> InputContainer | OutputContainer:
    """A DNA container at ``path``: mode ``"w"`` -> :class:`OutputContainer` (options: coder,
    framer, strand_length, redundancy (default: auto), stream_redundancy, seed,
    metadata_copies); ``"r"`` ->
    :class:`InputContainer` (options: reads2, framer, device)."""
    if mode == "w":
        return OutputContainer(path, **options)
    if mode == "r":
        return InputContainer(path, **options)
    raise HelixError(f"mode must be 'r' or 'w', not {mode!r}")
