"""What ``helixdnasink`` and ``helixdnasrc`` do, without GStreamer: raw frames with their
timestamps in, an archive out (:class:`ArchiveWriter`); an archive in, raw frames with
timestamps out (:class:`ArchiveReader`). The elements (``python/helixdna.py``) only map
buffers, read caps and post messages; nothing here imports GStreamer.

Writing goes through the same calls as ``helix-transcode IN OUT.dnapkt`` (``mux_video``):
``helix_media.open(OUT, "w", ...)``, ``add_stream(codec, fps, width=, height=, quality=,
**codec_options)``, ``encode``/``mux`` of every frame, the video flushed, then the audio
stream's units, then ``close()``. The same frames and options give the same archive, byte for
byte. Frame timing: GStreamer knows buffer timestamps in nanoseconds, the CLI a container's pts
in its own time base; both store nothing for frames one per 1/fps (the usual case, and then the
archives are identical). A variable frame rate is stored from the first frame on in the
container's time base recovered from the nanoseconds where it is a usual one (Matroska's
1/1000, FFmpeg's MP4 1/(512 fps), MPEG-TS's 1/90000), so the CLI stores the same steps in the
same time base; else in the coarsest time base that holds every timestamp exactly. The frames'
times are the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np

from helix_media.cli.codec_options import parse_codec_options
from helix_media.errors import HelixError

NS = 10**9
#: GStreamer raw video formats taken and given, and PyAV's names for them. I420 is what the
#: codecs take (bitstream codes yuv420p; the CLI's PyAV decoder gives it), RGB what helix's
#: networks work in; videoconvert does the rest.
PIX_FMTS = {"I420": "yuv420p", "RGB": "rgb24"}


@dataclass(frozen=True)
class PlaneLayout:
    """Where a raw frame's planes are in a GStreamer buffer (GstVideoInfo or GstVideoMeta)."""

    offsets: tuple[int, ...]
    strides: tuple[int, ...]


def plane_sizes(fmt: str, width: int, height: int) -> list[tuple[int, int]]:
    """(bytes per row, rows) of each plane of ``fmt`` (I420 chroma rounded up, as both
    GStreamer and FFmpeg do)."""
    if fmt == "I420":
        cw, ch = (width + 1) // 2, (height + 1) // 2
        return [(width, height), (cw, ch), (cw, ch)]
    if fmt == "RGB":
        return [(3 * width, height)]
    raise HelixError(f"raw video format {fmt} is not taken (I420 or RGB: put videoconvert before)")


def _planes(buf: np.ndarray, fmt: str, width: int, height: int, layout: PlaneLayout):
    """Views of ``buf``'s planes, each (rows, bytes per row)."""
    for i, (row, rows) in enumerate(plane_sizes(fmt, width, height)):
        offset, stride = layout.offsets[i], layout.strides[i]
        if offset < 0 or stride < row or offset + (rows - 1) * stride + row > buf.size:
            raise HelixError(
                f"a {width}x{height} {fmt} buffer of {buf.size} bytes is too small for its caps"
            )
        yield np.lib.stride_tricks.as_strided(
            buf[offset:], shape=(rows, row), strides=(stride, 1), writeable=buf.flags.writeable
        )


def _frame_planes(frame: av.VideoFrame, fmt: str):
    for plane, (row, rows) in zip(
        frame.planes, plane_sizes(fmt, frame.width, frame.height), strict=True
    ):
        data = np.frombuffer(plane, np.uint8, count=rows * plane.line_size)
        yield data.reshape(rows, plane.line_size)[:, :row]


def frame_from_buffer(
    data, fmt: str, width: int, height: int, layout: PlaneLayout
) -> av.VideoFrame:
    """A GStreamer raw video buffer's bytes -> a new ``av.VideoFrame`` (yuv420p or rgb24)."""
    frame = av.VideoFrame(width, height, PIX_FMTS[fmt])
    src = np.frombuffer(data, np.uint8)
    for dst, plane in zip(_frame_planes(frame, fmt), _planes(src, fmt, width, height, layout),
                          strict=True):  # fmt: skip
        dst[...] = plane
    return frame


def buffer_from_frame(frame: av.VideoFrame, fmt: str, size: int, layout: PlaneLayout) -> bytes:
    """An ``av.VideoFrame`` (any format) -> the bytes of a GStreamer buffer of ``fmt``."""
    if frame.format.name != PIX_FMTS[fmt]:
        frame = frame.reformat(format=PIX_FMTS[fmt])
    out = np.zeros(size, np.uint8)
    planes = _planes(out, fmt, frame.width, frame.height, layout)
    for dst, plane in zip(planes, _frame_planes(frame, fmt), strict=True):
        dst[...] = plane
    return out.tobytes()


# -- options, as helix-transcode takes them (codec options: helix_media.cli.codec_options) -----
def parse_stream_redundancy(text: str | None) -> dict[str, float]:
    """``"video=0.2,audio=0"`` (helix-transcode's ``--stream-redundancy``, repeated) -> dict."""
    out: dict[str, float] = {}
    for item in (text or "").replace(";", ",").split(","):
        if not item.strip():
            continue
        name, sep, value = item.strip().partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise HelixError(
                f"stream-redundancy: {item.strip()!r}: expected STREAM=R, e.g. video=0.1"
            ) from None
    return out


