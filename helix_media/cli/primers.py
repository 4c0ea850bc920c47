"""``helix primers``: the command line of :mod:`helix_media.design.primers`.

Its options (the Tm window, the 3'-end rule, the search's size and time) and its report, a
table of pairs with primer3's figures; apart from the design itself, so that the design
package holds no argument parsing.
"""

from __future__ import annotations

import argparse
import time

from helix_media.design.primers import END_WINDOW, Limits, propose_pairs
from helix_media.errors import HelixError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``helix primers``."""
    parser.add_argument("--pairs", type=int, default=8, help="primer pairs to propose (default 8)")
    parser.add_argument("--length", type=int, default=20, help="primer length (default 20)")
    parser.add_argument(
        "--distance", type=int, default=10, help="min Hamming distance between primers (10)"
    )
    parser.add_argument("--tm-min", type=float, default=Limits.tm_min, help="Tm window, C")
    parser.add_argument("--tm-max", type=float, default=Limits.tm_max)
    parser.add_argument(
        "--gc-clamp",
        type=int,
        metavar="N",
        default=Limits.gc_clamp,
        help="last N bases of each primer (as ordered) are G/C; 0: none (default 1)",
    )
    parser.add_argument(
        "--max-end-gc",
        type=int,
        metavar="K",
        default=Limits.max_end_gc,
        help="at most K G/C among each primer's last 5 bases (default 3)",
    )
    parser.add_argument("--pool", type=int, default=3000, help="random candidates drawn")
    parser.add_argument("--seconds", type=float, default=2.0, help="code-set search time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--avoid", action="append", default=[], help="keep away from this primer (repeatable)"
    )
    parser.add_argument("--out", help="also write the pairs as a TSV file")


def run(args: argparse.Namespace) -> int:
    """``helix primers``: print the proposed pairs with primer3's figures."""
    from helix_media.strandio.atomic import atomic_output

    if args.pairs < 1 or args.pool < 10 or args.seconds <= 0:
        raise HelixError("--pairs must be >= 1, --pool >= 10 and --seconds > 0")
    if args.tm_min >= args.tm_max:
        raise HelixError("--tm-min must be below --tm-max")
    t = time.monotonic()
    limits = Limits(
        tm_min=args.tm_min,
        tm_max=args.tm_max,
        gc_clamp=args.gc_clamp,
        max_end_gc=args.max_end_gc,
    )
    found, set_size = propose_pairs(
        args.pairs,
        args.length,
        args.distance,
        limits,
        args.pool,
        args.seconds,
        args.seed,
        tuple(args.avoid),
    )
    if not found:
        raise HelixError("no primer pair passes; widen the Tm window or lower --distance")
    print(
        f"{len(found)} primer pairs from a code set of {set_size} primers ({args.length} nt, "
        f"pairwise distance >= {args.distance}, also to reverse complements, 50 % GC, no "
        f"repeated base); primer3: Tm {limits.tm_min:g}-{limits.tm_max:g} C, hairpin dG >= "
        f"{limits.hairpin_dg:g}, dimers dG >= {limits.dimer_dg:g} kcal/mol; 3' end as "
        f"ordered: GC clamp {limits.gc_clamp}, <= {limits.max_end_gc} G/C in the last "
        f"{END_WINDOW} ({time.monotonic() - t:.1f} s)"
    )
    print(
        "forward = 5' primer, ordered as is; reverse = 3' primer as on the strand, ordered as "
        "reverse_oligo (its reverse complement); _f / _ro: primer3's figures for the forward "
        "oligo / reverse_oligo, dimer_f_ro: the cross-dimer of the two"
    )
    header = (
        "forward\treverse\ttm_f\ttm_ro\thairpin_f\thairpin_ro\tselfdimer_f\tselfdimer_ro"
        "\tdimer_f_ro\treverse_oligo"
    )
    lines = [
        f"{p.forward.oligo}\t{p.reverse.seq}\t{p.forward.tm:.1f}\t{p.reverse.tm:.1f}\t"
        f"{p.forward.hairpin_dg:.2f}\t{p.reverse.hairpin_dg:.2f}\t{p.forward.homodimer_dg:.2f}\t"
        f"{p.reverse.homodimer_dg:.2f}\t{p.heterodimer_dg:.2f}\t{p.reverse_oligo}"
        for p in found
    ]
    print(header.replace("\t", "  "))
    for line in lines:
        print(line.replace("\t", "  "))
    if args.out:
        with atomic_output(args.out, "w") as f:
            f.write("\n".join([header, *lines]) + "\n")
        print(f"wrote {args.out}")
    return 0
