"""The demo (``helix demo``): the main job on one clip, end to end, with quality and cost.

encode with the default codec (with an outer code) -> export (FASTA + vendor CSV) ->
simulated synthesis and sequencing (the HELIX paper's channel: 30x, 1 % dropout, synthesis
errors 1/7500, 0.109 % substitutions) -> FASTQ -> decode from the reads -> PSNR and cost;
then the other codec (helix or bitstream) on clean strands, so the report shows both side
by side. :func:`run_demo` does it and returns the numbers; the command prints them.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helix_media import plugins
from helix_media.archive.decode import decode_video
from helix_media.archive.encode import encode_video
from helix_media.archive.probe import probe
from helix_media.errors import HelixError
from helix_media.strandio.atomic import check_not_input, check_target
from helix_media.strandio.strand_files import write_strands

#: Codecs the demo runs side by side: the default one (x265 in DNA) and the neural one.
COMPARED = ("bitstream", "helix")


@dataclass
class DemoResult:
    """What :func:`run_demo` measured. ``to_json()`` is ``helix demo --json``'s output."""

    #: :func:`.probe.probe` of the main archive (size, density, constraints, cost)
    probe: dict[str, Any]
    encode_s: float  # seconds to encode the main archive
    decode_s: float  # seconds to decode it from its clean strands
    psnr_db: float  # of the video decoded from the clean strands
    #: per codec, the main one first: {"codec", "strands", "psnr_db"} on clean strands
    compare: list[dict[str, Any]]
    #: the channel (dropout, coverage, reads...) and the decoding from its reads:
    #: strands rebuilt and ok, symbols corrected, lost units, concealed frames, PSNR
    damaged: dict[str, Any]
    #: the files written, by role: dnapkt, fasta, csv, decoded, reads, decoded_from_reads
    files: dict[str, str]
    clean_decode_frames: int  # frames decoded from the clean strands
    #: existing files the demo replaced (also passed to ``note`` before any work)
    replaced: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "encode_s": self.encode_s,
            "decode_s": self.decode_s,
            "psnr_db": self.psnr_db,
            "compare": self.compare,
            "damaged": self.damaged,
            "files": self.files,
            "clean_decode_frames": self.clean_decode_frames,
        }


