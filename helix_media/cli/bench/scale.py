"""``helix bench scale``: the options of :func:`helix_media.benchmarks.scale.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import scale as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench scale", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--strands", type=int, default=20_000)
    ap.add_argument("--coverage", type=float, default=10.0)
    ap.add_argument("--workers", default="1,2", help="cluster sizes to run, comma-separated")
    ap.add_argument("--part-reads", type=int, default=1 << 15, help="reads per part")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(
        strands=args.strands,
        coverage=args.coverage,
        workers=[int(w) for w in args.workers.split(",")],
        part_reads=args.part_reads,
    )
