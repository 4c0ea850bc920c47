"""``-`` as IN: what comes in on standard input, recognised and read in one pass.

A media stream is demuxed straight from the pipe (:class:`PipedVideo`, opened by
:func:`open_stdin`); strands and stored files are recognised by their first bytes
(:func:`strand_file_name`) so that the command line can spool them to a file. The reading
side of :mod:`helix_media.media.pipes`, apart from the writing side (:mod:`pipe_output`) and
from the options that choose between them (:mod:`helix_media.cli.pipes`).
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.video_io import (
    _TEXT_FORMATS,
    VideoSource,
    _not_kept,
    _why,
    from_video_start,
)

STDIO = "-"
STDIN_NAME = "standard input"
#: the file a stream of strands on standard input is spooled to, by its first bytes
_DNAPKT_SIGNATURE = b"\x89DNA\r\n\x1a\n"
_PIPE_HINT = (
    "pipe Matroska, NUT or MPEG-TS (e.g. ffmpeg -i IN -c copy -f matroska - | "
    "helix-transcode - OUT.dnapkt), or raw frames with --input-format rawvideo "
    "--video-size WxH --framerate R"
)


def strand_file_name(head: bytes) -> str | None:
    """The name a stream of strands starting with ``head`` is spooled under (its suffix picks
    the reader), or None for anything else (a media stream)."""
    if head.startswith(_DNAPKT_SIGNATURE):
        return "stdin.dnapkt"
    gz = head.startswith(b"\x1f\x8b")
    if gz:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head)
        except zlib.error:
            return None
    first = head.lstrip()[:1]
    kind = {b">": "fasta", b"@": "fastq"}.get(first)
    return None if kind is None else f"stdin.{kind}" + (".gz" if gz else "")


def stdin_stream():
    """Standard input's binary stream; a terminal is refused (nobody types a video)."""
    if sys.stdin is None:
        raise HelixError("IN -: there is no standard input")
    try:
        tty = os.isatty(sys.stdin.fileno())
    except (OSError, ValueError):  # not a real descriptor (a test's replacement)
        tty = False
    if tty:
        raise HelixError(
            f"IN -: {STDIN_NAME} is a terminal; pipe a stream into it (e.g. ffmpeg -i IN -c "
            "copy -f matroska - | helix-transcode - OUT.dnapkt)"
        )
    return getattr(sys.stdin, "buffer", sys.stdin)


def read_head(stream, n: int) -> bytes:
    try:
        head = stream.read(n)
    except OSError as err:
        raise HelixError(f"cannot read {STDIN_NAME}: {err.strerror or err}") from err
    if not head:
        raise HelixError(f"{STDIN_NAME} is empty")
    return head


class _Prefixed:
    """A read-only, non-seekable stream: ``head`` (bytes already read), then ``rest``. No
    ``seek`` and no ``close``: FFmpeg reads it as the pipe it is, and leaves stdin open."""

    def __init__(self, head: bytes, rest) -> None:
        self._head, self._rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            out, self._head = (self._head, b"") if n < 0 else (self._head[:n], self._head[n:])
            return out
        return self._rest.read(n)


@dataclass
class PipedVideo(VideoSource):
    """A media stream on standard input, read in one pass: :meth:`frames` demuxes it, keeping
    the (compressed) packets of its first audio stream, which :meth:`audio_frames` then
    decodes (encoding takes the video first, then the audio, as from a file)."""

    container: Any = None
    keep_audio: bool = True
    _audio_packets: list = field(default_factory=list)
    _start: tuple[Fraction, Fraction] | None = None

    def frames(self) -> Iterator[av.VideoFrame]:
        video = self.container.streams.video[0]
        video.thread_type = "AUTO"  # as from a file: the same frames
        audio = self.container.streams.audio[0] if self.has_audio and self.keep_audio else None
        first = True
        try:
            for packet in self.container.demux(*[s for s in (video, audio) if s is not None]):
                if packet.stream.index != video.index:
                    self._audio_packets.append(packet)
                    continue
                for frame in packet.decode():
                    if first and frame.pts is not None and frame.time_base is not None:
                        self._start = frame.pts * frame.time_base, frame.time_base
                    first = False
                    yield frame
        except av.FFmpegError as exc:
            if "mp4" in self.container.format.name:  # its index came last: no way back
                raise _mp4_error() from exc
            raise HelixError(f"{STDIN_NAME}: video decoding failed ({_why(exc)})") from exc
        if audio is None:
            self.container.close()

    def audio_frames(self) -> Iterator[av.AudioFrame]:
        if not (self.has_audio and self.keep_audio):
            return
        packets, self._audio_packets = self._audio_packets, []

        def decoded() -> Iterator[av.AudioFrame]:
            for packet in packets:
                yield from packet.decode()

        try:
            yield from from_video_start(decoded(), self._start)
        except av.FFmpegError as exc:
            raise HelixError(f"{STDIN_NAME}: audio decoding failed ({_why(exc)})") from exc
        finally:
            self.container.close()


def open_stdin(
    fmt: str | None, options: dict[str, str], head: bytes | None = None, keep_audio: bool = True
) -> PipedVideo:
    """The media stream on standard input, probed: FFmpeg format ``fmt`` (None: probed) and
    demuxer ``options`` (raw video's size, pixel format, rate); ``head``: its first bytes,
    if already read; without audio unless ``keep_audio``."""
    stdin = stdin_stream()
    if head is None:
        head = read_head(stdin, 64)
    try:
        container = av.open(_Prefixed(head, stdin), format=fmt, options=options)
    except (av.FFmpegError, ValueError, OSError) as exc:
        if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
            raise _mp4_error() from exc
        raise HelixError(
            f"{STDIN_NAME}: not a media stream FFmpeg reads ({_why(exc)}); {_PIPE_HINT}"
        ) from exc
    return _probe(container, keep_audio=keep_audio)


def _mp4_error() -> HelixError:
    return HelixError(
        f"{STDIN_NAME}: an MP4/MOV cannot be read from a pipe (FFmpeg must seek to its "
        "index, or back to its frames); pipe Matroska instead: ffmpeg -i IN.mp4 -c copy -f "
        "matroska - | helix-transcode - OUT.dnapkt"
    )


def _probe(container: av.container.InputContainer, keep_audio: bool) -> PipedVideo:
    """As :func:`open_video` checks a file, without reading on (the frame count is known only
    once the stream ends)."""
    try:
        if container.format.name in _TEXT_FORMATS:
            raise HelixError(f"{STDIN_NAME}: text, not a video")
        if not container.streams.video:
            raise HelixError(f"{STDIN_NAME}: has no video stream")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = stream.guessed_rate or stream.average_rate or stream.base_rate
        if not width or not height:
            raise HelixError(f"{STDIN_NAME}: the video stream has no picture size")
        if not fps or fps <= 0:
            raise HelixError(f"{STDIN_NAME}: the video stream has no frame rate")
    except HelixError:
        container.close()
        raise
    audio = container.streams.audio[0] if container.streams.audio else None
    return PipedVideo(
        Path(STDIN_NAME),
        VideoInfo(width, height, Fraction(fps), None),
        has_audio=audio is not None,
        audio_sample_rate=audio.codec_context.sample_rate if audio else None,
        audio_layout=audio.codec_context.layout.name if audio else None,
        not_kept=_not_kept(container, stream),
        container=container,
        keep_audio=keep_audio,
    )
