"""``helix bench traces``: the options of :func:`helix_media.benchmarks.traces.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import traces as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench traces", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("path", nargs="?", help="clusters JSON (default: nanopore-cnr valid.json)")
    ap.add_argument("--n", default="2,4,6,10", help="reads drawn per cluster (2,4,6,10)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--limit", type=int, default=None, help="first K clusters only")
    ap.add_argument(
        "--method",
        choices=sorted(bench.METHODS),
        action="append",
        help="only this method (repeatable; default: all)",
    )
    ap.add_argument("--synthetic", type=int, metavar="L", help="random L-nt strands instead")
    ap.add_argument("--no-all", action="store_true", help="skip the whole-cluster row")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(
        path=args.path,
        n=[int(x) for x in args.n.split(",") if x],
        seed=args.seed,
        limit=args.limit,
        methods=args.method,
        synthetic_length=args.synthetic,
        all_reads_row=not args.no_all,
    )
