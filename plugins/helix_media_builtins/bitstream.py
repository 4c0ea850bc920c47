"""Codec "bitstream": the classical two-stage baseline (an ordinary video codec, then DNA).

Frames are encoded with PyAV by libx265 (default), libx264 or libsvtav1 in one encoder context
with fixed, closed GOPs, so every GOP decodes on its own. Each :class:`Packet` is one GOP: its
codec packets, each prefixed by two varints (display offset within the GOP, byte length). The
codec headers (extradata, written once thanks to ``GLOBAL_HEADER``) travel in ``params``
instead of being repeated in every GOP: DNA is paid per byte.

``quality`` is the encoder's CRF, unchanged: lower is better and bigger (x265/x264: 0-51,
SVT-AV1: 1-63). The defaults aim at about 36 dB RGB PSNR on ``examples/sample.mp4`` at the
encoders' default presets: x265 CRF 26 (35.8 dB, ~13 kB per 16-frame GOP), x264 CRF 25
(36.3 dB, ~16.5 kB), SVT-AV1 CRF 45 (35.7 dB, ~11.5 kB). GOPs of 16 frames (0.67 s at 24 fps)
keep the loss of one packet small; ``gop=32`` saves about 15 % of the bytes.

Frames of any pixel format are converted to yuv420p. 4:2:0 codecs need even dimensions and
x265 misbehaves below one 64x64 CTU, so odd or tiny frames are padded by repeating the last
row / column (in Y, U and V, losslessly) and cropped back on decode.
Registered through the ``helix_media`` entry point, exactly like a third-party plugin.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from helix_media.blocks.varint import get_varint, put_varint
from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Codec, Packet, VideoDecoder, VideoEncoder, VideoInfo

DEFAULT_GOP = 16
PARAMS_VERSION = 1


@dataclass(frozen=True)
class _Backend:
    """How to drive one encoder library with fixed closed GOPs, and how to decode it."""

    decoders: tuple[str, ...]  # FFmpeg decoders, preferred first
    private_option: str  # the library's own "key=value:..." option
    gop_settings: str  # its settings for fixed closed GOPs of {gop} frames
    default_crf: int
    max_crf: int
    min_crf: int = 0

    def options(self, gop: int, crf: int, preset: str | None) -> dict[str, str]:
        opts = {"crf": str(crf), self.private_option: self.gop_settings.format(gop=gop)}
        return opts | ({"preset": preset} if preset else {})


BACKENDS: dict[str, _Backend] = {
    # scenecut / open-gop off: keyframes exactly every gop frames, and no frame of a GOP
    # refers to another GOP. info=0: no ~2.3 kB x265 settings SEI in the stream. The thread
    # settings that change the bytes are pinned, so every machine writes the same strands:
    # x265's frame threads (auto: by core count; rows within a frame still run in parallel),
    # x264's threads (its output is deterministic for a given count). SVT-AV1's is already.
    "libx265": _Backend(
        ("hevc",),
        "x265-params",
        "keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:info=0:log-level=error"
        ":frame-threads=1",
        default_crf=26,
        max_crf=51,
    ),
    "libx264": _Backend(
        ("h264",),
        "x264-params",
        "keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:threads=4",
        default_crf=25,
        max_crf=51,
    ),
    # irefresh-type=2: every keyframe is a closed-GOP key frame, not a forward one.
    "libsvtav1": _Backend(
        ("libdav1d", "av1"),
        "svtav1-params",
        "keyint={gop}:irefresh-type=2",
        default_crf=45,
        max_crf=63,
        min_crf=1,
    ),
}


# -- helpers -------------------------------------------------------------------------------


def pack_gop(chunks: list[tuple[int, bytes]]) -> bytes:
    """(display offset, codec packet) pairs in decode order -> ``Packet.data``."""
    out = bytearray()
    for offset, payload in chunks:
        put_varint(out, offset)
        put_varint(out, len(payload))
        out += payload
    return bytes(out)


def unpack_gop(data: bytes) -> list[tuple[int, bytes]]:
    """Inverse of :func:`pack_gop`; a damaged tail is dropped, not raised."""
    chunks, pos = [], 0
    try:
        while pos < len(data):
            offset, pos = get_varint(data, pos)
            size, pos = get_varint(data, pos)
            if pos + size > len(data):
                break
            chunks.append((offset, data[pos : pos + size]))
            pos += size
    except ValueError:
        pass
    return chunks


MIN_CODED = 64


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """Writable (height, width) views of a planar 8-bit frame's planes."""
    return [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]


