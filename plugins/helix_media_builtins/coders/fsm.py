"""TK-SCONE's constraint-guaranteed finite-state machine (HELIX paper, section 3.2.3).

State: the Aho-Corasick state of the recent bases (runs and forbidden motifs, primers
included), the running GC count and the position. A base is *allowed* where the enumerative
coder's count table says a valid completion of the block still exists from there, so the FSM
never walks into a dead end and every block meets the GC window, the run limit and motif
avoidance whatever the data (and from the context's state, so across the junction too).

Rate: 4 allowed bases -> the next bit pair is the base (00 A, 01 C, 10 G, 11 T); 2-3 allowed
-> 1 bit picks one of two candidates; 1 allowed -> 0 bits. Candidates are ordered to steer
GC towards 50 % (A/T first when the block is GC-rich so far, else C/G) and, within a class,
away from the previous base. Once the data run out the FSM pads with the first candidate
(GC-compensating). The decoder re-simulates the same states to learn how many bits each
base holds, and flags any base the encoder could not have written.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor

import numpy as np

from helix_media.dna.constraints import Constraints
from helix_media.dna.nucleotides import GC_BASE
from helix_media_builtins.coders.enumerative import (
    Automaton,
    CountTable,
    count_table,
    forbidden_words,
)

IS_GC = GC_BASE.astype(bool)
N_ALLOWED = np.array([bin(m).count("1") for m in range(16)], dtype=np.int64)
CONSUMED = np.array([0, 0, 1, 1, 2], dtype=np.int64)  # bits read, by number of allowed bases


def _order_table() -> np.ndarray:
    """ORDER[rich, previous (4 = none), allowed mask] -> the 4 bases, candidates first."""
    out = np.zeros((2, 5, 16, 4), dtype=np.int64)
    for rich in range(2):
        for prev in range(5):
            for mask in range(16):

                def key(b: int, rich=rich, prev=prev, mask=mask) -> tuple[int, int, int, int]:
                    return (not (mask >> b) & 1, IS_GC[b] == bool(rich), b == prev, b)

                out[rich, prev, mask] = sorted(range(4), key=key)
    return out


ORDER = _order_table()


def gc_bounds(c: Constraints, length: int) -> tuple[int, int]:
    return ceil(c.gc_min * length - 1e-9), floor(c.gc_max * length + 1e-9)


@dataclass
class EncodeTrace:
    bases: np.ndarray  # (n, L)
    consumed: np.ndarray  # (n,) stream bits read by the end of the block
    data_end: np.ndarray  # (n,) bases written when the stream's first ``need`` bits were read


@dataclass
class DecodeTrace:
    bits: np.ndarray  # (n, 2L + 2) the stream (valid up to ``consumed``)
    consumed: np.ndarray
    valid: np.ndarray  # every base is one the encoder could have written
    mark_pos: np.ndarray  # bases read when ``mark`` bits were available (L + 1 if never)
    mark_state: np.ndarray  # automaton state there
    mark_gc: np.ndarray  # GC count there
    mark_valid: np.ndarray  # every base up to there is valid


class ConstraintFSM:
    """The FSM for blocks of ``length`` bases under ``constraints``."""

    def __init__(self, constraints: Constraints, length: int) -> None:
        self.length = length
        words = forbidden_words(constraints)
        self.automaton = Automaton.build(words)
        self.goto = self.automaton.goto.reshape(-1)
        self.table: CountTable = count_table(words, length, *gc_bounds(constraints, length))

    def start(self, context: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(automaton state, previous base or 4) after each context row."""
        context = np.asarray(context, dtype=np.int64)
        context = context.reshape(n, context.size // n if n else 0)
        prev = context[:, -1] if context.shape[1] else np.full(n, 4, dtype=np.int64)
        return self.automaton.run(context), prev

    def all_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """Every automaton state with its last base (4 for the empty context): the worst
        case over all contexts."""
        goto = self.automaton.goto
        last = np.full(len(goto), 4, dtype=np.int64)
        last[goto] = np.arange(4)[None, :]  # every transition into a state reads its last base
        return np.arange(len(goto)), last

    def options(
        self, p: int, state: np.ndarray, gc: np.ndarray, prev: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(allowed mask, number allowed, bases in candidate order) at position ``p``."""
        c = self.table.successor_counts(p, state, gc)
        mask = (c[0] > 0) | ((c[1] > 0) << 1) | ((c[2] > 0) << 2) | ((c[3] > 0) << 3)
        mask = mask.astype(np.int64)
        rich = (2 * gc > p).astype(np.int64)
        return mask, N_ALLOWED[mask], ORDER[rich, prev, mask]

    def encode(
        self, stream: np.ndarray, need: int, start: tuple[np.ndarray, np.ndarray]
    ) -> EncodeTrace:
        """Write ``stream`` (n, >= need) bits from ``start`` = (state, previous base); after
        ``need`` bits the FSM pads."""
        n, L = len(stream), self.length
        s = np.zeros((n, need + 2), dtype=np.int64)
        s[:, : min(need, stream.shape[1])] = stream[:, :need]
        state, prev = start
        gc = np.zeros(n, dtype=np.int64)
        ptr = np.zeros(n, dtype=np.int64)
        end = np.full(n, L, dtype=np.int64)
        out = np.empty((n, L), dtype=np.uint8)
        rows = np.arange(n)
        for p in range(L):
            _, k, order = self.options(p, state, gc, prev)
            at = np.minimum(ptr, need)  # padding reads past the stream: ignored below
            b0, b1 = s[rows, at], s[rows, at + 1]
            pick = np.where(k == 4, 2 * b0 + b1, order[rows, np.where(k >= 2, b0, 0)])
            base = np.where(ptr >= need, order[:, 0], pick)
            ptr += CONSUMED[k]
            end = np.where((end == L) & (ptr >= need), p + 1, end)
            out[:, p] = base
            state = self.goto[state * 4 + base]
            gc += GC_BASE[base]
            prev = base
        return EncodeTrace(out, ptr, np.where(ptr >= need, end, L))

    def decode(
        self, bases: np.ndarray, start: tuple[np.ndarray, np.ndarray], mark: int = 0
    ) -> DecodeTrace:
        """Re-simulate the FSM over ``bases``; also report where ``mark`` bits were read."""
        bases = np.asarray(bases, dtype=np.int64)
        n, L = bases.shape
        state, prev = start
        gc = np.zeros(n, dtype=np.int64)
        ptr = np.zeros(n, dtype=np.int64)
        valid = np.ones(n, dtype=bool)
        out = np.zeros((n, 2 * L + 2), dtype=np.uint8)
        mark_pos = np.full(n, L + 1, dtype=np.int64)
        mark_state, mark_gc = state.copy(), gc.copy()
        mark_valid = valid.copy()
        rows = np.arange(n)
        for p in range(L):
            b = bases[:, p]
            mask, k, order = self.options(p, state, gc, prev)
            is0, is1 = b == order[:, 0], b == order[:, 1]
            valid &= ((mask >> b) & 1).astype(bool)
            valid &= (k == 4) | ((k >= 2) & (is0 | is1)) | ((k == 1) & is0)
            out[rows, ptr] = np.where(k == 4, b >> 1, is1)
            out[rows, ptr + 1] = b & 1
            ptr += CONSUMED[k]
            state = self.goto[state * 4 + b]
            gc += GC_BASE[b]
            prev = b
            hit = (mark_pos > L) & (ptr >= mark)
            mark_pos[hit], mark_state[hit], mark_gc[hit] = p + 1, state[hit], gc[hit]
            mark_valid[hit] = valid[hit]
        return DecodeTrace(out, ptr, valid, mark_pos, mark_state, mark_gc, mark_valid)

    def prefix(
        self, bits: np.ndarray, start: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Write just ``bits`` (n, k): (bases (n, L), bases used m, state, GC count after them).

        A bit pair that straddles the end is completed with a 1. Bases past each row's ``m``
        are left 0 for the caller to fill; m = L + 1 where the block is too short."""
        n, k = bits.shape
        s = np.concatenate([bits.astype(np.int64), np.ones((n, 2), dtype=np.int64)], axis=1)
        state, prev = start
        gc = np.zeros(n, dtype=np.int64)
        ptr = np.zeros(n, dtype=np.int64)
        m = np.zeros(n, dtype=np.int64)
        out = np.zeros((n, self.length), dtype=np.uint8)
        rows = np.arange(n)
        p = 0
        while k and p < self.length and (ptr < k).any():
            live = ptr < k
            _, kk, order = self.options(p, state, gc, prev)
            b0, b1 = s[rows, np.minimum(ptr, k)], s[rows, np.minimum(ptr, k) + 1]
            base = np.where(kk == 4, 2 * b0 + b1, order[rows, np.where(kk >= 2, b0, 0)])
            out[live, p] = base[live]
            ptr = np.where(live, ptr + CONSUMED[kk], ptr)
            m = np.where(live, p + 1, m)
            state = np.where(live, self.goto[state * 4 + base], state)
            gc = np.where(live, gc + GC_BASE[base], gc)
            prev = np.where(live, base, prev)
            p += 1
        return out, np.where(ptr < k, self.length + 1, m), state, gc
