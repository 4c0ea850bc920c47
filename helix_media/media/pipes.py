"""``-`` as IN or OUT: media and strands from standard input, video and files to standard output.

Reading (``helix-transcode - OUT``): a media stream is demuxed straight from the pipe, in one
pass (:class:`PipedVideo`): any container FFmpeg demuxes without seeking (Matroska, WebM, NUT,
MPEG-TS, ...), or raw frames (``--input-format rawvideo --video-size WxH --framerate R``,
``--pixel-format``, default rgb24). An MP4 whose index is at its end cannot be read from a pipe
(FFmpeg needs to seek to it): the error says to pipe Matroska. Strands (``.dnapkt``, FASTA,
FASTQ, gzipped or not: recognised by their first bytes) and any file with ``--codec raw`` are
spooled to a private temporary file first (the read path reads its input more than once; a
file archive holds the whole file anyway), and decoded or stored as that file would be; a
file stored from standard input is named ``stdin``.

Writing (``helix-transcode IN -``, ``helix pool get POOL ITEM -``): standard output's
descriptor is kept for the data, and descriptor 1 points at standard error for everything
else, so that no ``print``, progress bar or library can put a byte into the stream. A video is
muxed straight into the pipe (``--format``: matroska by default, webm, mp4 or mov), GOP by GOP
as it decodes, its sound interleaved by time: FFmpeg's Matroska muxer writes to a non-seekable
output cluster by cluster (no seek index at the end), and MP4/MOV are written fragmented. The
encoders and their settings are those of a file (:class:`VideoSink`), so the frames are the
same; the container bytes differ from a file's (no cues, no duration) but are the same from
run to run. A file archive's bytes are written as they are, once their SHA-256 checks out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.video_io import (
    _TEXT_FORMATS,
    VideoSink,
    VideoSource,
    _not_kept,
    _why,
    from_video_start,
)

STDIO = "-"
STDIN_NAME = "standard input"
STDOUT_NAME = "standard output"
#: ``--format`` for a video on standard output -> the file suffix whose settings it takes
STDOUT_FORMATS = {"matroska": ".mkv", "mkv": ".mkv", "webm": ".webm", "mp4": ".mp4", "mov": ".mov"}
#: the file a stream of strands on standard input is spooled to, by its first bytes
_DNAPKT_SIGNATURE = b"\x89DNA\r\n\x1a\n"
_PIPE_HINT = (
    "pipe Matroska, NUT or MPEG-TS (e.g. ffmpeg -i IN -c copy -f matroska - | "
    "helix-transcode - OUT.dnapkt), or raw frames with --input-format rawvideo "
    "--video-size WxH --framerate R"
)


# -- options -----------------------------------------------------------------------------------
def add_pipe_options(parser: argparse.ArgumentParser, *, reading: bool = True) -> None:
    """The options of ``-`` as IN (``reading``) and as OUT, in a group of their own."""
    g = parser.add_argument_group("standard input and output (IN or OUT -)")
    if reading:
        g.add_argument(
            "--input-format",
            metavar="FMT",
            help="IN -: the stream's FFmpeg format (as ffmpeg -f: matroska, nut, mpegts, "
            "rawvideo...); default: probed",
        )
        g.add_argument(
            "--video-size", metavar="WxH", help="IN - with rawvideo: the frame size (needed)"
        )
        g.add_argument(
            "--pixel-format",
            metavar="FMT",
            help="IN - with rawvideo: the frames' pixel format (default rgb24)",
        )
        g.add_argument(
            "--framerate", metavar="R", help="IN - with rawvideo: frames per second (needed)"
        )
    g.add_argument(
        "--format",
        metavar="NAME",
        help="OUT -: the container written to standard output: matroska (default), webm, "
        "mp4 or mov (fragmented); a stored file is written as its bytes",
    )


def _check_options(args: argparse.Namespace) -> None:
    """Pipe options only with ``-``, and the ones raw video needs."""
    raw = ("input_format", "video_size", "pixel_format", "framerate")
    given = [f"--{k.replace('_', '-')}" for k in raw if getattr(args, k, None) is not None]
    if given and args.input != STDIO:
        raise HelixError(f"{', '.join(given)}: for a stream on standard input (IN -)")
    if getattr(args, "format", None) is not None:
        if args.output != STDIO:
            raise HelixError(
                "--format names what is written to standard output (OUT -); a file's "
                "container follows its suffix"
            )
        stdout_target(args.format)
    if getattr(args, "input_format", None) == "rawvideo" and not (
        args.video_size and args.framerate
    ):
        raise HelixError("raw video on standard input needs --video-size WxH and --framerate R")


def stdout_target(name: str | None) -> str:
    """``--format`` -> the suffix of the file type whose settings the stream takes."""
    suffix = STDOUT_FORMATS.get((name or "matroska").lower())
    if suffix is None:
        raise HelixError(f"--format {name}: use one of matroska, webm, mp4, mov")
    return suffix


# -- helix-transcode ---------------------------------------------------------------------------
def with_stdio(args: argparse.Namespace, job: Callable[[], int]) -> int:
    """Run ``job`` (helix-transcode on ``args``) with ``-`` as IN or OUT made ready: options
    checked, strands or a raw file on standard input spooled (``args.input`` then names the
    spooled file), standard output kept for the data (``args.stdout_fd``)."""
    _check_options(args)
    if STDIO not in (args.input, args.output):
        return job()
    with contextlib.ExitStack() as stack:
        spooled = None
        if args.input == STDIO:
            spooled = stack.enter_context(_spool_if_not_media(args))
        if args.output == STDIO:
            if not _is_strands(args.input):  # IN - of strands: spooled to a strand file
                raise HelixError(
                    "OUT -: standard output takes what decoding gives (a video or a stored "
                    "file); encoding writes strands to a .dnapkt, .fasta or .fa file"
                )
            args.stdout_fd = stack.enter_context(stdout_for_data())
        try:
            return job()
        except HelixError as err:
            if spooled is None:
                raise
            raise HelixError(str(err).replace(spooled, STDIN_NAME)) from err


def _is_strands(path: str) -> bool:
    from helix_media.strandio.strand_files import is_strand_file

    return is_strand_file(path)


@contextlib.contextmanager
def _spool_if_not_media(args: argparse.Namespace) -> Iterator[str | None]:
    """Strands (by their first bytes) or a file to store (``--codec raw``) on standard input
    -> a private temporary file, named in ``args.input`` while the block runs; a media stream
    stays on the pipe (None), read by :func:`stdin_video`."""
    from helix_media.archive.sources import is_file_codec

    stdin = _stdin()
    raw_file = is_file_codec(args.codec)
    if getattr(args, "input_format", None) is not None and not raw_file:
        yield None
        return
    head = _read_head(stdin, 64)
    if head.startswith(b"\x1f\x8b"):  # gzip: enough to inflate the first line
        head += stdin.read(1 << 16)
    if raw_file:
        name = "stdin"
    else:
        name = _strand_file_name(head)
        if name is None:
            args.stdin_head = head  # a media stream: stdin_video reads on from here
            yield None
            return
    with tempfile.TemporaryDirectory(prefix="helix-stdin-") as tmp:
        path = os.path.join(tmp, name)
        try:
            with open(path, "wb") as f:
                f.write(head)
                shutil.copyfileobj(stdin, f, 1 << 20)
        except OSError as err:
            raise HelixError(f"cannot spool {STDIN_NAME}: {err.strerror or err}") from err
        args.input = path
        yield path


def _strand_file_name(head: bytes) -> str | None:
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


def _stdin():
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


def _read_head(stream, n: int) -> bytes:
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


def stdin_video(args: argparse.Namespace) -> PipedVideo:
    """The media stream on standard input (helix-transcode's IN ``-``), probed: format and
    raw-video options from ``args``; without audio if ``args.no_audio``."""
    fmt = getattr(args, "input_format", None)
    options = {}
    if fmt == "rawvideo":
        options["pixel_format"] = args.pixel_format or "rgb24"
    for key in ("video_size", "pixel_format", "framerate"):
        if getattr(args, key, None) is not None:
            options[key] = str(getattr(args, key))
    stdin = _stdin()
    head = getattr(args, "stdin_head", None)
    if head is None:
        head = _read_head(stdin, 64)
    try:
        container = av.open(_Prefixed(head, stdin), format=fmt, options=options)
    except (av.FFmpegError, ValueError, OSError) as exc:
        if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
            raise _mp4_error() from exc
        raise HelixError(
            f"{STDIN_NAME}: not a media stream FFmpeg reads ({_why(exc)}); {_PIPE_HINT}"
        ) from exc
    return _probe(container, keep_audio=not getattr(args, "no_audio", False))


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


# -- standard output ---------------------------------------------------------------------------
@contextlib.contextmanager
def stdout_for_data() -> Iterator[int]:
    """A descriptor of standard output for the data alone: while the block runs, descriptor
    1 (``print``, libraries) goes to standard error. A terminal is refused."""
    if os.isatty(1):
        raise HelixError(
            f"OUT -: {STDOUT_NAME} is a terminal; pipe it (| ffplay -) or redirect it (> FILE)"
        )
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stdout.flush()
    data = os.dup(1)
    os.dup2(2, 1)
    try:
        yield data
    finally:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stdout.flush()
        os.dup2(data, 1)
        os.close(data)


def write_bytes(fd: int, data: bytes) -> None:
    """All of ``data`` to ``fd``; a reader that went away is an error, not a silent end."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError as err:
        raise HelixError(f"cannot write {STDOUT_NAME}: {err.strerror or err}") from err


class StdoutSink(VideoSink):
    """:class:`VideoSink` muxing straight into descriptor ``fd`` (standard output), which
    need not be seekable: the same encoders and settings as a file of that type (so the same
    frames), Matroska clusters written as they fill, MP4/MOV fragmented."""

    def __init__(
        self, fd: int, fmt: str | None, info: VideoInfo, audio_params: dict[str, Any] | None
    ) -> None:
        super().__init__(f"{STDOUT_NAME}{stdout_target(fmt)}", info, audio_params)
        self.path, self._fd = Path(STDOUT_NAME), fd

    def _claim(self) -> None:  # nothing to create
        pass

    def _destination(self) -> str:
        return f"pipe:{self._fd}"  # FFmpeg's own pipe protocol: never seeks

    def _muxer_options(self) -> dict[str, str]:
        options = {"fflags": "+bitexact"}
        if self.target.format in ("mp4", "mov"):
            options["movflags"] = "+frag_keyframe+empty_moov+default_base_moof"
        return options

    def _commit(self) -> None:
        pass

    def write(self, frame) -> None:
        try:
            super().write(frame)
        except HelixError as err:
            raise _broken_pipe(err) from err

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        except HelixError as err:
            raise _broken_pipe(err) from err


def _broken_pipe(err: HelixError) -> HelixError:
    """A reader that went away, said as the other writers say it (FFmpeg: "broken pipe")."""
    if "broken pipe" in str(err).lower():
        return HelixError(f"cannot write {STDOUT_NAME}: Broken pipe")
    return err


def by_time(
    video: Iterable[av.VideoFrame], audio: Iterable[av.AudioFrame], info: VideoInfo
) -> Iterator[av.VideoFrame | av.AudioFrame]:
    """Video and audio frames in the order of their times (the video's from its clock, as
    :class:`VideoSink` writes them): a stream reader gets sound along with the pictures, and
    neither list is held in memory."""
    stamps = info.timestamps()
    audio = iter(audio)
    pending = next(audio, None)
    for i, frame in enumerate(video):
        if stamps is not None:
            pts, tb = stamps
            t = (pts[min(i, len(pts) - 1)] - pts[0]) * tb
        else:
            t = i / Fraction(info.fps)
        while pending is not None and _audio_time(pending) <= t:
            yield pending
            pending = next(audio, None)
        yield frame
    while pending is not None:
        yield pending
        pending = next(audio, None)


def _audio_time(frame: av.AudioFrame) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return Fraction(0)
    return frame.pts * frame.time_base


def decode_to_stdout(
    input_path: str,
    fd: int,
    fmt: str | None = None,
    *,
    progress: bool = False,
    framer: str | None = None,
    reads2: str | None = None,
    decoder_options: dict[str, Any] | None = None,
    layers: int | None = None,
):
    """:func:`helix_media.archive.decode.decode_any` with standard output (``fd``) as OUT:
    a file archive's bytes, or the video muxed as ``fmt`` (:data:`STDOUT_FORMATS`), GOP by
    GOP. Returns the same :class:`DecodeResult`."""
    from tqdm import tqdm

    from helix_media.archive.dna_av import InputContainer
    from helix_media.archive.parse import read_dna

    parsed = read_dna(input_path, framer, reads2)
    meta = parsed[1]
    if meta.get("format") == "helix-pool":
        raise HelixError(f"{input_path}: a pool; use helix pool get POOL ITEM -")
    if meta.get("kind") == "file":
        return _file_to_stdout(input_path, parsed, fd, fmt)
    stdout_target(fmt)
    dna = InputContainer(input_path, parsed=parsed, decoder_options=decoder_options, layers=layers)
    video = tqdm(
        dna.decode(video=0), total=dna.info.frames, desc="decode", unit="frame",
        disable=not progress,
    )  # fmt: skip
    with StdoutSink(fd, fmt, dna.info, dna.audio_params) as sink:
        for frame in by_time(video, dna.decode(audio=0), dna.info):
            sink.write(frame)
    return dna.report


def _file_to_stdout(input_path: str, parsed: tuple, fd: int, fmt: str | None):
    from helix_media.archive.decode import file_bytes
    from helix_media.archive.parse import recover_lost
    from helix_media.archive.results import DecodeResult

    _, meta, blocks, stats = parsed
    if fmt is not None:
        raise HelixError(
            f"{input_path}: holds a file, written as its bytes; --format is for a video"
        )
    recover_lost(meta, blocks, stats)
    write_bytes(fd, file_bytes(meta, blocks, input_path))  # whole, or it raised
    return DecodeResult(
        meta, 0, stats["strands_read"], stats["strands_ok"], stats["symbols_corrected"], {}, [],
        stats,
    )  # fmt: skip


def stdout_decoder(args: argparse.Namespace) -> Callable[..., Any]:
    """helix-transcode's decoder for OUT ``-``: :func:`decode_to_stdout` on the descriptor
    :func:`with_stdio` kept, taking ``decode_any``'s arguments."""

    def decode(input_path: str, _output: str, **kwargs: Any):
        return decode_to_stdout(input_path, args.stdout_fd, args.format, **kwargs)

    return decode


# -- helix pool get ----------------------------------------------------------------------------
def pool_get(args: argparse.Namespace) -> tuple[Callable[..., Any], Any]:
    """``helix pool get``'s writer for ``args.output`` (:func:`get_item`'s arguments) and
    the stream its summary goes to: standard error when OUT is ``-``."""
    from helix_media.archive.pool import get_item

    if args.output != STDIO:
        if args.format is not None:
            raise HelixError(
                "--format names what is written to standard output (OUT -); a file's "
                "container follows its suffix"
            )
        return get_item, sys.stdout

    def get(pool: str, name: str, _output: str, *rest: Any):
        return get_item_to_stdout(pool, name, args.format, *rest)

    return get, sys.stderr


def get_item_to_stdout(
    pool: str,
    name: str,
    fmt: str | None = None,
    start: float | None = None,
    duration: float | None = None,
    reads2: str | None = None,
    layers: int | None = None,
):
    """:func:`helix_media.archive.pool.get_item` with standard output as OUT: a file item's
    bytes, or the video (or range) muxed as ``fmt``. Descriptor 1 goes to standard error
    meanwhile (:func:`stdout_for_data`)."""
    from helix_media.archive.pool.get import PoolSource, decode_item

    stdout_target(fmt)
    with stdout_for_data() as fd:
        source = PoolSource(pool, reads2)
        r = decode_item(source, name, start, duration, layers)
        if source.pairs is not None:
            r.stats["pairs"] = source.pairs
        if r.data is not None:
            if fmt is not None:
                raise HelixError(
                    f"{name!r} is a file, written as its bytes; --format is for a video"
                )
            write_bytes(fd, r.data)
            return r
        v = VideoInfo.from_json(r.meta["video"])
        info = VideoInfo(v.width, v.height, v.fps, len(r.frames))
        with StdoutSink(fd, fmt, info, r.audio_params) as sink:
            for frame in by_time(r.frames, r.audio_frames, info):
                sink.write(frame)
    return r
