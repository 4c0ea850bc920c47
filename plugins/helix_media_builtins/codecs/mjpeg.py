"""Codec ``mjpeg``: the JPEG-DNA paper's "transcoding" baseline (seed 002, section IV).

Every frame is an ordinary baseline JPEG (FFmpeg's ``mjpeg`` encoder through PyAV, 4:2:0,
no restart markers), one packet per frame; the bytes then go through a constraint coder like
any codec's (the default ``enumerative``, 1.974 bits/nt, where the paper used a fixed-length
quaternary code per byte). ``quality`` is FFmpeg's ``-q:v`` for JPEG, 2 (best) to 31; the
default 4 gives about 36 dB RGB PSNR on ``helix_media/data/sample.mp4``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Packet, VideoDecoder, VideoInfo
from helix_media_builtins.codecs.intra import IntraCodec, IntraEncoder

DEFAULT_QSCALE = 4


class MjpegEncoder(IntraEncoder):
    codec_name = "mjpeg"

    def __init__(self, info: VideoInfo, qscale: int) -> None:
        super().__init__(info)
        self.qscale = qscale
        self._time_base = 1 / Fraction(info.fps)

    @property
    def params(self) -> dict[str, Any]:
        return {"version": 1, "qscale": self.qscale, "width": self.info.width,
                "height": self.info.height}  # fmt: skip

    def _frame_bytes(self, frame: av.VideoFrame) -> bytes:
        # a fresh context per frame: every packet is a complete JPEG file, nothing shared
        ctx = av.CodecContext.create("mjpeg", "w")
        ctx.width, ctx.height = frame.width, frame.height
        ctx.pix_fmt = "yuvj420p"
        ctx.time_base = self._time_base
        ctx.qmin = ctx.qmax = self.qscale  # a constant quantizer scale, as -q:v
        # one thread: plain JPEG without restart markers (FFmpeg adds them per slice thread),
        # the same bytes on any machine
        ctx.thread_count = 1
        src = frame.reformat(format="yuvj420p")
        src.pts = 0
        return b"".join(bytes(p) for p in [*ctx.encode(src), *ctx.encode(None)])


class MjpegDecoder(VideoDecoder):
    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        self._time_base = 1 / Fraction(info.fps)

    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        if packet is None:
            return []
        ctx = av.CodecContext.create("mjpeg", "r")
        try:
            frames = list(ctx.decode(av.Packet(packet.data))) + list(ctx.decode(None))
        except (av.FFmpegError, ValueError):
            return []  # a damaged JPEG costs its frame, which the pipeline conceals
        for f in frames[:1]:
            f.pts = packet.pts
            f.time_base = self._time_base
        return frames[:1]


class MjpegCodec(IntraCodec):
    name = "mjpeg"
    default_quality = DEFAULT_QSCALE
    qualities = (2, 31)
    quality_name = "quality (-q:v)"
    quality_meaning = "FFmpeg -q:v, lower is better"

    def encoder(self, info: VideoInfo, quality: int | None = None, **options: Any) -> MjpegEncoder:
        return MjpegEncoder(info, self._quality(info, quality, options))

    def decoder(self, info: VideoInfo, params: dict[str, Any]) -> MjpegDecoder:
        return MjpegDecoder(info, params)


@hookimpl
def register_codecs(register):
    register("mjpeg", MjpegCodec)
