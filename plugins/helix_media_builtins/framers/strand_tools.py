"""Helpers shared by the screening framers (``fountain``, ``hidden-address``).

These framers map bits to bases directly (2 bits per base) and keep only strands that pass the
constraints, as DNA Fountain does, instead of using a constraint coder: a pass-through coder
stands in where the framer API asks for one.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from abc import abstractmethod
from collections.abc import Iterator
from functools import cached_property

import numpy as np

from helix_media.blocks.whitening import keystream
from helix_media.dna.coder import ConstraintCoder
from helix_media.dna.constraints import Constraints, StrandReport, check, valid_inserts
from helix_media.dna.framer import Framer, ParsedStrands
from helix_media.dna.nucleotides import GC_BASE, from_string


class RawCoder(ConstraintCoder):
    """2 bits per base, no constraints: screening framers check whole strands instead."""

    name = "raw"
    guarantees_constraints = False

    def capacity(self, length: int, context: np.ndarray | None = None) -> int:
        return 2 * length

    def encode(self, bits: np.ndarray, length: int, context: np.ndarray) -> np.ndarray:
        return bits_to_bases(bits)

    def decode(self, bases: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = np.asarray(bases)
        return bases_to_bits(b), np.ones(len(b), dtype=bool)


def bits_to_bases(bits: np.ndarray) -> np.ndarray:
    """(n, 2L) bits -> (n, L) bases, two bits per base, MSB first."""
    b = np.asarray(bits, dtype=np.uint8)
    b = b.reshape(len(b), b.shape[1] // 2, 2)
    return (b[:, :, 0] << 1) | b[:, :, 1]


def bases_to_bits(bases: np.ndarray) -> np.ndarray:
    b = np.asarray(bases, dtype=np.uint8)
    return np.stack([(b >> 1) & 1, b & 1], axis=2).reshape(len(b), 2 * b.shape[1])


def int_to_bits(values: np.ndarray, width: int) -> np.ndarray:
    """(n,) non-negative ints -> (n, width) bits, MSB first."""
    v = np.asarray(values, dtype=np.uint64)
    return ((v[:, None] >> np.arange(width - 1, -1, -1, dtype=np.uint64)) & np.uint64(1)).astype(
        np.uint8
    )


def bits_to_int(bits: np.ndarray) -> np.ndarray:
    b = np.asarray(bits, dtype=np.uint64)
    return (b << np.arange(b.shape[-1] - 1, -1, -1, dtype=np.uint64)).sum(axis=-1, dtype=np.uint64)


def pack_words(bits: np.ndarray) -> np.ndarray:
    """(n, B) bits -> (n, ceil(B/64)) uint64 words (for XOR-ing blocks)."""
    b = np.asarray(bits, dtype=np.uint8)
    pad = -b.shape[1] % 64
    by = np.packbits(np.pad(b, ((0, 0), (0, pad))), axis=1)
    return by.view(">u8").astype(np.uint64)


def unpack_words(words: np.ndarray, n_bits: int) -> np.ndarray:
    by = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).astype(">u8")).view(np.uint8)
    return np.unpackbits(by.reshape(len(words), 8 * words.shape[1]), axis=1)[:, :n_bits]


def symbols(nt: np.ndarray) -> np.ndarray:
    """(n, 4s) bases -> (n, s) bytes, 4 nt per GF(256) symbol (one substitution, one symbol)."""
    q = np.asarray(nt, dtype=np.uint8)
    q = q.reshape(len(q), q.shape[1] // 4, 4)
    return (q[:, :, 0] << 6) | (q[:, :, 1] << 4) | (q[:, :, 2] << 2) | q[:, :, 3]


def symbols_to_nt(sym: np.ndarray) -> np.ndarray:
    s = np.asarray(sym, dtype=np.uint8)
    return np.stack([(s >> k) & 3 for k in (6, 4, 2, 0)], axis=2).reshape(len(s), 4 * s.shape[1])


def whiten(keys: np.ndarray, n_bits: int, salt: int) -> np.ndarray:
    """Keystream bits for each key (seed, nonce...): all-zero or repetitive data still looks
    random once XOR-ed with it, so screening accepts droplets at the same rate for any data."""
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    if len(keys) == 0:
        return np.zeros((0, n_bits), dtype=np.uint8)
    return keystream(keys, n_bits, salt)


class PrimedStrands:
    """Checks of whole strands between two fixed primers."""

    def __init__(self, primer5: np.ndarray, primer3: np.ndarray, constraints: Constraints):
        self.primer5, self.primer3, self.constraints = primer5, primer3, constraints

    def check(self, strands: np.ndarray) -> StrandReport:
        """Constraint figures of whole strands; the primers in their own places don't count."""
        s = np.asarray(strands)
        report = check(s, self.constraints)
        in_place = (s[:, : len(self.primer5)] == self.primer5).all(axis=1).astype(np.int64)
        in_place += (s[:, s.shape[1] - len(self.primer3) :] == self.primer3).all(axis=1)
        report.motif_hits = report.motif_hits - in_place
        return report

    def ok(self, strands: np.ndarray) -> np.ndarray:
        return self.check(strands).ok(self.constraints)

    def choose_fillers(self, strands: np.ndarray, positions: tuple[int, ...]) -> np.ndarray:
        """Set the filler bases at ``positions`` so no run or motif goes through them and GC is
        as near 50 % as they can make it. Returns False for strands with no valid choice."""
        c = self.constraints
        span = max(len(m) for m in c.motifs) - 1
        n, length = strands.shape
        valid = [
            valid_inserts(strands[:, max(0, f - span) : f], strands[:, f + 1 : f + 1 + span], c)
            for f in positions
        ]
        gc_rest = GC_BASE[strands].sum(axis=1).astype(np.int64)
        gc_rest -= sum(GC_BASE[strands[:, f]].astype(np.int64) for f in positions)
        best_cost = np.full(n, np.inf)
        best = np.zeros((n, len(positions)), dtype=np.uint8)
        for combo in np.ndindex(*(4,) * len(positions)):
            ok = np.ones(n, dtype=bool)
            for v, b in zip(valid, combo, strict=True):
                ok &= v[:, b]
            gc = gc_rest + int(GC_BASE[list(combo)].sum())
            cost = np.where(ok, np.abs(2 * gc - length), np.inf)
            better = cost < best_cost
            best_cost[better] = cost[better]
            best[better] = combo
        for j, f in enumerate(positions):
            strands[:, f] = best[:, j]
        return np.isfinite(best_cost)


