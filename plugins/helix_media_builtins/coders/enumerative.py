"""``enumerative``: exact rank/unrank of constrained blocks, at the capacity bound.

Every constraint (homopolymer runs, forbidden motifs, GC window) is one automaton: an
Aho-Corasick machine over the forbidden words (runs become words such as ``AAAA``) times the GC
count. ``T[p][state, gc]`` counts the valid completions of a block from position ``p``. Counts
are kept as 60-bit mantissas with one exponent per position, rounded *down*
(``T[p] = (sum of successors) >> d[p]``); rounding down keeps the code uniquely decodable and
costs ~1e-16 bit per block. Because the exponent is shared by all states, the running rank
never needs more than 62 bits: each position shifts ``d[p]`` (<= 2) fresh data bits in, as an
arithmetic decoder would. Both directions walk the positions strand by strand in compiled
loops (``enumerative_kernels``, numba).

The automaton starts in the state left by the block's context (the bases before it), so no run
or motif can form across the junction; ``capacity`` is the worst case over every context.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, floor

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints
from helix_media.dna.nucleotides import GC_BASE, from_string
from helix_media.hookspecs import hookimpl
from helix_media_builtins.coders import enumerative_kernels as kernels

MANTISSA_BITS = 60  # counts < 2**60; sums of four fit in uint64 with room to spare


@dataclass(frozen=True)
class Automaton:
    """Aho-Corasick automaton over the forbidden words; state 0 is the empty context."""

    goto: np.ndarray  # (S, 4) next state
    forbidden: np.ndarray  # (S,) True where a forbidden word ends (suffix-closed)

    @classmethod
    def build(cls, words: tuple[str, ...]) -> Automaton:
        children: list[dict[int, int]] = [{}]
        terminal = [False]
        for word in words:
            node = 0
            for b in from_string(word).tolist():
                if b not in children[node]:
                    children.append({})
                    terminal.append(False)
                    children[node][b] = len(children) - 1
                node = children[node][b]
            terminal[node] = True
        n = len(children)
        goto = np.zeros((n, 4), dtype=np.int64)
        fail = [0] * n
        queue: deque[int] = deque()
        for b in range(4):
            child = children[0].get(b)
            if child is None:
                goto[0, b] = 0
            else:
                goto[0, b] = child
                queue.append(child)
        while queue:  # breadth-first: fail links and full transition table
            node = queue.popleft()
            terminal[node] = terminal[node] or terminal[fail[node]]
            for b in range(4):
                child = children[node].get(b)
                if child is None:
                    goto[node, b] = goto[fail[node], b]
                else:
                    fail[child] = goto[fail[node], b]
                    goto[node, b] = child
                    queue.append(child)
        return cls(goto, np.array(terminal, dtype=bool))

    def run(self, context: np.ndarray) -> np.ndarray:
        """State after each row of ``context`` (n, c), vectorized over rows."""
        state = np.zeros(context.shape[0], dtype=np.int64)
        for i in range(context.shape[1]):
            state = self.goto[state, context[:, i]]
        return state


def forbidden_words(c: Constraints) -> tuple[str, ...]:
    runs = tuple(b * (c.max_homopolymer + 1) for b in "ACGT")
    return runs + tuple(m.upper() for m in c.motifs)


@dataclass(frozen=True)
class CountTable:
    """Rounded-down completion counts for blocks of ``length`` bases."""

    length: int
    # (length + 1, S + 1, length + 2) uint64; row S (dead: a forbidden word was entered) and
    # the last column are 0. A start state may itself end a forbidden word (a primer context).
    counts: np.ndarray
    shifts: np.ndarray  # (length,) d[p] = E[p] - E[p + 1]
    exponents: np.ndarray  # (length + 1,) E[p]
    next_flat: np.ndarray  # (S, 4) flat index offset of the successor state, dead -> row S
    gc_step: np.ndarray  # (4,) 1 for C and G

    @property
    def width(self) -> int:
        return self.counts.shape[2]

    def successor_counts(self, p: int, state: np.ndarray, gc: np.ndarray) -> list[np.ndarray]:
        """Counts after appending A, C, G, T at position ``p`` (four (n,) gathers)."""
        flat = self.counts[p + 1].reshape(-1)
        nxt = self.next_flat[state]
        return [flat[nxt[:, b] + gc + int(self.gc_step[b])] for b in range(4)]

    def capacity(self, states: np.ndarray) -> np.ndarray:
        """Bits a block can carry from each start state (-1 if none)."""
        top = self.counts[0, states, 0]
        bits = np.array([int(t).bit_length() for t in top.tolist()], dtype=np.int64)
        return np.where(top > 0, bits - 1 + int(self.exponents[0]), -1)


@lru_cache(maxsize=16)
def count_table(words: tuple[str, ...], length: int, gc_lo: int, gc_hi: int) -> CountTable:
    auto = Automaton.build(words)
    n_states = auto.goto.shape[0]
    width = length + 2
    nxt = np.where(auto.forbidden[auto.goto], n_states, auto.goto)  # entering a word = dead
    gc_step = GC_BASE.astype(np.int64)
    counts = np.zeros((length + 1, n_states + 1, width), dtype=np.uint64)
    final = np.zeros(width, dtype=np.uint64)
    final[gc_lo : gc_hi + 1] = 1
    counts[length, :n_states] = final
    shifts = np.zeros(length, dtype=np.int64)
    g = np.arange(length + 1)
    for p in range(length - 1, -1, -1):
        nxt_counts = counts[p + 1]
        sums = np.zeros((n_states, length + 1), dtype=np.uint64)
        for b in range(4):
            sums += nxt_counts[nxt[:, b]][:, g + gc_step[b]]
        top = int(sums.max())
        shift = max(0, top.bit_length() - MANTISSA_BITS)
        shifts[p] = shift
        counts[p, :n_states, : length + 1] = sums >> np.uint64(shift)
    exponents = np.concatenate([np.cumsum(shifts[::-1])[::-1], [0]])
    return CountTable(length, counts, shifts, exponents, nxt * width, gc_step)


class EnumerativeCoder(ConstraintCoder):
    """Exact enumerative code: every block obeys the constraints given its context."""

    name = "enumerative"
    guarantees_constraints = True

    def __init__(self, constraints: Constraints | None = None) -> None:
        super().__init__(constraints)
        self.words = forbidden_words(self.constraints)
        self.automaton = Automaton.build(self.words)

    def _table(self, length: int) -> CountTable:
        c = self.constraints
        lo, hi = ceil(c.gc_min * length - 1e-9), floor(c.gc_max * length + 1e-9)
        return count_table(self.words, length, lo, hi)

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        table = self._table(length)
        if context is None:  # worst case over every possible context
            states = np.arange(len(self.automaton.forbidden))
        else:
            states = self.automaton.run(np.asarray(context, dtype=np.int64).reshape(1, -1))
        return int(table.capacity(states).min())

    def _bit_layout(self, table: CountTable, cap: int) -> tuple[np.ndarray, np.ndarray]:
        """For data bit i (MSB first): the position whose chunk holds it, and its shift there.

        Position -1 stands for the initial high part ``r >> E[0]``.
        """
        j = cap - 1 - np.arange(cap)  # bit weight of each data bit
        e = table.exponents
        # position p reads bits E[p+1] <= j < E[p]; -1 for j >= E[0]
        pos = np.searchsorted(-e, -j, side="left") - 1
        pos = np.where(j >= e[0], -1, pos)
        low = np.where(pos >= 0, e[np.clip(pos + 1, 0, table.length)], e[0])
        return pos, j - low

    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        table = self._table(length)
        bits = np.asarray(bits, dtype=np.uint64)
        n, cap = bits.shape
        if cap != self.capacity(length):
            raise ValueError(f"expected {self.capacity(length)} bits per block, got {cap}")
        state = self.automaton.run(np.asarray(context, dtype=np.int64))
        pos, shift = self._bit_layout(table, cap)
        chunks = np.zeros((n, length + 1), dtype=np.uint64)  # column `length` = initial high part
        # bits come MSB first, so their positions ascend (-1 first): add them up per position
        starts = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])
        columns = np.where(pos[starts] < 0, length, pos[starts])
        chunks[:, columns] = np.add.reduceat(bits << shift.astype(np.uint64), starts, axis=1)
        return kernels.unrank(chunks, chunks[:, length].copy(), state, *self._kernel_tables(table))

    def _kernel_tables(self, table: CountTable) -> tuple:
        """The count table as the compiled loops take it (flat rows per position)."""
        return (
            table.counts.reshape(table.length + 1, -1),
            table.next_flat,
            table.gc_step,
            table.shifts,
            self.automaton.goto.reshape(-1),
        )

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bases = np.asarray(bases, dtype=np.int64)
        n, length = bases.shape
        table = self._table(length)
        cap = self.capacity(length)
        state = self.automaton.run(np.asarray(context, dtype=np.int64))
        bases = np.ascontiguousarray(np.clip(bases, 0, 3))
        chunks, ok = kernels.rank(bases, state, *self._kernel_tables(table))
        hi = chunks[:, length]
        top_bits = cap - int(table.exponents[0])
        ok &= hi < (np.uint64(1) << np.uint64(max(top_bits, 0)))
        pos, shift = self._bit_layout(table, cap)
        bits = (chunks[:, np.where(pos < 0, length, pos)] >> shift.astype(np.uint64)) & np.uint64(1)
        return bits.astype(np.uint8), ok


@hookimpl
def register_coders(register):
    register("enumerative", EnumerativeCoder)
