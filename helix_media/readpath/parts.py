"""What the read path's stages hand each other: trimmed reads, estimates and counts, in parts
that one process or a cluster's workers handle alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

STRONG_CLUSTER = 3  # reads sharing a key that make it a cluster others may be rescued into


@dataclass
class ReadReport:
    """What happened to the reads; every read lands in exactly one of the first five counts."""

    reads: int = 0
    clustered: int = 0
    no_primers: int = 0  # garbage, dimers, other archives' strands, heavy damage
    too_short: int = 0
    no_address: int = 0  # body found but its address unreadable (exact-length ones still used)
    not_selected: int = 0  # addresses outside the selection (another pool item's reads)
    reverse: int = 0  # reads that were reverse complements
    clusters: int = 0
    clusters_aligned: int = 0  # consensus by multiple alignment
    clusters_failed: int = 0  # consensus length wrong: no strand estimate
    clusters_split: int = 0  # two strands at one address (archives sharing primers)
    outliers: int = 0  # reads far from their cluster's consensus (chimeras, damaged address)
    estimates: int = 0  # strand estimates handed on: consensus strands + lone reads
    erased_bases: int = 0

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))

    def add(self, other: ReadReport) -> None:
        """Sum another part's counts into this one."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


@dataclass
class StrandEstimates:
    strands: np.ndarray  # (c, strand_length) consensus strands (primers restored)
    erasures: np.ndarray  # (c, strand_length) bool: positions with low agreement
    report: ReadReport = field(default_factory=ReadReport)


@dataclass
class Trimmed:
    """Trimmed reads of one part: the rows of reads that have a body, with their global
    read index. ``bodies`` holds exact-length bodies (rows where ``fixed``); ``other`` the
    rest by row (indels: aligned later)."""

    index: np.ndarray  # (n,) int64 global read index
    fixed: np.ndarray  # (n,) bool
    bodies: np.ndarray  # (n, body) uint8
    other: dict[int, np.ndarray]
    heads: np.ndarray  # (n, address_nt + 1) uint8
    has_head: np.ndarray  # (n,) bool
    keys: np.ndarray  # (n,) int64 cluster key, -1 = none
    report: ReadReport

    def take(self, rows: np.ndarray, keys: np.ndarray, report: ReadReport) -> Trimmed:
        """These rows (renumbered), with these keys."""
        where = {int(r): j for j, r in enumerate(rows.tolist())}
        return Trimmed(
            self.index[rows], self.fixed[rows], self.bodies[rows],
            {where[r]: b for r, b in self.other.items() if r in where},
            self.heads[rows], self.has_head[rows], keys, report,
        )  # fmt: skip

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (what moving the part between workers costs)."""
        arrays = (self.index, self.fixed, self.bodies, self.heads, self.has_head, self.keys)
        return sum(a.nbytes for a in arrays) + sum(b.nbytes for b in self.other.values())

    @staticmethod
    def concat(parts: Sequence[Trimmed]) -> Trimmed:
        """Several parts' rows as one part; their reports summed."""
        report, other, at = ReadReport(), {}, 0
        for p in parts:
            report.add(p.report)
            other.update({at + r: b for r, b in p.other.items()})
            at += len(p.index)
        return Trimmed(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in
              ("index", "fixed", "bodies")),
            other,
            *(np.concatenate([getattr(p, f) for p in parts]) for f in
              ("heads", "has_head", "keys")),
            report,
        )  # fmt: skip


@dataclass
class EstimatesPart:
    """One owner's strand estimates (bodies only), with what orders them."""

    keys: np.ndarray  # (c,) cluster key of each consensus or split estimate
    bodies: np.ndarray  # (c, body)
    erasures: np.ndarray  # (c, body) bool
    outlier_index: np.ndarray  # (o,) global read index of each outlier estimate
    outliers: np.ndarray  # (o, body)
    outlier_erasures: np.ndarray  # (o, body) bool
    report: ReadReport


def strong_keys(counts: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Cluster keys with ``STRONG_CLUSTER`` reads or more over all parts' key counts."""
    if not counts:
        return np.zeros(0, dtype=np.int64)
    keys, where = np.unique(np.concatenate([k for k, _ in counts]), return_inverse=True)
    total = np.bincount(where, weights=np.concatenate([n for _, n in counts]))
    return keys[total >= STRONG_CLUSTER].astype(np.int64)
