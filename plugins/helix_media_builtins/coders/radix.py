"""Bits <-> base-r digits in uint64 chunks, vectorized over rows (Goldman's trits, PAIRCODE's
decimal pair indices).

A block's bits are cut into chunks of ``b`` bits, each written as ``t`` digits with
``2**b <= r**t <= 2**64``, so all arithmetic stays in uint64 (no big integers). The chunk plan
maximizes the bits carried by ``n`` digits; e.g. 152 trits carry 240 bits (= floor(152 log2 3)).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def _chunk_bits(radix: int, digits: int) -> int:
    return (radix**digits).bit_length() - 1


@lru_cache(maxsize=64)
def chunk_plan(radix: int, n_digits: int) -> tuple[tuple[int, int], ...]:
    """((digits, bits), ...) covering ``n_digits`` digits with the most bits; larger first."""
    tmax = 1
    while radix ** (tmax + 1) <= 2**64:
        tmax += 1
    best = [0] * (n_digits + 1)
    choice = [0] * (n_digits + 1)
    for d in range(1, n_digits + 1):
        for t in range(min(d, tmax), 0, -1):  # larger chunks win ties: a stable plan
            v = best[d - t] + _chunk_bits(radix, t)
            if v > best[d]:
                best[d], choice[d] = v, t
    plan, d = [], n_digits
    while d:
        plan.append((choice[d], _chunk_bits(radix, choice[d])))
        d -= choice[d]
    return tuple(sorted(plan, reverse=True))


def capacity(radix: int, n_digits: int) -> int:
    """Bits that ``n_digits`` base-``radix`` digits carry under :func:`chunk_plan`."""
    return sum(b for _, b in chunk_plan(radix, n_digits))


def bits_to_digits(bits: np.ndarray, radix: int, n_digits: int) -> np.ndarray:
    """(n, capacity) bits, MSB first -> (n, n_digits) digits, most significant first."""
    bits = np.asarray(bits, dtype=np.uint64)
    out = np.empty((bits.shape[0], n_digits), dtype=np.int64)
    r = np.uint64(radix)
    i = j = 0
    for t, b in chunk_plan(radix, n_digits):
        value = (bits[:, i : i + b] << np.arange(b - 1, -1, -1, dtype=np.uint64)).sum(
            axis=1, dtype=np.uint64
        )
        for k in range(t - 1, -1, -1):
            out[:, j + k] = (value % r).astype(np.int64)
            value //= r
        i, j = i + b, j + t
    return out


def digits_to_bits(digits: np.ndarray, radix: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, n_digits) digits -> (bits (n, capacity), ok): False where a digit is out of range or
    a chunk's value needs more than its bits (not a codeword)."""
    digits = np.asarray(digits, dtype=np.int64)
    n, n_digits = digits.shape
    ok = ((digits >= 0) & (digits < radix)).all(axis=1)
    d = np.clip(digits, 0, radix - 1).astype(np.uint64)
    out = []
    j = 0
    r = np.uint64(radix)
    for t, b in chunk_plan(radix, n_digits):
        value = np.zeros(n, dtype=np.uint64)
        for k in range(t):
            value = value * r + d[:, j + k]
        if b < 64:
            ok &= value < (np.uint64(1) << np.uint64(b))
        out.append((value[:, None] >> np.arange(b - 1, -1, -1, dtype=np.uint64)) & np.uint64(1))
        j += t
    bits = np.concatenate(out, axis=1) if out else np.zeros((n, 0), dtype=np.uint64)
    return bits.astype(np.uint8), ok
