"""What gets stored: a video file's packets (frames through a codec, audio kept) or any file's
bytes, with the metadata fields that describe them."""

from __future__ import annotations

from typing import Any

from tqdm import tqdm

from helix_media import plugins
from helix_media.blocks.outer_code import OuterCode
from helix_media.errors import HelixError
from helix_media.media.codec import Packet, frame_timing

# -- any file, and packets from anywhere (raw codec, pools) ------------------------------------
#: Suffixes of video containers: without ``--codec``, anything else is stored by ``raw``.
VIDEO_SUFFIXES = (
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts",
    ".flv", ".wmv", ".ogv", ".3gp", ".y4m", ".mxf", ".vob", ".ivf", ".hevc", ".h264", ".264",
)  # fmt: skip


def is_video_path(path: str) -> bool:
    """True when ``path``'s suffix names a video container (the file need not be readable)."""
    from pathlib import Path

    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def is_file_codec(name: str | None) -> bool:
    """True when the registered codec ``name`` stores whole files (bytes), not frames."""
    from helix_media.media.codec import FileCodec

    return name is not None and isinstance(plugins.get_codec(name), FileCodec)


def file_packets(
    source_path: str, codec: str = "raw", quality: int | None = None
) -> tuple[list[Packet], dict[str, Any]]:
    """A file of any kind -> (packets, metadata fields naming it: name, size, sha256)."""
    import hashlib
    from pathlib import Path

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


def video_packets(
    source_path: str,
    *,
    codec: str | None = None,
    quality: int | None = None,
    audio: bool = True,
    codec_options: dict[str, Any] | None = None,
    progress: bool = False,
    coder: str | None = None,
    framer: str | None = None,
    framer_params: dict[str, Any] | None = None,
    redundancy: float = 0.0,
) -> tuple[list[Packet], dict[str, Any], dict[str, dict[str, Any]], list[str]]:
    """A video file -> (packets, metadata fields, per-stream params, what is not kept), as
    :func:`encode_video`
    does before laying packets out (pools lay out many archives in one address space).
    Coder, framer and redundancy matter only to codecs whose packets align to strands."""
    from helix_media.media.video_io import open_video

    video_codec = plugins.get_codec(codec)
    source = open_video(source_path)
    info = source.info
    options = slice_options(video_codec, codec_options, framer, framer_params, coder, redundancy)
    encoder = video_codec.encoder(info, quality=quality, **options)
    packets: list[Packet] = []
    bar = tqdm(total=info.frames, unit="frame", desc="encode", disable=not progress)
    n_frames, pts, time_base = 0, [], None
    for frame in source.frames():
        pts.append(frame.pts)
        time_base = time_base or frame.time_base
        packets += encoder.encode(frame)
        n_frames += 1
        bar.update()
    packets += encoder.encode(None)
    bar.close()
    if n_frames == 0:
        raise HelixError(f"{source_path}: the video has no frames")
    info.frames = n_frames
    info.timing = frame_timing(pts, time_base, info.fps)  # variable frame rate is kept
    stream_params: dict[str, dict[str, Any]] = {}
    if audio and source.has_audio:
        from helix_media.media.audio import AudioEncoder

        aenc = AudioEncoder(source.audio_sample_rate, source.audio_layout)
        for aframe in source.audio_frames():
            packets += aenc.encode(aframe)
        packets += aenc.encode(None)
        stream_params["audio"] = aenc.params
    fields = {"codec": video_codec.name, "codec_params": encoder.params, "video": info.to_json()}
    return packets, fields, stream_params, source.not_kept


def slice_options(
    codec,
    options: dict[str, Any] | None,
    framer: str | None,
    framer_params: dict[str, Any] | None,
    coder: str | None,
    redundancy: float,
) -> dict[str, Any]:
    """``options`` for ``codec``'s encoder, plus ``slice_bytes`` (the bytes one strand
    carries with this framer, coder and outer code) for a codec whose packets are cut to
    whole strands."""
    options = dict(options or {})
    if codec.slice_aligned:
        fr = plugins.get_framer(framer, **(framer_params or {}))
        cd = plugins.get_coder(coder, constraints=fr.constraints)
        options["slice_bytes"] = data_bits_per_strand(fr.payload_bits(cd), redundancy) // 8
    return options


def data_bits_per_strand(block_bits: int, redundancy: float) -> int:
    """Bits of codec data per strand: the outer code may use slightly fewer than the coder
    carries."""
    return OuterCode.create(redundancy, block_bits, 1).data_bits if redundancy else block_bits
