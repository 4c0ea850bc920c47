"""Compiled (numba) maximum-likelihood polishing of a template under the pair-HMM.

Each round scores the single-base edits at the places worth it (:func:`.edit_scores.score`:
one pass over the reads), applies the improving ones greedily (best first, at least ``sep``
places apart so they barely interact) and rescores: the new exact total must beat the old
one, else only the best edit is tried, else the phase ends. The rescoring pass is the next
round's scoring pass; it scores again only near the edits and where an edit was close to
improving (:func:`.template_edits.hot`), the other places keep their scores.

Two phases, because a known length enforced from the start locks in early mistakes (on
valid.json: 81.8 % exact strands from 6 reads with the length enforced from the first round,
86.2 % with two phases):

1. free: substitutions, insertions and deletions, until nothing improves;
2. the known length: while the template is too short (long), the best insertion (deletion)
   is applied even if it costs likelihood; then substitutions, and moves of a base
   (:func:`_move_base`, ``MOVES`` tries), until nothing improves. Where an indel would pay
   but the length forbids it, every place is scored once first: the base missing at one
   place and extra at another often sits where no read dissented from the draft.

The moves and the scoring of every place lifted exact strands from 6 reads of valid.json
from 86.8 to 87.5 % (seeds 7, 11, 13), at about 10 % of the speed.
"""

from __future__ import annotations

import numba
import numpy as np

from helix_media.readpath.edit_scores import EDITS, score
from helix_media.readpath.template_edits import apply_edits, hot, move_flags, move_rows, whole_runs

EPS = 1e-7  # nats: an edit must gain more than this
MOVES = 2  # moves of a base (a deletion and an insertion apart) tried per polish


@numba.njit(cache=True, nogil=True)
def _candidates(t, out, indels, subs):
    """Improving edits: (gain, place, code) arrays; the duplicates of an edit inside a
    homopolymer run are skipped (only its first place is offered)."""
    L = len(t)
    gain = np.empty((L + 1) * EDITS)
    place = np.empty((L + 1) * EDITS, dtype=np.int64)
    code = np.empty((L + 1) * EDITS, dtype=np.int64)
    m = 0
    for i in range(L + 1):
        if indels:
            for b in range(4):
                if (i == 0 or t[i - 1] != b) and out[i, 5 + b] > EPS:
                    gain[m], place[m], code[m] = out[i, 5 + b], i, 5 + b
                    m += 1
        if i == L:
            break
        if indels and (i == 0 or t[i - 1] != t[i]) and out[i, 4] > EPS:
            gain[m], place[m], code[m] = out[i, 4], i, 4
            m += 1
        if subs:
            for b in range(4):
                if b != t[i] and out[i, b] > EPS:
                    gain[m], place[m], code[m] = out[i, b], i, b
                    m += 1
    return gain[:m], place[:m], code[:m]


@numba.njit(cache=True, nogil=True)
def _toward(t, out, longer):
    """The best insertion (``longer``) or deletion, whatever it costs: (place, code);
    place -1 if none was scored."""
    L = len(t)
    best = -np.inf
    bp, bc = -1, 4
    for i in range(L + 1):
        if longer:
            for b in range(4):
                if (i == 0 or t[i - 1] != b) and out[i, 5 + b] > best:
                    best, bp, bc = out[i, 5 + b], i, 5 + b
        elif i < L and (i == 0 or t[i - 1] != t[i]) and out[i, 4] > best:
            best, bp, bc = out[i, 4], i, 4
    return bp, bc


@numba.njit(cache=True, nogil=True)
def _best_indel(t, out):
    """The best-scored insertion or deletion, whatever it costs: (score, place, code);
    score -inf and place -1 if none was scored."""
    p, c = _toward(t, out, True)
    q, d = _toward(t, out, False)
    ins = out[p, c] if p >= 0 else -np.inf
    dele = out[q, d] if q >= 0 else -np.inf
    return (ins, p, c) if ins >= dele else (dele, q, d)


