"""Codec "bitstream": the classical two-stage baseline (an ordinary video codec, then DNA).

Frames are encoded with PyAV by libsvtav1 (default), libx265 or libx264 with fixed, closed
GOPs, so every GOP decodes on its own. Each :class:`Packet` is one GOP: its codec packets, each
prefixed by two varints (display offset within the GOP, byte length). The codec headers
(extradata, written once thanks to ``GLOBAL_HEADER``) travel in ``params`` instead of being
repeated in every GOP: DNA is paid per byte.

``quality`` is the encoder's CRF, unchanged: lower is better and bigger (x265/x264: 0-51,
SVT-AV1: 1-63). ``effort`` (``fast``, ``default``, ``archive``) picks the encoder's preset
(:data:`EFFORTS`), or ``preset`` names one (SVT-AV1: -1-13, x265/x264: ``medium``...).
SVT-AV1 at preset 1 is the default: the cheapest setting at equal PSNR that still encodes
640x360 at >= 5 fps on two cores (``helix bench cost``, docs/cost.md). Its default CRF 48 gives
the PSNR of the former default, x265 medium CRF 26 (35.72 vs 35.71 dB on
``helix_media/data/sample.mp4``, in 698 video strands instead of 1041). ``pix_fmt="yuv420p10le"``
codes in 10 bits (SVT-AV1 only; this FFmpeg's libx265 crashes on it). GOPs of 16 frames
(0.67 s at 24 fps) keep the loss of one packet small; longer ones cost fewer strands
(docs/cost.md).

``target_psnr`` (dB) replaces the CRF by a search: each GOP is coded at the highest CRF whose
decoded frames reach that mean RGB PSNR (bisection, each try a fresh encoder on the GOP's
frames), so every GOP reaches the target with the fewest bytes the encoder finds.

Every setting (encoder, preset, pixel format, CRF or the CRF of every GOP, target and PSNR
reached) is in ``params`` (version 2), so decoding needs no hint. x265 and x264 at their
default preset (medium), 8 bits and one CRF are the settings of version 1 and are still
written as version 1 was (helix's x265 enhancement is byte for byte what it was); version 1
archives of any encoder decode as before.

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
from helix_media.media.codec import (
    Codec,
    Packet,
    VideoDecoder,
    VideoEncoder,
    VideoInfo,
    run_lengths,
)
from helix_media_builtins.bitstream_target import frame_psnr, search_crf

DEFAULT_GOP = 16
DEFAULT_VIDEO_CODEC = "libsvtav1"
#: 1: encoder, CRF, GOP (the encoders' default presets, 8 bits); 2: + preset, pix_fmt, and with
#: a target PSNR the CRF of every GOP (run lengths), target_psnr and the psnr reached
PARAMS_VERSION = 2
EFFORTS = ("fast", "default", "archive")
PIX_FMTS = ("yuv420p", "yuv420p10le")


@dataclass(frozen=True)
class _Backend:
    """How to drive one encoder library with fixed closed GOPs, and how to decode it."""

    decoders: tuple[str, ...]  # FFmpeg decoders, preferred first
    private_option: str  # the library's own "key=value:..." option
    gop_settings: str  # its settings for fixed closed GOPs of {gop} frames
    default_crf: int
    max_crf: int
    min_crf: int = 0
    #: the preset of each effort (fast, default, archive)
    presets: tuple[str, str, str] = ("fast", "medium", "slower")
    pix_fmts: tuple[str, ...] = ("yuv420p",)
    #: a side of at most 64 pixels (one x265 CTU) is padded to this many
    min_coded: int = 64
    #: the preset that version 1 archives were written at (the library's default), if known
    legacy_preset: str | None = "medium"

    def options(self, gop: int, crf: int, preset: str | None) -> dict[str, str]:
        opts = {"crf": str(crf), self.private_option: self.gop_settings.format(gop=gop)}
        return opts | ({"preset": preset} if preset else {})

    def preset(self, effort: str) -> str:
        return self.presets[EFFORTS.index(effort)]


BACKENDS: dict[str, _Backend] = {
    # scenecut / open-gop off: keyframes exactly every gop frames, and no frame of a GOP
    # refers to another GOP. info=0: no ~2.3 kB x265 settings SEI in the stream. The thread
    # settings that change the bytes are pinned, so every machine writes the same strands:
    # x265's frame threads (auto: by core count; rows within a frame still run in parallel)
    # and its look-ahead threads (with 4 or more pool threads x265 batches the look-ahead's
    # motion search, which changes the stream: 38979 vs 38982 bytes for the sample at CRF 26),
    # x264's threads and its macroblock tree (floating point: 2 of 4 encodes of the same
    # 320x240 frames differed with it, at 1 thread too). x265 pictures one CTU (64) wide or
    # high gave a different stream now and then (3 kinds in 6 encodes of 64x48, 320x64,
    # 64x200 frames), so x265 pads such a side to 128. SVT-AV1 writes the same bytes at any lp
    # (1-8) and with any of its SIMD kernels (c, sse4_1, avx2, avx512): all measured.
    # archive: x265 slower (veryslow codes 1 % smaller for twice the time, docs/cost.md).
    "libx265": _Backend(
        ("hevc",),
        "x265-params",
        "keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:info=0:log-level=error"
        ":frame-threads=1:lookahead-threads=1",
        default_crf=26,
        max_crf=51,
        min_coded=128,
    ),
    "libx264": _Backend(
        ("h264",),
        "x264-params",
        "keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0:threads=4:mbtree=0",
        default_crf=25,
        max_crf=51,
        presets=("fast", "medium", "veryslow"),
    ),
    # irefresh-type=2: every keyframe is a closed-GOP key frame, not a forward one.
    "libsvtav1": _Backend(
        ("libdav1d", "av1"),
        "svtav1-params",
        "keyint={gop}:irefresh-type=2",
        default_crf=48,
        max_crf=63,
        min_crf=1,
        presets=("8", "1", "0"),
        pix_fmts=PIX_FMTS,
        legacy_preset=None,
    ),
}


# -- helpers -------------------------------------------------------------------------------

MIN_CODED = 64  # x265's CTU: smaller sides are padded (to 64, x265 to 128)


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


def _coded(side: int, low: int) -> int:
    """The coded size of a picture side: even (4:2:0), and ``low`` if at most one CTU (64)."""
    side += side % 2
    return side if side > MIN_CODED else max(low, MIN_CODED)


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode("ascii")


# -- encoder / decoder ---------------------------------------------------------------------


class BitstreamEncoder(VideoEncoder):
    """Feeds frames to one PyAV encoder and cuts its output into GOP packets; with a target
    PSNR, codes each GOP with fresh encoders at the CRFs its search tries."""

    def __init__(
        self,
        info: VideoInfo,
        crf: int | None,
        gop: int,
        video_codec: str,
        preset: str,
        pix_fmt: str = "yuv420p",
        target_psnr: float | None = None,
    ) -> None:
        self.info = info
        self.gop = gop
        self.video_codec = video_codec
        self.backend = BACKENDS[video_codec]
        self.crf = crf
        self.preset = preset
        self.pix_fmt = pix_fmt
        self.target_psnr = target_psnr
        # Even (4:2:0) and at least one 64x64 CTU: x265 corrupts its heap now and then on
        # smaller pictures (40x24 nearly always), so tiny videos are padded, cropped on decode.
        self.coded_size = (
            _coded(info.width, self.backend.min_coded),
            _coded(info.height, self.backend.min_coded),
        )
        self._time_base = 1 / Fraction(info.fps)
        if video_codec == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints a banner otherwise
        # with a target, this first context only checks the settings and gives the headers
        self._ctx = self._open(self.backend.default_crf if crf is None else crf)
        self.extradata = bytes(self._ctx.extradata or b"")
        if target_psnr is not None:
            self._ctx.encode(None)  # closed now (SVT-AV1 complains of an encoder never flushed)
        self._frames = 0  # frames fed so far
        self._gop_index = 0  # GOP being collected
        self._chunks: list[tuple[int, bytes]] = []
        self._flushed = False
        # target PSNR: the GOP's frames (coded, and the input in RGB), the CRF of each GOP,
        # the sum of every frame's PSNR
        self._pending: list[tuple[av.VideoFrame, np.ndarray]] = []
        self._crfs: list[int] = []
        self._psnr_sum = 0.0
        self._checker: BitstreamDecoder | None = None

    def _open(self, crf: int) -> av.CodecContext:
        ctx = av.CodecContext.create(self.video_codec, "w")
        ctx.width, ctx.height = self.coded_size
        ctx.pix_fmt = self.pix_fmt
        ctx.time_base = self._time_base
        ctx.framerate = Fraction(self.info.fps)
        ctx.gop_size = self.gop
        ctx.flags |= av.codec.context.Flags.global_header
        ctx.options = self.backend.options(self.gop, crf, self.preset)
        try:
            ctx.open()
        except av.FFmpegError as exc:
            raise HelixError(f"{self.video_codec} refused the settings: {exc}") from exc
        return ctx

    @property
    def params(self) -> dict[str, Any]:
        """Every setting. Those of version 1 (the library's default preset, 8 bits, one CRF:
        x265 or x264 medium) are written as version 1 wrote them, so that such archives, and
        helix's x265 enhancement, stay byte for byte what they were."""
        legacy = (
            self.target_psnr is None
            and self.pix_fmt == "yuv420p"
            and self.preset == self.backend.legacy_preset
        )
        out = {
            "version": 1 if legacy else PARAMS_VERSION,
            "video_codec": self.video_codec,
            "extradata": _b64(self.extradata),
            "gop": self.gop,
            "crf": self.crf,
            **({} if legacy else {"preset": self.preset, "pix_fmt": self.pix_fmt}),
            "width": self.info.width,
            "height": self.info.height,
            "coded_width": self.coded_size[0],
            "coded_height": self.coded_size[1],
            "frames": self._frames,
        }
        if self.target_psnr is not None:
            out["crf"] = run_lengths(self._crfs)
            out["target_psnr"] = self.target_psnr
            out["psnr"] = round(self.reached_psnr or 0.0, 2)
        return out

    @property
    def reached_psnr(self) -> float | None:
        """With a target: the mean RGB PSNR of the frames coded so far, as decoded."""
        done = self._frames - len(self._pending)
        return self._psnr_sum / done if self.target_psnr is not None and done else None

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        if self._flushed:
            raise HelixError("the bitstream encoder was already flushed")
        if frame is None:
            self._flushed = True
            if self.target_psnr is not None:
                return [self._target_gop()] if self._pending else []
            out = self._collect(self._ctx.encode(None))
            if self._chunks:
                out.append(self._emit())
            return out
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise HelixError(
                f"frame {self._frames} is {frame.width}x{frame.height}, "
                f"the video is {self.info.width}x{self.info.height}"
            )
        source = frame
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        # Always a fresh frame: a decoded frame's pict_type would force frame types on the
        # encoder (x265 then breaks the GOP, or crashes), and the caller's frame stays intact.
        frame = _resize_canvas(frame, *self.coded_size)
        if self.pix_fmt != "yuv420p":
            frame = frame.reformat(format=self.pix_fmt)
        frame.time_base = self._time_base
        self._frames += 1
        if self.target_psnr is not None:
            self._pending.append((frame, source.to_ndarray(format="rgb24")))
            return [self._target_gop()] if len(self._pending) == self.gop else []
        frame.pts = self._frames - 1
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

    # -- target PSNR -----------------------------------------------------------------------

    def _target_gop(self) -> Packet:
        """The pending GOP at the highest CRF that reaches the target (:mod:`bitstream_target`),
        searched from the previous GOP's CRF."""
        frames, self._pending = self._pending, []
        tried: dict[int, tuple[float, list[tuple[int, bytes]]]] = {}
        target = float(self.target_psnr or 0.0)

        def reaches(crf: int) -> bool:
            if crf not in tried:
                tried[crf] = self._try(frames, crf)
            return tried[crf][0] / len(frames) >= target

        start = self._crfs[-1] if self._crfs else self.backend.default_crf
        good = search_crf(reaches, start, self.backend.min_crf, self.backend.max_crf)
        reaches(good)  # the lowest CRF, when nothing reached the target, may not be tried
        psnr_sum, chunks = tried[good]
        self._crfs.append(good)
        self._psnr_sum += psnr_sum
        start = self._gop_index * self.gop
        packet = Packet(pack_gop(chunks), "video", self._gop_index, start, len(frames), True)
        self._gop_index += 1
        return packet

    def _try(
        self, frames: list[tuple[av.VideoFrame, np.ndarray]], crf: int
    ) -> tuple[float, list[tuple[int, bytes]]]:
        """One GOP through a fresh encoder at ``crf`` and back -> (sum of the frames' RGB
        PSNR, the GOP's codec packets)."""
        ctx = self._open(crf)
        if bytes(ctx.extradata or b"") != self.extradata:  # one header for every GOP
            raise RuntimeError(f"{self.video_codec}'s headers depend on the CRF")
        packets = []
        for i, (frame, _) in enumerate(frames):
            frame.pts = i
            packets += ctx.encode(frame)
        packets += ctx.encode(None)
        if not packets or not packets[0].is_keyframe:
            raise RuntimeError(f"{self.video_codec} started a GOP without a keyframe")
        chunks = [(int(p.pts), bytes(p)) for p in packets]
        if self._checker is None:
            self._checker = BitstreamDecoder(self.info, self.params)
        decoded = {
            f.pts: f.to_ndarray(format="rgb24")
            for f in self._checker.decode(Packet(pack_gop(chunks), pts=0, duration=len(frames)))
        }
        total = 0.0
        for i, (_, reference) in enumerate(frames):
            total += frame_psnr(reference, decoded[i]) if i in decoded else 0.0
        return total, chunks


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
                frame = _resize_canvas(frame, *self.size)
                frame.pts = pts
            frame.time_base = self._time_base
            frames.setdefault(int(frame.pts), frame)
        return [frames[k] for k in sorted(frames)]


