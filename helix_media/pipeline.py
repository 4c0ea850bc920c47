"""The main job, both ways: video file -> strands, and strands -> video file.

encode: frames -> codec packets -> payload blocks (+ metadata blocks) -> whitened bits ->
framed strands -> .dnapkt / FASTA.  decode: strands -> framer (RS, coder) -> blocks ->
packets (damaged ones dropped) -> frames, lost frames concealed -> video file.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from . import __version__, layout, plugins
from .codec import Packet, VideoInfo
from .errors import HelixError
from .outer_code import OuterCode
from .strand_files import read_strands, write_strands
from .whitening import keystream

METADATA_SEED = 0  # metadata must be readable before the seed is known


@dataclass
class EncodeResult:
    strands: np.ndarray
    metadata: dict[str, Any]
    data_strands: int
    metadata_strands: int
    payload_bytes: int


@dataclass
class DecodeResult:
    metadata: dict[str, Any]
    frames_written: int
    strands_read: int
    strands_ok: int
    symbols_corrected: int
    lost_units: dict[str, list[list[int]]] = field(default_factory=dict)
    concealed_frames: list[int] = field(default_factory=list)
    #: everything else measured on the way: read-path counts ("reads"), outer-code recovery
    stats: dict[str, Any] = field(default_factory=dict)


def _whiten(addresses: np.ndarray, blocks: np.ndarray, seed: int, framer) -> np.ndarray:
    meta = framer.is_metadata(addresses)
    out = blocks.copy()
    for which, s in ((~meta, seed), (meta, METADATA_SEED)):
        if which.any():
            out[which] ^= keystream(addresses[which], blocks.shape[1], s)
    return out


def encode_video(
    source_path: str,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    audio: bool = True,
    metadata_copies: int = 3,
    redundancy: float = 0.0,
    codec_options: dict[str, Any] | None = None,
    progress: bool = False,
) -> EncodeResult:
    """Encode a video file into strands, written to ``output_path`` if given.

    ``redundancy`` R > 0 adds ceil(R * k) parity strands per segment of k data strands (an
    outer erasure code), so that share of lost strands costs nothing.
    """
    from .video_io import open_video

    fr = plugins.get_framer(framer)
    cd = plugins.get_coder(coder, constraints=fr.constraints)
    video_codec = plugins.get_codec(codec)
    source = open_video(source_path)
    info = source.info
    encoder = video_codec.encoder(info, quality=quality, **(codec_options or {}))
    packets: list[Packet] = []
    bar = tqdm(total=info.frames, unit="frame", desc="encode", disable=not progress)
    n_frames = 0
    for frame in source.frames():
        packets += encoder.encode(frame)
        n_frames += 1
        bar.update()
    packets += encoder.encode(None)
    bar.close()
    if n_frames == 0:
        raise HelixError(f"{source_path}: the video has no frames")
    info.frames = n_frames
    audio_params = None
    if audio and source.has_audio:
        from .audio import AudioEncoder

        aenc = AudioEncoder(source.audio_sample_rate, source.audio_layout)
        for aframe in source.audio_frames():
            packets += aenc.encode(aframe)
        packets += aenc.encode(None)
        audio_params = aenc.params

    block_bits = fr.payload_bits(cd)
    outer = None
    data_bits = block_bits
    if redundancy:
        # the outer code may use slightly fewer bits per strand than the coder carries
        data_bits = OuterCode.create(redundancy, block_bits, 1).data_bits
    addresses, blocks, streams = layout.pack_streams(packets, data_bits)
    if audio_params is not None and "audio" in streams:
        streams["audio"].params = audio_params
    if data_bits != block_bits:
        blocks = np.pad(blocks, ((0, 0), (0, block_bits - data_bits)))
    if redundancy and len(blocks):
        outer = OuterCode.create(redundancy, block_bits, len(blocks))
        parity = outer.parity(blocks)
        addresses = np.arange(len(blocks) + len(parity))
        blocks = np.concatenate([blocks, parity])
    meta = {
        "format": "helix-media",
        "version": 1,
        "writer": f"helix-media {__version__}",
        "codec": video_codec.name,
        "codec_params": encoder.params,
        "video": info.to_json(),
        "coder": cd.name,
        "framer": fr.describe(),
        "seed": seed,
        "payload_bits": data_bits,
        "streams": {k: vars(v) for k, v in streams.items()},
    }
    if outer is not None:
        meta["outer_code"] = outer.to_json()
    m_addr, m_blocks = layout.metadata_blocks(
        meta, fr.payload_bits(fr.metadata_coder), fr.address_bits, metadata_copies
    )
    data = fr.frame(addresses, _whiten(addresses, blocks, seed, fr), cd) if len(blocks) else None
    metas = fr.frame(m_addr, _whiten(m_addr, m_blocks, seed, fr), fr.metadata_coder)
    strands = metas if data is None else np.concatenate([metas, data])
    if output_path is not None:
        header = {
            "framer": fr.name,
            "coder": cd.name,
            "codec": video_codec.name,
            "strand_length": fr.strand_length,
            "writer": meta["writer"],
        }
        write_strands(output_path, strands, header)
    return EncodeResult(
        strands, meta, len(blocks), len(m_blocks), sum(len(p.data) for p in packets)
    )


def recover_lost(meta: dict[str, Any], blocks: dict[int, np.ndarray], stats: dict[str, int]):
    """Fill lost data strands from the outer code's parity strands, if the archive has one."""
    if "outer_code" not in meta:
        return
    outer = OuterCode.from_json(meta["outer_code"])
    recovered, missing = outer.recover(blocks)
    stats.update(strands_recovered=recovered, strands_unrecoverable=missing)