@numba.njit(cache=True, nogil=True)
def _pair(t, out, apart):
    """The best deletion plus insertion at least ``apart`` places from each other, scored as
    the sum of their own scores (far apart, they barely interact): a base moved along the
    strand keeps its length. Returns (gain, places, codes) sorted by place."""
    L = len(t)
    top = 4
    best = np.full((2, top), -np.inf)  # the best deletions (row 0) and insertions (row 1)
    where = np.zeros((2, top), dtype=np.int64)
    what = np.zeros((2, top), dtype=np.int64)
    for i in range(L + 1):
        for c in range(4, EDITS):
            if c == 4 and (i == L or (i > 0 and t[i - 1] == t[i])):
                continue
            if c > 4 and i > 0 and t[i - 1] == c - 5:
                continue
            row = 0 if c == 4 else 1
            k = np.argmin(best[row])
            if out[i, c] > best[row, k]:
                best[row, k] = out[i, c]
                where[row, k] = i
                what[row, k] = c
    gain = -np.inf
    bd = bi = 0
    for a in range(top):
        for b in range(top):
            if abs(where[0, a] - where[1, b]) >= apart and best[0, a] + best[1, b] > gain:
                gain = best[0, a] + best[1, b]
                bd, bi = a, b
    d, i = where[0, bd], where[1, bi]
    if d < i:
        return gain, np.array([d, i]), np.array([4, what[1, bi]])
    return gain, np.array([i, d]), np.array([what[1, bi], 4])


@numba.njit(cache=True, nogil=True)
def _pick(gain, place, code, L, sep):
    """Greedy: best first, each at least ``sep`` places from those taken; sorted by place."""
    g = gain.copy()
    blocked = np.zeros(L + 2, dtype=np.bool_)
    keep = np.zeros(len(g), dtype=np.bool_)
    for _ in range(len(g)):
        k = np.argmax(g)
        if g[k] == -np.inf:
            break
        g[k] = -np.inf
        p = place[k]
        if blocked[p]:
            continue
        keep[k] = True
        for q in range(max(0, p - sep + 1), min(L + 2, p + sep)):
            blocked[q] = True
    idx = np.flatnonzero(keep)  # candidates come in place order
    return place[idx], code[idx]


@numba.njit(cache=True, nogil=True)
def _total(logp, use):
    s = 0.0
    for k in range(len(logp)):
        if use[k]:
            s += logp[k]
    return s


@numba.njit(cache=True, nogil=True)
def _rescore(t, new, out, scored, place, code, ctx):
    """Score ``new`` (``t`` edited) where it may have changed: near the edits and where an
    edit was close to improving; carry the other places' scores over. Returns (scores,
    each read's log-likelihood, places with scores, total over the used reads)."""
    reads, offsets, use, W, dele, iq, em, sep = ctx
    todo = whole_runs(new, move_flags(hot(t, out), place, code, sep))
    logp = np.empty(len(offsets) - 1)
    fresh = score(new, reads, offsets, use, W, dele, iq, em, logp, todo)
    moved = move_rows(out, place, code)
    carried = move_flags(scored, place, code, sep - sep - 1)  # (not a literal: one compile)
    for i in range(len(todo)):
        if todo[i]:
            carried[i] = True
            for c in range(EDITS):
                moved[i, c] = fresh[i, c]
    return moved, logp, carried, _total(logp, use)


@numba.njit(cache=True, nogil=True)
def _move_base(t, out, scored, ctx, full):
    """A base moved along the strand (the length kept): the best deletion and insertion
    far apart by the sum of their scores; else, once every place is scored, the best
    indel applied and the best way back (a deletion after an insertion, or the reverse)
    chosen from a fresh scoring. Returns (template, scores, log-likelihoods, places
    scored, total, passes spent); the total is -inf if nothing was tried."""
    reads, offsets, use, W, dele, iq, em, sep = ctx
    none = (t, out, out[:0, 0], scored, -np.inf, 0)
    gain, place, code = _pair(t, out, 2 * W)
    if gain > EPS:
        new = apply_edits(t, place, code)
        out2, logp2, scored2, total2 = _rescore(t, new, out, scored, place, code, ctx)
        return new, out2, logp2, scored2, total2, 1
    best, p, c = _best_indel(t, out)
    if not full or best <= EPS:
        return none
    mid = apply_edits(t, np.array([p]), np.array([c]))
    every = np.ones(len(mid) + 1, dtype=np.bool_)
    logp = np.empty(len(offsets) - 1)
    out1 = score(mid, reads, offsets, use, W, dele, iq, em, logp, every)
    q, e = _toward(mid, out1, len(mid) < len(t))
    place, code = np.array([q]), np.array([e])
    new = apply_edits(mid, place, code)
    out2, logp2, scored2, total2 = _rescore(mid, new, out1, every, place, code, ctx)
    return new, out2, logp2, scored2, total2, 2


