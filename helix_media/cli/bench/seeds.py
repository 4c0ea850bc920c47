"""``helix bench seeds``: the options of :func:`helix_media.benchmarks.seeds.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import seeds as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench seeds", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--blocks", type=int, default=1000, help="data blocks per framer (1000)")
    ap.add_argument("--trials", type=int, default=5, help="trials per dropout level (5)")
    ap.add_argument("--substitutions", type=int, default=1, help="per surviving strand (1)")
    ap.add_argument("--seconds", type=float, default=3.0, help="EORS search per entry (3)")
    ap.add_argument("--seed", type=int, default=0, help="EORS search seed")
    ap.add_argument("--max-length", type=int, default=10, help="EORS table up to this N (10)")
    ap.add_argument("--part", choices=("all", "framers", "eors"), default="all")
    return ap


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    return bench.run(
        blocks=a.blocks,
        trials=a.trials,
        substitutions=a.substitutions,
        seconds=a.seconds,
        seed=a.seed,
        max_length=a.max_length,
        part=a.part,
    )
