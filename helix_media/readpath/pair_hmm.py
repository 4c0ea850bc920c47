"""Compiled (numba) pair-HMM of the insertion/deletion/substitution channel.

A read is generated from a template of L bases by walking it left to right. In column ``i``
(after ``i`` template bases, ``0 <= i <= L``) the channel inserts a base (``iq[ic[i], c]``:
inserting read code c; ``iq[., 4]`` is the total, repeatable) or leaves the column, either
reading ``t[i]`` as code c (``(1 - insert - delete) * em[sc[i], c]``) or deleting it
(``dele[dc[i]]``); after the last base it stops (``1 - insert``). The class indices
(:func:`.trace_channel.contexts`) let the channel depend on the bases around each place.
Read code 4 (N) has emission 1: unknown.

Forward (``A``) and backward (``B``) matrices are banded around the diagonal (column i holds
read positions ``(i * n) // L - W`` onwards, ``2W + 1`` of them), padded with zeros so the
inner loops need no bounds checks, and rescaled by powers of two now and then (exponents
kept aside), so no logarithm is taken per cell or column. The insertions make each column a
chain of dependent multiply-adds; the loops take two cells per step to halve its latency.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from helix_media.readpath.trace_channel import contexts

PAD = 2  # zero cells on each side of a band: a column's band moves by at most 2 (n <= 2L)
LN2 = math.log(2.0)


@numba.njit(cache=True, nogil=True)
def _rescale(row, a, b):
    mx = 0.0
    for w in range(a, b):
        if row[w] > mx:
            mx = row[w]
    if mx == 0.0 or 1e-30 < mx < 1e30:
        return 0
    e = math.frexp(mx)[1]
    f = math.ldexp(1.0, -e)
    for w in range(a, b):
        row[w] *= f
    return e


@numba.njit(cache=True, nogil=True)
def bands(n, L, W, lo):
    """``lo[i] = (i * n) // L - W`` for i = 0..L+1, without a division per column."""
    q = n // L
    rem = n - q * L
    v = 0
    frac = 0
    for i in range(L + 2):
        lo[i] = v - W
        v += q
        frac += rem
        if frac >= L:
            frac -= L
            v += 1


@numba.njit(cache=True, nogil=True)
def forward(r, W, lo, dt, it, ic, sc, iq, em, A, eA):
    """Fill ``A`` ((L+1) x (2W+1+2PAD)) and its cumulative exponents ``eA``; ``lo``: the
    bands (:func:`bands`)."""
    L = len(dt)
    n = len(r)
    Wb = 2 * W + 1
    Wp = Wb + 2 * PAD
    me = np.empty(5)
    e = 0
    for i in range(L + 1):
        li = lo[i]
        jlo = max(0, li)
        jhi = min(n, li + Wb - 1)
        # cells the next column may read but this one does not write must be 0
        for w in range(0, jlo - li + PAD):
            A[i, w] = 0.0
        for w in range(jhi - li + PAD + 1, Wp):
            A[i, w] = 0.0
        qi = ic[i]
        acc = 0.0
        if i == 0:
            for j in range(jlo, jhi + 1):
                acc = 1.0 if j == 0 else acc * iq[qi, r[j - 1]]
                A[0, j - li + PAD] = acc
        else:
            d = li - lo[i - 1] + PAD
            dd = dt[i - 1]
            m = 1.0 - it[i - 1] - dd
            c = sc[i - 1]
            for k in range(5):
                me[k] = m * em[c, k]
            if jlo == 0:
                acc = A[i - 1, d - li] * dd
                A[i, PAD - li] = acc
                jlo = 1
            # acc(j) = p(j) + q(j) acc(j - 1), two cells per step: the chain of dependent
            # multiply-adds (the insertions) is what bounds the speed
            j = jlo
            while j < jhi:
                w = j - li
                r0 = r[j - 1]
                r1 = r[j]
                p0 = A[i - 1, w + d - 1] * me[r0] + A[i - 1, w + d] * dd
                p1 = A[i - 1, w + d] * me[r1] + A[i - 1, w + d + 1] * dd
                q0 = iq[qi, r0]
                q1 = iq[qi, r1]
                a0 = p0 + q0 * acc
                acc = (p1 + q1 * p0) + (q1 * q0) * acc
                A[i, w + PAD] = a0
                A[i, w + PAD + 1] = acc
                j += 2
            if j == jhi:
                w = j - li
                rj = r[j - 1]
                acc = A[i - 1, w + d - 1] * me[rj] + A[i - 1, w + d] * dd + acc * iq[qi, rj]
                A[i, w + PAD] = acc
        if (i & 3) == 0 or i == L:
            e += _rescale(A[i], PAD, PAD + Wb)
        eA[i] = e


