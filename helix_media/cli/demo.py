"""``helix demo``: the main job on one clip, end to end, with a quality and cost report.

encode with the default codec (with an outer code) -> export (FASTA + vendor CSV) ->
simulated synthesis and sequencing (the HELIX paper's channel: 30x, 1 % dropout, synthesis
errors 1/7500, 0.109 % substitutions) -> FASTQ -> decode from the reads -> PSNR and cost;
then the other codec (helix or bitstream) on clean strands, so the report shows both side
by side.
"""

from __future__ import annotations

import os
import sys
import time
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
) -> dict[str, Any]:
    from helix_media.channel.sequencing import Channel, simulate, write_reads
    from helix_media.media.metrics import video_psnr

    check_demo_options(dropout, coverage, redundancy, seed)
    out = Path(out_dir)
    main_codec = plugins.get_codec(codec).name
    outputs = output_files(out, main_codec)
    check_outputs(video, outputs)
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
    compare = [{"codec": info["codec"], "strands": info["strands"], "psnr_db": None}]
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
    result = {
        "probe": info,
        "encode_s": t1 - t0,
        "decode_s": t3 - t2,
        "psnr_db": video_psnr(video, str(clean_mp4)),
        "compare": compare,
        "damaged": {
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
        "files": {
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
        "clean_decode_frames": clean.frames_written,
    }
    result["compare"][0]["psnr_db"] = result["psnr_db"]
    return result


def check_demo_options(
    dropout: float, coverage: float, redundancy: float | None, seed: int
) -> None:
    """The demo's numbers, checked before any work (HelixError naming the allowed range)."""
    import math

    from helix_media.archive.strands import check_layout_options
    from helix_media.cli.transcode import check_seed

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


def check_outputs(video: str, outputs: dict[str, Path]) -> None:
    """Before any work: refuse an output that is the input video (the demo would replace
    it, then compare its output with itself), and say which existing files it replaces."""
    for path in outputs.values():
        check_not_input(path, video)
    replaced = [str(p) for p in outputs.values() if os.path.lexists(p)]
    if replaced:
        print(
            f"note: replacing {len(replaced)} existing files: {', '.join(replaced)}",
            file=sys.stderr,
        )


def format_demo(r: dict[str, Any]) -> str:
    p, d = r["probe"], r["damaged"]
    per_s = p["cost_usd"] / p["duration_s"] if p["duration_s"] else float("nan")
    return "\n".join(
        [
            f"clip: {p['width']}x{p['height']}, {p['frames']} frames, {p['duration_s']:.2f} s "
            f"-> {p['strands']} strands of {p['strand_length']} nt ({p['codec']} codec, "
            f"{p['coder']} coder)",
            f"density: {p['payload_bits_per_nt']:.3f} bits/nt payload, "
            f"{p['net_bits_per_nt']:.3f} bits/nt net; constraints: GC "
            f"{100 * p['gc_min']:.1f}-{100 * p['gc_max']:.1f} %, max run {p['max_homopolymer']}, "
            f"{p['motif_hits']} motif hits",
            f"cost: ${p['cost_usd']:.2f} (${per_s:.2f} per second of video, "
            f"${p['cost_usd'] / p['frames']:.3f} per frame)",
            f"quality: PSNR {r['psnr_db']:.2f} dB (clean strands); encode {r['encode_s']:.1f} s, "
            f"decode {r['decode_s']:.1f} s",
            f"sequencing: {d['reads']} reads at {d['coverage']:g}x, "
            f"{100 * d['dropout']:g} % dropout ({d['strands_unread']} strands never read), "
            f"outer redundancy {100 * d['redundancy']:g} %",
            f"decoded from reads in {d['decode_s']:.1f} s: {d['strands_ok']} strand estimates ok, "
            f"{d['symbols_corrected']} symbols corrected, {d['strands_rebuilt']} strands rebuilt "
            f"by the outer code, lost units {d['lost_units']}, {d['concealed_frames']} frames "
            f"concealed, PSNR {d['psnr_db']:.2f} dB",
            "side by side, clean strands (same outer code): "
            + "; ".join(
                f"{c['codec']} {c['strands']} strands, PSNR {c['psnr_db']:.2f} dB"
                for c in r["compare"]
            ),
            "files: " + ", ".join(r["files"].values()),
        ]
    )
