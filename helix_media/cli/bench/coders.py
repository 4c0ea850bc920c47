"""``helix bench coders``: the options of :func:`helix_media.benchmarks.coders.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import coders as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench coders", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--strands", type=int, default=2000, help="blocks per data set")
    ap.add_argument("--no-external", action="store_true", help="skip Chamaeleo's rows")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(strands=args.strands, external=not args.no_external)
