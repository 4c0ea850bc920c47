"""``helix demo``: the main job on one clip, end to end, with a quality and cost report.

encode -> export (FASTA + vendor CSV) -> damage (dropout, substitutions) -> decode -> PSNR.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .channel import damage
from .pipeline import decode_video, encode_video
from .probe import probe
from .strand_files import write_strands


def run_demo(
    video: str,
    out_dir: str,
    *,
    dropout: float = 0.01,
    substitutions: int = 2,
    seed: int = 0,
    codec: str | None = None,
    coder: str | None = None,
    quality: int | None = None,
) -> dict[str, Any]:
    from .metrics import video_psnr

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pkt, fasta, csv = out / "sample.dnapkt", out / "sample.fasta", out / "order.csv"
    t0 = time.perf_counter()
    enc = encode_video(video, str(pkt), codec=codec, coder=coder, quality=quality, seed=seed)
    t1 = time.perf_counter()
    write_strands(fasta, enc.strands, {})
    write_strands(csv, enc.strands, {})
    reads, lost = damage(enc.strands, dropout=dropout, substitutions=substitutions, seed=seed)
    damaged = out / "damaged.fasta"
    write_strands(damaged, reads, {})
    clean_mp4, damaged_mp4 = out / "decoded.mp4", out / "decoded_damaged.mp4"
    t2 = time.perf_counter()
    clean = decode_video(str(pkt), str(clean_mp4))
    t3 = time.perf_counter()
    hurt = decode_video(str(damaged), str(damaged_mp4))
    info = probe(str(pkt))
    return {
        "probe": info,
        "encode_s": t1 - t0,
        "decode_s": t3 - t2,
        "psnr_db": video_psnr(video, str(clean_mp4)),
        "damaged": {
            "dropout": dropout,
            "substitutions_per_strand": substitutions,
            "strands_dropped": int(len(lost)),
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
                ("decoded_damaged", damaged_mp4),
            )
        },
        "clean_decode_frames": clean.frames_written,
    }


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
            f"damaged reads ({100 * d['dropout']:.0f} % dropout, {d['substitutions_per_strand']} "
            f"substitutions/strand): {d['strands_ok']} strands ok, "
            f"{d['symbols_corrected']} symbols corrected, lost units {d['lost_units']}, "
            f"{d['concealed_frames']} frames concealed, "
            f"PSNR {d['psnr_db']:.2f} dB",
            "files: " + ", ".join(r["files"].values()),
        ]
    )
