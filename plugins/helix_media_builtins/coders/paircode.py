"""``paircode``: Dimopoulou et al.'s PAIRCODE (EUSIPCO 2019; seed 002, section II).

Codewords are concatenations of pairs from C1 = {AT, AC, AG, TA, TC, TG, CA, CT, GA, GT} (no
pair repeats a base or holds two of G/C), with one base from C2 = {A, T, C, G} at the end of an
odd-length word. A word of ``l`` nt thus has 10**(l//2) (times 4 if ``l`` is odd) values:
categories 2, 3, 4, 5 of JPEG-DNA's Table I are 10, 40, 100, 400 values. Runs never exceed 2
inside a block and GC never exceeds 50 %, but GC can fall below the window and a run can
continue the context's (``guarantees_constraints = False``). A 152-nt block is 76 decimal
digits of its bits: 252 bits (1.66 bits/nt).
"""

from __future__ import annotations

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.nucleotides import from_string
from helix_media.hookspecs import hookimpl
from helix_media_builtins.coders import radix

PAIRS = ("AT", "AC", "AG", "TA", "TC", "TG", "CA", "CT", "GA", "GT")  # C1, in the paper's order
SINGLES = "ATCG"  # C2, in the paper's order
PAIR_BASES = np.stack([from_string(p) for p in PAIRS])  # (10, 2)
SINGLE_BASES = from_string(SINGLES)
_PAIR_INDEX = np.full(16, -1, dtype=np.int64)
_PAIR_INDEX[PAIR_BASES[:, 0] * 4 + PAIR_BASES[:, 1]] = np.arange(10)
_SINGLE_INDEX = np.argsort(SINGLE_BASES)  # base -> position in C2


def count(length: int) -> int:
    """Number of PAIRCODE words of ``length`` nt."""
    return 10 ** (length // 2) * (4 if length % 2 else 1)


def digits_to_bases(pairs: np.ndarray, single: np.ndarray | None = None) -> np.ndarray:
    """(n, k) pair indices 0-9 (+ optional (n,) C2 indices 0-3) -> (n, 2k [+1]) bases."""
    pairs = np.asarray(pairs, dtype=np.int64)
    out = PAIR_BASES[pairs].reshape(len(pairs), 2 * pairs.shape[1])
    if single is not None:
        out = np.concatenate([out, SINGLE_BASES[np.asarray(single)][:, None]], axis=1)
    return out


def bases_to_digits(bases: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Inverse of :func:`digits_to_bases`: (pair indices, C2 index or None, ok)."""
    b = np.asarray(bases, dtype=np.int64)
    n, length = b.shape
    even = b[:, : length - length % 2].reshape(n, length // 2, 2)
    pairs = _PAIR_INDEX[even[:, :, 0] * 4 + even[:, :, 1]]
    ok = (pairs >= 0).all(axis=1)
    single = _SINGLE_INDEX[b[:, -1]] if length % 2 else None
    return np.maximum(pairs, 0), single, ok


def encode_values(values: np.ndarray, length: int) -> np.ndarray:
    """Integers in [0, count(length)) -> (n, length) codewords (length <= 38: uint64 math);
    most significant pair first, the C2 base as the least significant digit."""
    v = np.asarray(values, dtype=np.uint64).copy()
    if length > 38:
        raise ValueError("PAIRCODE words longer than 38 nt do not fit in 64 bits")
    single = None
    if length % 2:
        single = (v % np.uint64(4)).astype(np.int64)
        v //= np.uint64(4)
    k = length // 2
    pairs = np.empty((len(v), k), dtype=np.int64)
    for i in range(k - 1, -1, -1):
        pairs[:, i] = (v % np.uint64(10)).astype(np.int64)
        v //= np.uint64(10)
    return digits_to_bases(pairs, single)


def decode_values(bases: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, length) codewords -> (values, ok)."""
    pairs, single, ok = bases_to_digits(bases)
    v = np.zeros(len(pairs), dtype=np.uint64)
    for i in range(pairs.shape[1]):
        v = v * np.uint64(10) + pairs[:, i].astype(np.uint64)
    if single is not None:
        v = v * np.uint64(4) + single.astype(np.uint64)
    return v, ok


class PaircodeCoder(ConstraintCoder):
    """Block bits as decimal digits (uint64 chunks), each digit one C1 pair."""

    name = "paircode"
    guarantees_constraints = False

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        return radix.capacity(10, length // 2) + 2 * (length % 2)

    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.shape[1] != self.capacity(length):
            raise ValueError(
                f"expected {self.capacity(length)} bits per block, got {bits.shape[1]}"
            )
        body = bits[:, : bits.shape[1] - 2 * (length % 2)]
        single = (bits[:, -2] * 2 + bits[:, -1]).astype(np.int64) if length % 2 else None
        return digits_to_bases(radix.bits_to_digits(body, 10, length // 2), single)

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pairs, single, ok = bases_to_digits(bases)
        bits, fits = radix.digits_to_bits(pairs, 10)
        if single is not None:
            bits = np.concatenate([bits, np.stack([single >> 1, single & 1], 1)], axis=1)
        return bits.astype(np.uint8), ok & fits


@hookimpl
def register_coders(register):
    register("paircode", PaircodeCoder)