def run_demo(
    video: str,
    out_dir: str,
    *,
    dropout: float = 0.01,
    coverage: float = 30.0,
    redundancy: float | None = None,
    seed: int = 0,
    codec: str | None = None,
    coder: str | None = None,
    quality: int | None = None,
    note: Callable[[str], None] | None = None,
) -> DemoResult:
    """Encode ``video`` into ``out_dir`` (made if need be), export, damage, read and decode
    it, then encode and decode it with the other codec of :data:`COMPARED`.

    ``dropout`` (share of strands lost) and ``coverage`` (mean reads per strand) set the
    simulated channel; ``redundancy``, ``seed``, ``codec``, ``coder``, ``quality``: as
    :func:`.encode.encode_video` (the compared codec at its default quality). Every option
    and output path is checked before any work (HelixError); ``note`` is called before the
    work with a line naming the existing files the demo replaces, if any.
    """
    from helix_media.channel.sequencing import Channel, simulate, write_reads
    from helix_media.media.metrics import video_psnr

    check_demo_options(dropout, coverage, redundancy, seed)
    out = Path(out_dir)
    main_codec = plugins.get_codec(codec).name
    outputs = output_files(out, main_codec)
    replaced = check_outputs(video, outputs)
    if replaced and note is not None:
        note(f"replacing {len(replaced)} existing files: {', '.join(replaced)}")
    out.mkdir(parents=True, exist_ok=True)
    for path in outputs.values():
        check_target(path)  # a directory in an output's place fails now, not after encoding
    pkt, fasta, csv = outputs["dnapkt"], outputs["fasta"], outputs["csv"]
    t0 = time.perf_counter()
    enc = encode_video(
        video,
        str(pkt),
        codec=codec,
        coder=coder,
        quality=quality,
        seed=seed,
        redundancy=redundancy,
    )
    t1 = time.perf_counter()
    write_strands(fasta, enc.strands, {})
    write_strands(csv, enc.strands, {})
    channel = Channel(coverage=coverage, dropout=dropout, seed=seed)
    reads = simulate(enc.strands, channel)
    damaged = outputs["reads"]
    write_reads(str(damaged), reads)
    clean_mp4, damaged_mp4 = outputs["decoded"], outputs["decoded_from_reads"]
    t2 = time.perf_counter()
    clean = decode_video(str(pkt), str(clean_mp4))
    t3 = time.perf_counter()
    hurt = decode_video(str(damaged), str(damaged_mp4))
    t4 = time.perf_counter()
    info = probe(str(pkt))
    psnr_db = video_psnr(video, str(clean_mp4))
    compare = [{"codec": info["codec"], "strands": info["strands"], "psnr_db": psnr_db}]
    for other in (c for c in COMPARED if c != main_codec):
        other_pkt, other_mp4 = outputs[f"{other}.dnapkt"], outputs[f"{other}.decoded"]
        other_enc = encode_video(video, str(other_pkt), codec=other, coder=coder, seed=seed,
                                 redundancy=redundancy)  # fmt: skip
        decode_video(str(other_pkt), str(other_mp4))
        compare.append(
            {
                "codec": other,
                "strands": len(other_enc.strands),
                "psnr_db": video_psnr(video, str(other_mp4)),
            }
        )
    return DemoResult(
        probe=info,
        encode_s=t1 - t0,
        decode_s=t3 - t2,
        psnr_db=psnr_db,
        compare=compare,
        damaged={
            "dropout": dropout,
            "coverage": coverage,
            # what the archive got (the default, None, is auto: sized for 2 % dropout)
            "redundancy": max(info.get("redundancy", {}).values(), default=0.0),
            "reads": len(reads),
            "strands_unread": int(len(enc.strands) - len(set(reads.source[reads.source >= 0]))),
            "decode_s": t4 - t3,
            "read_path": hurt.stats.get("reads", {}),
            "strands_rebuilt": hurt.stats.get("strands_recovered", 0),
            "strands_ok": hurt.strands_ok,
            "symbols_corrected": hurt.symbols_corrected,
            "lost_units": {k: len(v) for k, v in hurt.lost_units.items()},
            "concealed_frames": len(hurt.concealed_frames),
            "psnr_db": video_psnr(video, str(damaged_mp4)),
        },
        files={
            k: str(v)
            for k, v in (
                ("dnapkt", pkt),
                ("fasta", fasta),
                ("csv", csv),
                ("decoded", clean_mp4),
                ("reads", damaged),
                ("decoded_from_reads", damaged_mp4),
            )
        },
        clean_decode_frames=clean.frames_written,
        replaced=replaced,
    )


def check_demo_options(
    dropout: float, coverage: float, redundancy: float | None, seed: int
) -> None:
    """The demo's numbers, checked before any work (HelixError naming the allowed range)."""
    from helix_media.archive.strands import check_layout_options
    from helix_media.blocks.whitening import check_seed

    if not 0 <= dropout < 1:
        raise HelixError("--dropout must be a share of strands lost, at least 0 and below 1")
    if not (coverage > 0 and math.isfinite(coverage)):
        raise HelixError("--coverage must be a finite number > 0 (reads per strand)")
    check_layout_options(redundancy, 3)  # 3: encode_video's metadata copies
    check_seed(seed)


def output_files(out: Path, codec: str) -> dict[str, Path]:
    """Every file the demo writes in ``out`` (with ``codec`` as its main codec), by role."""
    files = {
        "dnapkt": out / "sample.dnapkt",
        "fasta": out / "sample.fasta",
        "csv": out / "order.csv",
        "reads": out / "reads.fastq.gz",
        "decoded": out / "decoded.mp4",
        "decoded_from_reads": out / "decoded_from_reads.mp4",
    }
    for other in (c for c in COMPARED if c != codec):
        files[f"{other}.dnapkt"] = out / f"sample.{other}.dnapkt"
        files[f"{other}.decoded"] = out / f"decoded.{other}.mp4"
    return files


def check_outputs(video: str, outputs: dict[str, Path]) -> list[str]:
    """Before any work: refuse an output that is the input video (HelixError: the demo
    would replace it, then compare its output with itself); returns the existing files it
    would replace."""
    for path in outputs.values():
        check_not_input(path, video)
    return [str(p) for p in outputs.values() if os.path.lexists(p)]
