"""The ``bitstream`` decoder: each GOP packet through a fresh FFmpeg decoder.

A fresh decoder per GOP keeps damage from spreading between GOPs; frames come back in
yuv420p at the video's own size. Apart from the encoder: reading an archive needs none of it.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoDecoder, VideoInfo
from helix_media_builtins.codecs.bitstream_gop import resize_canvas, unpack_gop
from helix_media_builtins.codecs.bitstream_settings import BACKENDS, PARAMS_VERSION


class BitstreamDecoder(VideoDecoder):
    """Decodes every GOP packet with a fresh decoder, so damage never spreads between GOPs."""

    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        try:
            version = int(params.get("version", 1))
            self.video_codec = str(params["video_codec"])
            self.extradata = base64.b64decode(params["extradata"])
            self.gop = int(params["gop"])
            self.size = (int(params["width"]), int(params["height"]))
            self.coded_size = (int(params["coded_width"]), int(params["coded_height"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"bitstream codec parameters are damaged: {exc!r}") from exc
        if not (0 < self.size[0] <= self.coded_size[0] and 0 < self.size[1] <= self.coded_size[1]):
            # the picture is the coded one cropped (the encoder pads, never shrinks): a larger
            # one would be made by padding decoded pictures up to whatever the metadata claims
            raise HelixError(
                "bitstream codec parameters are damaged: a {}x{} picture coded at {}x{} "
                "(the picture is the coded one cropped)".format(*self.size, *self.coded_size)
            )
        if version > PARAMS_VERSION:
            raise HelixError(
                f"bitstream codec parameters of version {version}: written by a newer "
                f"helix-media (this one reads up to {PARAMS_VERSION})"
            )
        if self.video_codec not in BACKENDS:
            raise HelixError(f"bitstream codec: unknown video codec {self.video_codec!r}")
        names = [d for d in BACKENDS[self.video_codec].decoders if d in av.codecs_available]
        if not names:
            raise HelixError(f"this FFmpeg build has no decoder for {self.video_codec}")
        self.decoder_name = names[0]
        self._time_base = 1 / Fraction(info.fps)

    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        if packet is None:
            return []
        ctx = av.CodecContext.create(self.decoder_name, "r")
        if self.extradata:
            ctx.extradata = self.extradata
        decoded: list[av.VideoFrame] = []
        for offset, payload in unpack_gop(packet.data):
            pkt = av.Packet(payload)
            pkt.pts = packet.pts + offset
            pkt.time_base = self._time_base
            decoded += self._safe_decode(ctx, pkt)
        decoded += self._safe_decode(ctx, None)
        return self._finish(decoded, packet)

    @staticmethod
    def _safe_decode(ctx: av.CodecContext, pkt: av.Packet | None) -> list[av.VideoFrame]:
        """A damaged packet costs its frames, not the GOP: decoder errors are swallowed."""
        try:
            return list(ctx.decode(pkt))
        except (av.FFmpegError, ValueError):
            return []

    def _finish(self, decoded: list[av.VideoFrame], packet: Packet) -> list[av.VideoFrame]:
        end = packet.pts + (packet.duration or self.gop)
        frames: dict[int, av.VideoFrame] = {}
        for frame in decoded:
            if frame.pts is None or not packet.pts <= frame.pts < end:
                continue
            if (frame.width, frame.height) != self.coded_size:
                continue  # garbage that happened to parse as another stream
            if frame.format.name != "yuv420p":  # 10-bit archives, too
                pts = frame.pts
                frame = frame.reformat(format="yuv420p")
                frame.pts = pts
            if self.size != self.coded_size:
                pts = frame.pts
                frame = resize_canvas(frame, *self.size)
                frame.pts = pts
            frame.time_base = self._time_base
            frames.setdefault(int(frame.pts), frame)
        return [frames[k] for k in sorted(frames)]
