"""Constrained code sets (EORS, Li & Guo, PLOS One 2021): many DNA words that are far apart.

A code set holds length-N words with pairwise Hamming distance >= D, exactly floor(N/2) G+C
and no two equal adjacent bases, for addresses that tolerate errors when reads are clustered
and for primers. Finding the largest set is a maximum independent set problem on the
"too close" graph of all valid words; the paper searches it with an equilibrium optimizer plus
random search. We use an iterated local search for maximum independent sets instead (after
Andrade, Resende & Werneck 2012): greedy fill, (1,2)-swaps that trade one word for two, and
forced insertions to leave local optima, keeping the best set. Distances from one word to all
others are one vectorized pass over 2-bit packed words, so each move costs O(V) numpy work.

    helix codes build --length N --distance D [--seconds S] [--seed N] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from helix_media.design.codeset_search import make_search
from helix_media.dna.nucleotides import GC_BASE, to_strings
from helix_media.errors import HelixError

MAX_LENGTH = 12  # 4 * 3**11 = 708,588 run-free words: enumeration stays in memory


#: Li & Guo 2021, Table 1 (lower bounds A_GC,NL(n, d, w)): {(n, d): (Altruistic, EORS)}.
PAPER_TABLE1: dict[tuple[int, int], tuple[int, int]] = {
    (4, 3): (11, 12),
    (5, 3): (17, 20),
    (5, 4): (7, 8),
    (6, 3): (44, 55),
    (6, 4): (16, 21),
    (6, 5): (6, 8),
    (7, 3): (110, 125),
    (7, 4): (36, 46),
    (7, 5): (11, 16),
    (7, 6): (4, 6),
    (8, 3): (289, 364),
    (8, 4): (86, 110),
    (8, 5): (29, 38),
    (8, 6): (9, 15),
    (8, 7): (4, 5),
    (8, 8): (4, 4),
    (9, 3): (662, 737),
    (9, 4): (199, 226),
    (9, 5): (59, 71),
    (9, 6): (15, 26),
    (9, 7): (8, 11),
    (9, 8): (4, 5),
    (9, 9): (4, 4),
    (10, 3): (1810, 1856),
    (10, 4): (525, 546),
    (10, 5): (141, 153),
    (10, 6): (43, 53),
    (10, 7): (7, 22),
    (10, 8): (5, 9),
    (10, 9): (4, 5),
}


@lru_cache(maxsize=1)
def _pop16() -> np.ndarray:
    return np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


def valid_words(length: int, gc: int | None = None) -> np.ndarray:
    """All words (V, length) uint8 with no equal neighbours and exactly ``gc`` G+C
    (default floor(length/2)), in lexicographic order."""
    if not 1 <= length <= MAX_LENGTH:
        raise HelixError(f"word length must be 1..{MAX_LENGTH}, got {length}")
    gc = length // 2 if gc is None else gc
    w = np.arange(4, dtype=np.uint8)[:, None]
    for _ in range(length - 1):  # each step keeps the 3 bases that differ from the last one
        ext = (w[:, -1:].astype(np.int64) + np.arange(1, 4)) % 4
        w = np.concatenate([np.repeat(w, 3, axis=0), ext.reshape(-1, 1).astype(np.uint8)], 1)
    w = w[GC_BASE[w].sum(axis=1) == gc]
    return w[np.lexsort(w.T[::-1])]


def pack(words: np.ndarray) -> np.ndarray:
    """(V, N) bases -> (V,) uint64, 2 bits per base."""
    w = np.asarray(words, dtype=np.uint64)
    return (w << (2 * np.arange(w.shape[1] - 1, -1, -1, dtype=np.uint64))).sum(
        axis=1, dtype=np.uint64
    )


def distances(codes: np.ndarray, code: np.ndarray | int, length: int = 32) -> np.ndarray:
    """Hamming distances (in bases) between packed words and one word (or row-wise pairs);
    ``length`` bounds the word length (fewer table lookups)."""
    x = np.asarray(codes, dtype=np.uint64) ^ np.asarray(code, dtype=np.uint64)
    y = (x | (x >> np.uint64(1))) & np.uint64(0x5555555555555555)
    pop = _pop16()
    d = pop[(y & np.uint64(0xFFFF)).astype(np.intp)].astype(np.int64)
    for shift in range(16, min(64, 2 * length), 16):
        d += pop[((y >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.intp)]
    return d


def min_distance(words: np.ndarray) -> int:
    """Smallest pairwise Hamming distance of a set (its length if it has < 2 words)."""
    codes = pack(words)
    if len(codes) < 2:
        return int(np.asarray(words).shape[1])
    d = distances(codes[:, None], codes[None, :])
    d[np.diag_indices(len(codes))] = 1 << 30
    return int(d.min())


class ConflictGraph:
    """Which candidates are too close (distance < D) to which: adjacency lists when they fit
    (each move then costs O(degree)), else computed on the fly in one O(V) pass."""

    MAX_EDGES = 20_000_000
    MAX_PAIRS = 150_000_000  # all-pairs distances to build the lists (~1 s per 100M)
    MAX_DENSE = 9000  # also a dense matrix (<= 81 MB) for pair checks

    def __init__(
        self, codes: np.ndarray, distance: int, length: int, mirror: np.ndarray | None = None
    ) -> None:
        """``mirror`` (optional): each word's image (e.g. reverse complement) that must be
        kept as far from the others as the word itself."""
        self.codes = np.asarray(codes, dtype=np.uint64)
        self.mirror = None if mirror is None else np.asarray(mirror, dtype=np.uint64)
        self.d, self.length = distance, length
        self.ptr: np.ndarray | None = None
        self.dense: np.ndarray | None = None
        n = len(self.codes)
        sample = np.arange(0, n, max(1, n // 64))
        est = self._near(sample[:, None], np.arange(n)[None, :]).sum() - len(sample)
        if n * n <= self.MAX_PAIRS and est / max(len(sample), 1) * n <= self.MAX_EDGES:
            rows, cols = [], []
            for a in range(0, n, 512):
                r, c = np.nonzero(self._near(np.arange(a, min(n, a + 512))[:, None], np.arange(n)))
                keep = r + a != c
                rows.append(r[keep] + a)
                cols.append(c[keep])
            r, c = np.concatenate(rows), np.concatenate(cols)
            self.ptr = np.searchsorted(r, np.arange(n + 1)).astype(np.int64)
            self.idx = c.astype(np.int64)
            if n <= self.MAX_DENSE:  # pair checks by lookup
                self.dense = np.zeros((n, n), dtype=bool)
                self.dense[r, c] = True

    def _near(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Too close: distance < D (to the word, or to its mirror image)."""
        near = distances(self.codes[i], self.codes[j], self.length) < self.d
        if self.mirror is not None:
            near |= distances(self.codes[i], self.mirror[j], self.length) < self.d
        return near

    def neighbours(self, v: int) -> np.ndarray:
        if self.ptr is not None:
            return self.idx[self.ptr[v] : self.ptr[v + 1]]
        near = self._near(np.array(v), np.arange(len(self.codes)))
        near[v] = False
        return np.flatnonzero(near)

    def far_pairs(self, vertices: np.ndarray) -> np.ndarray:
        """(p, 2) positions in ``vertices`` of pairs that are not too close."""
        if self.dense is not None:
            far = ~self.dense[np.ix_(vertices, vertices)]
        else:
            far = ~self._near(vertices[:, None], vertices[None, :])
        return np.argwhere(np.triu(far, 1))

    def owners(self, vertices: np.ndarray, member: np.ndarray) -> np.ndarray:
        """For vertices with exactly one member neighbour: that member."""
        if len(vertices) == 0:
            return vertices
        if self.ptr is not None:
            counts = self.ptr[vertices + 1] - self.ptr[vertices]
            starts = np.repeat(self.ptr[vertices], counts)
            offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            nb = self.idx[starts + offs]
            return nb[member[nb]]
        mem = np.flatnonzero(member)
        return mem[np.argmax(self._near(vertices[:, None], mem[None, :]), axis=1)]


