"""``helix demo``: its options, and the report it prints; the demo itself is
:func:`helix_media.archive.demo.run_demo`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from helix_media.cli.common import SAMPLE

if TYPE_CHECKING:  # the demo's modules load when it runs, not with every helix command
    from helix_media.archive.demo import DemoResult


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", nargs="?", default=str(SAMPLE), help="default: the bundled sample")
    p.add_argument("--out", default="out", help="output folder (default: ./out)")
    p.add_argument("--dropout", type=float, default=0.01, help="share of strands lost (0.01)")
    p.add_argument("--coverage", type=float, default=30.0, help="reads per strand (30)")
    p.add_argument(
        "--redundancy", type=float, default=None, help="outer code (default: auto, as encoding)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--codec")
    p.add_argument("--coder")
    p.add_argument("--quality", type=int)
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from helix_media.archive.demo import run_demo

    r = run_demo(
        args.video,
        args.out,
        dropout=args.dropout,
        coverage=args.coverage,
        redundancy=args.redundancy,
        seed=args.seed,
        codec=args.codec,
        coder=args.coder,
        quality=args.quality,
        note=lambda line: print(f"note: {line}", file=sys.stderr),
    )
    print(json.dumps(r.to_json(), indent=2) if args.json else format_demo(r))
    return 0


def format_demo(result: DemoResult) -> str:
    """The report ``helix demo`` prints (``--json``: ``result.to_json()``)."""
    r = result.to_json()
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
