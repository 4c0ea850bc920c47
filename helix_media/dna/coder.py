"""The constraint coder plugin API: bits <-> bases of a fixed-length block.

A coder maps ``capacity(length)`` bits to ``length`` bases that obey its constraints given the
bases just before the block (``context``), so no run or motif forms across the junction.
Everything is vectorized over blocks: arrays of shape (n_blocks, ...).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from helix_media.dna.constraints import Constraints


class ConstraintCoder(ABC):
    name: str = ""
    #: True if every block it emits obeys ``constraints`` (``helix probe`` flags the others,
    #: encoding warns with their count, ``helix plugins`` says which coders promise it).
    guarantees_constraints: bool = True
    #: False for a coder that carries bases as they are (a codec's own DNA, e.g. jpeg-dna's):
    #: its data is not whitened.
    whiten: bool = True

    def __init__(self, constraints: Constraints | None = None) -> None:
        self.constraints = constraints or Constraints()

    @abstractmethod
    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        """Bits carried by every block of ``length`` bases (after any ``context``)."""

    @abstractmethod
    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        """bits (n, capacity) uint8 0/1, context (n, c) bases -> (n, length) bases."""

    @abstractmethod
    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, length) bases -> (bits (n, capacity), ok (n,) bool: False = not a codeword)."""
