"""The framer plugin API: addressed payload bits <-> whole synthesizable strands.

A framer owns the strand layout (primers, address, payload, error correction). It uses a
constraint coder for the payload, so the same framer works with any registered coder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, StrandReport, check


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
    #: The read path trims reads by these (uint8 bases) and clusters them by the bases of
    #: ``[len(primer5), cluster_span)`` through :meth:`cluster_keys`.
    primer5: np.ndarray
    primer3: np.ndarray
    cluster_span: int = 36
    #: True when :meth:`frame` and :meth:`parse` take ``key=`` (an archive's identity, 32
    #: bits, 0 = none) and data strands framed under one key fail to parse under another, so
    #: a stranger's strands are never decoded into an archive. Metadata strands are unkeyed.
    keyed: bool = False
    #: True when :meth:`frame` maps each (address, payload) row to one strand on its own, so
    #: shards of the rows may be framed apart (on a cluster) and concatenated.
    strand_by_strand: bool = True

    def describe(self) -> dict:
        """The framer's name and parameters, stored in the metadata (``"framer"``): what a
        decoder needs to rebuild it."""
        return {"name": self.name}

    def at_length(self, length: int) -> Framer | None:
        """This framer laid out for ``length``-nt strands (the same primers and parameters),
        or None where it has no layout of that length. A framer whose layout follows from
        the length alone lets a decoder read strands of any length it supports with no hint:
        the length comes from the strands (a ``.dnapkt`` header, the commonest read length)
        and the metadata strands, laid out for it, record it again (``describe``)."""
        return self if length == self.strand_length else None

    def check(self, strands: np.ndarray) -> StrandReport:
        """Constraint figures of whole strands (framers may discount their own primers)."""
        return check(strands, self.constraints)

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

    def metadata_candidates(self, strands: np.ndarray) -> np.ndarray:
        """Which strands may be metadata strands (parsed to find the metadata, before the data
        coder and key are known). Default: all of them."""
        return np.ones(len(strands), dtype=bool)

    def cluster_keys(self, bases: np.ndarray) -> np.ndarray:
        """(m, cluster_span - len(primer5)) bases right after the 5' primer -> cluster key per
        read (int64, -1 = unreadable). Default: the bases themselves (exact match); framers
        with an error-correcting address code correct them first."""
        b = np.minimum(np.asarray(bases, dtype=np.int64), 3)
        return (b << (2 * np.arange(b.shape[1])[::-1])).sum(axis=1)

    def address_keys(self, addresses: np.ndarray) -> np.ndarray | None:
        """The cluster keys (as :meth:`cluster_keys` gives them) of strands at ``addresses``,
        so reads or strands of an address range are picked before decoding (pools); None
        when the framer cannot tell."""
        return None

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
        erasures: np.ndarray | None = None,
    ) -> ParsedStrands:
        """(n, strand_length) bases -> :class:`ParsedStrands`; strands whose address is a
        metadata address are decoded with ``metadata_coder``. ``erasures`` (n, strand_length)
        marks bases that consensus found unreliable (for errors-and-erasures decoding)."""
