"""Reading ordinary video files into frames, and writing frames back into them.

:func:`open_video` probes a file once and turns every way it can be unreadable into a one-line
:class:`HelixError`; its generators reopen the file, so video and audio can be read in turn.
:class:`VideoSink` writes a near-transparent re-encode (the DNA round trip already cost its
quality; the last step should not add visible loss) to a temporary file that replaces the
target only on success, so a failed run never leaves a half-written video behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo

# Demuxers that read plain text as "video" (ANSI art and friends): not a video for us.
_TEXT_FORMATS = {"tty", "bin", "xbin", "adf", "idf"}


def _why(exc: BaseException) -> str:
    """FFmpeg and OS errors as a short reason, without the file name repeated."""
    return str(getattr(exc, "strerror", None) or exc).rstrip(".").lower()


def _open_input(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise HelixError(f"{path}: no such file")
    if path.is_dir():
        raise HelixError(f"{path}: is a directory, not a video file")
    try:
        if path.stat().st_size == 0:
            raise HelixError(f"{path}: the file is empty")
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise HelixError(f"{path}: not a video file FFmpeg can read ({_why(exc)})") from exc
    if container.format.name in _TEXT_FORMATS:
        container.close()
        raise HelixError(f"{path}: a text file, not a video")
    return container


@dataclass
class VideoSource:
    """A probed video file: its :class:`VideoInfo`, audio facts and frame generators."""

    path: Path
    info: VideoInfo
    has_audio: bool = False
    audio_sample_rate: int | None = None
    audio_layout: str | None = None
    #: what encoding cannot keep (extra streams, bit depth, variable frame timing), one line each
    not_kept: list[str] = field(default_factory=list)

    def frames(self) -> Iterator[av.VideoFrame]:
        """Decoded video frames in display order, as the file stores them."""
        with _open_input(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                yield from container.decode(stream)
            except av.FFmpegError as exc:
                raise HelixError(f"{self.path}: video decoding failed ({_why(exc)})") from exc

    def audio_frames(self) -> Iterator[av.AudioFrame]:
        """Decoded frames of the first audio stream (nothing if there is none), from the
        first video frame's time on (:func:`from_video_start`)."""
        if not self.has_audio:
            return
        with _open_input(self.path) as container:
            start = _video_start(container)
        with _open_input(self.path) as container:
            try:
                yield from from_video_start(container.decode(container.streams.audio[0]), start)
            except av.FFmpegError as exc:
                raise HelixError(f"{self.path}: audio decoding failed ({_why(exc)})") from exc


def _video_start(container: av.container.InputContainer) -> tuple[Fraction, Fraction] | None:
    """(time of the first video frame in display order, its stream's time base), or None."""
    try:
        for frame in container.decode(container.streams.video[0]):
            if frame.pts is None or frame.time_base is None:
                return None
            return frame.pts * frame.time_base, frame.time_base
    except av.FFmpegError:
        return None  # the video itself reports it
    return None


def from_video_start(
    frames: Iterable[av.AudioFrame], start: tuple[Fraction, Fraction] | None
) -> Iterator[av.AudioFrame]:
    """Audio ``frames`` without what plays before the first picture (``start``: its time and
    the video's time base, see :func:`_video_start`): the archive starts both at 0. A
    container stores times to a tick (Matroska: 1 ms), so a frame that ends within a tick of
    the picture is dropped whole: an AAC priming frame that an MP4 skips by its edit list and
    ``ffmpeg -c copy -f matroska`` keeps (shifting the video by its 21 ms) is dropped, and the
    Matroska copy gives the MP4's sound, sample for sample."""
    frames = iter(frames)
    for frame in frames:
        if start is None or frame.pts is None or frame.time_base is None or not frame.sample_rate:
            yield frame
            break
        begin, tick = frame.pts * frame.time_base, max(start[1], frame.time_base)
        if begin + Fraction(frame.samples, frame.sample_rate) <= start[0] + tick:
            continue  # all of it before the picture
        cut = round((start[0] - begin) * frame.sample_rate)
        yield _without_head(frame, cut) if start[0] - begin > tick and cut > 0 else frame
        break
    yield from frames


