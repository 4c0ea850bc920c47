"""``helix bench read-plan``: the options of :func:`helix_media.benchmarks.read_plan.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import read_plan as bench
from helix_media.channel import read_plan
from helix_media.channel.profiles import PROFILES


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench read-plan", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--profile", choices=tuple(PROFILES), action="append", help="(all)")
    ap.add_argument("--strands", type=int, default=1500, help="data strands per trial (1500)")
    ap.add_argument("--max-reads", type=int, default=read_plan.MAX_K, help="k = 1..K")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--coverages", default="3,5,8,10,15,20,30", help="for part 2")
    ap.add_argument("--stored", action="store_true", help="part 2 only (the stored tables)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(
        profiles=args.profile,
        strands=args.strands,
        max_reads=args.max_reads,
        seed=args.seed,
        coverages=[float(c) for c in args.coverages.split(",")],
        stored=args.stored,
    )
