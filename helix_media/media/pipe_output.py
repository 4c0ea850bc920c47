"""``-`` as OUT: video and stored files written to standard output.

Standard output's descriptor is kept for the data (:func:`stdout_for_data`), a video is muxed
into it without seeking (:class:`StdoutSink`), its sound interleaved by time (:func:`by_time`).
The writing side of :mod:`helix_media.media.pipes`, apart from the reading side
(:mod:`pipe_input`) and from the command-line options (:mod:`helix_media.cli.pipes`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media.media.video_io import VideoSink

STDOUT_NAME = "standard output"
#: ``--format`` for a video on standard output -> the file suffix whose settings it takes
STDOUT_FORMATS = {"matroska": ".mkv", "mkv": ".mkv", "webm": ".webm", "mp4": ".mp4", "mov": ".mov"}


def stdout_target(name: str | None) -> str:
    """``--format`` -> the suffix of the file type whose settings the stream takes."""
    suffix = STDOUT_FORMATS.get((name or "matroska").lower())
    if suffix is None:
        raise HelixError(f"--format {name}: use one of matroska, webm, mp4, mov")
    return suffix


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

    from helix_media.archive.dna_av_input import InputContainer
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
    bytes, or the video (or range) muxed as ``fmt``, streamed GOP by GOP (``frames`` then
    numbers the frames written). Descriptor 1 goes to standard error meanwhile
    (:func:`stdout_for_data`)."""
    from helix_media.archive.pool.get import PoolSource, item_streams, item_video_info, open_item

    stdout_target(fmt)
    with stdout_for_data() as fd:
        source = PoolSource(pool, reads2)
        r = open_item(source, name, start, duration, layers)
        if source.pairs is not None:
            r.stats["pairs"] = source.pairs
        if r.data is not None:
            if fmt is not None:
                raise HelixError(
                    f"{name!r} is a file, written as its bytes; --format is for a video"
                )
            write_bytes(fd, r.data)
            return r
        info = item_video_info(r)
        with StdoutSink(fd, fmt, info, r.audio_params) as sink:
            for frame in by_time(*item_streams(r), info):  # decoded as written, GOP by GOP
                sink.write(frame)
        r.frames, r.video = range(r.first_frame, r.first_frame + sink.frames_written), None
    return r
