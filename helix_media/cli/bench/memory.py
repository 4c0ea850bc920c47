"""``helix bench memory``: the options of :func:`helix_media.benchmarks.memory.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import memory as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench memory", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--coverage", type=float, default=30.0, help="reads per strand (30)")
    ap.add_argument("--redundancy", type=float, default=0.1, help="outer code (0.1)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    width, height = map(int, args.size.split("x"))
    return bench.run(
        minutes=args.minutes,
        width=width,
        height=height,
        coverage=args.coverage,
        redundancy=args.redundancy,
    )
