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

Split by side: :mod:`helix_media.media.pipe_input` reads standard input,
:mod:`helix_media.media.pipe_output` writes standard output, and the command line's options
and glue (``add_pipe_options``, ``with_stdio``, ``stdin_video``, ``stdout_decoder``,
``pool_get``) live in :mod:`helix_media.cli.pipes`. This module gathers the library's names.
"""

from __future__ import annotations

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
    STDOUT_FORMATS,
    STDOUT_NAME,
    StdoutSink,
    by_time,
    decode_to_stdout,
    get_item_to_stdout,
    stdout_for_data,
    stdout_target,
    write_bytes,
)

__all__ = [
    "STDIN_NAME",
    "STDIO",
    "STDOUT_FORMATS",
    "STDOUT_NAME",
    "PipedVideo",
    "StdoutSink",
    "by_time",
    "decode_to_stdout",
    "get_item_to_stdout",
    "open_stdin",
    "read_head",
    "stdin_stream",
    "stdout_for_data",
    "stdout_target",
    "strand_file_name",
    "write_bytes",
]
