"""Compiled (numba) scores of every single-base edit of a template against all its reads.

Any single-base edit of the template is scored for one read in O(band) from the forward
column before the edit and the backward column after it (:mod:`.pair_hmm`), as Quiver/Arrow
do: a path leaves column ``i`` exactly once (by a match or a deletion of ``t[i]``), so
``P(read) = sum_j A[i, j] * X[i, j]`` where ``X`` is the backward value without column ``i``'s
insertions. The edited likelihood over that sum is the read's likelihood ratio; the ratios
of all reads are multiplied (each clamped to 1e+-12: an outlier's veto is worth no more
than 28 nats) and a logarithm is taken once per 16 reads, not once per read and edit. The
new base brings its own context classes; its neighbours keep theirs, so the score is a close
approximation (exact for a context-free channel), which the polisher checks by the exact
total after applying edits (exact scores changed nothing on valid.json).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from helix_media.readpath.pair_hmm import PAD, backward, bands, forward
from helix_media.readpath.trace_channel import contexts

CLAMP = 1e12  # one read's likelihood ratio for an edit is clamped to [1/CLAMP, CLAMP]
FLUSH = 16  # reads multiplied before one logarithm (16 x 27.6 nats stay in float range)
EDITS = 9  # per place: substitute by b (0-3), delete (4), insert b before it (5-8)


@numba.njit(cache=True, nogil=True)
def _ratios(r, W, lo, A, B, X, eB, it, dele, em, dc_sub, sc_sub, dc_ins, sc_ins, flags, prod):
    """Multiply each edit's likelihood ratio for read ``r`` into ``prod`` ((L+1) x 9), at
    the places where ``flags`` is set."""
    L = len(it) - 1
    n = len(r)
    Wb = 2 * W + 1
    acc = np.empty(4)
    for i in range(L + 1):
        if not flags[i]:
            continue
        li = lo[i]
        jlo = max(0, li)
        jhi = min(n - 1, li + Wb - 1)
        Ai, Bi, Xi = A[i], B[i], X[i]
        # the read's likelihood through column i: the reference of every ratio here
        ref = 0.0
        accd = 0.0
        for w in range(PAD, PAD + Wb):
            ref += Ai[w] * Xi[w]
            accd += Ai[w] * Bi[w]
        if ref <= 0.0:
            continue  # the read left the band: it has no say here
        c0, c1, c2, c3 = sc_ins[i, 0], sc_ins[i, 1], sc_ins[i, 2], sc_ins[i, 3]
        a0 = a1 = a2 = a3 = 0.0
        for j in range(jlo, jhi + 1):
            w = j - li + PAD
            ab = Ai[w] * Bi[w + 1]
            rj = r[j]
            a0 += ab * em[c0, rj]
            a1 += ab * em[c1, rj]
            a2 += ab * em[c2, rj]
            a3 += ab * em[c3, rj]
        acc[0], acc[1], acc[2], acc[3] = a0, a1, a2, a3
        inv = 1.0 / ref
        for b in range(4):
            dd = dele[dc_ins[i, b]]
            s = ((1.0 - it[i] - dd) * acc[b] + dd * accd) * inv
            prod[i, 5 + b] *= min(max(s, 1.0 / CLAMP), CLAMP)
        if i == L:
            break
        # substitution at i and deletion of t[i]: A[i] -> B[i + 1] / X[i + 1]
        d = PAD - (lo[i + 1] - li)
        Bn, Xn = B[i + 1], X[i + 1]
        accd = 0.0
        accx = 0.0
        for w in range(Wb):
            accd += Ai[w + PAD] * Bn[w + d]
            accx += Ai[w + PAD] * Xn[w + d]
        c0, c1, c2, c3 = sc_sub[i, 0], sc_sub[i, 1], sc_sub[i, 2], sc_sub[i, 3]
        a0 = a1 = a2 = a3 = 0.0
        for j in range(jlo, jhi + 1):
            w = j - li
            ab = Ai[w + PAD] * Bn[w + d + 1]
            rj = r[j]
            a0 += ab * em[c0, rj]
            a1 += ab * em[c1, rj]
            a2 += ab * em[c2, rj]
            a3 += ab * em[c3, rj]
        acc[0], acc[1], acc[2], acc[3] = a0, a1, a2, a3
        f = math.ldexp(1.0, eB[i + 1] - eB[i]) * inv
        for b in range(4):
            dd = dele[dc_sub[i, b]]
            s = ((1.0 - it[i] - dd) * acc[b] + dd * accd) * f
            prod[i, b] *= min(max(s, 1.0 / CLAMP), CLAMP)
        prod[i, 4] *= min(max(accx * f, 1.0 / CLAMP), CLAMP)


@numba.njit(cache=True, nogil=True)
def score(t, reads, offsets, use, W, dele, iq, em, logp, flags):
    """Log-likelihood of every read against ``t`` (into ``logp``) and the summed
    log-likelihood change of every single-base edit over the reads in ``use``: (L+1) x 9
    (see ``EDITS``; entries for no-ops are meaningless), at the places where ``flags`` is
    set (elsewhere -inf). Reads not in ``use`` only get their log-likelihood."""
    L = len(t)
    Wb = 2 * W + 1 + 2 * PAD
    dc, ic, sc, dc_sub, sc_sub, dc_ins, sc_ins = contexts(t)
    dt = np.empty(L)
    for i in range(L):
        dt[i] = dele[dc[i]]
    it = np.empty(L + 1)
    for g in range(L + 1):
        it[g] = iq[ic[g], 4]
    A = np.empty((L + 1, Wb))
    B = np.empty((L + 1, Wb))
    X = np.empty((L + 1, Wb))
    eA = np.empty(L + 1, dtype=np.int64)
    eB = np.empty(L + 1, dtype=np.int64)
    out = np.zeros((L + 1, EDITS))
    prod = np.ones((L + 1, EDITS))
    lo = np.empty(L + 2, dtype=np.int64)
    pending = 0
    for k in range(len(offsets) - 1):
        r = reads[offsets[k] : offsets[k + 1]]
        if len(r) > 2 * L or L == 0:
            logp[k] = -1e300
            continue
        bands(len(r), L, W, lo)
        logp[k] = backward(r, W, lo, dt, it, ic, sc, iq, em, B, X, eB)
        if not use[k]:
            continue
        forward(r, W, lo, dt, it, ic, sc, iq, em, A, eA)
        _ratios(r, W, lo, A, B, X, eB, it, dele, em, dc_sub, sc_sub, dc_ins, sc_ins, flags, prod)
        pending += 1
        if pending == FLUSH:
            out += np.log(prod)
            prod[:] = 1.0
            pending = 0
    if pending:
        out += np.log(prod)
    for i in range(L + 1):
        if not flags[i]:
            out[i, :] = -np.inf
    return out