def upper_bound(length: int, distance: int) -> int:
    """A simple upper bound on the set size (used to stop early).

    Deleting D-1 positions keeps the words distinct (Singleton), so the set is no larger than
    the number of distinct run-free prefixes of length N-D+1 that can be completed. For D = N
    odd, at most 3: four words pairwise different everywhere use each base once per position,
    so they hold 2N G+C in total, but four words with floor(N/2) each hold 2N-2.
    """
    words = valid_words(length)
    prefixes = len(np.unique(pack(words[:, : length - distance + 1])))
    if distance == length and length % 2 == 1:
        return min(prefixes, 3)
    return prefixes


@dataclass
class CodeSet:
    words: np.ndarray  # (M, N) bases
    length: int
    distance: int
    seconds: float

    @property
    def rate(self) -> float:
        """The paper's coding rate log4(M) / N (quaternary symbols carried per base)."""
        return float(np.log(max(len(self.words), 1)) / np.log(4) / self.length)

    def strings(self) -> list[str]:
        return to_strings(self.words) if len(self.words) else []


def build_code_set(length: int, distance: int, seconds: float = 5.0, seed: int = 0) -> np.ndarray:
    """(M, length) bases: words with pairwise distance >= ``distance``, floor(length/2) G+C
    and no two equal adjacent bases, as many as the search finds in ``seconds``."""
    if not 1 <= distance <= length:
        raise HelixError(f"distance must be 1..{length}, got {distance}")
    start = time.monotonic()
    words = valid_words(length)
    if len(words) == 0:
        return words
    graph = ConflictGraph(pack(words), distance, length)
    search = make_search(graph, np.random.default_rng(seed))
    left = max(0.05, seconds - (time.monotonic() - start))  # building the graph counts too
    picked = search.run(left, target=upper_bound(length, distance))
    return words[np.sort(picked)]


# -- command line ----------------------------------------------------------------------------
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
