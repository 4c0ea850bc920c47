"""The video codec plugin API, shaped like PyAV's ``CodecContext``.

``encoder.encode(frame)`` returns a list of :class:`Packet` (``[]`` until a GOP is complete);
``encoder.encode(None)`` flushes. ``decoder.decode(packet)`` returns ``av.VideoFrame`` objects
with ``pts`` = frame index (time base 1/fps); ``decoder.decode(None)`` flushes.
A packet is the unit of loss: every packet decodes on its own, so a lost packet costs only
the frames it covers, which the pipeline conceals.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av


@dataclass
class Packet:
    """One independently decodable unit of a stream (a GOP for video)."""

    data: bytes
    stream: str = "video"  # "video" or "audio"
    index: int = 0  # unit number within its stream (GOP number for video)
    pts: int = 0  # first frame (video) or first sample (audio) it covers
    duration: int = 0  # frames (video) or samples (audio) it covers
    is_keyframe: bool = True
    #: > 0: ``data`` is whole slices of this many bytes, each stored in a strand of its own and
    #: decodable on its own, so a lost strand costs one slice instead of the whole packet. On
    #: decoding, lost slices are zero bytes and their numbers are in ``lost_slices``.
    slice_bytes: int = 0
    lost_slices: list[int] = field(default_factory=list)
    #: a layered codec's enhancement layers of this unit, each in strands of its own (stream
    #: :func:`layer_stream`): on decoding, those read (None = lost), up to the ``layers`` asked
    layers: list[Packet | None] = field(default_factory=list)


def layer_stream(layer: int) -> str:
    """The stream holding a layered video codec's layer ``layer`` (0: the base, "video"),
    so that each layer has its own strands and address range."""
    return "video" if layer == 0 else f"video.{layer}"


def layer_of(stream: str) -> int | None:
    """The video layer a stream name holds, None for other streams."""
    if stream == "video":
        return 0
    head, _, k = stream.partition(".")
    return int(k) if head == "video" and k.isdigit() and int(k) > 0 else None


@dataclass
class VideoInfo:
    """What a codec needs to know about the video it encodes, stored in the DNA metadata."""

    width: int
    height: int
    fps: Fraction
    frames: int | None = None
    #: frame timestamps of a variable-rate source (:func:`frame_timing`); None: one per 1/fps
    timing: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "width": self.width,
            "height": self.height,
            "fps": [self.fps.numerator, self.fps.denominator],
            "frames": self.frames,
        }
        return out | ({"timing": self.timing} if self.timing else {})

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VideoInfo:
        fps = Fraction(*d["fps"])
        return cls(int(d["width"]), int(d["height"]), fps, d.get("frames"), timing=d.get("timing"))

    def timestamps(self) -> tuple[list[int], Fraction] | None:
        """(pts of every frame, their time base) of a variable-rate video, else None."""
        if not self.timing:
            return None
        t = self.timing
        pts, now = [], int(t["start"])
        for delta, count in [[0, 1], *t["deltas"]]:
            for _ in range(count):
                now += delta
                pts.append(now)
        return pts, Fraction(*t["time_base"])


def frame_timing(
    pts: list[int | None], time_base: Fraction | None, fps: Fraction
) -> dict[str, Any] | None:
    """Source timestamps -> their stored form (first pts, run-length coded steps, time base),
    or None when they are one per 1/fps (constant rate: nothing to store) or unknown."""
    if not pts or time_base is None or any(p is None for p in pts):
        return None
    steps = [b - a for a, b in zip(pts, pts[1:], strict=False)]
    if any(s <= 0 for s in steps):
        return None  # not increasing: the source's timestamps cannot be trusted
    if all(abs(s * time_base * fps - 1) < Fraction(1, 100) for s in steps):
        return None
    # A constant rate in a coarse time base (Matroska's milliseconds: 41 and 42 ms steps at
    # 24 fps): every pts within one tick of the regular clock is constant, as an MP4 of the
    # same frames says.
    ticks = 1 / (time_base * fps)  # per frame
    if ticks > 2 and all(abs(p - pts[0] - i * ticks) <= 1 for i, p in enumerate(pts)):
        return None
    return {
        "time_base": [time_base.numerator, time_base.denominator],
        "start": int(pts[0]),
        "deltas": run_lengths(steps),
    }


def run_lengths(values: list[int]) -> list[list[int]]:
    """[5, 5, 5, 7] -> [[5, 3], [7, 1]]: how metadata stores regular sequences."""
    runs: list[list[int]] = []
    for v in values:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    return runs


class VideoEncoder(ABC):
    @abstractmethod
    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        """Feed one frame (``None`` flushes); return the packets that became complete."""

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """JSON-serializable parameters the decoder needs (valid after the flush)."""


class VideoDecoder(ABC):
    @abstractmethod
    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        """Feed one packet (``None`` flushes); return decoded frames, ``pts`` = frame index."""


class Qualities:
    """What a codec's ``quality`` means, for ``--quality``'s help (video and file codecs)."""

    #: the ``quality`` values the encoder takes, (lowest, highest); None: no one range
    qualities: tuple[int, int] | None = None
    #: the ``quality`` an encoder uses when none is given (None: not one number)
    default_quality: int | None = None
    #: what ``quality`` is, in a few words: "CRF, lower is better", "zlib level"
    quality_meaning: str = ""

    def quality_help(self) -> str | None:
        """What ``quality`` is for this codec, for ``--quality``'s help (which is made from
        every codec's): by default ``quality_meaning``, ``qualities`` and
        ``default_quality``, e.g. "level 1-7, higher is better (6)"; None: nothing to say."""
        return quality_text(self.quality_meaning, self.qualities, self.default_quality)


class Codec(Qualities, ABC):
    """A registered video codec: a factory of encoders and decoders."""

    name: str = ""
    #: True: the encoder takes a ``slice_bytes`` option (bytes one strand carries) and makes
    #: packets of whole slices (:attr:`Packet.slice_bytes`)
    slice_aligned: bool = False
    #: the constraint coder that must carry this codec's packets (a codec whose packets are
    #: already DNA names one); None: the user's choice
    coder: str | None = None

    @abstractmethod
    def encoder(self, info: VideoInfo, quality: int | None = None, **options: Any) -> VideoEncoder:
        """An encoder for a video described by ``info``; ``quality`` is codec-specific."""

    def stream_redundancy(self, quality: int | None = None, **options: Any) -> dict[str, float]:
        """The outer code this codec asks for per stream at ``quality`` with encoder
        ``options`` (e.g. a layered codec's base layer, which every layer above needs); users
        override it per stream."""
        return {}

    def describe(self, params: dict[str, Any]) -> str | None:
        """One line on the settings an archive's ``params`` record (``helix probe`` prints
        it); None: nothing to say beyond the codec's name."""
        return None

    @abstractmethod
    def decoder(self, info: VideoInfo, params: dict[str, Any]) -> VideoDecoder:
        """A decoder for packets made by an encoder whose ``params`` were ``params``; codecs
        that take decoder options (helix: ``device``, ``fill``) take them as keywords, and
        unknown options are an error (HelixError), never ignored."""