def _without_head(frame: av.AudioFrame, samples: int) -> av.AudioFrame:
    """``frame`` less its first ``samples``."""
    pcm = frame.to_ndarray()
    channels = frame.layout.nb_channels
    pcm = pcm[:, samples:] if frame.format.is_planar else pcm[:, samples * channels :]
    out = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(pcm), format=frame.format.name, layout=frame.layout.name
    )
    out.sample_rate, out.time_base = frame.sample_rate, frame.time_base
    out.pts = frame.pts + round(Fraction(samples, frame.sample_rate) / frame.time_base)
    return out


def _count_frames(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Frames by demuxing (no decoding), for containers that do not store the count."""
    return sum(1 for pkt in container.demux(stream) if pkt.size)


def open_video(path: str | os.PathLike[str]) -> VideoSource:
    """Probe ``path``; raise :class:`HelixError` if it is not a readable video."""
    path = Path(path)
    with _open_input(path) as container:
        if not container.streams.video:
            raise HelixError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = stream.guessed_rate or stream.average_rate or stream.base_rate
        if not width or not height:
            raise HelixError(f"{path}: the video stream has no picture size")
        if not fps or fps <= 0:
            raise HelixError(f"{path}: the video stream has no frame rate")
        audio = container.streams.audio[0] if container.streams.audio else None
        try:
            frames = stream.frames or _count_frames(container, stream)
        except av.FFmpegError as exc:
            raise HelixError(f"{path}: the file is damaged ({_why(exc)})") from exc
        if not frames:
            raise HelixError(f"{path}: the video stream has no frames")
        info = VideoInfo(width, height, Fraction(fps), frames)
        return VideoSource(
            path,
            info,
            has_audio=audio is not None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_layout=audio.codec_context.layout.name if audio else None,
            not_kept=_not_kept(container, stream),
        )


def _not_kept(container: av.container.InputContainer, stream: av.VideoStream) -> list[str]:
    """What storing this file loses: streams beyond the first video and audio, more than 8
    bits per sample (a variable frame rate is kept: see :func:`codec.frame_timing`)."""
    out = []
    extra = {
        "video": len(container.streams.video) - 1,
        "audio": max(0, len(container.streams.audio) - 1),
        "subtitle": len(container.streams.subtitles),
        "data": len(container.streams.data),
    }
    for kind, n in extra.items():
        if n > 0:
            out.append(f"{n} {kind} stream(s) beyond the first video and audio are not stored")
    fmt = stream.codec_context.pix_fmt
    if fmt:
        depth = max((c.bits for c in av.VideoFormat(fmt).components), default=8)
        if depth > 8:
            out.append(f"{depth}-bit video ({fmt}) is stored as 8-bit RGB")
    return out


# -- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    format: str
    video: str
    audio: str
    video_options: dict[str, str]


_X264 = {"crf": "10", "preset": "medium", "threads": "1", "x264-params": "mbtree=0"}
_VP9 = {"crf": "10", "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
_MP4 = _Target("mp4", "libx264", "aac", _X264)
TARGETS: dict[str, _Target] = {
    ".mp4": _MP4,
    ".m4v": _MP4,
    ".mov": _Target("mov", "libx264", "aac", _X264),
    ".mkv": _Target("matroska", "libx264", "libopus", _X264),
    ".webm": _Target("webm", "libvpx-vp9", "libopus", _VP9),
}
_AUDIO_BITRATE = {"aac": 192_000, "libopus": 160_000}  # stereo; near-transparent
_SAMPLE_DTYPES = {"u8": np.uint8, "s16": np.int16, "s32": np.int32, "flt": np.float32}
_SAMPLE_DTYPES |= {"dbl": np.float64, "s64": np.int64}


def _silence_like(frame: av.AudioFrame, samples: int) -> av.AudioFrame:
    """``samples`` of silence in ``frame``'s format, layout and rate (fills audio gaps)."""
    fmt = frame.format
    channels = frame.layout.nb_channels
    shape = (channels, samples) if fmt.is_planar else (1, samples * channels)
    dtype = _SAMPLE_DTYPES[fmt.packed.name]
    pcm = np.full(shape, 128 if dtype is np.uint8 else 0, dtype)
    out = av.AudioFrame.from_ndarray(pcm, format=fmt.name, layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    return out


class VideoSink:
    """Context manager writing frames into an ordinary video file chosen by ``path``'s suffix.

    Video: libx264 CRF 10 (VP9 CRF 10 for .webm), yuv420p (yuv444p for odd sizes, which 4:2:0
    H.264 cannot store), exactly ``info.fps``. Frames are written in the order given, one per
    1/fps (or at the source's stored timestamps, ``info.timing``): their own pts are ignored,
    so the frame count and timing are exact. Audio (when
    ``audio_params`` gives ``sample_rate`` and ``layout``, e.g. :attr:`AudioEncoder.params`)
    is re-encoded to the container's usual codec (AAC; Opus for .mkv/.webm); a jump forward
    in audio pts (a lost unit) is filled with silence so sound stays in sync with picture.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        info: VideoInfo,
        audio_params: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.target = TARGETS.get(self.path.suffix.lower())
        if self.target is None:
            raise HelixError(
                f"{self.path}: unsupported output type {self.path.suffix or '(no suffix)'!r} "
                f"(use one of {', '.join(TARGETS)})"
            )
        if info.width < 1 or info.height < 1 or not info.fps or info.fps <= 0:
            raise HelixError(f"{self.path}: bad video size or frame rate ({info})")
        self.info = info
        self.audio_params = audio_params
        self.frames_written = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        self._container: av.container.OutputContainer | None = None
        self._audio: av.AudioStream | None = None
        self._resampler: av.AudioResampler | None = None
        self._audio_in = 0.0  # seconds of input audio consumed (for gap detection)
        self._audio_out = 0  # samples sent to the audio encoder

    # -- lifecycle --

    def __enter__(self) -> VideoSink:
        try:
            self._claim()
        except OSError as exc:
            raise HelixError(f"cannot write {self.path}: {_why(exc)}") from exc
        try:
            self._open()
        except BaseException as exc:
            self._abort()
            if isinstance(exc, (av.FFmpegError, OSError, ValueError)):
                raise HelixError(f"cannot write {self.path}: {_why(exc)}") from exc
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self._finish()
        except BaseException as err:
            self._abort()
            if isinstance(err, (av.FFmpegError, OSError, ValueError)):
                raise HelixError(f"cannot write {self.path}: {_why(err)}") from err
            raise

    # where the bytes go: a temp file renamed over ``path`` (a subclass may stream them,
    # helix_media.media.pipes.StdoutSink)
    def _claim(self) -> None:
        open(self._tmp, "xb").close()  # fails early, with a clear reason, if unwritable

    def _destination(self) -> str:
        return str(self._tmp)

    def _muxer_options(self) -> dict[str, str]:
        # bitexact: no random segment UID (Matroska) or creation time, so the same frames give
        # the same file bytes every time
        options = {"fflags": "+bitexact"}
        if self.target.format in ("mp4", "mov"):
            options["movflags"] = "+faststart"
        return options

    def _commit(self) -> None:
        os.replace(self._tmp, self.path)

    def _open(self) -> None:
        t, info = self.target, self.info
        self._container = av.open(
            self._destination(), "w", format=t.format, options=self._muxer_options()
        )
        vs = self._container.add_stream(t.video, rate=Fraction(info.fps))
        vs.width, vs.height = info.width, info.height
        odd = info.width % 2 or info.height % 2
        vs.pix_fmt = "yuv444p" if odd and t.video == "libx264" else "yuv420p"
        vs.options = dict(t.video_options)
        # Same frames -> same bytes: one thread, and no macroblock tree (x264's mbtree works
        # in floats whose denormal handling other libraries in the process change: the same
        # frames gave different files after a read-path decode than after a .dnapkt one).
        vs.codec_context.thread_count = 1
        self._timestamps = info.timestamps()  # a variable frame rate, kept
        vs.codec_context.time_base = (
            self._timestamps[1] if self._timestamps else 1 / Fraction(info.fps)
        )
        self._video = vs
        if self.audio_params:
            self._add_audio(self.audio_params)

    def _add_audio(self, params: dict[str, Any]) -> None:
        try:
            rate, layout = int(params["sample_rate"]), str(params["layout"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"audio parameters need sample_rate and layout: {exc!r}") from exc
        codec = av.Codec(self.target.audio, "w")
        if codec.audio_rates and rate not in codec.audio_rates:
            rate = 48_000
        assert self._container is not None
        stream = self._container.add_stream(self.target.audio, rate=rate, layout=layout)
        channels = stream.codec_context.layout.nb_channels
        stream.codec_context.bit_rate = _AUDIO_BITRATE[self.target.audio] * max(1, channels) // 2
        stream.codec_context.time_base = Fraction(1, rate)
        stream.codec_context.open()
        self._audio = stream
        self._resampler = av.AudioResampler(
            stream.codec_context.format.name, layout, rate, stream.codec_context.frame_size or None
        )

    def _finish(self) -> None:
        assert self._container is not None
        self._container.mux(self._video.encode(None))
        if self._audio is not None:
            self._encode_audio(None)
            self._container.mux(self._audio.encode(None))
        self._container.close()
        self._container = None
        self._commit()

    def _abort(self) -> None:
        if self._container is not None:
            with contextlib.suppress(av.FFmpegError, OSError, ValueError):
                self._container.close()
            self._container = None
        self._tmp.unlink(missing_ok=True)

    # -- writing --

    def write(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        """Write one video frame (the next in display order) or audio frame."""
        if self._container is None:
            raise HelixError("VideoSink.write outside its 'with' block")
        try:
            if isinstance(frame, av.AudioFrame):
                self._write_audio(frame)
            else:
                self._write_video(frame)
        except (av.FFmpegError, OSError) as exc:
            raise HelixError(f"cannot write {self.path}: {_why(exc)}") from exc

    def _write_video(self, frame: av.VideoFrame) -> None:
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise HelixError(
                f"{self.path}: frame {self.frames_written} is {frame.width}x{frame.height}, "
                f"the video is {self.info.width}x{self.info.height}"
            )
        frame = frame.reformat(format=self._video.pix_fmt)
        saved = frame.pts, frame.time_base, frame.pict_type
        # Our clock (or the source's stored timestamps), and no frame type forced by
        # whatever decoded this frame.
        if self._timestamps is not None:
            stamps, tb = self._timestamps
            frame.pts, frame.time_base = stamps[min(self.frames_written, len(stamps) - 1)], tb
        else:
            frame.pts, frame.time_base = self.frames_written, 1 / Fraction(self.info.fps)
        frame.pict_type = av.video.frame.PictureType.NONE
        try:
            packets = self._video.encode(frame)
        finally:
            frame.pts, frame.pict_type = saved[0], saved[2]
            if saved[1] is not None:
                frame.time_base = saved[1]
        self.frames_written += 1
        self._container.mux(packets)

    def _write_audio(self, frame: av.AudioFrame) -> None:
        if self._audio is None:
            raise HelixError(f"{self.path}: audio frame given but the sink has no audio_params")
        if frame.pts is not None and frame.time_base is not None and frame.sample_rate:
            gap = int(
                round((float(frame.pts * frame.time_base) - self._audio_in) * frame.sample_rate)
            )
            if gap > frame.sample_rate // 1000:  # over 1 ms missing: a lost unit
                self._encode_audio(_silence_like(frame, gap))
        self._encode_audio(frame)

    def _encode_audio(self, frame: av.AudioFrame | None) -> None:
        assert self._audio is not None and self._resampler is not None
        if frame is not None:
            self._audio_in += frame.samples / frame.sample_rate
            saved = frame.pts
            frame.pts = None  # the resampler output is timed by our counter below
        try:
            chunks = self._resampler.resample(frame)
        finally:
            if frame is not None:
                frame.pts = saved
        tb = Fraction(1, self._audio.codec_context.sample_rate)
        for chunk in chunks:
            chunk.pts, chunk.time_base = self._audio_out, tb
            self._audio_out += chunk.samples
            self._container.mux(self._audio.encode(chunk))
