"""The ``bitstream`` encoder: frames through one PyAV encoder, cut into closed-GOP packets.

With ``target_psnr``, each GOP is coded by fresh encoders at the CRFs the search of
:mod:`bitstream_target` tries, and checked through a :class:`BitstreamDecoder`. Kept apart
from the decoder (which reads archives alone) and from the plugin class.
"""

from __future__ import annotations

import base64
import os
from fractions import Fraction
from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoEncoder, VideoInfo, run_lengths
from helix_media_builtins.codecs.bitstream_decoder import BitstreamDecoder
from helix_media_builtins.codecs.bitstream_gop import pack_gop, resize_canvas
from helix_media_builtins.codecs.bitstream_settings import BACKENDS, MIN_CODED, PARAMS_VERSION
from helix_media_builtins.codecs.bitstream_target import frame_psnr, search_crf


def _coded(side: int, low: int) -> int:
    """The coded size of a picture side: even (4:2:0), and ``low`` if at most one CTU (64)."""
    side += side % 2
    return side if side > MIN_CODED else max(low, MIN_CODED)


def _b64(data: bytes | None) -> str:
    return base64.b64encode(data or b"").decode("ascii")


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
        frame = resize_canvas(frame, *self.coded_size)
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
