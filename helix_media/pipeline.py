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

from . import __version__, distributed, layout, plugins
from .codec import Packet, VideoInfo, frame_timing
from .errors import HelixError
from .metadata_schema import ARCHIVE_ID, POOL_FORMAT, check_metadata
from .outer_code import OuterCode
from .paired import check_reads_span_strands, merge_files
from .read_stream import ReadParts
from .strand_files import is_sequence_file, read_strands, write_strands
from .whitening import keystream

METADATA_SEED = 0  # metadata must be readable before the seed is known


@dataclass
class EncodeResult:
    strands: np.ndarray
    metadata: dict[str, Any]
    data_strands: int
    metadata_strands: int
    payload_bytes: int
    #: strands outside the synthesis constraints (only a coder that does not guarantee them
    #: can make any; the CLI warns with the count)
    violations: int = 0
    #: what the source had that the archive does not keep (streams, bit depth, timing)
    not_kept: list[str] = field(default_factory=list)


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

    @property
    def data_strands_missing(self) -> int:
        return data_strands_missing(self.stats)

    @property
    def complete(self) -> bool:
        """Nothing was lost: every data strand there (or rebuilt), no unit lost, no frame
        concealed. False means the output was written but is not what was stored."""
        lost_units = any(self.lost_units.values())
        return not (self.data_strands_missing or lost_units or self.concealed_frames)

    def loss_report(self) -> str:
        """One line saying what was lost (empty when :attr:`complete`)."""
        if self.complete:
            return ""
        parts = []
        if self.data_strands_missing:
            total = self.stats.get("data_strands", 0)
            parts.append(f"{self.data_strands_missing} of {total} data strands missing")
        for kind, units in self.lost_units.items():
            if units:
                parts.append(f"{len(units)} {kind} units lost")
        if self.concealed_frames:
            parts.append(
                f"{len(self.concealed_frames)} of {self.frames_written} frames concealed "
                f"(first: {self.concealed_frames[:10]})"
            )
        return "data lost: " + "; ".join(parts)


def data_strands_missing(stats: dict[str, Any]) -> int:
    """Data strands lost for good: after the outer code, if the archive has one."""
    if "strands_unrecoverable" in stats:
        return int(stats["strands_unrecoverable"])
    return max(0, stats.get("data_strands", 0) - stats.get("data_strands_found", 0))


def whiten(addresses: np.ndarray, blocks: np.ndarray, seed: int, framer, coder=None) -> np.ndarray:
    """XOR payload blocks with their keystreams (its own inverse): data strands under
    ``seed``, unless ``coder`` carries bases as they are; metadata strands under seed 0."""
    meta = framer.is_metadata(addresses)
    out = blocks.copy()
    # a coder that carries bases as they are (``whiten = False``) keeps its data unwhitened
    data_seed = None if coder is not None and not coder.whiten else seed
    for which, s in ((~meta, data_seed), (meta, METADATA_SEED)):
        if s is None:
            continue
        if which.any():
            out[which] ^= keystream(addresses[which], blocks.shape[1], s)
    return out


def archive_id(meta: dict[str, Any], blocks: np.ndarray) -> int:
    """An archive's identity: 32 bits of SHA-256 over its metadata and data blocks (the same
    input and options give the same id; two different archives almost surely differ). Keyed
    framers key every data strand with it, so another archive's strands never decode into
    this one."""
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    h.update(np.packbits(blocks, axis=1).tobytes())
    return int.from_bytes(h.digest()[:4], "big") or 1


def _key(fr, meta: dict[str, Any]) -> dict[str, int]:
    """``key=`` for a keyed framer's frame/parse (nothing for others, or for archives written
    before archive ids)."""
    return {"key": int(meta[ARCHIVE_ID])} if fr.keyed and meta.get(ARCHIVE_ID) else {}


