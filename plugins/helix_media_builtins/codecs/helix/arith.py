"""A bit-granular arithmetic coder with integer frequency tables.

Why not constriction's range coder: it emits 32-bit words, and a strand holds 296 payload
bits; each strand is its own message (a lost strand must lose only its own symbols), so
word-granular termination would waste up to ~40 bits per strand (>10 %). This coder
terminates in at most 2 bits plus the pending carry bits and reads past the end as zeros, and
:meth:`ArithmeticEncoder.bits_if_finished` lets a packer fill a strand greedily to the bit.

Classic 32-bit Witten–Neal–Cleary coder; pure integer arithmetic, so identical on every
machine. Frequencies are cumulative lists whose last entry is the total (<= 2**16).
"""

from __future__ import annotations

from bisect import bisect_right

PRECISION = 32
TOP = (1 << PRECISION) - 1
HALF = 1 << (PRECISION - 1)
QUARTER = 1 << (PRECISION - 2)


class ArithmeticEncoder:
    __slots__ = ("low", "high", "pending", "bits")

    def __init__(self) -> None:
        self.low, self.high, self.pending = 0, TOP, 0
        self.bits: list[int] = []

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.low, self.high, self.pending, len(self.bits)

    def restore(self, snap: tuple[int, int, int, int]) -> None:
        self.low, self.high, self.pending, n = snap
        del self.bits[n:]

    def encode(self, cum: list[int], symbol: int) -> None:
        """Code ``symbol`` with cumulative frequencies ``cum`` (cum[0] = 0, cum[-1] = total)."""
        span = self.high - self.low + 1
        total = cum[-1]
        self.high = self.low + span * cum[symbol + 1] // total - 1
        self.low = self.low + span * cum[symbol] // total
        low, high, bits = self.low, self.high, self.bits
        while True:
            if high < HALF:
                bits.append(0)
                bits.extend([1] * self.pending)
                self.pending = 0
            elif low >= HALF:
                bits.append(1)
                bits.extend([0] * self.pending)
                self.pending = 0
                low -= HALF
                high -= HALF
            elif low >= QUARTER and high < HALF + QUARTER:
                self.pending += 1
                low -= QUARTER
                high -= QUARTER
            else:
                break
            low <<= 1
            high = (high << 1) | 1
        self.low, self.high = low, high

    def bits_if_finished(self) -> int:
        return len(self.bits) + self.pending + 2

    def finish(self) -> list[int]:
        """The message's bits; the decoder reads any bits after them as zeros."""
        self.pending += 1
        if self.low < QUARTER:
            self.bits.append(0)
            self.bits.extend([1] * self.pending)
        else:
            self.bits.append(1)
            self.bits.extend([0] * self.pending)
        while self.bits and self.bits[-1] == 0:  # trailing zeros are implied
            self.bits.pop()
        return self.bits


class ArithmeticDecoder:
    __slots__ = ("low", "high", "value", "bits", "pos")

    def __init__(self, bits: list[int]) -> None:
        self.bits, self.pos = bits, 0
        self.low, self.high, self.value = 0, TOP, 0
        for _ in range(PRECISION):
            self.value = (self.value << 1) | self._bit()

    def _bit(self) -> int:
        b = self.bits[self.pos] if self.pos < len(self.bits) else 0
        self.pos += 1
        return b

    def decode(self, cum: list[int]) -> int:
        span = self.high - self.low + 1
        total = cum[-1]
        target = ((self.value - self.low + 1) * total - 1) // span
        symbol = bisect_right(cum, target) - 1
        self.high = self.low + span * cum[symbol + 1] // total - 1
        self.low = self.low + span * cum[symbol] // total
        low, high, value = self.low, self.high, self.value
        while True:
            if high < HALF:
                pass
            elif low >= HALF:
                low -= HALF
                high -= HALF
                value -= HALF
            elif low >= QUARTER and high < HALF + QUARTER:
                low -= QUARTER
                high -= QUARTER
                value -= QUARTER
            else:
                break
            low <<= 1
            high = (high << 1) | 1
            value = (value << 1) | self._bit()
        self.low, self.high, self.value = low, high, value
        return symbol
