"""``goldman``: Goldman et al. 2013 (Nature 494:77). Data become trits; each trit picks one of
the three bases that differ from the previous base (the rotating code), so no base repeats.

The rotating code, with bases ordered A, C, G, T: ``next = (previous + 1 + trit) mod 4``
(after A: 0->C, 1->G, 2->T; after C: 0->G, 1->T, 2->A; ...), which is Goldman's table. A block
carries fixed base-3 digits of its bits (152 trits hold 240 bits, 1.58 bits/nt): a
fixed-capacity block cannot use Goldman's byte-wise Huffman code, whose length varies with
the data; :func:`ternary_huffman` is here for callers with variable-length fields (JPEG-DNA).
The first base differs from the last context base, so no run crosses the junction; GC content
and motifs are not controlled (``guarantees_constraints = False``).
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.hookspecs import hookimpl
from helix_media_builtins.coders import radix


def trits_to_bases(trits: np.ndarray, previous: np.ndarray | int = 0) -> np.ndarray:
    """(n, L) trits -> (n, L) bases by the rotating code; ``previous`` (n,) or scalar is the
    base before the first (Goldman starts after an A). A cumulative sum, no loop."""
    t = np.asarray(trits, dtype=np.int64)
    prev = np.broadcast_to(np.asarray(previous, dtype=np.int64), (t.shape[0],))
    return ((prev[:, None] + np.cumsum(t + 1, axis=1)) % 4).astype(np.uint8)


def bases_to_trits(
    bases: np.ndarray, previous: np.ndarray | int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`trits_to_bases`: (trits, ok); ok is False where a base repeats."""
    b = np.asarray(bases, dtype=np.int64)
    prev = np.broadcast_to(np.asarray(previous, dtype=np.int64), (b.shape[0],))
    before = np.concatenate([prev[:, None], b[:, :-1]], axis=1)
    t = (b - before - 1) % 4
    ok = (t < 3).all(axis=1)
    return np.minimum(t, 2), ok


def ternary_huffman(weights: list[float]) -> list[tuple[int, ...]]:
    """Ternary Huffman code (one trit tuple per symbol), as Goldman coded bytes. Dummy
    zero-weight leaves make the tree full; ties break by symbol order, so the code is stable."""
    n = len(weights)
    if n == 1:
        return [(0,)]
    count = itertools.count()
    heap = [(float(w), next(count), [i]) for i, w in enumerate(weights)]
    heap += [(0.0, next(count), []) for _ in range((n + 1) % 2)]  # n odd: full ternary tree
    heapq.heapify(heap)
    codes: list[list[int]] = [[] for _ in range(n)]
    while len(heap) > 1:
        merged, total = [], 0.0
        for trit in range(3):
            w, _, syms = heapq.heappop(heap)
            for s in syms:
                codes[s].insert(0, trit)
            merged += syms
            total += w
        heapq.heappush(heap, (total, next(count), merged))
    return [tuple(c) for c in codes]


def canonical_code(lengths: list[int]) -> list[tuple[int, ...]]:
    """The canonical ternary prefix code with these codeword lengths (0 = symbol unused), so
    only the lengths need storing (JPEG's DHT idea). Symbols are numbered in order of
    (length, symbol); valid for any lengths that meet Kraft's inequality, e.g. a Huffman
    code's."""
    code: list[tuple[int, ...]] = [()] * len(lengths)
    value, previous = 0, 0
    for length, s in sorted((n, s) for s, n in enumerate(lengths) if n > 0):
        value *= 3 ** (length - previous)
        if value >= 3**length:
            raise ValueError("code lengths break Kraft's inequality")
        code[s] = tuple(value // 3 ** (length - 1 - j) % 3 for j in range(length))
        value, previous = value + 1, length
    return code


def huffman_encode(symbols: list[int], code: list[tuple[int, ...]]) -> np.ndarray:
    return np.array([t for s in symbols for t in code[s]], dtype=np.uint8)


def huffman_decode(trits: np.ndarray, code: list[tuple[int, ...]]) -> list[int]:
    """Trits -> symbols; raises ValueError on a trailing partial codeword."""
    lookup = {c: s for s, c in enumerate(code)}
    out, word = [], ()
    for t in np.asarray(trits).tolist():
        word += (int(t),)
        if word in lookup:
            out.append(lookup[word])
            word = ()
    if word:
        raise ValueError("trits end inside a codeword")
    return out


class GoldmanCoder(ConstraintCoder):
    """Fixed base-3 digits of the block's bits, written with the rotating code."""

    name = "goldman"
    guarantees_constraints = False  # no homopolymer at all, but GC and motifs are left to chance

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        return radix.capacity(3, length)

    @staticmethod
    def _previous(context: np.ndarray, n: int) -> np.ndarray:
        context = np.asarray(context)
        if context.ndim == 2 and context.shape[1]:
            return context[:, -1].astype(np.int64)
        return np.zeros(n, dtype=np.int64)

    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.shape[1] != self.capacity(length):
            raise ValueError(
                f"expected {self.capacity(length)} bits per block, got {bits.shape[1]}"
            )
        trits = radix.bits_to_digits(bits, 3, length)
        return trits_to_bases(trits, self._previous(context, len(bits)))

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bases = np.asarray(bases, dtype=np.uint8)
        trits, ok = bases_to_trits(bases, self._previous(context, len(bases)))
        bits, fits = radix.digits_to_bits(trits, 3)
        return bits, ok & fits


@hookimpl
def register_coders(register):
    register("goldman", GoldmanCoder)
