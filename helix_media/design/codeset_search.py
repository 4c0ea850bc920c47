"""Searching a conflict graph for a large independent set: the code set itself."""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from helix_media.design.conflict_graph import ConflictGraph

ODD_BITS = int("01" * 32, 2)  # one bit per base after x | x >> 1


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

    def run(
        self, seconds: float | None, target: int | None = None, moves: int | None = None
    ) -> np.ndarray:
        """Search for ``seconds`` (or until ``target`` words), or for exactly ``moves``
        perturbations: then the set depends on the rng's seed alone, not on how fast the
        machine is, so the same input gives the same set everywhere. Returns the best set."""
        if (seconds is None) == (moves is None):
            raise ValueError("give the search either seconds or moves")
        end = math.inf if seconds is None else time.monotonic() + seconds
        self.fill()
        self._improve(set(np.flatnonzero(self.member).tolist()), end)
        best, best_size = self.member.copy(), self.size
        done = 0
        while time.monotonic() < end and (target is None or best_size < target):
            if moves is not None and done == moves:
                break
            done += 1
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
        if ((x | (x >> 1)) & ODD_BITS).bit_count() < self.d:
            return True
        if self.mirror is not None:
            x = self.codes[u] ^ self.mirror[w]
            return ((x | (x >> 1)) & ODD_BITS).bit_count() < self.d
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
