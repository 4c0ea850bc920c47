"""``helix bench channel``: the options of :mod:`helix_media.benchmarks.channel`'s sweeps."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import channel as bench
from helix_media.channel.profiles import PROFILES
from helix_media.errors import HelixError


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench channel", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--strands", type=int, default=600, help="data strands per trial (600)")
    ap.add_argument("--seeds", type=int, default=3, help="trials per cell (3)")
    ap.add_argument("--quick", action="store_true", help="fewer rows (for a smoke test)")
    ap.add_argument("--paper", action="store_true", help="only the paper's channel, big payload")
    ap.add_argument("--megabytes", type=float, default=1.0, help="payload for --paper (1)")
    ap.add_argument(
        "--reads",
        type=int,
        help="only time FASTQ.gz -> strands for this many reads (of --profile at the first of"
        " --coverages, else the paper's channel)",
    )
    ap.add_argument("--profile", choices=tuple(PROFILES), help="a coverage sweep with its reads")
    ap.add_argument("--coverages", default="10,20,30,50", help="for --profile (10,20,30,50)")
    ap.add_argument("--no-video", action="store_true", help="--profile without the sample video")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        covs = [float(c) for c in args.coverages.split(",")]
    except ValueError:
        raise HelixError("--coverages takes numbers separated by commas, e.g. 10,20,30") from None
    if args.reads:
        return bench.throughput(reads=args.reads, profile=args.profile, coverage=covs[0])
    if args.profile:
        return bench.profile_sweep(
            profile=args.profile,
            coverages=covs,
            strands=args.strands,
            seeds=args.seeds,
            video=not args.no_video,
        )
    if args.paper:
        return bench.paper(megabytes=args.megabytes, seeds=args.seeds)
    return bench.sweep(strands=args.strands, seeds=args.seeds, quick=args.quick)
