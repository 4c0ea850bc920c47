"""GF(2) matrices for Kronecker mixing: invertible by construction, reproducible forever,
applied along one tensor axis at a time (the Kronecker product is never built).

Matrices come from SHA-256 in counter mode, not numpy's generators (whose streams may change
between numpy versions): DNA written today must decode with the library of any later release.
An invertible matrix is ``P L U`` (a permutation and unit lower / upper triangular matrices),
so it is invertible whatever the random bits; its inverse comes from Gauss-Jordan elimination
and is checked. Products along an axis are float32 matrix products (exact: sums stay far below
2**24) reduced mod 2, vectorized over blocks.
"""

from __future__ import annotations

import hashlib

import numpy as np


def hash_bits(label: str, n: int) -> np.ndarray:
    """``n`` reproducible pseudo-random bits for ``label``."""
    chunks, i = [], 0
    while 256 * len(chunks) < n:
        chunks.append(hashlib.sha256(f"{label}/{i}".encode()).digest())
        i += 1
    return np.unpackbits(np.frombuffer(b"".join(chunks), dtype=np.uint8))[:n]


def _permutation(label: str, size: int) -> np.ndarray:
    keys = hash_bits(label, 32 * size).reshape(size, 32)
    key = (keys.astype(np.uint64) << np.arange(31, -1, -1, dtype=np.uint64)).sum(axis=1)
    return np.lexsort((np.arange(size), key))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """GF(2) product of 0/1 matrices (any numpy broadcasting of ``@``)."""
    return ((a.astype(np.float32) @ b.astype(np.float32)).astype(np.int64) & 1).astype(np.uint8)


def random_invertible(size: int, label: str) -> np.ndarray:
    """A dense invertible ``size``x``size`` matrix over GF(2): P L U from ``label``'s bits."""
    r = hash_bits(label, 2 * size * size).reshape(2, size, size)
    lower = np.tril(r[0], -1) | np.eye(size, dtype=np.uint8)
    upper = np.triu(r[1], 1) | np.eye(size, dtype=np.uint8)
    perm = np.eye(size, dtype=np.uint8)[_permutation(label + "/perm", size)]
    return matmul(perm, matmul(lower, upper))


def inverse(a: np.ndarray) -> np.ndarray:
    """Inverse over GF(2) by Gauss-Jordan elimination; ValueError if singular."""
    a = np.asarray(a, dtype=np.uint8)
    n = a.shape[0]
    m = np.concatenate([a, np.eye(n, dtype=np.uint8)], axis=1)
    for col in range(n):
        rows = np.nonzero(m[col:, col])[0]
        if not len(rows):
            raise ValueError("matrix is singular over GF(2)")
        pivot = col + rows[0]
        m[[col, pivot]] = m[[pivot, col]]
        hit = m[:, col].astype(bool)
        hit[col] = False
        m[hit] ^= m[col]
    return m[:, n:].copy()


def apply_along(x: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
    """Multiply every fibre of ``x`` (bits, shape (n, ...)) along ``axis`` by ``a``, mod 2."""
    moved = np.moveaxis(x, axis, -1).astype(np.float32)
    y = (moved @ a.T.astype(np.float32)).astype(np.int64) & 1
    return np.moveaxis(y.astype(np.uint8), -1, axis)


def kronecker_apply(bits: np.ndarray, mats: tuple[np.ndarray, ...]) -> np.ndarray:
    """(n, prod(sizes)) bits -> the same bits times A_1 (x) A_2 (x) ... (row-major tensor),
    one axis at a time: O(N sum(d_i)) work instead of O(N^2) for the dense product."""
    bits = np.asarray(bits, dtype=np.uint8)
    shape = tuple(m.shape[0] for m in mats)
    x = bits.reshape((len(bits), *shape))
    for axis, a in enumerate(mats, start=1):
        x = apply_along(x, a, axis)
    return x.reshape(bits.shape)


def balanced_shape(n: int, ndim: int = 3) -> tuple[int, ...]:
    """Factor ``n`` into ``ndim`` factors as equal as possible (sorted), e.g. 288 -> (6, 6, 8)."""
    if ndim == 1:
        return (n,)
    best: tuple[int, ...] | None = None
    for f in range(1, n + 1):
        if n % f:
            continue
        rest = balanced_shape(n // f, ndim - 1)
        cand = tuple(sorted((f, *rest)))
        if best is None or max(cand) - min(cand) < max(best) - min(best):
            best = cand
    assert best is not None
    return best