class BitstreamCodec(Codec):
    """Factory of closed-GOP libsvtav1 / libx265 / libx264 encoders and their decoders."""

    name = "bitstream"

    def describe(self, params: dict[str, Any]) -> str:
        """E.g. "libsvtav1 preset 1, CRF 48, closed GOPs of 16 frames"; with a target PSNR,
        the range of the GOPs' CRFs and the PSNR reached."""
        codec, crf, gop = params["video_codec"], params["crf"], params["gop"]
        if "preset" not in params:  # version 1: the encoder's default preset, 8 bits
            return f"{codec} CRF {crf}, closed GOPs of {gop} frames"
        bits = ", 10-bit" if params.get("pix_fmt") == "yuv420p10le" else ""
        head = f"{codec} preset {params['preset']}{bits}"
        if "target_psnr" not in params:
            return f"{head}, CRF {crf}, closed GOPs of {gop} frames"
        crfs = [c for c, _ in crf] or ["-"]
        span = f"{min(crfs)}-{max(crfs)}" if len(set(crfs)) > 1 else f"{crfs[0]}"
        return (
            f"{head}, CRF {span} per GOP for a target of {params['target_psnr']:g} dB: "
            f"{params['psnr']:.2f} dB reached, closed GOPs of {gop} frames"
        )

    def encoder(
        self,
        info: VideoInfo,
        quality: int | None = None,
        gop: int = DEFAULT_GOP,
        video_codec: str = DEFAULT_VIDEO_CODEC,
        preset: str | int | None = None,
        effort: str | None = None,
        pix_fmt: str = "yuv420p",
        target_psnr: float | None = None,
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
        crf = None if target_psnr is not None else backend.default_crf
        if quality is not None:
            if target_psnr is not None:
                raise HelixError(
                    "bitstream codec: give quality (a CRF) or target_psnr (which chooses "
                    "the CRF), not both"
                )
            crf = quality
        if crf is not None and (
            not isinstance(crf, int) or not backend.min_crf <= crf <= backend.max_crf
        ):
            raise HelixError(
                f"bitstream codec: quality (the CRF of {video_codec}) must be an integer "
                f"{backend.min_crf}-{backend.max_crf}, not {quality!r}"
            )
        if target_psnr is not None and (
            isinstance(target_psnr, bool)
            or not isinstance(target_psnr, (int, float))
            or not 10 <= target_psnr <= 80
        ):
            raise HelixError(
                f"bitstream codec: target_psnr must be a number of dB, 10-80, not {target_psnr!r}"
            )
        if not isinstance(gop, int) or not 1 <= gop <= 1000:
            raise HelixError(f"bitstream codec: gop must be an integer 1-1000, not {gop!r}")
        if effort is not None and preset is not None:
            raise HelixError("bitstream codec: give effort or preset, not both")
        if effort is not None and effort not in EFFORTS:
            raise HelixError(
                f"bitstream codec: effort must be one of {', '.join(EFFORTS)}, not {effort!r}"
            )
        if pix_fmt not in backend.pix_fmts:
            raise HelixError(
                f"bitstream codec: {video_codec} takes pix_fmt {', '.join(backend.pix_fmts)}, "
                f"not {pix_fmt!r}"
            )
        if info.width < 1 or info.height < 1 or info.fps <= 0:
            raise HelixError(f"bitstream codec: bad video size or rate {info}")
        preset = backend.preset(effort or "default") if preset is None else str(preset)
        target = None if target_psnr is None else float(target_psnr)
        return BitstreamEncoder(info, crf, gop, video_codec, preset, pix_fmt, target)

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
        "--video-codec", help="bitstream: encoder library, libsvtav1 (default), libx265, libx264"
    )
    group.add_argument(
        "--effort",
        choices=EFFORTS,
        help="bitstream: the encoder's preset, fast, default or archive (SVT-AV1 8, 1, 0; "
        "x265 fast, medium, slower; x264 fast, medium, veryslow)",
    )
    group.add_argument(
        "--preset", help="bitstream: the encoder's own preset (SVT-AV1 -1..13, x265 medium...)"
    )
    group.add_argument(
        "--pix-fmt",
        choices=PIX_FMTS,
        help="bitstream: yuv420p (default) or yuv420p10le, 10-bit coding (SVT-AV1 only)",
    )
    group.add_argument(
        "--target-psnr",
        type=float,
        metavar="DB",
        help="bitstream: instead of --quality, code each GOP at the highest CRF whose decoded "
        "frames reach this mean RGB PSNR (each GOP is coded several times)",
    )
    return {
        "gop": "encode",
        "video_codec": "encode",
        "effort": "encode",
        "preset": "encode",
        "pix_fmt": "encode",
        "target_psnr": "encode",
    }


@hookimpl
def register_codecs(register):
    register("bitstream", BitstreamCodec)
