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

The codec is split by job: :mod:`bitstream_settings` (the libraries and their defaults),
:mod:`bitstream_gop` (the packet format, picture padding), :mod:`bitstream_encoder`,
:mod:`bitstream_decoder`, :mod:`bitstream_target` (the CRF search); this module is the plugin
that registers them (and re-exports their names, for older imports).
"""

from __future__ import annotations

from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Codec, VideoInfo
from helix_media_builtins.codecs.bitstream_decoder import BitstreamDecoder
from helix_media_builtins.codecs.bitstream_encoder import BitstreamEncoder
from helix_media_builtins.codecs.bitstream_gop import pack_gop, unpack_gop
from helix_media_builtins.codecs.bitstream_settings import (
    BACKENDS,
    DEFAULT_GOP,
    DEFAULT_VIDEO_CODEC,
    EFFORTS,
    MIN_CODED,
    PARAMS_VERSION,
    PIX_FMTS,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_GOP",
    "DEFAULT_VIDEO_CODEC",
    "EFFORTS",
    "MIN_CODED",
    "PARAMS_VERSION",
    "PIX_FMTS",
    "BitstreamCodec",
    "BitstreamDecoder",
    "BitstreamEncoder",
    "add_codec_options",
    "pack_gop",
    "register_codecs",
    "unpack_gop",
]


class BitstreamCodec(Codec):
    """Factory of closed-GOP libsvtav1 / libx265 / libx264 encoders and their decoders."""

    name = "bitstream"

    def quality_help(self) -> str:
        """The CRF range (and default) of each encoder library, the default library first."""
        libs = sorted(BACKENDS, key=lambda lib: lib != DEFAULT_VIDEO_CODEC)
        each = (f"{n} {BACKENDS[n].min_crf}-{BACKENDS[n].max_crf} ({BACKENDS[n].default_crf})"
                for n in libs)  # fmt: skip
        return "CRF, lower is better, per --video-codec: " + ", ".join(each)

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
