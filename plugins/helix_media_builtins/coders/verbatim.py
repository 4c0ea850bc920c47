"""``verbatim``: carry a stream that is already DNA (``jpeg-dna``'s) into strands as it is.

A codec whose packets are bases packed 2 bits each (A=00, C=01, G=10, T=11) needs no second
constraint code: this coder writes them back as the same bases. It must not be whitened
(``whiten = False``: the pipeline then skips the keystream, which would scramble the bases).
What a fixed 152-nt payload slot still needs, and the stream alone cannot promise, is done per
block with a few bases of overhead (145 of 152 bases carry the stream, 1.908 bits/nt):

    header: 5 trits, rotating code (never the context's last base) | 145 stream bases | 2 fill

* **GC**, Knuth's balancing: the first ``v`` stream bases are mapped A<->C, G<->T (each base
  changes G/C-ness, runs keep their length). Flipping one more base moves GC by exactly 1,
  so some ``v`` in 0..145 lands the block in the GC window whatever the stream; ``v`` is the
  header. The 2 fill bases are chosen to finish the balance and keep the junction valid.
* **Runs and motifs**: the whole block, context junction included, is checked; an unsafe ``v``
  is replaced by the next best one. A stream with runs <= 2 (JPEG-DNA's) always has a safe
  ``v`` (two unsafe flip points are never adjacent), so the check only ever rejects motifs.
* **Anything else** (audio packets, outer-code parity, a block no ``v`` can fix): header value
  >= 146 marks a fallback block, written by the enumerative code in the 147 bases after the
  header, with its GC window narrowed by the header's 5 bases. So every block obeys the
  constraints whatever its bits, and the decoder knows which way each was written.
"""

from __future__ import annotations

import dataclasses
from math import ceil, floor

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, longest_runs, motif_hits, valid_inserts
from helix_media.dna.nucleotides import GC_BASE
from helix_media.hookspecs import hookimpl
from helix_media_builtins.coders.enumerative import EnumerativeCoder
from helix_media_builtins.coders.goldman import bases_to_trits, trits_to_bases
from helix_media_builtins.coders.naive import bases_to_bits, bits_to_bases

