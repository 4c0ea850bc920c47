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
import random
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .errors import HelixError
from .nucleotides import GC_BASE, to_strings

MAX_LENGTH = 12  # 4 * 3**11 = 708,588 run-free words: enumeration stays in memory
_ODD_BITS = int("01" * 32, 2)  # one bit per base after x | x >> 1

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


class IndependentSetSearch:
    """Iterated local search (ARW 2012) for a big set of candidates pairwise >= D apart."""

    def __init__(self, graph: ConflictGraph, rng: np.random.Generator) -> None:
        self.g, self.rng = graph, rng
        n = len(graph.codes)
        self.member = np.zeros(n, dtype=bool)
        self.tight = np.zeros(n, dtype=np.int32)  # members too close to each vertex
        self.size = 0

    def add(self, v: int) -> np.ndarray:
        nb = self.g.neighbours(v)
        self.tight[nb] += 1
        self.member[v] = True
        self.size += 1
        return nb

    def remove(self, v: int) -> np.ndarray:
        nb = self.g.neighbours(v)
        self.tight[nb] -= 1
        self.member[v] = False
        self.size -= 1
        return nb

    def fill(self, among: np.ndarray | None = None) -> list[int]:
        """Add free vertices (no member too close), from ``among`` or from all; returns them."""
        added: list[int] = []
        if among is None:
            pool = np.flatnonzero(~self.member & (self.tight == 0))
        else:
            pool = among[~self.member[among] & (self.tight[among] == 0)]
        if len(pool) == 0:
            return added
        for v in self.rng.permutation(pool).tolist():
            if not self.member[v] and self.tight[v] == 0:
                self.add(v)
                added.append(v)
        return added

    def _two_for_one(self, x: int) -> bool:
        """Swap member ``x`` for two vertices that only ``x`` blocked, if two such are far
        enough apart from each other (a (1,2)-swap: the set grows by one)."""
        nb = self.g.neighbours(x)
        cand = nb[self.tight[nb] == 1]
        if len(cand) < 2:
            return False
        if len(cand) > 300:
            cand = self.rng.choice(cand, 300, replace=False)
        pairs = self.g.far_pairs(cand)
        if len(pairs) == 0:
            return False
        u, w = cand[pairs[self.rng.integers(len(pairs))]]
        freed = self.remove(x)
        self.add(int(u))
        self.add(int(w))
        self.fill(freed)
        return True

    def _improve(self, queue: set[int], end: float) -> None:
        """(1,2)-swaps until none is left among the queued members (new chances re-queued)."""
        while queue and time.monotonic() < end:
            x = queue.pop()
            if not self.member[x]:
                continue
            if self._two_for_one(x):
                nb = self.g.neighbours(x)
                touched = nb[(self.tight[nb] == 1) & ~self.member[nb]]
                queue.update(self.g.owners(touched, self.member).tolist())

    def run(self, seconds: float, target: int | None = None) -> np.ndarray:
        """Search for ``seconds`` (or until ``target`` words); returns the best set found."""
        end = time.monotonic() + seconds
        self.fill()
        self._improve(set(np.flatnonzero(self.member).tolist()), end)
        best, best_size = self.member.copy(), self.size
        while time.monotonic() < end and (target is None or best_size < target):
            # perturb: force in a random non-member (k = 1, sometimes 2), drop the members too
            # close to it, refill around them and look for (1,2)-swaps where it opened some
            outside = np.flatnonzero(~self.member)
            if len(outside) == 0:
                break
            saved = (self.member.copy(), self.tight.copy(), self.size)
            k = 2 if self.rng.random() < 1 / (2 * max(self.size, 1)) else 1
            queue: set[int] = set()
            freed = []
            for v in self.rng.choice(outside, min(k, len(outside)), replace=False).tolist():
                if self.member[v]:
                    continue
                nb = self.g.neighbours(v)
                freed += [self.remove(int(y)) for y in nb[self.member[nb]]]
                self.add(v)
                queue.add(v)
            for f in freed:
                queue.update(self.fill(f))
            for f in freed:
                touched = f[(self.tight[f] == 1) & ~self.member[f]]
                queue.update(self.g.owners(touched, self.member).tolist())
            self._improve(queue, end)
            if self.size > best_size:
                best, best_size = self.member.copy(), self.size
            delta, delta_best = saved[2] - self.size, best_size - self.size
            if delta > 0 and self.rng.random() > 1 / (1 + delta * delta_best):
                self.member, self.tight, self.size = saved  # reject the worse solution
        return np.flatnonzero(best)