# -- writing -----------------------------------------------------------------------------------
class ArchiveWriter:
    """Raw frames (and audio) with their timestamps -> one archive, written on :meth:`finish`
    (nothing is written before, or if anything fails). The options are helix-transcode's
    (``redundancy`` None: auto, its default; ``codec_options``: its codec options as text)."""

    def __init__(
        self,
        location: str,
        *,
        codec: str | None = None,
        coder: str | None = None,
        framer: str | None = None,
        quality: int | None = None,
        strand_length: int | None = None,
        redundancy: float | None = None,
        stream_redundancy: str | None = None,
        seed: int = 0,
        metadata_copies: int = 3,
        gop: int = 0,
        codec_options: str | None = None,
    ) -> None:
        import helix_media
        from helix_media.archive.strands import check_layout_options

        if not location:
            raise HelixError("no location set: the archive to write (.dnapkt, .fasta or .fa)")
        self.location = location
        _refuse_pool(location)
        by_stream = parse_stream_redundancy(stream_redundancy)
        check_layout_options(redundancy, metadata_copies, by_stream)
        self.codec, self.quality = codec or None, quality
        self.codec_options = parse_codec_options(codec_options, gop)
        if self.codec:
            from helix_media import plugins

            plugins.get_codec(self.codec)  # an unknown name fails now, not at the first frame
        # as helix-transcode passes them; a length only when one is asked for
        length = {"strand_length": strand_length} if strand_length else {}
        self.dna = helix_media.open(
            location,
            "w",
            coder=coder or None,
            framer=framer or None,
            **length,
            redundancy=redundancy,
            stream_redundancy=by_stream,
            seed=seed,
            metadata_copies=metadata_copies,
        )
        self.video = self.audio = None
        self.format: str | None = None
        self._pts: list[int | None] = []
        self._audio_packets: list = []
        self._audio_layout = ""
        self.result = None

    def add_video(self, fmt: str, width: int, height: int, fps: Fraction) -> None:
        """The video's caps (once; the archive holds one size and rate)."""
        if self.video is not None:
            if (fmt, width, height) == (self.format, self.video.width, self.video.height):
                return
            raise HelixError(
                f"the video changed from {self.video.width}x{self.video.height} {self.format} "
                f"to {width}x{height} {fmt} mid-stream; an archive holds one size "
                "(put videoscale ! capsfilter before helixdnasink)"
            )
        plane_sizes(fmt, width, height)
        if not fps or fps <= 0:
            raise HelixError(
                "the video has no frame rate (variable rate): put videorate ! "
                "video/x-raw,framerate=N/D before helixdnasink"
            )
        from helix_media import plugins

        self.format = fmt
        self.video = self.dna.add_stream(
            self.codec or plugins.DEFAULTS["codecs"],
            Fraction(fps),
            width=width,
            height=height,
            quality=self.quality,
            **self.codec_options,
        )

    def write_video(self, data, layout: PlaneLayout, pts_ns: int | None) -> None:
        """One raw frame (the next in display order) and its timestamp (ns, or None)."""
        if self.video is None:
            raise HelixError("a video buffer came before its caps")
        frame = frame_from_buffer(data, self.format, self.video.width, self.video.height, layout)
        if pts_ns is not None:
            frame.pts, frame.time_base = int(pts_ns), Fraction(1, NS)
        self._pts.append(pts_ns)
        self.dna.mux(self.video.encode(frame))

    def add_audio(self, rate: int, channels: int) -> None:
        """The audio's caps (F32LE interleaved): the archive's Opus stream."""
        if self.audio is not None:
            return
        layout = "mono" if channels == 1 else "stereo" if channels == 2 else None
        self._audio_layout = layout or av.AudioLayout(channels).name
        self.audio = self.dna.add_stream("opus", rate, layout=self._audio_layout)
        self._rate = rate

    def write_audio(self, data) -> None:
        """Interleaved 32-bit float samples. Their units are laid out after the video, as the
        CLI lays them out."""
        if self.audio is None:
            raise HelixError("an audio buffer came before its caps")
        pcm = np.frombuffer(data, np.float32).reshape(1, -1)
        if pcm.size == 0:
            return
        frame = av.AudioFrame.from_ndarray(pcm, format="flt", layout=self._audio_layout)
        frame.sample_rate = self._rate
        self._audio_packets += self.audio.encode(frame)

    def finish(self):
        """Flush, lay out and write the archive; returns its ``EncodeResult``."""
        if self.video is None or self.video.frames == 0:
            raise HelixError(f"{self.location}: no video frames came before the end of stream")
        self.dna.mux(self.video.encode(None))
        if self.video.info.timing:  # variable rate: the exact steps, from the first frame on
            self.video.info.timing = _timing(self._pts, self.video.info.fps)
        self.dna.mux(self._audio_packets)
        self._audio_packets = []
        self.dna.close()  # flushes the audio stream after its units, then writes
        self.result = self.dna.result
        return self.result


