"""``helix bench fuzz``: the options of :func:`helix_media.benchmarks.fuzz.run`."""

from __future__ import annotations

import argparse
from pathlib import Path

from helix_media.benchmarks import fuzz as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="helix bench fuzz", description=bench.__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="inputs per target (100000)")
    ap.add_argument("--target", action="append", choices=sorted(bench.TARGETS), help="default: all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--crashes", type=Path, help="folder to keep crashing inputs in")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(inputs=args.inputs, targets=args.target, seed=args.seed, crashes=args.crashes)
