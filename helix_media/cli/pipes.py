"""The command line's ``-`` as IN or OUT: the pipe options, and getting them ready.

``helix-transcode`` and ``helix pool get`` take ``-`` for standard input or output: the
options of the stream (:func:`add_pipe_options`), their checks, spooling strands or a file on
standard input to a private temporary file (:func:`with_stdio`), and the readers and writers
of :mod:`helix_media.media.pipes` chosen from ``args``. Here, not in the media package: it is
argument handling, and the media package takes no ``argparse`` namespaces.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from helix_media.errors import HelixError
from helix_media.media.pipe_input import (
    STDIN_NAME,
    STDIO,
    PipedVideo,
    open_stdin,
    read_head,
    stdin_stream,
    strand_file_name,
)
from helix_media.media.pipe_output import (
    decode_to_stdout,
    get_item_to_stdout,
    stdout_for_data,
    stdout_target,
)

__all__ = [
    "STDIO",
    "add_pipe_options",
    "pool_get",
    "stdin_video",
    "stdout_decoder",
    "with_stdio",
]


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

    stdin = stdin_stream()
    raw_file = is_file_codec(args.codec)
    if getattr(args, "input_format", None) is not None and not raw_file:
        yield None
        return
    head = read_head(stdin, 64)
    if head.startswith(b"\x1f\x8b"):  # gzip: enough to inflate the first line
        head += stdin.read(1 << 16)
    if raw_file:
        name = "stdin"
    else:
        name = strand_file_name(head)
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
    return open_stdin(
        fmt,
        options,
        getattr(args, "stdin_head", None),
        keep_audio=not getattr(args, "no_audio", False),
    )


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