def _timing(pts_ns: list[int], fps: Fraction) -> dict[str, Any] | None:
    """Nanosecond timestamps -> stored timing, from the first frame on, in the time base the
    source container had where it is a usual one (so that the CLI, which stores the container's
    own pts, stores the same), else the coarsest time base that holds every timestamp."""
    from helix_media.media.codec import frame_timing

    for den in _usual_time_bases(fps):
        pts = [-(-p * den // NS) for p in pts_ns]  # demuxers scale pts to ns rounding down
        if all(q * NS // den == p for q, p in zip(pts, pts_ns, strict=True)):
            return frame_timing([q - pts[0] for q in pts], Fraction(1, den), fps)
    rel = [p - pts_ns[0] for p in pts_ns]
    step = math.gcd(*rel) or 1
    return frame_timing([r // step for r in rel], Fraction(step, NS), fps)


def _usual_time_bases(fps: Fraction) -> list[int]:
    """Denominators of the time bases containers use: Matroska/WebM's milliseconds, FFmpeg's
    MP4 (512 ticks a frame, or the NTSC rate's numerator), MPEG-TS's 90 kHz."""
    mp4 = fps.numerator * 512 if fps.denominator == 1 else fps.numerator
    return [1000, mp4, 90_000]


def _refuse_pool(location: str) -> None:
    """A pool as the target would lose all its items (helix-transcode refuses it too)."""
    try:
        from helix_media.archive.pool.lock import is_pool
    except ImportError:  # pragma: no cover - an older layout of the pool modules
        return
    if is_pool(location):
        raise HelixError(
            f"{location}: is a pool; writing it would replace all its items (add to it with "
            "helix pool add)"
        )


# -- reading -----------------------------------------------------------------------------------
class ArchiveReader:
    """An archive (``.dnapkt``, FASTA, FASTQ reads) -> raw frames with timestamps, GOP by GOP;
    lost GOPs concealed (the last good frame repeated), as ``helix-transcode`` decodes."""

    def __init__(
        self,
        location: str,
        *,
        reads2: str | None = None,
        framer: str | None = None,
        layers: int | None = None,
    ) -> None:
        import helix_media

        if not location:
            raise HelixError("no location set: the archive or reads to play")
        self.location = location
        self.dna = helix_media.open(
            location, "r", reads2=reads2 or None, framer=framer or None, layers=layers
        )
        self.info = self.dna.info
        self.frames = int(self.info.frames or 0)
        self._decoded: Iterator[av.VideoFrame] = self.dna.decode(video=0)
        self._next = next(self._decoded, None)
        first = self._next.format.name if self._next is not None else "yuv420p"
        #: the raw format given: the decoder's own when it is one of PIX_FMTS, else RGB
        self.format = "I420" if first == "yuv420p" else "RGB"
        stamps = self.info.timestamps()
        self._stamps = None
        if stamps:
            pts, tb = stamps
            self._stamps = [int((p - pts[0]) * tb * NS) for p in pts]
        self.index = 0

    @property
    def width(self) -> int:
        return self.info.width

    @property
    def height(self) -> int:
        return self.info.height

    @property
    def fps(self) -> Fraction:
        return Fraction(self.info.fps)

    def time_ns(self, index: int) -> int:
        """When frame ``index`` is shown (ns from the first frame); ``frames`` -> the end."""
        s = self._stamps
        if s and index < len(s):
            return s[index]
        if s:  # past the stored stamps: one more frame at the last step
            return s[-1] + (s[-1] - s[-2] if len(s) > 1 else int(NS / self.fps))
        return index * NS * self.fps.denominator // self.fps.numerator

    def read(self, size: int, layout: PlaneLayout) -> tuple[bytes, int, int] | None:
        """The next frame as a buffer's bytes, its pts and duration (ns); None at the end."""
        frame = self._next
        if frame is None:
            return None
        self._next = next(self._decoded, None)
        i = self.index
        self.index += 1
        pts = self.time_ns(i)
        return buffer_from_frame(frame, self.format, size, layout), pts, self.time_ns(i + 1) - pts

    def loss(self) -> dict[str, Any] | None:
        """What was lost (after the last frame), or None: the fields of the
        ``helix-dna-loss`` message."""
        r = self.dna.report
        if r.complete:
            return None
        concealed = r.concealed_frames
        return {
            "data-strands": int(r.stats.get("data_strands", 0)),
            "data-strands-missing": int(r.data_strands_missing),
            "strands-rebuilt": int(r.stats.get("strands_recovered", 0) or 0),
            "units-lost": sum(len(u) for u in r.lost_units.values()),
            "frames": self.frames,
            "frames-concealed": len(concealed),
            "first-concealed-frame": int(concealed[0]) if concealed else -1,
            "report": r.loss_report(),
        }

    def close(self) -> None:
        self.dna.close()
