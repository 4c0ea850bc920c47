"""What the intra-only image codecs (``jpeg-dna``, ``mjpeg``) share: every frame is one
self-contained packet, emitted at once (a lost packet costs one frame), and ``encoder()``
checks its arguments the same way."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.media.codec import Codec, Packet, VideoEncoder, VideoInfo


class IntraEncoder(VideoEncoder):
    """One packet per frame; a subclass turns a frame of the video's size into bytes."""

    codec_name = ""

    def __init__(self, info: VideoInfo) -> None:
        self.info = info
        self._frames = 0
        self._flushed = False

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        if self._flushed:
            raise HelixError(f"the {self.codec_name} encoder was already flushed")
        if frame is None:
            self._flushed = True
            return []
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise HelixError(
                f"frame {self._frames} is {frame.width}x{frame.height}, "
                f"the video is {self.info.width}x{self.info.height}"
            )
        data = self._frame_bytes(frame)
        i = self._frames
        self._frames += 1
        return [Packet(data, "video", i, i, 1, True)]

    @abstractmethod
    def _frame_bytes(self, frame: av.VideoFrame) -> bytes:
        """One frame -> its packet's bytes."""


class IntraCodec(Codec):
    """A codec whose ``encoder()`` takes no options and an integer quality in ``qualities``
    (``default_quality`` when none is given); ``quality_name`` names it in errors."""

    default_quality: int
    qualities: tuple[int, int]
    quality_name = "quality"

    def _quality(self, info: VideoInfo, quality: int | None, options: dict[str, Any]) -> int:
        """The checked quality for an encoder of ``info``; HelixError on any bad argument."""
        if options:
            raise HelixError(f"{self.name} codec: unknown option(s) {', '.join(sorted(options))}")
        q = self.default_quality if quality is None else quality
        lo, hi = self.qualities
        if not isinstance(q, int) or isinstance(q, bool) or not lo <= q <= hi:
            raise HelixError(
                f"{self.name} codec: {self.quality_name} must be an integer {lo}-{hi}, not {q!r}"
            )
        if info.width < 1 or info.height < 1:
            raise HelixError(f"{self.name} codec: bad video size {info.width}x{info.height}")
        return q