HEADER = 5
N_VALUES = 3**HEADER
FLIP = np.array([1, 0, 3, 2], dtype=np.uint8)  # A<->C, G<->T: an involution, GC-ness flips
ATTEMPTS = 6  # flip points tried per block before the fallback
# least significant trit first: neighbouring values start with different bases, so the best
# few flip points offer different junctions with the context
_DIGITS = (np.arange(N_VALUES)[:, None] // 3 ** np.arange(HEADER)) % 3
#: _HEADERS[previous base, value] = the header's bases after that base
_HEADERS = np.stack([trits_to_bases(_DIGITS, p) for p in range(4)])
_HEADER_GC = GC_BASE[_HEADERS].sum(axis=2).astype(np.int64)


@dataclasses.dataclass(frozen=True)
class _Layout:
    length: int
    stream: int  # k: stream bases per block (capacity 2k bits)
    gc_lo: int
    gc_hi: int
    fallback: EnumerativeCoder


class VerbatimCoder(ConstraintCoder):
    """2 bits -> 1 base as they are, with a balancing header; enumerative fallback."""

    name = "verbatim"
    guarantees_constraints = True
    #: the pipeline must not XOR a keystream into what this coder carries
    whiten = False

    def __init__(self, constraints: Constraints | None = None) -> None:
        super().__init__(constraints)
        self._layouts: dict[int, _Layout] = {}
        self.span = max([len(m) for m in self.constraints.motifs] + [1]) - 1
        #: bases before an inserted one that can matter to it (runs and motifs)
        self.reach = max(self.span, self.constraints.max_homopolymer)

    def _layout(self, length: int) -> _Layout:
        if length not in self._layouts:
            c = self.constraints
            lo, hi = ceil(c.gc_min * length - 1e-9), floor(c.gc_max * length + 1e-9)
            m = length - HEADER
            if m < 8 or hi - HEADER < lo:
                raise ValueError(f"verbatim coder: a {length}-nt block is too short")
            narrowed = dataclasses.replace(c, gc_min=lo / m, gc_max=(hi - HEADER) / m)
            fallback = EnumerativeCoder(narrowed)
            k = min(fallback.capacity(m) // 2, N_VALUES - 2, m)
            self._layouts[length] = _Layout(length, k, lo, hi, fallback)
        return self._layouts[length]

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        return 2 * self._layout(length).stream

    @staticmethod
    def _previous(context: np.ndarray, n: int) -> np.ndarray:
        context = np.asarray(context)
        if context.ndim == 2 and context.shape[1]:
            return context[:, -1].astype(np.int64)
        return np.zeros(n, dtype=np.int64)

    def _context(self, context: np.ndarray, n: int) -> np.ndarray:
        context = np.asarray(context, dtype=np.uint8)
        if context.ndim != 2 or not context.shape[1]:
            return np.zeros((n, 0), dtype=np.uint8)
        return context

    def _valid(self, tail: np.ndarray, block: np.ndarray) -> np.ndarray:
        """No run or motif in ``block`` or through its junction with ``tail``."""
        whole = np.concatenate([tail, block], axis=1)
        runs = longest_runs(whole[:, -(block.shape[1] + self.constraints.max_homopolymer) :])
        ok = runs <= self.constraints.max_homopolymer
        motifs = self.constraints.motifs
        if motifs:
            extra = motif_hits(whole[:, -(block.shape[1] + self.span) :], motifs)
            own = tail[:, tail.shape[1] - min(self.span, tail.shape[1]) :]
            ok &= extra == motif_hits(own, motifs)
        return ok

    # -- encoding ---------------------------------------------------------------------------
    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        lay = self._layout(length)
        bits = np.asarray(bits, dtype=np.uint8)
        n, k = len(bits), lay.stream
        if bits.ndim != 2 or bits.shape[1] != 2 * k:
            raise ValueError(f"expected {2 * k} bits per block, got {bits.shape[-1]}")
        ctx = self._context(context, n)
        tail = ctx[:, max(0, ctx.shape[1] - self.reach) :]
        prev = self._previous(ctx, n)
        stream = bits_to_bases(bits)
        out = np.zeros((n, length), dtype=np.uint8)
        done = np.zeros(n, dtype=bool)
        # GC of the stream with its first v bases flipped, v = 0..k, plus the header's GC
        g = GC_BASE[stream].astype(np.int64)
        before = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(g, axis=1)], axis=1)
        gc = before[:, -1:] + np.arange(k + 1) - 2 * before + _HEADER_GC[prev, : k + 1]
        fill = length - HEADER - k
        # distance from the window once the fill bases add 0..fill G/C (0 = reachable)
        miss = np.maximum(lay.gc_lo - fill - gc, 0) + np.maximum(gc - lay.gc_hi, 0)
        centre = np.abs(2 * gc + fill - length)
        order = np.argsort(miss * 4 * length + centre, axis=1, kind="stable")
        for attempt in range(min(ATTEMPTS, k + 1)):
            rows = np.flatnonzero(~done)
            if not len(rows):
                break
            v = order[rows, attempt]
            rows, v = rows[miss[rows, v] == 0], v[miss[rows, v] == 0]
            if not len(rows):
                break
            s = stream[rows]
            body = np.where(np.arange(k) < v[:, None], FLIP[s], s)
            block = np.concatenate([_HEADERS[prev[rows], v], body], axis=1)
            block, fits = self._fill(tail[rows], block, length, lay)
            fits &= self._valid(tail[rows], block)
            out[rows[fits]] = block[fits]
            done[rows[fits]] = True
        rest = np.flatnonzero(~done)
        if len(rest):
            out[rest] = self._fallback(bits[rest], ctx[rest], tail[rest], prev[rest], lay)
        return out

    def _fill(
        self, tail: np.ndarray, block: np.ndarray, length: int, lay: _Layout
    ) -> tuple[np.ndarray, np.ndarray]:
        """Append the fill bases: junction-safe, GC inside the window and nearest 50 %."""
        n = len(block)
        f = length - block.shape[1]
        out = np.concatenate([block, np.zeros((n, f), np.uint8)], axis=1)
        ok = np.ones(n, dtype=bool)
        for i in range(f):
            left = np.concatenate([tail, out[:, : block.shape[1] + i]], axis=1)
            right = np.zeros((n, 0), np.uint8)
            allowed = valid_inserts(left[:, -self.reach :], right, self.constraints)
            gc_now = GC_BASE[out[:, : block.shape[1] + i]].sum(axis=1).astype(np.int64)
            left_after = f - i - 1  # later fill bases can still add 0..left_after
            best = np.full(n, np.inf)
            pick = np.zeros(n, np.uint8)
            for base in range(4):
                g = gc_now + int(GC_BASE[base])
                reach = (g + left_after >= lay.gc_lo) & (g <= lay.gc_hi)
                cost = np.abs(2 * g + left_after - length).astype(np.float64)
                cost[~(allowed[:, base] & reach)] = np.inf
                better = cost < best
                best[better], pick[better] = cost[better], base
            ok &= np.isfinite(best)
            out[:, block.shape[1] + i] = pick
        gc = GC_BASE[out].sum(axis=1)
        return out, ok & (gc >= lay.gc_lo) & (gc <= lay.gc_hi)

    def _fallback(
        self, bits: np.ndarray, ctx: np.ndarray, tail: np.ndarray, prev: np.ndarray, lay: _Layout
    ) -> np.ndarray:
        """Blocks the stream cannot be written verbatim into: a fallback header value whose
        junction with the context is valid, then the enumerative code of the bits."""
        n = len(bits)
        values = np.full(n, -1)
        for value in range(N_VALUES - 1, lay.stream, -1):
            rows = np.flatnonzero(values < 0)
            if not len(rows):
                break
            good = self._valid(tail[rows], _HEADERS[prev[rows], value])
            values[rows[good]] = value
        if (values < 0).any():  # cannot happen with sane constraints; never emit junk
            raise RuntimeError("verbatim coder: no valid fallback header")
        header = _HEADERS[prev, values]
        m = lay.length - HEADER
        cap = lay.fallback.capacity(m)
        padded = np.zeros((n, cap), dtype=np.uint8)
        padded[:, : bits.shape[1]] = bits
        body = lay.fallback.encode(padded, m, np.concatenate([ctx, header], axis=1))
        return np.concatenate([header, body], axis=1)

    # -- decoding ---------------------------------------------------------------------------
    def _header_values(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, ...]:
        bases = np.asarray(bases, dtype=np.uint8)
        ctx = self._context(context, len(bases))
        trits, ok = bases_to_trits(bases[:, :HEADER], self._previous(ctx, len(bases)))
        return (trits.astype(np.int64) * 3 ** np.arange(HEADER)).sum(axis=1), ok

    def is_fallback(self, bases: np.ndarray, context: np.ndarray) -> np.ndarray:
        """Which blocks were written by the enumerative fallback (for reports)."""
        v, _ = self._header_values(bases, context)
        return v > self._layout(np.asarray(bases).shape[1]).stream

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bases = np.asarray(bases, dtype=np.uint8)
        n, length = bases.shape
        lay = self._layout(length)
        k = lay.stream
        ctx = self._context(context, n)
        v, ok = self._header_values(bases, ctx)
        ok &= (bases < 4).all(axis=1)
        bits = np.zeros((n, 2 * k), dtype=np.uint8)
        plain = v <= k
        s = bases[plain, HEADER : HEADER + k]
        bits[plain] = bases_to_bits(np.where(np.arange(k) < v[plain, None], FLIP[s], s))
        fb = np.flatnonzero(~plain)
        if len(fb):
            got, fok = lay.fallback.decode(
                bases[fb, HEADER:], np.concatenate([ctx[fb], bases[fb, :HEADER]], axis=1)
            )
            bits[fb] = got[:, : 2 * k]
            ok[fb] &= fok & ~got[:, 2 * k :].any(axis=1)
        return bits, ok


@hookimpl
def register_coders(register):
    register("verbatim", VerbatimCoder)
