"""``naive``: 00->A, 01->C, 10->G, 11->T. Two bits per nucleotide and no constraint at all: the
baseline of the HELIX paper's Table 3 and of ablations (``helix probe`` flags its violations)."""

from __future__ import annotations

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.hookspecs import hookimpl


def bits_to_bases(bits: np.ndarray) -> np.ndarray:
    """(n, 2L) bits -> (n, L) bases, each bit pair read as a base index (MSB first)."""
    b = np.asarray(bits, dtype=np.uint8)
    return (b[:, 0::2] << 1) | b[:, 1::2]


def bases_to_bits(bases: np.ndarray) -> np.ndarray:
    b = np.asarray(bases, dtype=np.uint8)
    return np.stack([b >> 1, b & 1], axis=2).reshape(len(b), 2 * b.shape[1])


class NaiveCoder(ConstraintCoder):
    """Direct 2-bit mapping; ignores the context and promises nothing."""

    name = "naive"
    guarantees_constraints = False

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        return 2 * length

    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.shape[1] != 2 * length:
            raise ValueError(f"expected {2 * length} bits per block, got {bits.shape[1]}")
        return bits_to_bases(bits)

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bases = np.asarray(bases, dtype=np.uint8)
        return bases_to_bits(bases), (bases < 4).all(axis=1)


def make_naive(constraints=None, kronecker: bool = False) -> ConstraintCoder:
    """The registered factory; ``kronecker=True`` puts one fixed Kronecker transform first,
    the paper's "+Kronecker only" ablation (for benchmarks: its name is not a coder's)."""
    coder = NaiveCoder(constraints)
    if not kronecker:
        return coder
    from helix_media_builtins.coders.tkscone import KroneckerMixed

    return KroneckerMixed(coder)


@hookimpl
def register_coders(register):
    register("naive", make_naive)