@numba.njit(cache=True, nogil=True)
def polish(t, reads, offsets, use, W, dele, iq, em, length, max_rounds, sep, flags):
    """Polish ``t`` against the reads in ``use``; ``length`` < 0: unknown. Edits are
    scored at the places in ``flags`` (and near every edit made). Returns (template, its
    edit scores, each read's log-likelihood, scoring passes, places with scores)."""
    ctx = (reads, offsets, use, W, dele, iq, em, sep)
    logp = np.empty(len(offsets) - 1)
    scored = whole_runs(t, flags.copy())
    out = score(t, reads, offsets, use, W, dele, iq, em, logp, scored)
    total = _total(logp, use)
    phase = 1 if length >= 0 else 2
    passes = 1
    moves = MOVES
    stuck = False  # no single edit improves: try a moved base (:func:`_move_base`)
    full = False  # every place scored
    while passes < max_rounds:
        L = len(t)
        forced = length >= 0 and phase == 2 and length != L
        gain = np.zeros(1)
        place0 = np.zeros(1, dtype=np.int64)
        code0 = np.zeros(1, dtype=np.int64)
        if not forced and not stuck:
            gain, place0, code0 = _candidates(t, out, phase == 1 or length < 0, True)
            stuck = len(gain) == 0
        if stuck:
            stuck = False
            if phase == 1:
                phase = 2
                continue
            if length < 0 or moves == 0:
                break
            moves -= 1
            if not full and _best_indel(t, out)[0] > EPS:
                # an indel would pay but the length forbids it: its partner may lie where
                # no read dissented, so score every place once
                full = True
                scored[:] = True
                out = score(t, reads, offsets, use, W, dele, iq, em, logp, scored)
                passes += 1
            new, out2, logp2, scored2, total2, spent = _move_base(t, out, scored, ctx, full)
            passes += spent
            if total2 <= total + EPS:
                break
            t, out, logp, total, scored = new, out2, logp2, total2, scored2
            continue
        if forced:
            p, c = _toward(t, out, length > L)
            if p < 0:  # nothing scored to lengthen or shorten: score everywhere
                scored[:] = True
                out = score(t, reads, offsets, use, W, dele, iq, em, logp, scored)
                passes += 1
                continue
            place = np.array([p])
            code = np.array([c])
        else:
            place, code = _pick(gain, place0, code0, L, sep)
        new = apply_edits(t, place, code)
        out2, logp2, scored2, total2 = _rescore(t, new, out, scored, place, code, ctx)
        passes += 1
        if not forced and total2 <= total + EPS and len(place) > 1:
            best = np.argmax(gain)
            place = np.array([place0[best]])
            code = np.array([code0[best]])
            new = apply_edits(t, place, code)
            out2, logp2, scored2, total2 = _rescore(t, new, out, scored, place, code, ctx)
            passes += 1
        if not forced and total2 <= total + EPS:
            stuck = True
            continue
        t, out, logp, total, scored = new, out2, logp2, total2, scored2
    return t, out, logp, passes, scored


@numba.njit(cache=True, nogil=True)
def confidence(t, out, flags, agreed, indels):
    """Per base: its posterior against the single-base edits at its place (the other
    bases, its deletion, an insertion before it), from the edit scores ``out``; ``agreed``
    where nothing was scored (no read argued). Also the best such edit: (code, log-ratio)."""
    L = len(t)
    conf = np.empty(L)
    best_code = np.zeros(L, dtype=np.int64)
    best = np.full(L, -np.inf)
    for i in range(L):
        if not flags[i]:
            conf[i] = agreed
            continue
        s = 0.0
        for c in range(EDITS if indels else 4):
            if c == t[i] or (c >= 5 and i > 0 and t[i - 1] == c - 5):
                continue  # the base itself; the same as inserting after t[i - 1]
            v = min(out[i, c], 50.0)
            if v > best[i]:
                best[i] = v
                best_code[i] = c
            s += np.exp(v)
        conf[i] = 1.0 / (1.0 + s)
    return conf, best_code, best
