"""Compiled (numba) inner loops of the enumerative coder: one strand at a time, all positions.

The numpy version walks the 152 positions with a handful of vectorized gathers each, so its
speed is bounded by numpy's per-call overhead; here each strand's walk is a plain loop. Same
arithmetic (uint64 mantissas, one shift per position), so the same bases and bits: the golden
vectors in ``tests/test_enumerative.py`` hold for both.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def unrank(chunks, hi0, state0, counts, next_flat, gc_step, shifts, goto):
    """Data chunks (n, length+1) uint64 (column ``length``: the initial high part) -> bases."""
    n = chunks.shape[0]
    length = shifts.shape[0]
    out = np.empty((n, length), dtype=np.uint8)
    for i in range(n):
        hi = hi0[i]
        state = state0[i]
        gc = 0
        for p in range(length):
            q = (hi << np.uint64(shifts[p])) | chunks[i, p]
            row = counts[p + 1]
            t = np.uint64(0)
            base = 3
            for b in range(4):
                c = row[next_flat[state, b] + gc + gc_step[b]]
                if b == 3 or q < t + c:
                    base = b
                    break
                t += c
            hi = q - t
            out[i, p] = base
            state = goto[state * 4 + base]
            gc += gc_step[base]
    return out


@numba.njit(cache=True)
def rank(bases, state0, counts, next_flat, gc_step, shifts, goto):
    """Bases (n, length) -> (chunks (n, length+1) uint64, ok: every base allowed)."""
    n, length = bases.shape
    chunks = np.zeros((n, length + 1), dtype=np.uint64)
    ok = np.ones(n, dtype=np.bool_)
    below = np.zeros(length, dtype=np.uint64)
    for i in range(n):
        state = state0[i]
        gc = 0
        for p in range(length):
            b = bases[i, p]
            row = counts[p + 1]
            t = np.uint64(0)
            for x in range(b):
                t += row[next_flat[state, x] + gc + gc_step[x]]
            if row[next_flat[state, b] + gc + gc_step[b]] == 0:
                ok[i] = False
            below[p] = t
            state = goto[state * 4 + b]
            gc += gc_step[b]
        hi = np.uint64(0)
        for p in range(length - 1, -1, -1):
            q = hi + below[p]
            d = np.uint64(shifts[p])
            chunks[i, p] = q & ((np.uint64(1) << d) - np.uint64(1))
            hi = q >> d
        chunks[i, length] = hi
    return chunks, ok
