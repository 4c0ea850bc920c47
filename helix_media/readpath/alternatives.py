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

import numpy as np

from helix_media.dna.framer import ParsedStrands

COUNT = 48  # alternatives per cluster, likeliest first
MAX_READS = 8  # clusters of at most this many reads get them (beyond: failures ~0)
FLOOR = -10.0  # an edit the reads find less likely than e^FLOOR times the estimate: not tried
SPAN = 64  # a moved base travels at most this far
HALVES = 24  # deletions and insertions paired into moved bases, the likeliest of each
MAX_CORRECTED = 1  # symbols the inner code may correct in an alternative it takes


def candidates(template: np.ndarray, scores: np.ndarray, count: int = COUNT) -> np.ndarray:
    """(count', L) strands one edit from ``template`` (codes 0..3), likeliest first.

    ``scores``: (L + 1, 9) log-likelihood change of each single-base edit (substitute by
    b = 0..3, delete, insert b before the place; :mod:`.edit_scores`); a moved base is
    scored as its deletion plus its insertion (exact where they are far apart)."""
    t = np.asarray(template, dtype=np.uint8)
    L = len(t)
    if L == 0 or count <= 0:
        return np.zeros((0, L), dtype=np.uint8)
    s = np.where(np.isfinite(scores), scores, -np.inf)
    sub = s[:L, :4].copy()
    sub[np.arange(L), t] = -np.inf  # the base itself
    si, sb = np.nonzero(sub > FLOOR)
    kinds = [np.zeros(len(si), np.int64)]
    gains = [sub[si, sb]]
    a, b, c = [si], [sb], [np.zeros(len(si), np.int64)]
    di = _likeliest(s[:L, 4], np.flatnonzero(s[:L, 4] > FLOOR))
    ij, ib = np.nonzero(s[:, 5:9] > FLOOR)
    keep = _likeliest(s[ij, 5 + ib], np.arange(len(ij)))
    ij, ib = ij[keep], ib[keep]
    if len(di) and len(ij):
        d, j = np.meshgrid(di, np.arange(len(ij)), indexing="ij")
        d, j = d.ravel(), j.ravel()
        at = ij[j]
        ok = (np.abs(at - d) <= SPAN) & (at != d) & (at != d + 1)
        d, j = d[ok], j[ok]
        kinds.append(np.ones(len(d), np.int64))
        gains.append(s[d, 4] + s[ij[j], 5 + ib[j]])
        a.append(d)
        b.append(ib[j])
        c.append(ij[j])
    kind, gain = np.concatenate(kinds), np.concatenate(gains)
    pa, pb, pc = np.concatenate(a), np.concatenate(b), np.concatenate(c)
    order = np.lexsort((pc, pb, pa, kind, -gain))[:count]  # ties broken by place: deterministic
    out = np.empty((len(order), L), dtype=np.uint8)
    for row, k in enumerate(order):
        out[row] = _apply(t, int(kind[k]), int(pa[k]), int(pb[k]), int(pc[k]))
    return out


def _likeliest(gain: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The :data:`HALVES` ``rows`` of highest ``gain`` (ties by row), in row order: a moved
    base pairs one of the likeliest deletions with one of the likeliest insertions."""
    if len(rows) <= HALVES:
        return rows
    return np.sort(rows[np.lexsort((rows, -gain[rows]))[:HALVES]])


def _apply(t: np.ndarray, kind: int, i: int, base: int, j: int) -> np.ndarray:
    """Substitute ``base`` at ``i`` (kind 0), or delete ``t[i]`` and insert ``base`` before
    place ``j`` of the original (kind 1): the same length either way."""
    if kind == 0:
        out = t.copy()
        out[i] = base
        return out
    if j > i:
        return np.concatenate([t[:i], t[i + 1 : j], [base], t[j:]]).astype(np.uint8)
    return np.concatenate([t[:j], [base], t[j:i], t[i + 1 :]]).astype(np.uint8)


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
