"""``helix bench cost``: the options of :func:`helix_media.benchmarks.cost.run`."""

from __future__ import annotations

import argparse
from pathlib import Path

from helix_media.benchmarks import cost as bench


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helix bench cost", description=bench.__doc__.split("\n")[0])
    p.add_argument("--clips", nargs="*", help="default: the sample and data/eval/*.mp4")
    p.add_argument("--frames", type=int, help="frames per clip (default 48; --quick 16)")
    p.add_argument("--max-width", type=int, default=320)
    p.add_argument(
        "--redundancy", type=float, default=0.1, help="outer code of every bitstream setting"
    )
    p.add_argument(
        "--usd-per-nt",
        type=float,
        default=bench.USD_PER_NT,
        help=f"assumed synthesis price per nucleotide (default {bench.USD_PER_NT:.3g}: $0.014 a "
        "240-nt strand)",
    )
    p.add_argument("--settings", nargs="*", help="only the settings whose name contains one")
    p.add_argument("--target-psnr", type=float, default=35.0, help="the target run (0: none)")
    p.add_argument("--plot", type=Path, help="write the RD curves (PNG; needs matplotlib)")
    p.add_argument("--quick", action="store_true", help="reference and default, 3 CRFs, 1 clip")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    return bench.run(
        clips=a.clips,
        frames=a.frames,
        max_width=a.max_width,
        redundancy=a.redundancy,
        usd_per_nt=a.usd_per_nt,
        only=a.settings,
        target_psnr=a.target_psnr,
        plot_path=a.plot,
        quick=a.quick,
    )
