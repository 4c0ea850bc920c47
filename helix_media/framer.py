"""The framer plugin API: addressed payload bits <-> whole synthesizable strands.

A framer owns the strand layout (primers, address, payload, error correction). It uses a
constraint coder for the payload, so the same framer works with any registered coder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from .coder import ConstraintCoder
from .constraints import Constraints


@dataclass
class ParsedStrands:
    """What a framer recovers from strands (all arrays have one row per input strand)."""

    addresses: np.ndarray  # int64; -1 where unreadable
    payload: np.ndarray  # (n, payload_bits) uint8 bits
    ok: np.ndarray  # bool: error correction and payload decoding succeeded
    corrected: np.ndarray  # int: symbols corrected by the inner code (-1 if failed)


class Framer(ABC):
    name: str = ""
    strand_length: int = 0
    payload_nt: int = 0  # bases of a strand that carry payload
    address_bits: int = 0
    constraints: Constraints = Constraints()

    @abstractmethod
    def payload_bits(self, coder: ConstraintCoder) -> int:
        """Data bits each strand carries with ``coder``."""

    @abstractmethod
    def frame(
        self, addresses: np.ndarray, payload: np.ndarray, coder: ConstraintCoder
    ) -> np.ndarray:
        """addresses (n,) int, payload (n, payload_bits) bits -> (n, strand_length) bases."""

    def is_metadata(self, addresses: np.ndarray) -> np.ndarray:
        """Metadata strands have the top address bit set; they are framed with the framer's
        ``metadata_coder`` whatever the data coder is, so a decoder can always read them."""
        return (np.asarray(addresses) >> (self.address_bits - 1)) & 1 == 1

    @property
    @abstractmethod
    def metadata_coder(self) -> ConstraintCoder:
        """The coder of metadata strands (fixed for the framer)."""

    @abstractmethod
    def parse(
        self,
        strands: np.ndarray,
        coder: ConstraintCoder,
        metadata_coder: ConstraintCoder | None = None,
    ) -> ParsedStrands:
        """(n, strand_length) bases -> :class:`ParsedStrands`; strands whose address is a
        metadata address are decoded with ``metadata_coder``."""
