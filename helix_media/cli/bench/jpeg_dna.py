"""``helix bench jpeg-dna``: the options of :func:`helix_media.benchmarks.jpeg_dna.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import jpeg_dna as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="helix bench jpeg-dna", description=bench.__doc__.split("\n")[0]
    )
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--video", default=str(bench.SAMPLE))
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(frames=args.frames, trials=args.trials, seed=args.seed, video=args.video)
