"""Primer pairs for random access, drawn from a constrained code set and checked by primer3.

Primers must be far apart (and far from each other's reverse complements) so that each pair
amplifies only its own strands, and each must behave in PCR: melting temperature in a window,
no stable hairpin or self-dimer, and no stable dimer with its partner. We draw run-free
candidates with 50 % GC (the EORS word rule, see :mod:`helix_media.codesets`), keep those that
primer3-py passes, search a large set pairwise >= D apart with the code-set search, and pair
them by melting temperature.

    helix primers [--pairs K] [--length L] [--distance D] [--seconds S] [--avoid SEQ] [--out F]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from .codesets import ConflictGraph, IndependentSetSearch, distances, pack
from .constraints import Constraints, motif_hits
from .errors import HelixError
from .nucleotides import GC_BASE, from_string, reverse_complement, to_string


@dataclass(frozen=True)
class Limits:
    """primer3 thresholds (kcal/mol for free energies at 37 C, Celsius for Tm)."""

    tm_min: float = 55.0
    tm_max: float = 62.0
    max_tm_diff: float = 2.0
    hairpin_dg: float = -2.0  # no hairpin more stable than this
    dimer_dg: float = -6.0  # no self- or cross-dimer more stable than this


@dataclass(frozen=True)
class Primer:
    seq: str
    tm: float
    hairpin_dg: float
    homodimer_dg: float


@dataclass(frozen=True)
class PrimerPair:
    forward: Primer
    reverse: Primer
    heterodimer_dg: float


def _primer3():
    try:
        import primer3
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise HelixError("helix primers needs primer3-py (pip install primer3-py)") from exc
    return primer3


def thermo(seq: str) -> Primer:
    """primer3's Tm and hairpin / self-dimer free energies (kcal/mol) of one primer."""
    p3 = _primer3()
    return Primer(
        seq,
        float(p3.calc_tm(seq)),
        float(p3.calc_hairpin(seq).dg) / 1000.0,
        float(p3.calc_homodimer(seq).dg) / 1000.0,
    )


def heterodimer_dg(a: str, b: str) -> float:
    return float(_primer3().calc_heterodimer(a, b).dg) / 1000.0


