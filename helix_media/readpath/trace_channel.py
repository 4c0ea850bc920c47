"""The nanopore channel of trace reconstruction: context classes and the fitted tables.

Deletions depend on the base and the length of its homopolymer run (per base, a run of 7 Cs
loses a base about 17 times as often as a lone C: nanopore reads shorten long runs) and
are likelier at the strand's first and last bases (the reads are trimmed there);
insertions (rate and base) depend on the two bases around the gap, and most of all on being
at an end; how a base is read (substitutions: mostly transitions, A<->G and C<->T) depends on
the base and its two neighbours. Wider contexts (5-mers for substitutions) fitted better but
reconstructed no better on valid.json, so they are not used.

Everything here is compiled (numba): the polisher recomputes the classes along the template
after every round of edits. The tables are fitted by ``scripts/fit_trace_channel.py``
(Baum-Welch on the reads of ``valid.json`` against their references) and pasted into
``trace_channel_tables.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numba
import numpy as np

RUNS = 8  # homopolymer run-length classes: 1, 2, ..., 7, 8+
ENDS = 3  # bases (gaps) at each end with classes of their own
DEL_CLASSES = 4 * RUNS + 2 * ENDS  # (base, run), then the first ENDS and the last ENDS bases
INS_CLASSES = 25 + 2 * ENDS  # (base before, base after) the gap, 4 = none; then the end gaps
SUB_CLASSES = 4 * 25  # (base, base before, base after), 4 = none


@dataclass(frozen=True)
class Channel:
    """Per-class probabilities: ``dele[c]`` of deleting a base, ``ins[c, b]`` of inserting
    b in a gap (per visit: runs of insertions are geometric), ``sub[c, b]`` of reading b
    for a template base (rows sum to 1)."""

    dele: np.ndarray
    ins: np.ndarray
    sub: np.ndarray

    @functools.cached_property
    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's tables: ``dele``; ``iq`` (insertion of read code c, code 4 = N:
        the total); ``em`` (reading code c, code 4 = N: 1). Computed once per channel."""
        iq = np.empty((INS_CLASSES, 5))
        iq[:, :4] = self.ins
        iq[:, 4] = self.ins.sum(axis=1)
        em = np.ones((SUB_CLASSES, 5))
        em[:, :4] = self.sub
        return np.ascontiguousarray(self.dele, dtype=np.float64), iq, em

    def scaled(self, s: float) -> Channel:
        """This channel with every error ``s`` times as likely."""
        sub = self.sub * s
        own = np.arange(SUB_CLASSES), np.arange(SUB_CLASSES) // 25
        sub[own] = 0.0
        sub[own] = 1.0 - sub.sum(axis=1)
        return Channel(self.dele * s, self.ins * s, sub)


@numba.njit(cache=True, nogil=True)
def _runs(t):
    L = len(t)
    left = np.ones(L, dtype=np.int64)
    right = np.ones(L, dtype=np.int64)
    for i in range(1, L):
        if t[i] == t[i - 1]:
            left[i] = left[i - 1] + 1
    for i in range(L - 2, -1, -1):
        if t[i] == t[i + 1]:
            right[i] = right[i + 1] + 1
    return left, right


@numba.njit(cache=True, nogil=True)
def _end_del(i, L):
    """The end class of base i, or -1."""
    e = min(ENDS, L)
    if i >= L - e:
        return 4 * RUNS + 2 * ENDS - (L - i)
    if i < e:
        return 4 * RUNS + i
    return -1


@numba.njit(cache=True, nogil=True)
def _at(t, i):
    return np.int64(t[i]) if 0 <= i < len(t) else 4


@numba.njit(cache=True, nogil=True)
def contexts(t):
    """Class indices along ``t``: ``dc`` (deletion, per base), ``ic`` (insertion, per gap;
    gap i is before t[i]), ``sc`` (substitution, per base), and those of a new base b:
    ``dc_sub[i, b]``/``sc_sub[i, b]`` in place of t[i], ``dc_ins[g, b]``/``sc_ins[g, b]``
    inserted in gap g (its run and neighbours counted; its neighbours keep their classes)."""
    L = len(t)
    left, right = _runs(t)
    dc = np.empty(L, dtype=np.int64)
    sc = np.empty(L, dtype=np.int64)
    ic = np.empty(L + 1, dtype=np.int64)
    dc_sub = np.empty((L, 4), dtype=np.int64)
    sc_sub = np.empty((L, 4), dtype=np.int64)
    dc_ins = np.empty((L + 1, 4), dtype=np.int64)
    sc_ins = np.empty((L + 1, 4), dtype=np.int64)
    for i in range(L):
        b0 = np.int64(t[i])
        end = _end_del(i, L)
        dc[i] = end if end >= 0 else b0 * RUNS + min(left[i] + right[i] - 1, RUNS) - 1
        p, q = _at(t, i - 1), _at(t, i + 1)
        sc[i] = b0 * 25 + p * 5 + q
        for b in range(4):
            run = 1
            if p == b:
                run += left[i - 1]
            if q == b:
                run += right[i + 1]
            dc_sub[i, b] = end if end >= 0 else b * RUNS + min(run, RUNS) - 1
            sc_sub[i, b] = b * 25 + p * 5 + q
    e = min(ENDS, L + 1)
    for g in range(L + 1):
        p, q = _at(t, g - 1), _at(t, g)
        ic[g] = p * 5 + q
        if g < e:
            ic[g] = 25 + g
        if g >= L + 1 - e:
            ic[g] = 25 + 2 * ENDS - (L + 1 - g)
        for b in range(4):
            run = 1
            if p == b:
                run += left[g - 1]
            if q == b:
                run += right[g]
            dc_ins[g, b] = b * RUNS + min(run, RUNS) - 1
            if g == 0:
                dc_ins[g, b] = 4 * RUNS
            elif g == L:
                dc_ins[g, b] = DEL_CLASSES - 1
            sc_ins[g, b] = b * 25 + p * 5 + q
    return dc, ic, sc, dc_sub, sc_sub, dc_ins, sc_ins


def flat_channel(ins: float = 0.0186, dele: float = 0.022, sub: float = 0.0172) -> Channel:
    """A context-free channel (the fitting script's starting point)."""
    s = np.full((SUB_CLASSES, 4), sub / 3)
    s[np.arange(SUB_CLASSES), np.arange(SUB_CLASSES) // 25] = 1 - sub
    return Channel(np.full(DEL_CLASSES, dele), np.full((INS_CLASSES, 4), ins / 4), s)


#: The reconstruction's channel is the fitted one with every error this many times as
#: likely: a sharper model than the fitted average reconstructs more strands exactly
#: (valid.json, exact % from 6 / 10 reads, seed 7: x1 86.6 / 96.8, x0.8 87.3 / -, x0.7
#: 87.1 / 97.2, x0.6 87.1 / 97.4, x1.25 86.5 / -; seed 11, 6 reads: x1 85.7, x0.7 86.1) and
#: is faster (fewer places argued over: 15 % more reads/s).
SHARPEN = 0.7


@functools.cache
def fitted() -> Channel:
    """The channel fitted on valid.json of the Microsoft nanopore reads (MinION, R9.4): the
    one to simulate reads with."""
    from helix_media.readpath import trace_channel_tables as t

    return Channel(t.DELE, t.INS, t.SUB)


@functools.cache
def nanopore() -> Channel:
    """The channel the reconstruction assumes: :func:`fitted`, sharpened (``SHARPEN``)."""
    return fitted().scaled(SHARPEN)
