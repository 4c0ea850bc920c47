"""helix-media: video into synthetic DNA and back.

Data flows one way: frames -> packets (codec) -> bits -> constrained bases (coder)
-> addressed strands (framer) -> container/FASTA, and back.

What a user composes is importable from here; the names load on first use (PEP 562), so
``import helix_media`` stays cheap for the CLI and for plugins.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal, overload

from helix_media._version import __version__

#: public name -> the module that defines it
_EXPORTS = {
    # the jobs: encode a video or a file, decode any archive or reads
    "encode_video": "helix_media.archive.encode",
    "encode_file": "helix_media.archive.encode",
    "encode_any": "helix_media.archive.encode",
    "decode_any": "helix_media.archive.decode",
    "decode_media": "helix_media.archive.decode",
    # plugin base classes and what they exchange
    "Codec": "helix_media.media.codec",
    "FileCodec": "helix_media.media.codec",
    "VideoEncoder": "helix_media.media.codec",
    "VideoDecoder": "helix_media.media.codec",
    "Packet": "helix_media.media.codec",
    "VideoInfo": "helix_media.media.codec",
    "ConstraintCoder": "helix_media.dna.coder",
    "Framer": "helix_media.dna.framer",
    "ParsedStrands": "helix_media.dna.framer",
    # synthesis constraints and the one error type
    "Constraints": "helix_media.dna.constraints",
    "HelixError": "helix_media.errors",
}

__all__ = [
    "open", "__version__",
    "encode_video", "encode_file", "encode_any", "decode_any", "decode_media",
    "Codec", "FileCodec", "VideoEncoder", "VideoDecoder", "Packet", "VideoInfo",
    "ConstraintCoder", "Framer", "ParsedStrands", "Constraints", "HelixError",
]  # fmt: skip

if TYPE_CHECKING:  # what type checkers and IDEs see
    from pathlib import Path

    from helix_media.archive.decode import decode_any, decode_media
    from helix_media.archive.dna_av import InputContainer, OutputContainer
    from helix_media.archive.encode import encode_any, encode_file, encode_video
    from helix_media.dna.coder import ConstraintCoder
    from helix_media.dna.constraints import Constraints
    from helix_media.dna.framer import Framer, ParsedStrands
    from helix_media.errors import HelixError
    from helix_media.media.codec import (
        Codec,
        FileCodec,
        Packet,
        VideoDecoder,
        VideoEncoder,
        VideoInfo,
    )


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'helix_media' has no attribute {name!r}")


@overload
def open(path: str | Path, mode: Literal["r"] = "r", **options: Any) -> InputContainer: ...
@overload
def open(path: str | Path, mode: Literal["w"], **options: Any) -> OutputContainer: ...
@overload
def open(path: str | Path, mode: str, **options: Any) -> InputContainer | OutputContainer: ...


def open(  # noqa: A001 - shaped like av.open
    path: str | Path, mode: str = "r", **options: Any
) -> InputContainer | OutputContainer:
    """DNA as a PyAV-shaped container: ``"r"`` reads (:class:`InputContainer`), ``"w"``
    writes (:class:`OutputContainer`); see :mod:`helix_media.archive.dna_av`."""
    from helix_media.archive.dna_av import open as _open

    return _open(path, mode, **options)
