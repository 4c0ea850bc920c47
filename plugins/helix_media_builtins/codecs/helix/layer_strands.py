"""Enhancement-layer symbols <-> strand-sized slices, each decodable on its own.

A layer of a GOP is a long run of small integers (most of them 0), one per latent element,
position by position with the channels innermost (the positions' order is the codec's:
:func:`.codec.layer_positions`, interleaved in masked model sets). Slices are
filled greedily to the bit: a header (first element, element count), then the elements
arithmetic-coded with one static table per (layer, channel). A lost strand loses only its own
run of elements; the decoder falls back to the coarser layers there.

The coder is the 32-bit Witten-Neal-Cleary coder of :mod:`.arith` (the same integer steps,
so identical on every machine), compiled with numba: a layer holds ~10^5 elements per GOP at
320 x 240, too many for Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PRECISION = 32
TOP = (1 << PRECISION) - 1
HALF = 1 << (PRECISION - 1)
QUARTER = 1 << (PRECISION - 2)
COUNT_BITS = 16
MAX_COUNT = (1 << COUNT_BITS) - 1


def index_bits(n: int) -> int:
    return max(1, int(n).bit_length())


@njit(cache=True)
def _emit(buf, nb, bit, pending):
    for j in range(1 + pending):
        if nb < buf.shape[0]:
            buf[nb] = bit if j == 0 else 1 - bit
        nb += 1
    return nb


@njit(cache=True)
def _write_int(out, pos, value, nbits):
    for i in range(nbits):
        out[pos + i] = (value >> (nbits - 1 - i)) & 1


@njit(cache=True)
def _pack(symbols, table_of, cum, slice_bits, ibits):
    n = symbols.shape[0]
    budget = slice_bits - ibits - COUNT_BITS
    cap = 16
    out = np.zeros((cap, slice_bits), np.uint8)
    buf = np.zeros(slice_bits + 256, np.uint8)
    k, start = 0, 0
    while start < n:
        low, high, pending, nb, count = 0, TOP, 0, 0, 0
        while start + count < n and count < MAX_COUNT:
            s_low, s_high, s_pending, s_nb = low, high, pending, nb
            i = start + count
            t, sym = table_of[i], symbols[i]
            total = cum[t, cum.shape[1] - 1]
            span = high - low + 1
            high = low + span * cum[t, sym + 1] // total - 1
            low = low + span * cum[t, sym] // total
            while True:
                if high < HALF:
                    nb = _emit(buf, nb, 0, pending)
                    pending = 0
                elif low >= HALF:
                    nb = _emit(buf, nb, 1, pending)
                    pending = 0
                    low -= HALF
                    high -= HALF
                elif low >= QUARTER and high < HALF + QUARTER:
                    pending += 1
                    low -= QUARTER
                    high -= QUARTER
                else:
                    break
                low <<= 1
                high = (high << 1) | 1
            if nb + pending + 2 > budget:
                low, high, pending, nb = s_low, s_high, s_pending, s_nb
                break
            count += 1
        if count == 0:
            return out[:0], -1
        pending += 1  # finish: the decoder reads the bits after these as zeros
        nb = _emit(buf, nb, 0 if low < QUARTER else 1, pending)
        if k == cap:
            bigger = np.zeros((2 * cap, slice_bits), np.uint8)
            bigger[:cap] = out
            out, cap = bigger, 2 * cap
        _write_int(out[k], 0, start, ibits)
        _write_int(out[k], ibits, count, COUNT_BITS)
        out[k, ibits + COUNT_BITS : ibits + COUNT_BITS + nb] = buf[:nb]
        k += 1
        start += count
    return out[:k], 0


@njit(cache=True)
def _read_bit(bits, pos):
    return bits[pos] if pos < bits.shape[0] else 0


@njit(cache=True)
def _unpack(bits, table_of, cum, n, ibits, symbols, received):
    start, count = 0, 0
    for i in range(ibits):
        start = (start << 1) | bits[i]
    for i in range(COUNT_BITS):
        count = (count << 1) | bits[ibits + i]
    if count == 0 or start + count > n:
        return False
    pos = ibits + COUNT_BITS
    low, high, value = 0, TOP, 0
    for _ in range(PRECISION):
        value = (value << 1) | _read_bit(bits, pos)
        pos += 1
    last = cum.shape[1] - 1
    for i in range(start, start + count):
        t = table_of[i]
        total = cum[t, last]
        span = high - low + 1
        target = ((value - low + 1) * total - 1) // span
        sym = 0
        while sym + 1 < last and cum[t, sym + 1] <= target:
            sym += 1
        high = low + span * cum[t, sym + 1] // total - 1
        low = low + span * cum[t, sym] // total
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
            value = (value << 1) | _read_bit(bits, pos)
            pos += 1
        symbols[i] = sym
        received[i] = True
    return True


def pack(symbols: np.ndarray, table_of: np.ndarray, cum: np.ndarray, slice_bits: int) -> np.ndarray:
    """Symbols (n,) in 0..S-1, the table of each (n,), cumulative tables (T, S + 1) ->
    slices (k, slice_bits) uint8 bits."""
    n = len(symbols)
    out, err = _pack(
        symbols.astype(np.int64), table_of.astype(np.int64), cum, slice_bits, index_bits(n)
    )
    if err:
        raise ValueError(f"one symbol does not fit a {slice_bits}-bit slice")
    return out


def unpack(
    slices: list[np.ndarray | None], n: int, table_of: np.ndarray, cum: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Slices (None = lost) -> (symbols (n,), received (n,) bool). A slice whose header is
    impossible (a miscorrected strand) is ignored."""
    symbols, received = np.zeros(n, np.int64), np.zeros(n, bool)
    tables = table_of.astype(np.int64)
    for s in slices:
        if s is not None:
            _unpack(s.astype(np.uint8), tables, cum, n, index_bits(n), symbols, received)
    return symbols, received


def cumulative(counts: np.ndarray) -> np.ndarray:
    """Frequency tables (T, S), every entry >= 1, totals <= 2**16 -> cumulative (T, S + 1)."""
    return np.concatenate([np.zeros((len(counts), 1), np.int64), counts.cumsum(-1)], -1)
