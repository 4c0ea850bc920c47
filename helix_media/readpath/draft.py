"""Compiled (numba) draft consensus: every read aligned to a seed, then a vote per position.

The pair-HMM polisher (:mod:`.pair_hmm`) converges in one or two passes from a draft with a
few errors, but needs many from a raw read (6 % errors). A star alignment makes that draft
cheaply: each read is aligned to the seed by banded edit distance (unit costs, gaps placed
consistently at the right end of a homopolymer so that the reads' votes line up), then each
seed base is kept, replaced or dropped by majority, and a base is inserted in a gap where
most reads insert one. Repeated with the draft as the seed, this removes most of the seed's
own errors. Cost: O(reads x length x band) integer cells.
"""

from __future__ import annotations

import numba
import numpy as np

from helix_media.readpath.pair_hmm import bands

BIG = 1 << 20


@numba.njit(cache=True, nogil=True)
def _align_votes(seed, r, W, lo, D, votes, ins):
    """Banded global edit alignment of read ``r`` to ``seed`` (``lo``: the bands, see
    :func:`.pair_hmm.bands`); add its base (0-3), N (4) or deletion (5) at each seed position
    to ``votes`` and one vote for the last base it inserts in each gap to ``ins`` (gap i:
    before seed[i]). Returns the edit distance (``BIG``: off the band)."""
    L = len(seed)
    n = len(r)
    Wb = 2 * W + 1
    # D[i, w + 1]: cost of seed[:i] vs r[:j], j = lo[i] + w; D[., 0] and D[., Wb + 1]: walls
    for i in range(L + 1):
        li = lo[i]
        D[i, 0] = BIG
        D[i, Wb + 1] = BIG
        if i == 0:
            for w in range(Wb):
                j = li + w
                D[0, w + 1] = j if 0 <= j <= n else BIG
            continue
        d = li - lo[i - 1]
        si = seed[i - 1]
        left = BIG
        for w in range(Wb):
            j = li + w
            if j < 0 or j > n:
                D[i, w + 1] = BIG
                left = BIG
                continue
            best = D[i - 1, w + d + 1] + 1 if w + d < Wb else BIG
            if j >= 1 and w + d - 1 < Wb:
                diag = D[i - 1, w + d] + (0 if si == r[j - 1] else 1)
                if diag < best:
                    best = diag
            if left + 1 < best:
                best = left + 1
            D[i, w + 1] = best
            left = best
    if n - lo[L] >= Wb or D[L, n - lo[L] + 1] >= BIG:
        return BIG
    # traceback from (L, n): gaps first, so they sit at the right end of a run
    i = L
    j = n
    last_ins = -1
    while i > 0 or j > 0:
        w = j - lo[i] + 1
        cur = D[i, w]
        if j >= 1 and D[i, w - 1] + 1 == cur:
            # r[j - 1] inserted in gap i (before seed[i]): one vote per read and gap
            if last_ins != i:
                ins[i, r[j - 1]] += 1.0
                last_ins = i
            j -= 1
            continue
        wu = j - lo[i - 1] + 1 if i > 0 else -1
        if i > 0 and 1 <= wu <= Wb and D[i - 1, wu] + 1 == cur:
            votes[i - 1, 5] += 1.0
            i -= 1
            continue
        votes[i - 1, r[j - 1]] += 1.0
        i -= 1
        j -= 1
    return D[L, n - lo[L] + 1]


@numba.njit(cache=True, nogil=True)
def star_votes(seed, reads, offsets, W):
    """Votes of all reads against ``seed``: (L x 6 base/N/deletion counts, (L+1) x 6
    insertion counts, edit distance of each read)."""
    L = len(seed)
    k = len(offsets) - 1
    D = np.empty((L + 1, 2 * W + 3), dtype=np.int64)
    lo = np.empty(L + 2, dtype=np.int64)
    votes = np.zeros((L, 6))
    ins = np.zeros((L + 1, 6))
    dist = np.empty(k, dtype=np.int64)
    for m in range(k):
        r = reads[offsets[m] : offsets[m + 1]]
        if len(r) > 2 * L:
            dist[m] = BIG
            continue
        bands(len(r), L, W, lo)
        dist[m] = _align_votes(seed, r, W, lo, D, votes, ins)
    return votes, ins, dist


@numba.njit(cache=True, nogil=True)
def vote(seed, votes, ins, n_reads):
    """The seed edited by majority: each base kept, replaced or dropped (deletion votes over
    half), and the most inserted base added where over half the reads insert one."""
    L = len(seed)
    out = np.empty(2 * L + 1, dtype=np.uint8)
    m = 0
    half = n_reads / 2.0
    for i in range(L + 1):
        if ins[i, 0] + ins[i, 1] + ins[i, 2] + ins[i, 3] + ins[i, 4] > half:
            b = 0
            for c in range(1, 4):
                if ins[i, c] > ins[i, b]:
                    b = c
            out[m] = b
            m += 1
        if i == L:
            break
        if votes[i, 5] > half:
            continue
        b = seed[i]
        for c in range(4):
            if votes[i, c] > votes[i, b]:
                b = c
        out[m] = b
        m += 1
    return out[:m].copy()


@numba.njit(cache=True, nogil=True)
def unsure(seed, votes, ins, n_reads, share, near):
    """Places worth polishing: where at least ``share`` of the reads (and at least one)
    disagree with the base (another base, N or a deletion), or insert in the gaps within
    ``near`` of it (the reads' votes for one indel scatter over the gaps where they align
    it), and next to such places. From the reads aligned to ``seed`` itself: the votes
    that made it were cast on the seed before, whose alignments can hide a base the reads
    now want (an insertion 5 of 6 reads make, seen by none of them before)."""
    L = len(seed)
    least = max(1.0, share * n_reads)
    gaps = np.zeros(L + 1)
    for g in range(L + 1):
        inserted = ins[g, 0] + ins[g, 1] + ins[g, 2] + ins[g, 3] + ins[g, 4]
        for i in range(max(0, g - near), min(L + 1, g + near + 1)):
            gaps[i] += inserted
    hit = np.zeros(L + 1, dtype=np.bool_)
    for i in range(L + 1):
        hit[i] = gaps[i] >= least or (i < L and n_reads - votes[i, seed[i]] >= least)
    flags = np.zeros(L + 1, dtype=np.bool_)
    for i in range(L + 1):
        flags[i] = hit[i] or (i > 0 and hit[i - 1]) or (i < L and hit[i + 1])
    return flags