def check_layout_options(redundancy: float, metadata_copies: int) -> None:
    """The outer code and metadata copies users may ask for (checked before any work)."""
    if not 1 <= metadata_copies <= 1 << layout.COPY_BITS:
        raise HelixError("--metadata-copies must be 1..32")
    if not 0 <= redundancy <= 4:
        raise HelixError("--redundancy must be between 0 and 4")


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
    # a codec whose packets are already DNA (jpeg-dna) names the coder that carries them
    coder = coder or plugins.get_codec(codec).coder
    packets, fields, stream_params, not_kept = video_packets(
        source_path,
        codec=codec,
        quality=quality,
        audio=audio,
        codec_options=codec_options,
        progress=progress,
        coder=coder,
        framer=framer,
        redundancy=redundancy,
    )
    r = encode_packets(
        packets,
        fields,
        coder=coder,
        framer=framer,
        seed=seed,
        metadata_copies=metadata_copies,
        redundancy=redundancy,
        stream_params=stream_params,
    )
    r.not_kept = not_kept
    if output_path is not None:
        _write(output_path, r)
    return r


def _write(output_path: str, r: EncodeResult) -> None:
    header = {
        "framer": r.metadata["framer"]["name"],
        "coder": r.metadata["coder"],
        "codec": r.metadata["codec"],
        "strand_length": int(r.strands.shape[1]),
        "writer": r.metadata["writer"],
    }
    write_strands(output_path, r.strands, header)


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


