"""``helix bench peers``: the options of :func:`helix_media.benchmarks.peers.run`."""

from __future__ import annotations

import argparse

from helix_media.benchmarks import peers as bench


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="helix bench peers", description=bench.__doc__.split("\n")[0])
    ap.add_argument("--kb", type=int, default=100, help="input size in kB (100)")
    ap.add_argument("--trials", type=int, default=2, help="random losses per level (2)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per peer and input")
    ap.add_argument("--segment", type=int, default=160, help="peers' bits per segment (160)")
    ap.add_argument("--no-external", action="store_true", help="skip Chamaeleo")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return bench.run(
        kb=args.kb,
        trials=args.trials,
        timeout=args.timeout,
        segment=args.segment,
        external=not args.no_external,
    )
