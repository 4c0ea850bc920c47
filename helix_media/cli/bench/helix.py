"""``helix bench helix``: the options of :func:`helix_media.benchmarks.helix.run`."""

from __future__ import annotations

import argparse
from pathlib import Path

from helix_media.benchmarks import helix as bench


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="helix bench helix", description=bench.__doc__.split("\n")[0])
    p.add_argument("--clips", nargs="*")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--max-width", type=int, default=320)
    p.add_argument("--plot", type=Path, help="write the RD plot (PNG; needs matplotlib)")
    p.add_argument("--enhancement", choices=("x265", "learned"), default="x265")
    return p


def main(argv: list[str] | None = None) -> int:
    a = parser().parse_args(argv)
    return bench.run(
        clips=a.clips,
        frames=a.frames,
        max_width=a.max_width,
        plot_path=a.plot,
        enhancement=a.enhancement,
    )
