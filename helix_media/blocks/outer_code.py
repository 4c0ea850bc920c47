"""Outer erasure code across strands: lost strands cost nothing up to the chosen redundancy.

The data strands are split into segments; each segment of ``k`` strands gets
``ceil(redundancy * k)`` parity strands from a systematic Reed-Solomon code in Cauchy form over
GF(2^m), one codeword per symbol column (strand payload = ``s`` symbols of ``m`` bits). The
code is MDS: *any* ``k`` of a segment's strands give back all of its data, and recovery
solves only for the missing strands (a small Cauchy system, always invertible). Products and
solutions run on cached compiled kernels (:mod:`.gf2m`); ``galois`` (which compiles its own
in every process) locates the rare wrong blocks (:mod:`.outer_check`).

The inner code (per-strand RS) and consensus say which strands are missing or unreadable,
so every parity strand fills one hole; the parity strands a segment has to spare check the
rest, and find the rare wrong block the inner code passed as right (:mod:`.outer_check`).

Protection can be unequal: ``ranges`` gives ranges of data strands (streams: a layered codec's
base layer, audio) their own redundancy, so the strands everything else depends on get more
parity than refinements whose loss costs only detail.

The default redundancy is *auto* (:func:`auto_redundancy`): each segment gets the parity
strands that leave it whole, with probability at least 1 - 10^-6, when every strand is lost
independently with probability 2 % (ordinary dropout). Small segments need a larger share
(random loss varies more, relative to k): 100 strands get 12 % parity, 1000 get 4.6 %, 3700
get 3.3 %. The result is an ordinary redundancy R, recorded as any other, so readers need
nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import ceil, exp, floor, lgamma, log
from typing import Any, NamedTuple

import numpy as np

from helix_media.blocks import gf2m, outer_check

MAX_SYMBOL_BITS = 16
#: what the default (auto) outer code is sized for: each strand lost independently with this
#: probability ...
DESIGN_DROPOUT = 0.02
#: ... and at most this chance that a segment loses more strands than it has parity
DESIGN_FAILURE = 1e-6


@lru_cache(maxsize=4)
def _field(m: int):
    import galois  # imported on first use: ~2 s of JIT compilation

    return galois.GF(2**m)


def choose_symbol_bits(block_bits: int) -> int:
    """The symbol size that uses most of a strand's payload bits, nearest to 12 bits (segments
    of up to 4096 strands keep recovery cheap while averaging out random loss)."""
    return max(range(8, MAX_SYMBOL_BITS + 1), key=lambda m: (block_bits // m * m, -abs(m - 12), -m))


@lru_cache(maxsize=4096)
def parity_needed(k: int, dropout: float = DESIGN_DROPOUT, failure: float = DESIGN_FAILURE) -> int:
    """The fewest parity strands ``m`` for a segment of ``k`` data strands such that losing
    each of its ``k + m`` strands with probability ``dropout`` loses more than ``m`` (data
    lost) with probability at most ``failure`` (exact binomial tail)."""
    if k <= 0:
        return 0
    m = int(k * dropout)
    while _binomial_tail(k + m, m, dropout) > failure:
        m += 1
    return m


def _binomial_tail(n: int, m: int, p: float) -> float:
    """P(X > m) for X ~ Binomial(n, p), summed from the top side (exact where it is tiny)."""
    total, log_p, log_q = 0.0, log(p), log(1 - p)
    for j in range(m + 1, n + 1):
        term = exp(lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1) + j * log_p + (n - j) * log_q)
        total += term
        if j > n * p and term < total * 1e-12:
            break
    return total


@dataclass(frozen=True)
class Auto:
    """A ``redundancy`` of auto sized for strands lost independently with probability
    ``loss`` (a sequencing plan's, :mod:`helix_media.channel.read_plan`); ``None`` as a
    redundancy is auto at :data:`DESIGN_DROPOUT`."""

    loss: float = DESIGN_DROPOUT


#: what a ``redundancy`` parameter takes: a rate, auto (None) or auto for a strand loss
Redundancy = float | Auto | None


def auto_redundancy(data_strands: int, block_bits: int, loss: float = DESIGN_DROPOUT) -> float:
    """The default redundancy for ``data_strands`` strands of ``block_bits``: the shortest
    decimal R that gives every segment :func:`parity_needed` parity strands for strand
    ``loss`` (exactly, where one R can; segments one strand apart in size may need one
    more)."""
    if data_strands <= 0:
        return 0.0
    m_bits = choose_symbol_bits(block_bits)
    r = 0.0
    while True:
        segments = OuterCode(r, block_bits, data_strands, m_bits).segments()
        need = [(parity_needed(s.data_count, loss), s) for s in segments]
        if r and all(s.parity_count >= m for m, s in need):
            return r
        sizes = [(m, s.data_count) for m, s in need]
        r = max(r, _shortest_rate(sizes))


def _shortest_rate(sizes: list[tuple[int, int]]) -> float:
    """The decimal R with fewest digits (a short number in the metadata) that gives each
    (parity needed m, data strands k) ceil(R * k) == m parity strands, or >= m if none does."""
    for exact in (True, False):
        for digits in range(2, 13):
            scale = 10**digits
            r = max((floor((m - 1) / k * scale + 1e-9) + 1) / scale for m, k in sizes)
            got = [(ceil(r * k), m) for m, k in sizes]
            if all(g == m if exact else g >= m for g, m in got):
                return r
    raise AssertionError("no redundancy fits")  # pragma: no cover - r = 1 always does


class Recovery(NamedTuple):
    """What :meth:`OuterCode.recover` did: data strands rebuilt, data strands still lost,
    blocks (data or parity) found wrong and replaced."""

    recovered: int
    missing: int
    wrong: int


@dataclass(frozen=True)
class Segment:
    data_start: int
    data_count: int
    parity_start: int  # strand index of the segment's first parity strand
    parity_count: int


Range = tuple[int, int, float]  # first data strand, count, redundancy


@dataclass(frozen=True)
class OuterCode:
    redundancy: float  # of every data strand, unless ``ranges`` is given (then 0)
    block_bits: int  # payload bits of every strand (data and parity)
    data_strands: int
    symbol_bits: int
    ranges: tuple[Range, ...] = ()  # disjoint, ascending; strands outside them get no parity

    @classmethod
    def create(
        cls, redundancy: float, block_bits: int, data_strands: int, ranges: tuple[Range, ...] = ()
    ) -> OuterCode:
        if ranges:
            _check_ranges(ranges, data_strands)
            return cls(0.0, block_bits, data_strands, choose_symbol_bits(block_bits), ranges)
        if not 0 < redundancy <= 4:
            raise ValueError(f"redundancy must be in (0, 4], got {redundancy}")
        return cls(redundancy, block_bits, data_strands, choose_symbol_bits(block_bits))

    @classmethod
    def for_streams(
        cls,
        redundancy: Redundancy,
        by_stream: dict[str, float | None],
        streams: dict[str, tuple[int, int]],
        block_bits: int,
    ) -> OuterCode | None:
        """The code that gives each stream (name -> first data strand, count) the redundancy
        ``by_stream`` names, the others ``redundancy``: the plain code where all are equal
        (the same strands as :meth:`create`), else ranges; None where all are 0. A rate of
        None or :class:`Auto` is auto (:func:`auto_redundancy`), sized for all the strands
        it covers."""
        n = sum(count for _, count in streams.values())
        rates = {name: by_stream.get(name, redundancy) for name in streams}

        def rate(r, k: int) -> float:
            if r is None or isinstance(r, Auto):
                return auto_redundancy(k, block_bits, (r or Auto()).loss)
            return r

        if len(set(rates.values())) <= 1:
            r = rate(next(iter(rates.values()), 0.0), n)
            return cls.create(r, block_bits, n) if n and r else None
        ranges = sorted(
            (*streams[k], rate(r, streams[k][1]))
            for k, r in rates.items()
            if (r is None or r) and streams[k][1]
        )
        return cls.create(0.0, block_bits, n, tuple(ranges)) if ranges else None

    @property
    def symbols(self) -> int:
        return self.block_bits // self.symbol_bits

    @property
    def data_bits(self) -> int:
        """Bits of each data block the code protects: pack data into this many, pad to
        ``block_bits`` (nothing is padded when ``symbol_bits`` divides ``block_bits``)."""
        return self.symbols * self.symbol_bits

    def segments(self) -> list[Segment]:
        """Balanced segments of at most 2**m strands (data + parity) each, per range; parity
        strands follow all data strands, in the same order."""
        out, parity_start = [], self.data_strands
        for first, n, redundancy in self.ranges or ((0, self.data_strands, self.redundancy),):
            k_max = int((2**self.symbol_bits) // (1 + redundancy))
            count = max(1, ceil(n / k_max))
            start = first
            for k in (n // count + (i < n % count) for i in range(count)):
                m = ceil(redundancy * k) if k else 0
                out.append(Segment(start, k, parity_start, m))
                start += k
                parity_start += m
        return out

    @property
    def parity_strands(self) -> int:
        return sum(s.parity_count for s in self.segments())

    def to_json(self) -> dict[str, Any]:
        # ranges get their own scheme name: a reader that knows only "rs-cauchy" refuses them
        # instead of solving for the wrong segments
        common = {
            "block_bits": self.block_bits,
            "data_strands": self.data_strands,
            "symbol_bits": self.symbol_bits,
        }
        if self.ranges:
            return {"scheme": "rs-cauchy-ranges", **common, "ranges": [*map(list, self.ranges)]}
        return {"scheme": "rs-cauchy", "redundancy": self.redundancy, **common}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OuterCode:
        scheme = d.get("scheme")
        if scheme not in ("rs-cauchy", "rs-cauchy-ranges"):
            raise ValueError(f"unknown outer code {scheme!r}")
        bits, n, m = (d.get(k) for k in ("block_bits", "data_strands", "symbol_bits"))
        if not all(_is_int(v) for v in (bits, n, m)):
            raise ValueError("outer code fields must be numbers")
        if not (1 <= m <= 16 and m <= bits <= 1 << 16 and 0 <= n < 1 << 30):
            raise ValueError("outer code fields out of range")
        if scheme == "rs-cauchy":
            r = d.get("redundancy")
            if not (isinstance(r, (int, float)) and not isinstance(r, bool)):
                raise ValueError("outer code fields must be numbers")
            if not 0 < r <= 4:
                raise ValueError("outer code fields out of range")
            return cls(r, bits, n, m)
        ranges = d.get("ranges")
        if not (isinstance(ranges, list) and ranges and all(
            isinstance(x, list) and len(x) == 3 and _is_int(x[0]) and _is_int(x[1])
            and isinstance(x[2], (int, float)) and not isinstance(x[2], bool) for x in ranges
        )):  # fmt: skip
            raise ValueError("outer code ranges must be [first, count, redundancy] lists")
        ranges = tuple((int(a), int(b), float(r)) for a, b, r in ranges)
        _check_ranges(ranges, n)
        return cls(0.0, bits, n, m, ranges)

    # -- bits <-> symbols ---------------------------------------------------------------------
    def _to_symbols(self, blocks: np.ndarray) -> np.ndarray:
        bits = np.asarray(blocks, dtype=np.int64)[:, : self.data_bits]
        bits = bits.reshape(len(bits), self.symbols, self.symbol_bits)
        return (bits << np.arange(self.symbol_bits)[::-1]).sum(axis=2)

    def _to_blocks(self, symbols) -> np.ndarray:
        v = np.asarray(symbols, dtype=np.int64)
        bits = (v[:, :, None] >> np.arange(self.symbol_bits)[::-1]) & 1
        out = np.zeros((len(v), self.block_bits), dtype=np.uint8)
        out[:, : self.data_bits] = bits.reshape(len(v), -1)
        return out

    def _cauchy(self, seg: Segment) -> np.ndarray:
        return gf2m.cauchy(seg.parity_count, seg.data_count, self.symbol_bits)  # (parity, data)

    # -- both ways ------------------------------------------------------------------------------
    def parity(self, data_blocks: np.ndarray) -> np.ndarray:
        """(data_strands, block_bits) bits -> (parity_strands, block_bits) parity blocks."""
        if len(data_blocks) != self.data_strands:
            raise ValueError("outer code: wrong number of data blocks")
        out = []
        for seg in self.segments():
            if seg.parity_count:
                rows = data_blocks[seg.data_start : seg.data_start + seg.data_count]
                product = gf2m.matmul(self._cauchy(seg), self._to_symbols(rows), self.symbol_bits)
                out.append(self._to_blocks(product))
        return np.concatenate(out) if out else np.zeros((0, self.block_bits), dtype=np.uint8)

    def recover(self, blocks: dict[int, np.ndarray], check: bool = True) -> Recovery:
        """Fill missing data strands of ``blocks`` (strand index -> bits) in place, after
        replacing the blocks that the spare parity strands show to be wrong
        (:mod:`.outer_check`; ``check`` False: no checks, for strands that cannot hold a
        miscorrection, such as a clean ``.dnapkt``'s: then a segment that lost nothing
        costs nothing)."""
        recovered = missing = wrong = 0
        for seg in self.segments():
            r, m, w = self._recover_segment(seg, blocks, check)
            recovered, missing, wrong = recovered + r, missing + m, wrong + w
        missing += sum(i not in blocks for i in self.unprotected())
        return Recovery(recovered, missing, wrong)

    def _recover_segment(
        self, seg: Segment, blocks: dict[int, np.ndarray], check: bool
    ) -> Recovery:
        lost = [c for c in range(seg.data_count) if seg.data_start + c not in blocks]
        rows = [j for j in range(seg.parity_count) if seg.parity_start + j in blocks]
        if len(lost) > len(rows):
            return Recovery(0, len(lost), 0)
        rows = rows if check else rows[: len(lost)]
        if not rows:
            return Recovery(0, 0, 0)
        gone = set(lost)
        known = [c for c in range(seg.data_count) if c not in gone]
        bits = self.symbol_bits
        cauchy = self._cauchy(seg)
        data = None
        for checks in (outer_check.DETECT, outer_check.CHECKS):  # few to see, more to place
            use = rows[: len(lost) + checks]
            y = self._to_symbols(np.stack([blocks[seg.parity_start + j] for j in use]))
            if known:
                if data is None:
                    data = self._to_symbols(np.stack([blocks[seg.data_start + c] for c in known]))
                y = y ^ gf2m.matmul(cauchy[np.ix_(use, known)], data, bits)
            solved, res = outer_check.residual(y, cauchy, use, lost, bits)
            if not res.any() or len(use) == len(rows):
                break
        if res.any():
            gf = _field(bits)  # (galois: rank and null space, only where a block is wrong)
            found = outer_check.locate(gf(res), gf(cauchy), use, lost, known)
            if found:
                for c in found[0]:
                    del blocks[seg.data_start + c]
                for j in found[1]:
                    del blocks[seg.parity_start + j]
                r, m, w = self._recover_segment(seg, blocks, check)
                return Recovery(r, m, w + len(found[0]) + len(found[1]))
        if solved is not None:
            for c, block in zip(lost, self._to_blocks(solved), strict=True):
                blocks[seg.data_start + c] = block
        return Recovery(len(lost), 0, 0)

    def unprotected(self) -> list[int]:
        """Data strands outside the ranges (no parity: any loss there is data lost)."""
        if not self.ranges:
            return []
        inside = {i for first, n, _ in self.ranges for i in range(first, first + n)}
        return [i for i in range(self.data_strands) if i not in inside]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_ranges(ranges: tuple[Range, ...], data_strands: int) -> None:
    end = 0
    for first, count, redundancy in ranges:
        if not (first >= end and count > 0 and first + count <= data_strands):
            raise ValueError("outer code ranges must be disjoint, ascending data strands")
        if not 0 < redundancy <= 4:
            raise ValueError(f"redundancy must be in (0, 4], got {redundancy}")
        end = first + count
