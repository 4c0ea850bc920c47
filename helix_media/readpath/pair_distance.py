"""Banded edit distance of read bodies, pair by pair: the test that confirms two reads as
one strand's (:mod:`.cluster`). Compiled and free of the GIL, so blocks of pairs can run on
threads."""

from __future__ import annotations

import numba
import numpy as np

BAND = 20  # half-width of the banded alignment: +-5 sd of two reads' drift at 10 % errors


@numba.njit(cache=True, nogil=True)
def distance(flat, a0, n, b0, m, limit, prev, cur):
    """Edit distance of two bodies within a diagonal band of half-width BAND, or limit + 1
    as soon as it must exceed ``limit`` (an N matches nothing)."""
    over = limit + 1
    if abs(n - m) > min(BAND, limit):
        return over
    if n == m:  # Hamming bounds the edit distance: clean reads are confirmed in one pass
        mismatches = 0
        for i in range(n):
            c = flat[a0 + i]
            if c != flat[b0 + i] or c > 3:
                mismatches += 1
                if mismatches > limit:
                    break
        if mismatches <= limit:
            return mismatches
    width = 2 * BAND + 1
    for w in range(width):
        j = w - BAND
        prev[w] = j if 0 <= j <= m else over
    for i in range(1, n + 1):
        base = flat[a0 + i - 1]
        low = over
        for w in range(width):
            j = i + w - BAND
            if j < 0 or j > m:
                cur[w] = over
                continue
            if j == 0:
                v = i
            else:
                v = prev[w] + (0 if base == flat[b0 + j - 1] and base < 4 else 1)
                if w > 0 and cur[w - 1] + 1 < v:
                    v = cur[w - 1] + 1
            if w + 1 < width and prev[w + 1] + 1 < v:
                v = prev[w + 1] + 1
            v = min(v, over)
            cur[w] = v
            low = min(low, v)
        if low > limit:
            return over
        prev, cur = cur, prev
    return prev[m - n + BAND]


@numba.njit(cache=True, nogil=True)
def close_pair(flat, offsets, a, b, share, prev, cur):
    """Is the edit distance of bodies ``a`` and ``b`` (``offsets`` into ``flat``) at most
    ``share`` of the longer one's length? (``prev``, ``cur``: 2 BAND + 1 scratch cells.)"""
    n, m = offsets[a + 1] - offsets[a], offsets[b + 1] - offsets[b]
    limit = int(share * max(n, m))
    return distance(flat, offsets[a], n, offsets[b], m, limit, prev, cur) <= limit


@numba.njit(cache=True, nogil=True)
def close(flat, offsets, pa, pb, share):
    """:func:`close_pair` of each pair (``pa[k]``, ``pb[k]``)."""
    prev = np.empty(2 * BAND + 1, dtype=np.int64)
    cur = np.empty(2 * BAND + 1, dtype=np.int64)
    out = np.zeros(len(pa), dtype=np.bool_)
    for k in range(len(pa)):
        out[k] = close_pair(flat, offsets, pa[k], pb[k], share, prev, cur)
    return out
