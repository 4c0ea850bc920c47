"""Bases as small integers (A=0, C=1, G=2, T=3) and conversions, vectorized with numpy.

Strands travel through the library as ``uint8`` arrays of shape (n_strands, length).
"""

from __future__ import annotations

import numpy as np

ALPHABET = "ACGT"
_ASCII_TO_BASE = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate(ALPHABET):
    _ASCII_TO_BASE[ord(_ch)] = _i
    _ASCII_TO_BASE[ord(_ch.lower())] = _i
_BASE_TO_ASCII = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
GC_BASE = np.array([0, 1, 1, 0], dtype=np.uint8)  # C and G count towards GC content


def from_string(seq: str | bytes) -> np.ndarray:
    """'ACGT...' -> uint8 bases; raises ValueError on any other letter."""
    raw = np.frombuffer(seq.encode() if isinstance(seq, str) else seq, dtype=np.uint8)
    bases = _ASCII_TO_BASE[raw]
    if (bases == 255).any():
        bad = chr(raw[np.argmax(bases == 255)])
        raise ValueError(f"letter {bad!r} is not one of A, C, G, T")
    return bases


def to_string(bases: np.ndarray) -> str:
    return _BASE_TO_ASCII[np.asarray(bases, dtype=np.uint8)].tobytes().decode()


def to_strings(strands: np.ndarray) -> list[str]:
    text = _BASE_TO_ASCII[strands].tobytes().decode()
    n = strands.shape[1]
    return [text[i : i + n] for i in range(0, len(text), n)]


def from_strings(seqs: list[str], length: int | None = None) -> np.ndarray:
    """Equal-length strings -> (n, length) uint8 array."""
    if not seqs:
        return np.zeros((0, length or 0), dtype=np.uint8)
    n = len(seqs[0]) if length is None else length
    if any(len(s) != n for s in seqs):
        raise ValueError(f"strands differ in length (expected {n} nt)")
    return from_string("".join(seqs)).reshape(len(seqs), n)


def reverse_complement(bases: np.ndarray) -> np.ndarray:
    return (3 - np.asarray(bases))[..., ::-1]


def pack(bases: np.ndarray) -> bytes:
    """2 bits per base, 4 bases per byte, first base in the high bits (length must be % 4 == 0)."""
    b = np.asarray(bases, dtype=np.uint8).reshape(-1, 4)
    return ((b[:, 0] << 6) | (b[:, 1] << 4) | (b[:, 2] << 2) | b[:, 3]).astype(np.uint8).tobytes()


def unpack(data: bytes, length: int) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8)
    out = np.stack([(raw >> 6) & 3, (raw >> 4) & 3, (raw >> 2) & 3, raw & 3], axis=1).reshape(-1)
    return out[:length].astype(np.uint8)
