"""GF(2^m) arithmetic for the outer code, compiled and cached: the parity of an encode, and
the solution and checks of a decode.

``galois`` is the reference for the field, but it compiles its kernels in every process
(importing it, building GF(2^12) and its first matrix product took 0.8 + 0.8 + 1.5 s here),
which every encode and every decode of reads paid. These kernels give galois's results
(tested for m = 8..16) from log/antilog tables of the same field: galois's default
polynomial for GF(2^m), a Conway polynomial, so ``x`` (2) generates the field.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

#: ``galois.GF(2**m).irreducible_poly`` for each symbol size the outer code uses
POLYNOMIALS = {
    8: 0x11D,
    9: 0x211,
    10: 0x46F,
    11: 0x805,
    12: 0x10EB,
    13: 0x201B,
    14: 0x40A9,
    15: 0x8035,
    16: 0x1002D,
}


@lru_cache(maxsize=16)
def tables(m: int) -> tuple[np.ndarray, np.ndarray]:
    """(antilog, log) of GF(2^m): ``antilog[i] = x^i``, twice over so that a sum of two logs
    needs no reduction; ``log[0]`` is unused."""
    n = (1 << m) - 1
    antilog = np.empty(2 * n, dtype=np.int64)
    log = np.zeros(n + 1, dtype=np.int64)
    v = 1
    for i in range(n):
        antilog[i] = antilog[i + n] = v
        log[v] = i
        v <<= 1
        if v >> m:
            v ^= POLYNOMIALS[m]
    return antilog, log


@numba.njit(cache=True, nogil=True)
def _matmul(a, b, antilog, log):
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] == 0:
                continue
            la = log[a[i, j]]
            for c in range(b.shape[1]):
                if b[j, c] != 0:
                    out[i, c] ^= antilog[la + log[b[j, c]]]
    return out


def matmul(a: np.ndarray, b: np.ndarray, m: int) -> np.ndarray:
    """``a @ b`` over GF(2^m), for integer arrays of symbols."""
    antilog, log = tables(m)
    return _matmul(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), antilog, log)


def cauchy(rows: int, columns: int, m: int) -> np.ndarray:
    """The (rows, columns) Cauchy matrix ``1 / (x_i + y_j)`` with ``x_i = columns + i`` and
    ``y_j = j`` (sums are XOR, never 0)."""
    antilog, log = tables(m)
    s = (np.arange(columns, columns + rows)[:, None] ^ np.arange(columns)[None, :]).astype(np.int64)
    return antilog[((1 << m) - 1 - log[s]) % ((1 << m) - 1)]


@numba.njit(cache=True, nogil=True)
def _mul(x, y, antilog, log):
    return 0 if x == 0 or y == 0 else antilog[log[x] + log[y]]


@numba.njit(cache=True, nogil=True)
def _solve(a, b, antilog, log):
    """Gauss-Jordan elimination of ``a x = b`` in place; ``b`` becomes ``x``."""
    f, n = a.shape[0], len(log) - 1
    for col in range(f):
        piv = col
        while piv < f and a[piv, col] == 0:
            piv += 1
        if piv == f:
            raise ValueError("singular matrix")
        for row in (a, b):
            for c in range(row.shape[1]):
                row[col, c], row[piv, c] = row[piv, c], row[col, c]
        inv = antilog[(n - log[a[col, col]]) % n]
        for row in (a, b):
            for c in range(row.shape[1]):
                row[col, c] = _mul(row[col, c], inv, antilog, log)
        for r in range(f):
            factor = a[r, col]
            if r == col or factor == 0:
                continue
            for row in (a, b):
                for c in range(row.shape[1]):
                    row[r, c] ^= _mul(factor, row[col, c], antilog, log)
    return b


def solve(a: np.ndarray, b: np.ndarray, m: int) -> np.ndarray:
    """``x`` with ``a @ x = b`` over GF(2^m) (``a`` square and invertible, as every square
    Cauchy matrix is)."""
    antilog, log = tables(m)
    a, b = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    return _solve(a, b, antilog, log)