def select_blocks(
    addresses: np.ndarray, blocks: np.ndarray, corrected: np.ndarray
) -> dict[int, np.ndarray]:
    """One block per address among the strands that decoded to it: the most common, and
    among equally common ones the one RS had to correct least (a strand that needed many
    corrections is the likeliest to be a miscorrected stranger)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, a in enumerate(addresses.tolist()):
        groups[a].append(i)
    out = {}
    for a, rows in groups.items():
        if len(rows) == 1:
            out[a] = blocks[rows[0]]
            continue
        votes = Counter(blocks[r].tobytes() for r in rows)
        fewest = {}
        for r in rows:
            key = blocks[r].tobytes()
            fewest[key] = min(fewest.get(key, 99), int(corrected[r]))
        best = max(votes, key=lambda k: (votes[k], -fewest[k]))
        out[a] = np.frombuffer(best, dtype=np.uint8)
    return out


def read_dna(path: str) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strand file -> (framer, metadata, data blocks by strand index, statistics)."""
    header, seqs = read_strands(path, allow_n=True)
    return parse_dna(header, seqs, path)


def parse_dna(
    header: dict[str, Any], seqs: list[np.ndarray], path: str
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strands already read from ``path`` -> as :func:`read_dna`.

    A ``.dnapkt`` (non-empty ``header``) holds clean strands, parsed as they are; FASTA and
    FASTQ may hold sequencing reads, so they go through the read path (trim, cluster,
    consensus), which gives clean strands through unchanged.
    """
    fr = plugins.get_framer(header.get("framer"))
    stats: dict[str, Any] = {"strands_read": len(seqs)}
    erasures = None
    if header:
        usable = [s for s in seqs if len(s) == fr.strand_length]
        stats["wrong_length"] = len(seqs) - len(usable)
        strands = np.stack(usable) if usable else None
    else:
        from .reads import ReadProcessor

        estimates = ReadProcessor(fr).process(seqs)
        strands, report = estimates.strands, estimates.report
        stats["reads"] = report.to_json()
        if report.clusters < report.clustered:  # reads, not one copy of each strand: RS uses
            erasures = estimates.erasures  # the erasures and keeps a margin for detection
    if strands is None or not len(strands):
        raise HelixError(f"{path}: no {fr.strand_length}-nt strands to decode")
    meta_coder = fr.metadata_coder
    parsed = fr.parse(strands, meta_coder, meta_coder, erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    m_blocks = _whiten(parsed.addresses[is_meta], parsed.payload[is_meta], 0, fr)
    meta = layout.recover_metadata(parsed.addresses[is_meta], m_blocks, fr.address_bits)
    if meta is None:
        raise HelixError(f"{path}: no readable metadata strands (is this a helix-media file?)")
    if meta.get("coder") != meta_coder.name:
        # Parse again with the data coder (its blocks may differ in size from metadata's). A
        # framer's rows need not match the input strands (a fountain framer returns source
        # blocks), so nothing is merged row by row.
        cd = plugins.get_coder(meta["coder"], constraints=fr.constraints)
        parsed = fr.parse(strands, cd, None, erasures)
    is_data = parsed.ok & ~fr.is_metadata(parsed.addresses)
    blocks = _whiten(parsed.addresses[is_data], parsed.payload[is_data], meta["seed"], fr)
    stats.update(
        strands_ok=int(parsed.ok.sum()),
        symbols_corrected=int(parsed.corrected[parsed.ok].sum()),
        strands_failed=int((~parsed.ok).sum()),
    )
    blocks = select_blocks(parsed.addresses[is_data], blocks, parsed.corrected[is_data])
    return fr, meta, blocks, stats


@dataclass
class DecodedMedia:
    """Everything decoded from strands: frames in display order (lost ones concealed)."""

    info: VideoInfo
    frames: list[Any]
    audio_frames: list[Any]
    audio_params: dict[str, Any] | None
    result: DecodeResult


def decode_media(input_path: str, *, progress: bool = False) -> DecodedMedia:
    """Strands (``.dnapkt``, FASTA, FASTQ) -> decoded frames; damage is concealed."""
    _, meta, blocks, stats = read_dna(input_path)
    recover_lost(meta, blocks, stats)
    info = VideoInfo.from_json(meta["video"])
    codec = plugins.get_codec(meta["codec"])
    streams = {k: layout.StreamLayout(**v) for k, v in meta["streams"].items()}
    block_bits = int(meta["payload_bits"])
    lost: dict[str, list[list[int]]] = {}
    video_packets: list[Packet] = []
    if "video" in streams:
        video_packets, lost["video"] = layout.unpack_stream(
            streams["video"], "video", blocks, block_bits
        )
    audio_frames: list = []
    audio_params = None
    if "audio" in streams:
        from .audio import AudioDecoder

        audio_params = streams["audio"].params
        apackets, lost["audio"] = layout.unpack_stream(
            streams["audio"], "audio", blocks, block_bits
        )
        adec = AudioDecoder(audio_params)
        for p in [*apackets, None]:
            audio_frames += adec.decode(p)

    decoder = codec.decoder(info, meta["codec_params"])
    decoded: dict[int, Any] = {}
    for p in tqdm([*video_packets, None], desc="decode", unit="gop", disable=not progress):
        for f in decoder.decode(p):
            if 0 <= f.pts < info.frames:
                decoded[f.pts] = f
    frames, concealed, last = [], [], None
    for i in range(info.frames):
        frame = decoded.get(i)
        if frame is None:  # conceal: repeat the last good frame
            concealed.append(i)
            frame = last if last is not None else _first_good(decoded, info)
        frames.append(frame)
        last = frame
    result = DecodeResult(
        meta,
        info.frames,
        stats["strands_read"],
        stats["strands_ok"],
        stats["symbols_corrected"],
        lost,
        concealed,
        stats,
    )
    return DecodedMedia(info, frames, audio_frames, audio_params, result)


def decode_video(input_path: str, output_path: str, *, progress: bool = False) -> DecodeResult:
    """Decode strands into a video file (container and codecs from ``output_path``'s suffix)."""
    from .video_io import VideoSink

    media = decode_media(input_path, progress=progress)
    with VideoSink(output_path, media.info, audio_params=media.audio_params) as sink:
        for frame in media.frames:
            sink.write(frame)
        for af in media.audio_frames:
            sink.write(af)
    return media.result


def _first_good(frames: dict[int, Any], info: VideoInfo):
    """Concealment before any frame decoded: the next good frame, or black."""
    if frames:
        return frames[min(frames)]
    import av

    black = np.zeros((info.height, info.width, 3), dtype=np.uint8)
    return av.VideoFrame.from_ndarray(black, format="rgb24")  # a new yuv420p frame is green
