"""``helix bench paired``: the options of :func:`helix_media.benchmarks.paired.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import paired as bench
from helix_media.benchmarks.channel import CLEAN


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench paired", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--pairs", type=int, default=100_000, help="read pairs, about (100000)")
    ap.add_argument("--read-length", type=int, default=150, help="nt per read (150: 2x150)")
    ap.add_argument("--sub", type=float, default=CLEAN.sub, help="sequencing substitutions/base")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(pairs=args.pairs, read_length=args.read_length, sub=args.sub, seed=args.seed)
