"""Compiled (numba) bookkeeping of template edits for the polisher (:mod:`.polish`).

An edit is (place, code) as in :data:`.edit_scores.EDITS`: code 0-3 puts that base at
``place``, 4 deletes the base there, 5-8 inserts base code-5 before it (place L appends).
Edits are applied together, sorted by place, one per place; the per-place arrays that go
with a template (which places to score, their last scores) are carried through them.
"""

from __future__ import annotations

import numba
import numpy as np

from helix_media.readpath.edit_scores import EDITS

HOT = 2.0  # nats: after a round, places whose best edit is within this of improving, and
# those near an applied edit, are scored again; elsewhere the last scores stand


@numba.njit(cache=True, nogil=True)
def apply_edits(t, place, code):
    """``t`` with the edits (sorted by place, at most one per place) applied."""
    L = len(t)
    out = np.empty(L + len(place), dtype=np.uint8)
    k = 0
    e = 0
    for i in range(L + 1):
        if e < len(place) and place[e] == i and code[e] >= 5:
            out[k] = code[e] - 5
            k += 1
            e += 1
        if i == L:
            break
        if e < len(place) and place[e] == i:
            if code[e] < 4:
                out[k] = code[e]
                k += 1
            e += 1
        else:
            out[k] = t[i]
            k += 1
    return out[:k].copy()


@numba.njit(cache=True, nogil=True)
def move_flags(flags, place, code, sep):
    """The places to score after the edits: ``flags`` carried through them (an inserted
    base is flagged), and every place within ``sep`` of an edit (none if sep < 0)."""
    L = len(flags) - 1
    m = L + 1 + len(place)
    out = np.zeros(m, dtype=np.bool_)
    k = 0
    e = 0
    for i in range(L + 1):
        if e < len(place) and place[e] == i and code[e] >= 5:
            out[k] = True
            k += 1
            e += 1
        if e < len(place) and place[e] == i and code[e] == 4:
            e += 1
            continue
        if e < len(place) and place[e] == i:
            e += 1
        out[k] = flags[i]
        k += 1
    out = out[:k].copy()
    # places near the edits, in the new coordinates
    shift = 0
    for e in range(len(place) if sep >= 0 else 0):
        p = place[e] + shift
        out[max(0, p - sep) : min(k, p + sep + 1)] = True
        if code[e] >= 5:
            shift += 1
        elif code[e] == 4:
            shift -= 1
    return out


@numba.njit(cache=True, nogil=True)
def move_rows(out, place, code):
    """Per-place rows (edit scores) carried through the edits; an inserted base's row is
    -inf (not scored)."""
    L = len(out) - 1
    C = out.shape[1]
    new = np.empty((L + 1 + len(place), C))
    k = 0
    e = 0
    for i in range(L + 1):
        if e < len(place) and place[e] == i and code[e] >= 5:
            for c in range(C):
                new[k, c] = -np.inf
            k += 1
            e += 1
        if e < len(place) and place[e] == i and code[e] == 4:
            e += 1
            continue
        if e < len(place) and place[e] == i:
            e += 1
        for c in range(C):
            new[k, c] = out[i, c]
        k += 1
    return new[:k].copy()


@numba.njit(cache=True, nogil=True)
def whole_runs(t, flags):
    """Flag whole homopolymer runs (and the gap after) where any of their places is flagged:
    an edit inside a run is offered at the run's first place only."""
    L = len(t)
    a = 0
    while a < L:
        b = a + 1
        while b < L and t[b] == t[a]:
            b += 1
        if b - a > 1:
            hit = False
            for i in range(a, b + 1):
                hit |= flags[i]
            if hit:
                flags[a : b + 1] = True
        a = b
    return flags


@numba.njit(cache=True, nogil=True)
def hot(t, out):
    """Places with an edit within ``HOT`` nats of improving: worth scoring again."""
    L = len(t)
    hot = np.zeros(L + 1, dtype=np.bool_)
    for i in range(L + 1):
        for c in range(EDITS):
            if (c < 5 and i == L) or c == (t[i] if i < L else -1):
                continue
            if out[i, c] > -HOT:
                hot[i] = True
                break
    return hot
