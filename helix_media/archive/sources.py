"""What gets stored: a video file's frames through a codec (audio kept), or any file's bytes,
with the metadata fields that describe them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from helix_media import plugins
from helix_media.archive.dna_av_output import OutputContainer
from helix_media.errors import HelixError
from helix_media.media.codec import FileCodec, Packet

if TYPE_CHECKING:
    from helix_media.media.video_io import VideoSource

#: Suffixes of video containers: without ``--codec``, anything else is stored by ``raw``.
VIDEO_SUFFIXES = (
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
    ".flv", ".wmv", ".ogv", ".3gp", ".y4m", ".mxf", ".vob", ".ivf", ".hevc", ".h264", ".264",
)  # fmt: skip


def is_video_path(path: str) -> bool:
    """True when ``path``'s suffix names a video container (the file need not be readable),
    or ``path`` is ``-``: standard input is a media stream (helix_media.media.pipes)."""

    return path == "-" or Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_file_codec(name: str | None) -> bool:
    """True when the registered codec ``name`` stores whole files (bytes), not frames."""

    return name is not None and isinstance(plugins.get_codec(name), FileCodec)


def file_packets(
    source_path: str, codec: str = "raw", quality: int | None = None
) -> tuple[list[Packet], dict[str, Any]]:
    """A file of any kind -> (packets, metadata fields naming it: name, size, sha256)."""
    import hashlib

    from helix_media.media.codec import FileCodec

    path = Path(source_path)
    if not path.exists():
        raise HelixError(f"{path}: no such file")
    if path.is_dir():
        raise HelixError(f"{path}: is a directory, not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HelixError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    file_codec = plugins.get_codec(codec)
    if not isinstance(file_codec, FileCodec):
        raise HelixError(f"codec {codec!r} encodes video frames, not files")
    packets, params = file_codec.pack(data, quality)
    fields = {
        "kind": "file",
        "codec": file_codec.name,
        "codec_params": params,
        "file": {"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
    }
    return packets, fields


def mux_video(
    dna: OutputContainer,
    source_path: str | VideoSource,
    *,
    codec: str | None = None,
    quality: int | None = None,
    audio: bool = True,
    codec_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> list[str]:
    """Encode a video file's frames (and its first audio stream) into ``dna``, as a PyAV loop
    would; returns what the archive does not keep (extra streams, bit depth...).
    ``source_path``: a video file, or a source already open (a stream on standard input,
    :func:`helix_media.cli.pipes.stdin_video`)."""
    from helix_media.media.video_io import VideoSource, open_video

    source = source_path if isinstance(source_path, VideoSource) else open_video(source_path)
    info = source.info
    video = dna.add_stream(
        codec or plugins.DEFAULTS["codecs"],
        info.fps,
        width=info.width,
        height=info.height,
        quality=quality,
        **(codec_options or {}),
    )
    with tqdm(total=info.frames, unit="frame", desc="encode", disable=not progress) as bar:
        for frame in source.frames():
            dna.mux(video.encode(frame))
            bar.update()
    dna.mux(video.encode(None))
    if video.frames == 0:
        raise HelixError(f"{source.path}: the video has no frames")
    if audio and source.has_audio:
        sound = dna.add_stream("opus", source.audio_sample_rate, layout=source.audio_layout)
        for frame in source.audio_frames():
            dna.mux(sound.encode(frame))
        dna.mux(sound.encode(None))
    return source.not_kept


def video_packets(
    source_path: str,
    *,
    codec: str | None = None,
    quality: int | None = None,
    coder: str | None = None,
    framer_params: dict[str, Any] | None = None,
    redundancy: float = 0.0,
    progress: bool = False,
) -> tuple[list[Packet], dict[str, Any], dict[str, dict[str, Any]], dict[str, float]]:
    """A video file -> (packets, metadata fields, per-stream params, the outer code per
    stream that the codec asks for), not yet laid out in strands: pools lay out many items in
    one address space. Coder, framer and redundancy matter only to codecs whose packets align
    to strands."""
    dna = OutputContainer(None, coder=coder, framer_params=framer_params, redundancy=redundancy)
    mux_video(dna, source_path, codec=codec, quality=quality, progress=progress)
    return *dna.contents(), dna.options["stream_redundancy"] or {}