class ScreeningFramer(Framer):
    """What the screening framers share: primers, the whole-strand screen, a pass-through
    metadata coder, and a parse cache (the pipeline parses the same strands once per coder,
    and the coder makes no difference to these framers)."""

    overhead: float
    block_bits: int
    strand_by_strand = False  # a run of blocks becomes fountain droplets
    _cache: tuple[bytes, ParsedStrands] | None = None

    def _set_primers(self, primer5: str, primer3: str, constraints: Constraints | None) -> None:
        self.primer5, self.primer3 = from_string(primer5), from_string(primer3)
        self.constraints = (constraints or Constraints()).with_primers(primer5, primer3)
        self.screen = PrimedStrands(self.primer5, self.primer3, self.constraints)

    def density(self) -> dict:
        """Nominal density: data bits per nt of strand, before and after the overhead."""
        body = self.strand_length - len(self.primer5) - len(self.primer3)
        f = 1.0 + self.overhead
        return {
            "bits_per_strand": self.block_bits,
            "strand_nt": self.strand_length,
            "overhead": self.overhead,
            "bits_per_nt": self.block_bits / self.strand_length / f,
            "bits_per_nt_without_primers": self.block_bits / body / f,
        }

    def _describe(self, **params: object) -> dict:
        """Name and primers, then the framer's own ``params`` (in the order given)."""
        return {
            "name": self.name,
            "primer5": "".join("ACGT"[b] for b in self.primer5),
            "primer3": "".join("ACGT"[b] for b in self.primer3),
            **params,
        }

    @cached_property
    def metadata_coder(self) -> ConstraintCoder:
        return RawCoder(self.constraints)

    def check(self, strands: np.ndarray) -> StrandReport:
        return self.screen.check(strands)

    def parse(
        self,
        strands: np.ndarray,
        coder: ConstraintCoder,
        metadata_coder: ConstraintCoder | None = None,
        erasures: np.ndarray | None = None,
        key: int = 0,
    ) -> ParsedStrands:
        """Strands -> plain blocks and the blocks the droplets give back (rows don't match the
        input strands); unreadable strands come back as rows with ok=False. ``key``: the
        archive's (:attr:`.Framer.keyed`), 0 for metadata and archives written unkeyed."""
        s = np.asarray(strands, dtype=np.uint8)
        tag = hashlib.blake2b(s.tobytes() + str(s.shape).encode(), digest_size=16).digest()
        tag += int(key).to_bytes(8, "big")
        if erasures is not None:
            tag += hashlib.blake2b(np.asarray(erasures, bool).tobytes(), digest_size=16).digest()
        if self._cache is None or self._cache[0] != tag:
            self._cache = (tag, self._parse(s, erasures, int(key)))
        return self._cache[1]

    def keys_archive(self, described: dict) -> bool:
        """Whether an archive whose metadata describes its framer as ``described`` keys its
        data strands: these framers became keyed later, and say so (``keyed``)."""
        return self.keyed and bool(described.get("keyed"))

    @abstractmethod
    def _parse(self, s: np.ndarray, erasures: np.ndarray | None, key: int = 0) -> ParsedStrands:
        """Uncached :meth:`parse` of uint8 strands."""


#: A descriptor copy: magic | version 1, copy, first address, block count, a framer field | CRC
DESCRIPTOR_FORMAT = ">BBIIH"


def descriptor_bits(
    magic: bytes, copies: int, n_bits: int, first: int, n_blocks: int, field: int
) -> np.ndarray:
    """(copies, n_bits) payload bits of the descriptor copies (zero-padded), so a decoder
    learns the data segment's first address and size from any copy whose CRC holds."""
    bits = np.zeros((copies, n_bits), dtype=np.uint8)
    for copy in range(copies):
        body = magic + struct.pack(DESCRIPTOR_FORMAT, 1, copy, first, n_blocks, field)
        raw = np.unpackbits(np.frombuffer(body + struct.pack(">I", zlib.crc32(body)), np.uint8))
        bits[copy, : len(raw)] = raw
    return bits


def read_descriptors(bits: np.ndarray, magic: bytes) -> Iterator[tuple[int, int, int]]:
    """Rows of :func:`descriptor_bits` -> (first, n_blocks, field) of each copy whose magic
    and CRC hold (the caller votes among them)."""
    size = len(magic) + struct.calcsize(DESCRIPTOR_FORMAT)
    for row in np.packbits(bits, axis=1):
        body, crc = row[:size].tobytes(), row[size : size + 4].tobytes()
        if body[: len(magic)] == magic and struct.pack(">I", zlib.crc32(body)) == crc:
            _, _, first, n_blocks, field = struct.unpack(DESCRIPTOR_FORMAT, body[len(magic) :])
            yield first, n_blocks, field