class FileCodec(Qualities, ABC):
    """A registered codec for whole files (bytes, not frames), e.g. ``raw``.

    It still produces :class:`Packet` objects (stream ``"file"``), so layout, outer code,
    metadata and the read path treat it exactly like video; ``Packet.pts`` is the byte offset
    in the file and ``duration`` the byte count, so a unit table maps bytes to strands.
    """

    name: str = ""

    @abstractmethod
    def pack(self, data: bytes, quality: int | None = None) -> tuple[list[Packet], dict[str, Any]]:
        """File bytes -> (packets, JSON-serializable params the unpacker needs)."""

    @abstractmethod
    def unpack(self, packets: list[Packet], params: dict[str, Any]) -> bytes:
        """All packets of a file, in order -> the file's bytes."""


def quality_text(
    meaning: str, qualities: tuple[int, int] | None, default: int | None
) -> str | None:
    """``quality_help``'s words: the range after the meaning's first phrase, then the
    default: ("level, higher is better", (1, 7), 6) -> "level 1-7, higher is better (6)"."""
    head, comma, tail = meaning.partition(",")
    if qualities is not None:
        head = f"{head} {qualities[0]}-{qualities[1]}".strip()
    text = head + comma + tail + (f" ({default})" if default is not None else "")
    return text.strip() or None
