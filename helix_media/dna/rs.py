"""Reed-Solomon over GF(256) with reedsolo's conventions (prime 0x11d, generator 2, fcr 0).

Encoding and the syndrome check are linear maps, so they run vectorized over all strands;
only the strands whose check fails go through the compiled errors-and-erasures decoder
(:mod:`.rs_kernels`, numba; each known erasure costs half an error), which gives reedsolo's
results ~25x faster.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import reedsolo


@lru_cache(maxsize=8)
def _codec(nsym: int) -> reedsolo.RSCodec:
    return reedsolo.RSCodec(nsym)


@lru_cache(maxsize=1)
def _mul_table() -> np.ndarray:
    a = np.arange(256)
    return np.array([[reedsolo.gf_mul(int(x), int(y)) for y in a] for x in a], dtype=np.uint8)


@lru_cache(maxsize=8)
def _parity_matrix(k: int, nsym: int) -> np.ndarray:
    """Row i = parity of the message with a single 1 at position i."""
    rows = []
    for i in range(k):
        msg = bytearray(k)
        msg[i] = 1
        rows.append(list(_codec(nsym).encode(msg)[k:]))
    return np.array(rows, dtype=np.uint8)


def parity(messages: np.ndarray, nsym: int) -> np.ndarray:
    """(n, k) bytes -> (n, nsym) parity bytes, bit-identical to ``reedsolo.RSCodec(nsym)``."""
    msg = np.asarray(messages, dtype=np.uint8)
    p = _parity_matrix(msg.shape[1], nsym)
    products = _mul_table()[msg[:, :, None], p[None, :, :]]
    return np.bitwise_xor.reduce(products, axis=1)


def decode(
    messages: np.ndarray, parities: np.ndarray, erasures: np.ndarray, margin: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Correct (n, k) messages given (n, nsym) parities; ``erasures`` (n, k + nsym) marks
    symbols known to be unreliable (an erasure costs half an error, so up to ``nsym`` of them
    are corrected). ``margin`` parity symbols are kept for detection: a word needing
    2 * errors + erasures > nsym - margin is rejected rather than risk a miscorrection.
    Returns (messages, ok, corrected symbol count)."""
    msg = np.array(messages, dtype=np.uint8)
    n, k = msg.shape
    nsym = parities.shape[1]
    clean = (parity(msg, nsym) == parities).all(axis=1) & ~erasures.any(axis=1)
    ok = clean.copy()
    corrected = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(~clean)
    if len(rows):
        from helix_media.dna.rs_kernels import EXP, LOG, decode_words

        words = np.concatenate([msg[rows], parities[rows]], axis=1)
        erased = np.asarray(erasures[rows], dtype=bool).copy()
        # more erasures than the code can fill: keep only the first nsym parity erasures
        over = np.flatnonzero(erased.sum(axis=1) > nsym)
        for r in over:
            keep = np.flatnonzero(erased[r, k:])[:nsym] + k
            erased[r] = False
            erased[r, keep] = True
        fixed, count = decode_words(words, erased, nsym, margin, EXP, LOG)
        good = count >= 0
        msg[rows[good]] = fixed[good, :k]
        ok[rows] = good
        corrected[rows] = count
    return msg, ok, corrected
