"""``helix bench dna-layer``: the options of :func:`helix_media.benchmarks.dna_layer.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import dna_layer as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench dna-layer", description=bench.__doc__.splitlines()[0]
    )
    ap.add_argument("--strands", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(strands=args.strands, repeat=args.repeat)