class ListSearch:
    """The same iterated local search on Python adjacency lists, for sparse graphs: a move
    there touches a few dozen list entries, where numpy's per-call overhead would dominate
    (about 5x more moves per second on the D = 3 graphs)."""

    MAX_EDGES = 3_000_000

    def __init__(self, graph: ConflictGraph, rng: np.random.Generator) -> None:
        assert graph.ptr is not None
        ptr, idx = graph.ptr.tolist(), graph.idx.tolist()
        n = len(graph.codes)
        self.n, self.d = n, graph.d
        self.adj = [idx[ptr[v] : ptr[v + 1]] for v in range(n)]
        self.codes = [int(c) for c in graph.codes]
        self.mirror = None if graph.mirror is None else [int(c) for c in graph.mirror]
        self.rnd = random.Random(int(rng.integers(1 << 62)))
        self.member = bytearray(n)
        self.tight = [0] * n
        self.size = 0
        self.log: list[int] = []  # v added, ~v removed: undone when a move is rejected

    def _near(self, u: int, w: int) -> bool:
        x = self.codes[u] ^ self.codes[w]
        if ((x | (x >> 1)) & _ODD_BITS).bit_count() < self.d:
            return True
        if self.mirror is not None:
            x = self.codes[u] ^ self.mirror[w]
            return ((x | (x >> 1)) & _ODD_BITS).bit_count() < self.d
        return False

    def add(self, v: int) -> None:
        self.member[v] = 1
        self.size += 1
        tight = self.tight
        for u in self.adj[v]:
            tight[u] += 1
        self.log.append(v)

    def remove(self, v: int) -> None:
        self.member[v] = 0
        self.size -= 1
        tight = self.tight
        for u in self.adj[v]:
            tight[u] -= 1
        self.log.append(~v)

    def fill(self, among: list[int]) -> list[int]:
        free = [u for u in among if self.tight[u] == 0 and not self.member[u]]
        self.rnd.shuffle(free)
        added = []
        for u in free:
            if self.tight[u] == 0 and not self.member[u]:
                self.add(u)
                added.append(u)
        return added

    def _owners(self, vertices: list[int]) -> list[int]:
        member = self.member
        return [next(w for w in self.adj[u] if member[w]) for u in vertices]

    def _touched(self, v: int) -> list[int]:
        tight, member = self.tight, self.member
        return [u for u in self.adj[v] if tight[u] == 1 and not member[u]]

    def _two_for_one(self, x: int) -> list[int]:
        """(1,2)-swap around member ``x``; returns the vertices added (empty: none found)."""
        tight = self.tight
        cand = [u for u in self.adj[x] if tight[u] == 1]
        if len(cand) < 2:
            return []
        self.rnd.shuffle(cand)
        for i, u in enumerate(cand[:60]):
            for w in cand[i + 1 : 60]:
                if not self._near(u, w):
                    self.remove(x)
                    self.add(u)
                    self.add(w)
                    return [u, w, *self.fill(self.adj[x])]
        return []

    def _improve(self, queue: set[int], end: float) -> None:
        steps = 0
        while queue:
            steps += 1
            if steps % 256 == 0 and time.monotonic() > end:
                return
            x = queue.pop()
            if not self.member[x]:
                continue
            added = self._two_for_one(x)
            if added:
                queue.update(added)
                queue.update(self._owners(self._touched(x)))

    def run(self, seconds: float, target: int | None = None) -> np.ndarray:
        end = time.monotonic() + seconds
        order = list(range(self.n))
        self.fill(order)
        self._improve({v for v in order if self.member[v]}, end)
        best, best_size = bytes(self.member), self.size
        rnd, member, it = self.rnd, self.member, 0
        while (target is None or best_size < target) and best_size < self.n:
            it += 1
            if it % 32 == 0 and time.monotonic() > end:
                break
            self.log = []
            before = self.size
            queue: set[int] = set()
            k = 2 if rnd.random() < 1 / (2 * max(self.size, 1)) else 1
            for _ in range(k):  # perturb: force in a random non-member
                v = rnd.randrange(self.n)
                while member[v]:
                    v = rnd.randrange(self.n)
                dropped = [u for u in self.adj[v] if member[u]]
                for y in dropped:
                    self.remove(y)
                self.add(v)
                queue.add(v)
                for y in dropped:
                    queue.update(self.fill(self.adj[y]))
                for y in dropped:
                    queue.update(self._owners(self._touched(y)))
            self._improve(queue, end)
            if self.size > best_size:
                best, best_size = bytes(self.member), self.size
            delta = before - self.size
            if delta > 0 and rnd.random() > 1 / (1 + delta * (best_size - self.size)):
                log, self.log = self.log, []
                for op in reversed(log):  # reject: undo the move
                    if op >= 0:
                        self.remove(op)
                    else:
                        self.add(~op)
        return np.flatnonzero(np.frombuffer(best, dtype=np.uint8))


def make_search(graph: ConflictGraph, rng: np.random.Generator):
    """The list search where the adjacency lists are small enough, else the numpy one."""
    if graph.ptr is not None and len(graph.idx) <= ListSearch.MAX_EDGES:
        return ListSearch(graph, rng)
    return IndependentSetSearch(graph, rng)


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
    from .atomic import atomic_output

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