@numba.njit(cache=True, nogil=True)
def backward(r, W, lo, dt, it, ic, sc, iq, em, B, X, eB):
    """Fill ``B``, ``X`` (``B`` without the column's insertions) and exponents ``eB``;
    return log P(r | t)."""
    L = len(dt)
    n = len(r)
    Wb = 2 * W + 1
    Wp = Wb + 2 * PAD
    me = np.empty(5)
    e = 0
    for i in range(L, -1, -1):
        li = lo[i]
        jlo = max(0, li)
        jhi = min(n, li + Wb - 1)
        for w in range(0, jlo - li + PAD):
            B[i, w] = 0.0
            X[i, w] = 0.0
        for w in range(jhi - li + PAD + 1, Wp):
            B[i, w] = 0.0
            X[i, w] = 0.0
        qi = ic[i]
        acc = 0.0
        if i == L:
            for j in range(jhi, jlo - 1, -1):
                w = j - li + PAD
                if j == n:
                    acc = 1.0 - it[L]
                    X[i, w] = acc
                else:
                    acc = acc * iq[qi, r[j]]
                    X[i, w] = 0.0
                B[i, w] = acc
        else:
            d = PAD - (lo[i + 1] - li)
            dd = dt[i]
            m = 1.0 - it[i] - dd
            c = sc[i]
            for k in range(5):
                me[k] = m * em[c, k]
            if jhi == n:
                acc = dd * B[i + 1, n - li + d]
                X[i, n - li + PAD] = acc
                B[i, n - li + PAD] = acc
                jhi = n - 1
            j = jhi
            while j > jlo:  # two cells per step, as in forward
                w = j - li
                r0 = r[j]
                r1 = r[j - 1]
                x0 = me[r0] * B[i + 1, w + d + 1] + dd * B[i + 1, w + d]
                x1 = me[r1] * B[i + 1, w + d] + dd * B[i + 1, w + d - 1]
                X[i, w + PAD] = x0
                X[i, w + PAD - 1] = x1
                q0 = iq[qi, r0]
                q1 = iq[qi, r1]
                a0 = x0 + q0 * acc
                acc = (x1 + q1 * x0) + (q1 * q0) * acc
                B[i, w + PAD] = a0
                B[i, w + PAD - 1] = acc
                j -= 2
            if j == jlo:
                w = j - li
                rj = r[j]
                x = me[rj] * B[i + 1, w + d + 1] + dd * B[i + 1, w + d]
                X[i, w + PAD] = x
                acc = x + iq[qi, rj] * acc
                B[i, w + PAD] = acc
        if (i & 3) == 0 or i == L:
            s = _rescale(B[i], PAD, PAD + Wb)
            if s:
                f = math.ldexp(1.0, -s)
                for w in range(PAD, PAD + Wb):
                    X[i, w] *= f
            e += s
        eB[i] = e
    return math.log(max(B[0, W + PAD], 1e-300)) + e * LN2


@numba.njit(cache=True, nogil=True)
def posterior_counts(t, r, W, dele, iq, em, cross, ins):
    """Baum-Welch counts of one read against ``t``: ``cross[i, c]`` += posterior of
    leaving column i by reading ``t[i]`` as code c (c < 5) or deleting it (c = 5);
    ``ins[i, c]`` += expected insertions of code c in column i. Returns log P(r | t)."""
    L = len(t)
    n = len(r)
    dc, ic, sc, _, _, _, _ = contexts(t)
    dt = np.empty(L)
    for i in range(L):
        dt[i] = dele[dc[i]]
    it = np.empty(L + 1)
    for g in range(L + 1):
        it[g] = iq[ic[g], 4]
    Wb = 2 * W + 1
    A = np.empty((L + 1, Wb + 2 * PAD))
    B = np.empty((L + 1, Wb + 2 * PAD))
    X = np.empty((L + 1, Wb + 2 * PAD))
    eA = np.empty(L + 1, dtype=np.int64)
    eB = np.empty(L + 1, dtype=np.int64)
    lo = np.empty(L + 2, dtype=np.int64)
    bands(n, L, W, lo)
    forward(r, W, lo, dt, it, ic, sc, iq, em, A, eA)
    logp = backward(r, W, lo, dt, it, ic, sc, iq, em, B, X, eB)
    for i in range(L + 1):
        li = lo[i]
        f = math.exp((eA[i] + eB[i]) * LN2 - logp)
        for j in range(max(0, li), min(n - 1, li + Wb - 1) + 1):
            w = j - li + PAD
            ins[i, r[j]] += A[i, w] * iq[ic[i], r[j]] * B[i, w + 1] * f
        if i == L:
            break
        d = lo[i + 1] - li
        f = math.exp((eA[i] + eB[i + 1]) * LN2 - logp)
        m = 1.0 - it[i] - dt[i]
        for j in range(max(0, li), min(n, li + Wb - 1) + 1):
            w = j - li + PAD
            cross[i, 5] += A[i, w] * dt[i] * B[i + 1, w - d] * f
            if j < n:
                cross[i, r[j]] += A[i, w] * m * em[sc[i], r[j]] * B[i + 1, w - d + 1] * f
    return logp
