"""The ``bitstream`` codec's settings: the encoder libraries it drives and their defaults.

One :class:`_Backend` per library (libsvtav1, libx265, libx264): the options that give fixed,
closed GOPs and the same bytes on every machine, the CRF range, the preset of each effort.
The encoder checks and uses them, the decoder picks its FFmpeg decoder from them, and the
plugin validates options against them: apart from all three.
"""

from __future__ import annotations

from dataclasses import dataclass

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

MIN_CODED = 64  # x265's CTU: smaller sides are padded (to 64, x265 to 128)