def _resize_canvas(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """A new yuv420p frame of the new size: cropped, or padded by edge replication.

    Copies the Y, U and V planes as they are (no colour conversion, so no loss): every
    encoded frame goes through here, to shed the source's frame type and side data.
    """
    out = av.VideoFrame(width, height, "yuv420p")
    for src, dst in zip(_planes(frame), _planes(out), strict=True):
        h, w = min(src.shape[0], dst.shape[0]), min(src.shape[1], dst.shape[1])
        dst[:h, :w] = src[:h, :w]
        dst[h:, :w] = dst[h - 1 : h, :w]
        dst[:, w:] = dst[:, w - 1 : w]
    return out


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode("ascii")


# -- encoder / decoder ---------------------------------------------------------------------


class BitstreamEncoder(VideoEncoder):
    """Feeds frames to one PyAV encoder and cuts its output into GOP packets."""

    def __init__(
        self, info: VideoInfo, crf: int, gop: int, video_codec: str, preset: str | None
    ) -> None:
        self.info = info
        self.gop = gop
        self.video_codec = video_codec
        self.crf = crf
        # Even (4:2:0) and at least one 64x64 CTU: x265 corrupts its heap now and then on
        # smaller pictures (40x24 nearly always), so tiny videos are padded, cropped on decode.
        self.coded_size = (
            max(MIN_CODED, info.width + info.width % 2),
            max(MIN_CODED, info.height + info.height % 2),
        )
        self._time_base = 1 / Fraction(info.fps)
        if video_codec == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner otherwise
        ctx = av.CodecContext.create(video_codec, "w")
        ctx.width, ctx.height = self.coded_size
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = self._time_base
        ctx.framerate = Fraction(info.fps)
        ctx.gop_size = gop
        ctx.flags |= av.codec.context.Flags.global_header
        ctx.options = BACKENDS[video_codec].options(gop, crf, preset)
        try:
            ctx.open()
        except av.FFmpegError as exc:
            raise HelixError(f"{video_codec} refused the settings: {exc}") from exc
        self._ctx = ctx
        self._frames = 0  # frames fed so far
        self._gop_index = 0  # GOP being collected
        self._chunks: list[tuple[int, bytes]] = []
        self._flushed = False

    @property
    def params(self) -> dict[str, Any]:
        return {
            "version": PARAMS_VERSION,
            "video_codec": self.video_codec,
            "extradata": _b64(self._ctx.extradata),
            "gop": self.gop,
            "crf": self.crf,
            "width": self.info.width,
            "height": self.info.height,
            "coded_width": self.coded_size[0],
            "coded_height": self.coded_size[1],
            "frames": self._frames,
        }

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        if self._flushed:
            raise HelixError("the bitstream encoder was already flushed")
        if frame is None:
            self._flushed = True
            out = self._collect(self._ctx.encode(None))
            if self._chunks:
                out.append(self._emit())
            return out
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise HelixError(
                f"frame {self._frames} is {frame.width}x{frame.height}, "
                f"the video is {self.info.width}x{self.info.height}"
            )
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        # Always a fresh frame: a decoded frame's pict_type would force frame types on the
        # encoder (x265 then breaks the GOP, or crashes), and the caller's frame stays intact.
        frame = _resize_canvas(frame, *self.coded_size)
        frame.pts = self._frames
        frame.time_base = self._time_base
        self._frames += 1
        return self._collect(self._ctx.encode(frame))

    def _collect(self, packets: list[av.Packet]) -> list[Packet]:
        out = []
        for pkt in packets:
            g, offset = divmod(int(pkt.pts), self.gop)
            if g != self._gop_index:
                if g < self._gop_index or not pkt.is_keyframe:
                    raise RuntimeError(f"{self.video_codec} broke the closed-GOP structure")
                if self._chunks:
                    out.append(self._emit())
                self._gop_index = g
            if not self._chunks and not pkt.is_keyframe:
                raise RuntimeError(f"{self.video_codec} started GOP {g} without a keyframe")
            self._chunks.append((offset, bytes(pkt)))
        return out

    def _emit(self) -> Packet:
        g = self._gop_index
        data = pack_gop(self._chunks)
        self._chunks = []
        start = g * self.gop
        return Packet(data, "video", g, start, min(self.gop, self._frames - start), True)


class BitstreamDecoder(VideoDecoder):
    """Decodes every GOP packet with a fresh decoder, so damage never spreads between GOPs."""

    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        try:
            self.video_codec = str(params["video_codec"])
            self.extradata = base64.b64decode(params["extradata"])
            self.gop = int(params["gop"])
            self.size = (int(params["width"]), int(params["height"]))
            self.coded_size = (int(params["coded_width"]), int(params["coded_height"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"bitstream codec parameters are damaged: {exc!r}") from exc
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
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            if self.size != self.coded_size:
                pts = frame.pts
                frame = _resize_canvas(frame, *self.size)
                frame.pts = pts
            frame.time_base = self._time_base
            frames.setdefault(int(frame.pts), frame)
        return [frames[k] for k in sorted(frames)]


class BitstreamCodec(Codec):
    """Factory of closed-GOP libx265 / libx264 / libsvtav1 encoders and their decoders."""

    name = "bitstream"

    def describe(self, params: dict[str, Any]) -> str:
        return f"{params['video_codec']} CRF {params['crf']}, closed GOPs of {params['gop']} frames"

    def encoder(
        self,
        info: VideoInfo,
        quality: int | None = None,
        gop: int = DEFAULT_GOP,
        video_codec: str = "libx265",
        preset: str | None = None,
        **options: Any,
    ) -> BitstreamEncoder:
        if options:
            raise HelixError(f"bitstream codec: unknown option(s) {', '.join(sorted(options))}")
        backend = BACKENDS.get(video_codec)
        if backend is None:
            raise HelixError(
                f"bitstream codec: video_codec must be one of {', '.join(BACKENDS)}, "
                f"not {video_codec!r}"
            )
        if video_codec not in av.codecs_available:
            raise HelixError(f"this FFmpeg build has no {video_codec} encoder")
        crf = backend.default_crf if quality is None else quality
        if not isinstance(crf, int) or not backend.min_crf <= crf <= backend.max_crf:
            raise HelixError(
                f"bitstream codec: quality (the CRF of {video_codec}) must be an integer "
                f"{backend.min_crf}-{backend.max_crf}, not {quality!r}"
            )
        if not isinstance(gop, int) or not 1 <= gop <= 1000:
            raise HelixError(f"bitstream codec: gop must be an integer 1-1000, not {gop!r}")
        if info.width < 1 or info.height < 1 or info.fps <= 0:
            raise HelixError(f"bitstream codec: bad video size or rate {info}")
        return BitstreamEncoder(
            info, crf, gop, video_codec, None if preset is None else str(preset)
        )

    def decoder(self, info: VideoInfo, params: dict[str, Any]) -> BitstreamDecoder:
        return BitstreamDecoder(info, params)


@hookimpl
def add_codec_options(group):
    group.add_argument(
        "--gop",
        type=int,
        help="bitstream, and helix's x265 enhancement (a multiple of 8): frames per GOP, each "
        "decoding alone (default 16)",
    )
    group.add_argument(
        "--video-codec", help="bitstream: encoder library, libx265 (default), libx264, libsvtav1"
    )
    return {"gop": "encode", "video_codec": "encode"}


@hookimpl
def register_codecs(register):
    register("bitstream", BitstreamCodec)
