"""What the read path's stages hand each other: trimmed reads, estimates and counts, in parts
that one process or a cluster's workers handle alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

STRONG_CLUSTER = 3  # reads sharing a key that make it a cluster others may be rescued into
ANCHORS = 3  # reads of each strong cluster that loose reads may join it through (.cluster)


@dataclass
class ReadReport:
    """What happened to the reads: every read lands in exactly one of the six counts after
    ``reads``."""

    reads: int = 0
    clustered: int = 0
    no_primers: int = 0  # garbage, dimers, other archives' strands, heavy damage
    too_short: int = 0
    too_long: int = 0  # longer than any strand (.fasta.MAX_READ_NT): never aligned
    no_address: int = 0  # body found but its address unreadable (exact-length ones still used)
    not_selected: int = 0  # addresses outside the selection (another pool item's reads)
    reverse: int = 0  # reads that were reverse complements
    clusters: int = 0
    clusters_aligned: int = 0  # consensus by multiple alignment
    clusters_failed: int = 0  # consensus length wrong: no strand estimate
    clusters_split: int = 0  # two strands at one address (archives sharing primers)
    outliers: int = 0  # reads far from their cluster's consensus (chimeras, damaged address)
    similar: int = 0  # reads clustered by similarity (address key weak or unreadable)
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
    #: (a, strand_length) strands for the inner code to try where the estimate
    #: ``alternative_of`` (row of ``strands``) fails, in order (:mod:`.alternatives`)
    alternatives: np.ndarray | None = None
    alternative_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


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
    rescued: bool = False  # keys already rescued into the strong clusters

    def take(self, rows: np.ndarray, keys: np.ndarray, report: ReadReport) -> Trimmed:
        """These rows (renumbered), with these keys."""
        if len(rows) == len(self.index) and (rows == np.arange(len(rows))).all():
            return replace(self, keys=keys, report=report)  # all of them: no copy
        where = np.full(len(self.index), -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        return Trimmed(
            self.index[rows], self.fixed[rows], self.bodies[rows],
            {int(where[r]): b for r, b in self.other.items() if where[r] >= 0},
            self.heads[rows], self.has_head[rows], keys, report, self.rescued,
        )  # fmt: skip

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (what moving the part between workers costs)."""
        arrays = (self.index, self.fixed, self.bodies, self.heads, self.has_head, self.keys)
        return sum(a.nbytes for a in arrays) + sum(b.nbytes for b in self.other.values())

    @staticmethod
    def concat(parts: Sequence[Trimmed]) -> Trimmed:
        """Several parts' rows as one part; their reports summed."""
        if len(parts) == 1:  # no copy of the bases
            return replace(parts[0], report=replace(parts[0].report))
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
            report, all(p.rescued for p in parts),
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
    #: strands one edit from a consensus (:mod:`.alternatives`), likeliest first per cluster
    alternative_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    alternatives: np.ndarray | None = None  # (a, body); None: none


@dataclass
class KeyStats:
    """What the client needs of one trimmed part to find the strong clusters and anchors."""

    keys: np.ndarray  # (k,) cluster keys in the part
    counts: np.ndarray  # (k,) reads per key
    first: np.ndarray  # (k, ANCHORS) smallest global read indices with the key, -1 padded


@dataclass
class Strong:
    """The strong clusters over all parts, and each one's anchor reads."""

    keys: np.ndarray  # (s,) sorted keys with STRONG_CLUSTER reads or more
    counts: np.ndarray  # (s,) reads of each over all parts
    anchor_index: np.ndarray  # (a,) sorted global read indices of anchors
    anchor_key: np.ndarray  # (a,) the strong key of each

    def anchor_of(self, index: np.ndarray) -> np.ndarray:
        """The strong key of each read (global ``index``) that is an anchor, -1 for others."""
        if not len(self.anchor_index):
            return np.full(len(index), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.anchor_index, index), len(self.anchor_index) - 1)
        return np.where(self.anchor_index[at] == index, self.anchor_key[at], -1)


def strong_keys(stats: Sequence[KeyStats]) -> Strong:
    """Keys with ``STRONG_CLUSTER`` reads or more over all parts, and as each one's anchors
    its ``ANCHORS`` reads of smallest index (the same whatever the partition)."""
    none = np.zeros(0, dtype=np.int64)
    if not stats:
        return Strong(none, none, none, none)
    keys, where = np.unique(np.concatenate([s.keys for s in stats]), return_inverse=True)
    total = np.bincount(where, weights=np.concatenate([s.counts for s in stats]))
    strong = keys[total >= STRONG_CLUSTER].astype(np.int64)
    counts = total[total >= STRONG_CLUSTER].astype(np.int64)
    key = np.concatenate([np.repeat(s.keys, ANCHORS) for s in stats]).astype(np.int64)
    index = np.concatenate([s.first.ravel() for s in stats]).astype(np.int64)
    ok = (index >= 0) & np.isin(key, strong)
    key, index = key[ok], index[ok]
    order = np.lexsort((index, key))
    key, index = key[order], index[order]
    rank = np.arange(len(key)) - np.searchsorted(key, key)
    first = rank < ANCHORS
    order = np.argsort(index[first])
    return Strong(strong, counts, index[first][order], key[first][order])
