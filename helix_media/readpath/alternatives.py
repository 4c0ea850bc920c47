"""Alternatives: near-maximum-likelihood strands for the inner code to choose among.

From few nanopore reads the likeliest strand is often not the true one: the reads cannot
tell which of them holds an error. A wrong base costs the inner Reed-Solomon code one symbol,
but a misplaced indel (an insertion and a deletion, the length being known) shifts every
symbol between them, beyond what it corrects. So a cluster of few reads also hands on the
strands one edit away from its estimate that the reads find almost as likely: single
substitutions, and a deletion paired with an insertion (a base moved). The inner code
tries them in order of likelihood where the estimate fails (list decoding), and the first
it decodes, still keeping a parity symbol for detection, is taken for the cluster.

Measured with ``helix bench read-plan`` (every strand with exactly k reads, 240 nt,
``nanopore-r9``): see :data:`helix_media.channel.read_plan.DECODE_FAILURE`.
"""

from __future__ import annotations

import numba
import numpy as np

from helix_media.dna.framer import ParsedStrands

COUNT = 48  # alternatives per cluster, likeliest first
MAX_READS = 8  # clusters of at most this many reads get them (beyond: failures ~0)
FLOOR = -10.0  # an edit the reads find less likely than e^FLOOR times the estimate: not tried
SPAN = 64  # a moved base travels at most this far
HALVES = 24  # deletions and insertions paired into moved bases, the likeliest of each
MAX_CORRECTED = 1  # symbols the inner code may correct in an alternative it takes


def candidates(template: np.ndarray, scores: np.ndarray, count: int = COUNT) -> np.ndarray:
    """(count', L) strands one edit from ``template`` (codes 0..3), likeliest first (ties
    by kind, then place: deterministic).

    ``scores``: (L + 1, 9) log-likelihood change of each single-base edit (substitute by
    b = 0..3, delete, insert b before the place; :mod:`.edit_scores`); a moved base is
    scored as its deletion plus its insertion (exact where they are far apart)."""
    t = np.asarray(template, dtype=np.uint8)
    if len(t) == 0 or count <= 0:
        return np.zeros((0, len(t)), dtype=np.uint8)
    s = np.where(np.isfinite(scores), scores, -np.inf)
    kind, gain, at, base, to = _edits(t, s)
    order = _order(gain, kind, at, base, to)[:count]
    return _apply(t, kind[order], at[order], base[order], to[order])


@numba.njit(cache=True, nogil=True)
def _likeliest(gain):
    """The indices of the :data:`HALVES` highest ``gain`` (ties by index), in index order:
    a moved base pairs one of the likeliest deletions with one of the likeliest insertions."""
    if len(gain) <= HALVES:
        return np.arange(len(gain))
    return np.sort(np.argsort(-gain, kind="mergesort")[:HALVES])


@numba.njit(cache=True, nogil=True)
def _edits(t, s):
    """Every substitution, and every moved base of the likeliest deletions and insertions,
    above ``FLOOR``: (kind 0/1, gain, place, base, place inserted before)."""
    L = len(t)
    n_sub = 0
    for i in range(L):
        for b in range(4):
            n_sub += b != t[i] and s[i, b] > FLOOR
    dels = np.array([i for i in range(L) if s[i, 4] > FLOOR], dtype=np.int64)
    dels = dels[_likeliest(s[dels, 4])]
    n_ins = 0
    for j in range(L + 1):
        for b in range(4):
            n_ins += s[j, 5 + b] > FLOOR
    ins_at = np.empty(n_ins, dtype=np.int64)
    ins_b = np.empty(n_ins, dtype=np.int64)
    ins_gain = np.empty(n_ins)
    k = 0
    for j in range(L + 1):
        for b in range(4):
            if s[j, 5 + b] > FLOOR:
                ins_at[k], ins_b[k], ins_gain[k] = j, b, s[j, 5 + b]
                k += 1
    keep = _likeliest(ins_gain)
    ins_at, ins_b = ins_at[keep], ins_b[keep]
    m = n_sub + len(dels) * len(ins_at)
    kind = np.zeros(m, dtype=np.int64)
    gain = np.empty(m)
    at = np.zeros(m, dtype=np.int64)
    base = np.zeros(m, dtype=np.int64)
    to = np.zeros(m, dtype=np.int64)
    k = 0
    for i in range(L):
        for b in range(4):
            if b != t[i] and s[i, b] > FLOOR:
                gain[k], at[k], base[k] = s[i, b], i, b
                k += 1
    for d in dels:
        for q in range(len(ins_at)):
            j = ins_at[q]
            if abs(j - d) <= SPAN and j != d and j != d + 1:
                kind[k], at[k], base[k], to[k] = 1, d, ins_b[q], j
                gain[k] = s[d, 4] + s[j, 5 + ins_b[q]]
                k += 1
    return kind[:k], gain[:k], at[:k], base[:k], to[:k]


@numba.njit(cache=True, nogil=True)
def _order(gain, kind, at, base, to):
    """Indices by gain (highest first), then kind, place, base, place inserted before."""
    order = np.argsort(to, kind="mergesort")
    order = order[np.argsort(base[order], kind="mergesort")]
    order = order[np.argsort(at[order], kind="mergesort")]
    order = order[np.argsort(kind[order], kind="mergesort")]
    return order[np.argsort(-gain[order], kind="mergesort")]


@numba.njit(cache=True, nogil=True)
def _apply(t, kind, at, base, to):
    """A row per edit: substitute ``base`` at ``at`` (kind 0), or delete ``t[at]`` and
    insert ``base`` before place ``to`` of the original (kind 1): the same length."""
    L = len(t)
    out = np.empty((len(kind), L), dtype=np.uint8)
    for row in range(len(kind)):
        i, j, b = at[row], to[row], base[row]
        if kind[row] == 0:
            out[row] = t
            out[row, i] = b
        elif j > i:  # t[:i], t[i + 1 : j], b, t[j:]
            out[row, :i] = t[:i]
            out[row, i : j - 1] = t[i + 1 : j]
            out[row, j - 1] = b
            out[row, j:] = t[j:]
        else:  # t[:j], b, t[j:i], t[i + 1 :]
            out[row, :j] = t[:j]
            out[row, j] = b
            out[row, j + 1 : i + 1] = t[j:i]
            out[row, i + 1 :] = t[i + 1 :]
    return out


def adopt(parsed: ParsedStrands, alternative: ParsedStrands, of: np.ndarray) -> ParsedStrands:
    """Each estimate that failed takes the first alternative of its own (``of``: the
    estimate's row per alternative, alternatives in order of likelihood) that parsed."""
    take = alternative.ok & (alternative.corrected <= MAX_CORRECTED) & ~parsed.ok[of]
    rows = np.flatnonzero(take)
    first = rows[np.unique(of[rows], return_index=True)[1]] if len(rows) else rows
    if not len(first):
        return parsed
    out = ParsedStrands(
        parsed.addresses.copy(), parsed.payload.copy(), parsed.ok.copy(), parsed.corrected.copy()
    )
    to = of[first]
    out.addresses[to] = alternative.addresses[first]
    out.payload[to] = alternative.payload[first]
    out.ok[to] = True
    out.corrected[to] = alternative.corrected[first]
    return out