def candidates(length: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct random words with no equal neighbours, floor(L/2) G+C, no restriction site."""
    out: list[np.ndarray] = []
    have = 0
    motifs = Constraints().motifs
    for _ in range(200):
        m = max(1024, 8 * (count - have))
        steps = rng.integers(1, 4, (m, length - 1))
        w = (np.cumsum(np.concatenate([rng.integers(0, 4, (m, 1)), steps], 1), 1) % 4).astype(
            np.uint8
        )
        w = w[(GC_BASE[w].sum(axis=1) == length // 2) & (motif_hits(w, motifs) == 0)]
        out.append(w)
        have += len(w)
        if have >= 2 * count:
            break
    words = np.unique(np.concatenate(out), axis=0)
    return words[rng.permutation(len(words))[:count]]


def _far_from_rc(words: np.ndarray, distance: int) -> np.ndarray:
    rc = reverse_complement(words)
    return distances(pack(words), pack(rc), words.shape[1]) >= distance


def _avoid_mask(words: np.ndarray, avoid: list[str], distance: int) -> np.ndarray:
    keep = np.ones(len(words), dtype=bool)
    codes = pack(words)
    for s in avoid:
        a = from_string(s)
        if len(a) != words.shape[1]:
            raise HelixError(f"--avoid {s}: length {len(a)}, primers are {words.shape[1]} nt")
        for v in (a, reverse_complement(a)):
            keep &= distances(codes, pack(v[None])[0], words.shape[1]) >= distance
    return keep


def propose_pairs(
    pairs: int = 8,
    length: int = 20,
    distance: int = 10,
    limits: Limits = Limits(),
    pool: int = 3000,
    seconds: float = 2.0,
    seed: int = 0,
    avoid: tuple[str, ...] = (),
) -> tuple[list[PrimerPair], int]:
    """Up to ``pairs`` primer pairs; every primer is >= ``distance`` from every other primer
    of the set and from their reverse complements. Returns (pairs, size of the code set)."""
    if not 12 <= length <= 32:
        raise HelixError(f"primer length must be 12..32, got {length}")
    if not 1 <= distance <= length:
        raise HelixError(f"distance must be 1..{length}, got {distance}")
    rng = np.random.default_rng(seed)
    words = candidates(length, pool, rng)
    words = words[_far_from_rc(words, distance) & _avoid_mask(words, list(avoid), distance)]
    checked = [thermo(to_string(w)) for w in words]
    good = np.array(
        [
            limits.tm_min <= p.tm <= limits.tm_max
            and p.hairpin_dg >= limits.hairpin_dg
            and p.homodimer_dg >= limits.dimer_dg
            for p in checked
        ],
        dtype=bool,
    )
    words = words[good]
    checked = [p for p, g in zip(checked, good, strict=True) if g]
    if len(words) < 2:
        return [], len(words)
    codes = pack(words)
    graph = ConflictGraph(codes, distance, length, mirror=pack(reverse_complement(words)))
    chosen = IndependentSetSearch(graph, rng).run(seconds)
    # pair primers of alike Tm, those nearest the middle of the window first; skip partners
    # that would dimerize
    mid = (limits.tm_min + limits.tm_max) / 2
    chosen = sorted(chosen.tolist(), key=lambda i: abs(checked[i].tm - mid))
    used: set[int] = set()
    out: list[PrimerPair] = []
    for a in chosen:
        if a in used or len(out) >= pairs:
            continue
        partners = sorted(
            (b for b in chosen if b != a and b not in used),
            key=lambda b: abs(checked[b].tm - checked[a].tm),
        )
        for b in partners:
            fa, fb = checked[a], checked[b]
            if abs(fb.tm - fa.tm) > limits.max_tm_diff:
                break
            dg = heterodimer_dg(fa.seq, fb.seq)
            if dg >= limits.dimer_dg:
                out.append(PrimerPair(fa, fb, dg))
                used.update((a, b))
                break
    return out, len(chosen)


# -- command line ----------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``helix primers``."""
    parser.add_argument("--pairs", type=int, default=8, help="primer pairs to propose (default 8)")
    parser.add_argument("--length", type=int, default=20, help="primer length (default 20)")
    parser.add_argument(
        "--distance", type=int, default=10, help="min Hamming distance between primers (10)"
    )
    parser.add_argument("--tm-min", type=float, default=Limits.tm_min, help="Tm window, C")
    parser.add_argument("--tm-max", type=float, default=Limits.tm_max)
    parser.add_argument("--pool", type=int, default=3000, help="random candidates drawn")
    parser.add_argument("--seconds", type=float, default=2.0, help="code-set search time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--avoid", action="append", default=[], help="keep away from this primer (repeatable)"
    )
    parser.add_argument("--out", help="also write the pairs as a TSV file")


def run(args: argparse.Namespace) -> int:
    """``helix primers``: print the proposed pairs with primer3's figures."""
    from .atomic import atomic_output

    if args.pairs < 1 or args.pool < 10 or args.seconds <= 0:
        raise HelixError("--pairs must be >= 1, --pool >= 10 and --seconds > 0")
    if args.tm_min >= args.tm_max:
        raise HelixError("--tm-min must be below --tm-max")
    t = time.monotonic()
    limits = Limits(tm_min=args.tm_min, tm_max=args.tm_max)
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
        f"{limits.hairpin_dg:g}, dimers dG >= {limits.dimer_dg:g} kcal/mol "
        f"({time.monotonic() - t:.1f} s)"
    )
    header = "forward\treverse\ttm_f\ttm_r\thairpin_f\thairpin_r\tselfdimer_f\tselfdimer_r\tdimer"
    lines = [
        f"{p.forward.seq}\t{p.reverse.seq}\t{p.forward.tm:.1f}\t{p.reverse.tm:.1f}\t"
        f"{p.forward.hairpin_dg:.2f}\t{p.reverse.hairpin_dg:.2f}\t{p.forward.homodimer_dg:.2f}\t"
        f"{p.reverse.homodimer_dg:.2f}\t{p.heterodimer_dg:.2f}"
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
