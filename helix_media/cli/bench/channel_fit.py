"""``helix bench channel-fit``: the options of :func:`helix_media.benchmarks.channel_fit.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import channel_fit as bench
from helix_media.channel.profiles import PROFILES


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench channel-fit", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--split", choices=("valid", "test"), default="valid", help="(valid)")
    ap.add_argument("--profile", choices=tuple(PROFILES), default="nanopore-r9")
    ap.add_argument("--seed", type=int, default=1, help="the simulation's seed (1)")
    ap.add_argument("--data", help="folder of the CNR JSON files (default: shared/data/...)")
    ap.add_argument("--plot", metavar="FILE.png", help="also draw the comparison")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(
        split=args.split, profile=args.profile, seed=args.seed, data=args.data, plot_path=args.plot
    )
