"""``helix codes build``: the command line of :mod:`helix_media.design.codesets`.

Its options and its report (the set's size and rate against the paper's table, the words);
apart from the search itself, so that the design package holds no argument parsing.
"""

from __future__ import annotations

import argparse
import time

from helix_media.design.codesets import MAX_LENGTH, PAPER_TABLE1, CodeSet, build_code_set
from helix_media.errors import HelixError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``helix codes build``."""
    parser.add_argument(
        "--length", "-n", type=int, required=True, help=f"word length N (1..{MAX_LENGTH})"
    )
    parser.add_argument(
        "--distance", "-d", type=int, required=True, help="minimum Hamming distance D"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="search time (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the search")
    parser.add_argument("--out", help="write the words to this file, one per line")


def run(args: argparse.Namespace) -> int:
    """``helix codes build``: print the set's size and rate, and the words (or write them)."""
    from helix_media.strandio.atomic import atomic_output

    if args.seconds <= 0:
        raise HelixError("--seconds must be positive")
    t = time.monotonic()
    words = build_code_set(args.length, args.distance, args.seconds, args.seed)
    elapsed = time.monotonic() - t
    cs = CodeSet(words, args.length, args.distance, elapsed)
    paper = PAPER_TABLE1.get((args.length, args.distance))
    ref = f"; paper: EORS {paper[1]}, Altruistic {paper[0]}" if paper else ""
    print(
        f"{len(words)} words of length {args.length}, distance >= {args.distance}, "
        f"GC = {args.length // 2}, no equal neighbours (rate {cs.rate:.3f}, {elapsed:.1f} s{ref})"
    )
    if args.out:
        with atomic_output(args.out, "w") as f:
            f.write("".join(s + "\n" for s in cs.strings()))
        print(f"wrote {args.out}")
    else:
        for s in cs.strings():
            print(s)
    return 0