def read_dna(
    path: str, framer: str | None = None, reads2: str | None = None
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strand file -> (framer, metadata, data blocks by strand index, statistics).
    ``framer``: the framer plugin that made the strands of a FASTA/FASTQ file (which, unlike
    a ``.dnapkt``, does not name it); default helix. ``reads2``: the R2 FASTQ of paired-end
    reads whose R1 FASTQ is ``path``; mates are merged first (statistics: "pairs"). Reads are
    streamed from the file in parts (:mod:`.read_stream`); inside
    :func:`.distributed.cluster`, they go through the read path on the cluster."""
    if reads2 is None:
        if is_sequence_file(path):  # streamed: a run need not fit in memory
            return parse_dna({}, ReadParts(path), path, framer)
        header, seqs = read_strands(path, allow_n=True, salvage=True)
        return parse_dna(header, seqs, path, framer)
    reads, pairs = merge_files(path, reads2)
    fr, meta, blocks, stats = parse_dna({}, reads, path, framer)
    stats["pairs"] = pairs.to_json()
    return fr, meta, blocks, stats


def parse_dna(
    header: dict[str, Any], seqs: list[np.ndarray], path: str, framer: str | None = None
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """Strands already read from ``path`` -> as :func:`read_dna`.

    A ``.dnapkt`` (non-empty ``header``) holds clean strands, parsed as they are; FASTA and
    FASTQ may hold sequencing reads, so they go through the read path (trim, cluster,
    consensus), which gives clean strands through unchanged.
    """
    if header and framer and header.get("framer") != framer:
        raise HelixError(f"{path}: its strands were framed by {header.get('framer')}, not {framer}")
    if not header and not framer:
        return _detect_framer(seqs, path)
    return _parse_with(plugins.get_framer(header.get("framer") or framer), header, seqs, path)


def _detect_framer(
    seqs: list[np.ndarray], path: str
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """FASTA/FASTQ name no framer: try each registered one, those whose strand length is the
    commonest sequence length first (helix first among equals); each recognises only its own
    metadata. The first that reads any is the one."""
    sample = seqs.first if isinstance(seqs, ReadParts) else seqs
    lengths = Counter(len(s) for s in sample)
    common = lengths.most_common(1)[0][0] if lengths else 0
    names = sorted(
        plugins.registrations("framers"),
        key=lambda n: (plugins.get_framer(n).strand_length != common, n != "helix", n),
    )
    first_error = None
    for name in names:
        try:
            return _parse_with(plugins.get_framer(name), {}, seqs, path)
        except HelixError as exc:
            first_error = first_error or exc
    raise HelixError(f"{first_error} (tried the framers {', '.join(names)})")


def _parse_with(
    fr, header: dict[str, Any], seqs: list[np.ndarray], path: str
) -> tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]]:
    """:func:`parse_dna` with the framer known."""
    stats: dict[str, Any] = {}
    if header.get("damaged_packets") is not None:  # counted as lost strands from here on
        stats["damaged_packets"] = header["damaged_packets"]
    erasures = None
    if header:
        stats["strands_read"] = len(seqs)
        usable = [s for s in seqs if len(s) == fr.strand_length]
        stats["wrong_length"] = len(seqs) - len(usable)
        strands = np.stack(usable) if usable else None
    else:
        estimates = estimate_strands(fr, seqs, path)
        strands, report = estimates.strands, estimates.report
        stats["strands_read"] = report.reads
        stats["reads"] = report.to_json()
        if report.clusters < report.clustered:  # reads, not one copy of each strand: RS uses
            erasures = estimates.erasures  # the erasures and keeps a margin for detection
    if strands is None or not len(strands):
        if not header:
            sample = seqs.first if isinstance(seqs, ReadParts) else seqs
            check_reads_span_strands(path, sample, fr.strand_length)
        raise HelixError(f"{path}: no {fr.strand_length}-nt strands to decode")
    candidates = fr.metadata_candidates(strands)
    meta_coder = fr.metadata_coder
    m_strands = strands[candidates]
    m_erasures = None if erasures is None else erasures[candidates]
    parsed = fr.parse(m_strands, meta_coder, meta_coder, m_erasures)
    is_meta = parsed.ok & fr.is_metadata(parsed.addresses)
    m_blocks = whiten(parsed.addresses[is_meta], parsed.payload[is_meta], 0, fr)
    metas = layout.recover_all_metadata(parsed.addresses[is_meta], m_blocks, fr.address_bits)
    recovered, metas = metas, _usable_metadata(metas, path)
    if recovered and not metas:
        check_metadata(recovered[0], path)  # raises, saying what is wrong with it
    if not metas:
        raise HelixError(f"{path}: no readable metadata strands (is this a helix-media file?)")
    if all(m.get("format") == POOL_FORMAT for m in metas):  # a pool: its catalogue
        stats.update(strands_ok=int(is_meta.sum()), symbols_corrected=0, data_strands=0)
        return fr, metas[0], {}, stats
    metas = [m for m in metas if m.get("format") != POOL_FORMAT and m["framer"]["name"] == fr.name]
    if not metas:
        raise HelixError(f"{path}: its metadata names another framer than {fr.name}")
    # Several archives' strands (reads of pools that share primers): decode the one with the
    # most data strands; the others' strands are counted as foreign, never decoded.
    best = None
    for m in metas:
        data_coder = plugins.get_coder(m["coder"], constraints=fr.constraints)
        got = fr.parse(strands, data_coder, None, erasures, **_key(fr, m))
        n_ok = int((got.ok & ~fr.is_metadata(got.addresses)).sum())
        if best is None or n_ok > best[0]:
            best = (n_ok, m, data_coder, got)
        stats.setdefault("archives", []).append(
            {"archive_id": m.get(ARCHIVE_ID), "data_strands_ok": n_ok}
        )
    _, meta, data_coder, parsed = best
    stats["foreign_strands"] = sum(a["data_strands_ok"] for a in stats["archives"]) - best[0]
    is_data = parsed.ok & ~fr.is_metadata(parsed.addresses)
    payload = parsed.payload[is_data]
    blocks = whiten(parsed.addresses[is_data], payload, meta["seed"], fr, data_coder)
    n_meta = int(is_meta.sum())
    stats.update(
        strands_ok=int(is_data.sum()) + n_meta,
        symbols_corrected=int(parsed.corrected[is_data].sum()),
        # (a fountain framer returns source blocks, not one row per strand: never below 0)
        strands_failed=max(
            0, len(strands) - int(is_data.sum()) - n_meta - stats["foreign_strands"]
        ),
    )
    blocks = select_blocks(parsed.addresses[is_data], blocks, parsed.corrected[is_data])
    stats["data_strands"] = n = expected_data_strands(meta)
    offset = int(meta.get("address_offset", 0))
    stats["data_strands_found"] = sum(offset <= a < offset + n for a in blocks)
    return fr, meta, blocks, stats


def estimate_strands(fr, seqs, path: str, select: np.ndarray | None = None):
    """Reads (in memory, or :class:`.read_stream.ReadParts`) -> strand estimates, here or on
    the current Dask cluster; ``select``: see :meth:`.reads.ReadProcessor.process`."""
    client = distributed.current()
    parts = seqs if isinstance(seqs, ReadParts) else ReadParts(path, seqs)
    if client is None:
        from .read_stream import estimate_strands as estimate_here

        return estimate_here(fr, parts, select)
    return distributed.estimate_strands(client, fr, parts, select)


def _usable_metadata(metas: list, path: str) -> list[dict[str, Any]]:
    """The recovered metadata blobs a decoder can trust (see :mod:`.metadata_schema`)."""
    out = []
    for m in metas:
        try:
            out.append(check_metadata(m, path))
        except HelixError:
            continue
    return out


def expected_data_strands(meta: dict[str, Any]) -> int:
    """How many data strands the archive was written with (outer parity included)."""
    if "outer_code" in meta:
        outer = OuterCode.from_json(meta["outer_code"])
        return outer.data_strands + outer.parity_strands
    return sum(int(s["strands"]) for s in meta["streams"].values())


@dataclass
class DecodedMedia:
    """Everything decoded from strands: frames in display order (lost ones concealed)."""

    info: VideoInfo
    frames: list[Any]
    audio_frames: list[Any]
    audio_params: dict[str, Any] | None
    result: DecodeResult


def decode_media(
    input_path: str,
    *,
    progress: bool = False,
    parsed: tuple | None = None,
    decoder_options: dict[str, Any] | None = None,
) -> DecodedMedia:
    """Strands (``.dnapkt``, FASTA, FASTQ) -> all decoded frames in memory; damage is
    concealed. ``parsed``: what :func:`read_dna` already returned for ``input_path``. For
    GOP-by-GOP decoding, use :func:`helix_media.open`."""
    from .dna_av import InputContainer

    dna = InputContainer(input_path, parsed=parsed, decoder_options=decoder_options)
    frames = list(_progress(dna.decode(video=0), dna.info, progress))
    audio_frames = list(dna.decode(audio=0))
    return DecodedMedia(dna.info, frames, audio_frames, dna.audio_params, dna.report)


def _progress(frames, info: VideoInfo, show: bool):
    return tqdm(frames, total=info.frames, desc="decode", unit="frame", disable=not show)


def decode_video(
    input_path: str,
    output_path: str,
    *,
    progress: bool = False,
    parsed: tuple | None = None,
    decoder_options: dict[str, Any] | None = None,
) -> DecodeResult:
    """Decode strands into a video file (container and codecs from ``output_path``'s suffix),
    GOP by GOP: memory holds one GOP's frames, not the video's."""
    from .dna_av import InputContainer
    from .video_io import VideoSink

    dna = InputContainer(input_path, parsed=parsed, decoder_options=decoder_options)
    with VideoSink(output_path, dna.info, audio_params=dna.audio_params) as sink:
        for frame in _progress(dna.decode(video=0), dna.info, progress):
            sink.write(frame)
        for af in dna.decode(audio=0):
            sink.write(af)
    return dna.report


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
    from .codec import FileCodec

    return name is not None and isinstance(plugins.get_codec(name), FileCodec)


def encode_packets(
    packets: list[Packet],
    fields: dict[str, Any],
    *,
    coder: str | None = None,
    framer: str | None = None,
    framer_params: dict[str, Any] | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: float = 0.0,
    stream_params: dict[str, dict[str, Any]] | None = None,
    address_offset: int = 0,
    metadata_chunk_offset: int = 0,
) -> EncodeResult:
    """Packets of any codec -> framed strands (data, outer parity, metadata copies).

    ``fields`` (codec, codec_params, kind, video or file...) go into the metadata as they are.
    ``address_offset`` moves the data strands to addresses ``offset + i`` and
    ``metadata_chunk_offset`` the metadata chunks up by that many, so several archives share
    one pool's address space (strand indices inside the metadata stay 0-based).
    """
    fr = plugins.get_framer(framer, **(framer_params or {}))
    cd = plugins.get_coder(coder, constraints=fr.constraints)
    block_bits = fr.payload_bits(cd)
    data_bits = data_bits_per_strand(block_bits, redundancy)
    addresses, blocks, streams = layout.pack_streams(packets, data_bits)
    for name, params in (stream_params or {}).items():
        if name in streams:
            streams[name].params = params
    if data_bits != block_bits:
        blocks = np.pad(blocks, ((0, 0), (0, block_bits - data_bits)))
    outer = None
    if redundancy and len(blocks):
        outer = OuterCode.create(redundancy, block_bits, len(blocks))
        blocks = np.concatenate([blocks, outer.parity(blocks)])
    addresses = np.arange(len(blocks), dtype=np.int64) + address_offset
    meta = {
        "format": "helix-media",
        "version": 1,
        "writer": f"helix-media {__version__}",
        **fields,
        "coder": cd.name,
        "framer": fr.describe(),
        "seed": seed,
        "payload_bits": data_bits,
        "streams": {k: vars(v) for k, v in streams.items()},
    }
    if address_offset:
        meta["address_offset"] = int(address_offset)
    if outer is not None:
        meta["outer_code"] = outer.to_json()
    meta[ARCHIVE_ID] = archive_id(meta, blocks)
    m_addr, m_blocks = layout.metadata_blocks(
        meta, fr.payload_bits(fr.metadata_coder), fr.address_bits, metadata_copies
    )
    m_addr = m_addr + (metadata_chunk_offset << layout.COPY_BITS)
    white = whiten(addresses, blocks, seed, fr, cd)
    data = (
        distributed.frame_strands(fr, addresses, white, cd, _key(fr, meta)) if len(blocks) else None
    )
    metas = fr.frame(m_addr, whiten(m_addr, m_blocks, seed, fr), fr.metadata_coder)
    strands = metas if data is None else np.concatenate([metas, data])
    return EncodeResult(
        strands,
        meta,
        len(blocks),
        len(m_blocks),
        sum(len(p.data) for p in packets),
        0 if cd.guarantees_constraints else count_violations(fr, strands),
    )


def count_violations(fr, strands: np.ndarray) -> int:
    """Strands that break the framer's constraints (GC window, runs, motifs), whole."""
    report = fr.check(strands)
    return int((~report.ok(fr.constraints)).sum())


def file_packets(
    source_path: str, codec: str = "raw", quality: int | None = None
) -> tuple[list[Packet], dict[str, Any]]:
    """A file of any kind -> (packets, metadata fields naming it: name, size, sha256)."""
    import hashlib
    from pathlib import Path

    from .codec import FileCodec

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
    from .video_io import open_video

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
        from .audio import AudioEncoder

        aenc = AudioEncoder(source.audio_sample_rate, source.audio_layout)
        for aframe in source.audio_frames():
            packets += aenc.encode(aframe)
        packets += aenc.encode(None)
        stream_params["audio"] = aenc.params
    fields = {"codec": video_codec.name, "codec_params": encoder.params, "video": info.to_json()}
    return packets, fields, stream_params, source.not_kept


def encode_file(
    source_path: str,
    output_path: str | None = None,
    *,
    codec: str | None = None,
    coder: str | None = None,
    framer: str | None = None,
    quality: int | None = None,
    seed: int = 0,
    metadata_copies: int = 3,
    redundancy: float = 0.0,
) -> EncodeResult:
    """Store any file losslessly (codec ``raw`` unless another file codec is named); its
    name, size and SHA-256 go into the metadata and are checked on decoding."""
    packets, fields = file_packets(source_path, codec or "raw", quality)
    r = encode_packets(
        packets,
        fields,
        coder=coder,
        framer=framer,
        seed=seed,
        metadata_copies=metadata_copies,
        redundancy=redundancy,
    )
    if output_path is not None:
        _write(output_path, r)
    return r


def file_bytes(
    meta: dict[str, Any], blocks: dict[int, np.ndarray], source: str = "the archive"
) -> bytes:
    """A file archive's data blocks -> the stored bytes, checked against size and SHA-256.
    Raises HelixError naming what was lost: a file is returned whole or not at all."""
    import hashlib

    from .codec import FileCodec

    info = meta["file"]
    file_codec = plugins.get_codec(meta["codec"])
    if not isinstance(file_codec, FileCodec):
        raise HelixError(f"{source}: codec {meta['codec']!r} is not a file codec")
    stream = layout.StreamLayout(**meta["streams"]["file"]) if "file" in meta["streams"] else None
    packets, lost = [], []
    if stream is not None:
        packets, lost = layout.unpack_stream(stream, "file", blocks, int(meta["payload_bits"]))
    if lost:
        nbytes = sum(u[2] for u in lost)
        raise HelixError(
            f"{source}: {len(lost)} of {len(stream.units)} chunks of {info['name']} lost or "
            f"damaged ({nbytes} bytes); more coverage or --redundancy would have saved them"
        )
    data = file_codec.unpack(packets, meta["codec_params"])
    if len(data) != info["size"] or hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise HelixError(f"{source}: {info['name']} decoded with a wrong size or SHA-256")
    return data


def decode_file(
    input_path: str,
    output_path: str,
    *,
    parsed: tuple[Any, dict[str, Any], dict[int, np.ndarray], dict[str, Any]] | None = None,
) -> DecodeResult:
    """Strands of a file archive -> the stored bytes at ``output_path`` (whatever its suffix),
    written atomically and only when size and SHA-256 match."""
    from .atomic import atomic_output

    _, meta, blocks, stats = parsed or read_dna(input_path)
    if meta.get("kind") != "file":
        raise HelixError(f"{input_path}: holds a video, not a file")
    recover_lost(meta, blocks, stats)
    data = file_bytes(meta, blocks, input_path)
    with atomic_output(output_path) as f:
        f.write(data)
    return DecodeResult(
        meta, 0, stats["strands_read"], stats["strands_ok"], stats["symbols_corrected"], {}, [],
        stats,
    )  # fmt: skip


def decode_any(
    input_path: str,
    output_path: str,
    *,
    progress: bool = False,
    framer: str | None = None,
    reads2: str | None = None,
    decoder_options: dict[str, Any] | None = None,
) -> DecodeResult:
    """Strands -> a file archive's bytes or a video file, whichever the metadata says.
    ``framer``, ``reads2`` (paired-end reads: R1 in ``input_path``): see :func:`read_dna`."""
    parsed = read_dna(input_path, framer, reads2)
    if parsed[1].get("format") == "helix-pool":
        raise HelixError(f"{input_path}: a pool; use helix pool list / helix pool get")
    if parsed[1].get("kind") == "file":
        return decode_file(input_path, output_path, parsed=parsed)
    return decode_video(
        input_path, output_path, progress=progress, parsed=parsed, decoder_options=decoder_options
    )
