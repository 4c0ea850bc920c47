"""Enumerative rank/unrank of the *rest* of a block, from position ``start`` and a given
automaton state and GC count: TK-SCONE's guaranteed fallback after its FSM-coded marker.

Same arithmetic as :class:`EnumerativeCoder` (which is the case ``start = 0``), on the same
count table, so the GC window still applies to the whole block. Vectorized over rows that
share ``start``.
"""

from __future__ import annotations

import numpy as np

from helix_media_builtins.coders.enumerative import CountTable


def capacity(table: CountTable, start: int, state: np.ndarray, gc: np.ndarray) -> np.ndarray:
    """Bits the positions ``start..L-1`` carry from (state, gc) (-1 if no completion)."""
    top = table.counts[start, state, gc]
    bits = np.array([int(t).bit_length() for t in top.tolist()], dtype=np.int64)
    return np.where(top > 0, bits - 1 + int(table.exponents[start]), -1)


def _layout(table: CountTable, start: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Per data bit (MSB first): the position whose chunk holds it (-1: the initial high
    part, ``r >> E[start]``) and its shift inside that chunk."""
    j = cap - 1 - np.arange(cap)
    e = table.exponents
    pos = np.searchsorted(-e, -j, side="left") - 1
    pos = np.where(j >= e[start], -1, pos)
    low = np.where(pos >= 0, e[np.clip(pos + 1, 0, table.length)], e[start])
    return pos, j - low


def encode(
    table: CountTable,
    goto: np.ndarray,
    start: int,
    state: np.ndarray,
    gc: np.ndarray,
    bits: np.ndarray,
) -> np.ndarray:
    """(n, cap) bits -> (n, L - start) bases; cap must not exceed :func:`capacity`."""
    bits = np.asarray(bits, dtype=np.uint64)
    n, cap = bits.shape
    L = table.length
    pos, shift = _layout(table, start, cap)
    chunks = np.zeros((n, L + 1), dtype=np.uint64)  # column L: the initial high part
    np.add.at(chunks.T, np.where(pos < 0, L, pos), (bits << shift.astype(np.uint64)).T)
    hi = chunks[:, L].copy()
    state, gc = state.copy(), gc.copy()
    out = np.empty((n, L - start), dtype=np.uint8)
    for p in range(start, L):
        q = (hi << np.uint64(table.shifts[p])) | chunks[:, p]
        c = table.successor_counts(p, state, gc)
        t1 = c[0]
        t2 = t1 + c[1]
        t3 = t2 + c[2]
        ge1, ge2, ge3 = q >= t1, q >= t2, q >= t3
        base = ge1.view(np.uint8) + ge2.view(np.uint8) + ge3.view(np.uint8)
        hi = q - np.where(ge3, t3, np.where(ge2, t2, np.where(ge1, t1, 0)))
        out[:, p - start] = base
        state = goto[state * 4 + base]
        gc = gc + table.gc_step[base]
    return out


def decode(
    table: CountTable,
    goto: np.ndarray,
    start: int,
    state: np.ndarray,
    gc: np.ndarray,
    bases: np.ndarray,
    cap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, L - start) bases -> (bits (n, cap), ok)."""
    bases = np.asarray(bases, dtype=np.int64)
    n = len(bases)
    L = table.length
    state, gc = state.copy(), gc.copy()
    ok = np.ones(n, dtype=bool)
    below = np.zeros((n, L), dtype=np.uint64)
    for p in range(start, L):
        b = bases[:, p - start]
        c = table.successor_counts(p, state, gc)
        ok &= np.choose(b, c) > 0
        t1 = c[0]
        t2 = t1 + c[1]
        below[:, p] = np.choose(b, (np.zeros_like(t1), t1, t2, t2 + c[2]))
        state = goto[state * 4 + b]
        gc = gc + table.gc_step[b]
    chunks = np.zeros((n, L + 1), dtype=np.uint64)
    hi = np.zeros(n, dtype=np.uint64)
    for p in range(L - 1, start - 1, -1):
        q = hi + below[:, p]
        d = np.uint64(table.shifts[p])
        chunks[:, p] = q & ((np.uint64(1) << d) - np.uint64(1))
        hi = q >> d
    chunks[:, L] = hi
    top_bits = cap - int(table.exponents[start])
    ok &= hi < (np.uint64(1) << np.uint64(max(top_bits, 0)))
    pos, shift = _layout(table, start, cap)
    bits = (chunks[:, np.where(pos < 0, L, pos)] >> shift.astype(np.uint64)) & np.uint64(1)
    return bits.astype(np.uint8), ok
