"""The "too close" graph of DNA words: 2-bit packed words, their Hamming distances, and
which pairs fall below the minimum distance.

Code sets (:mod:`codesets`) and primers (:mod:`primers`) build it, the independent-set search
(:mod:`codeset_search`) walks it. It lives apart so that the search need not import the code
sets that run it (no import cycle).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _pop16() -> np.ndarray:
    return np.array([bin(i).count("1") for i in range(1 << 16)], dtype=np.uint8)


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
