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

(the command itself: :mod:`helix_media.cli.codes`; the graph of too-close words:
:mod:`conflict_graph`)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from helix_media.design.codeset_search import make_search
from helix_media.design.conflict_graph import ConflictGraph, distances, pack
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


def min_distance(words: np.ndarray) -> int:
    """Smallest pairwise Hamming distance of a set (its length if it has < 2 words)."""
    codes = pack(words)
    if len(codes) < 2:
        return int(np.asarray(words).shape[1])
    d = distances(codes[:, None], codes[None, :])
    d[np.diag_indices(len(codes))] = 1 << 30
    return int(d.min())


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
