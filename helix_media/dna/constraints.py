"""Synthesis constraints and vectorized checks of whole strands.

Defaults follow common synthesis vendors' rules: GC 45-55 %, no homopolymer longer than 3,
no EcoRI (GAATTC) or BamHI (GGATCC) site, and no copy of a primer or its reverse complement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from helix_media.dna.nucleotides import GC_BASE, from_string, reverse_complement, to_string

DEFAULT_MOTIFS = ("GAATTC", "GGATCC")


@dataclass(frozen=True)
class Constraints:
    gc_min: float = 0.45
    gc_max: float = 0.55
    max_homopolymer: int = 3
    motifs: tuple[str, ...] = field(default=DEFAULT_MOTIFS)

    def with_primers(self, *primers: str) -> Constraints:
        """These constraints plus the primers and their reverse complements as motifs."""
        extra = []
        for p in primers:
            extra += [p, to_string(reverse_complement(from_string(p)))]
        motifs = tuple(dict.fromkeys(self.motifs + tuple(extra)))
        return Constraints(self.gc_min, self.gc_max, self.max_homopolymer, motifs)

    def describe(self) -> str:
        """In words: "GC 45-55 %, runs <= 3, no forbidden motif" (``helix plugins``)."""
        gc = f"GC {100 * self.gc_min:g}-{100 * self.gc_max:g} %"
        return f"{gc}, runs <= {self.max_homopolymer}, no forbidden motif"


@dataclass
class StrandReport:
    """Per-strand constraint figures for an (n, L) array of strands."""

    gc: np.ndarray  # fraction of G+C per strand
    max_homopolymer: np.ndarray  # longest run per strand
    motif_hits: np.ndarray  # number of forbidden-motif occurrences per strand

    def ok(self, c: Constraints) -> np.ndarray:
        return (
            (self.gc >= c.gc_min - 1e-12)
            & (self.gc <= c.gc_max + 1e-12)
            & (self.max_homopolymer <= c.max_homopolymer)
            & (self.motif_hits == 0)
        )


def longest_runs(strands: np.ndarray) -> np.ndarray:
    """Longest homopolymer run of each strand, vectorized over strands."""
    s = np.asarray(strands)
    n, length = s.shape
    if length == 0:
        return np.zeros(n, dtype=np.int64)
    run = np.ones(n, dtype=np.int64)
    best = np.ones(n, dtype=np.int64)
    for i in range(1, length):  # loop over positions, vectorized over strands
        same = s[:, i] == s[:, i - 1]
        run = np.where(same, run + 1, 1)
        np.maximum(best, run, out=best)
    return best


def motif_hits(strands: np.ndarray, motifs: tuple[str, ...]) -> np.ndarray:
    """Occurrences of any motif in each strand: one rolling 2-bit hash per motif length,
    compared against all motifs of that length at once (vectorized over strands)."""
    s = np.asarray(strands, dtype=np.int64)
    n, length = s.shape
    hits = np.zeros(n, dtype=np.int64)
    by_length: dict[int, list[int]] = {}
    for motif in motifs:
        code = 0
        for b in from_string(motif):
            code = (code << 2) | int(b)
        by_length.setdefault(len(motif), []).append(code)
    for k, codes in by_length.items():
        if k > length:
            continue
        if k > 31:  # too long for a 62-bit hash: compare windows directly
            windows = np.lib.stride_tricks.sliding_window_view(s, k, axis=1)
            for motif in motifs:
                if len(motif) == k:
                    hits += (windows == from_string(motif)).all(axis=2).sum(axis=1)
            continue
        h = np.zeros((n, length - k + 1), dtype=np.int64)
        for j in range(k):
            h = (h << 2) | s[:, j : length - k + 1 + j]
        hits += np.isin(h, np.unique(codes)).sum(axis=1)
    return hits


def check(strands: np.ndarray, constraints: Constraints) -> StrandReport:
    s = np.asarray(strands, dtype=np.uint8)
    gc = GC_BASE[s].sum(axis=1) / max(s.shape[1], 1)
    return StrandReport(gc, longest_runs(s), motif_hits(s, constraints.motifs))


def valid_inserts(left: np.ndarray, right: np.ndarray, c: Constraints) -> np.ndarray:
    """Which of the 4 bases can go between ``left`` (n, a) and ``right`` (n, b) without
    forming a run longer than allowed or a motif that covers the inserted base.

    Only runs and motifs through the new base count, so damage already inside ``left`` or
    ``right`` (an unconstrained coder's payload) does not block every choice.
    """
    left = np.asarray(left, dtype=np.uint8)
    right = np.asarray(right, dtype=np.uint8)
    n = len(left)
    ok = np.ones((n, 4), dtype=bool)
    cand = np.arange(4, dtype=np.uint8)
    run = np.ones((n, 4), dtype=np.int64)
    for side, order in ((left, slice(None, None, -1)), (right, slice(None))):
        s = side[:, order]
        same = np.ones((n, 4), dtype=bool)
        for i in range(min(s.shape[1], c.max_homopolymer + 1)):
            same &= s[:, i : i + 1] == cand
            run += same
    ok &= run <= c.max_homopolymer
    for motif in c.motifs:
        m = from_string(motif)
        k = len(m)
        for j in range(k):  # the inserted base is m[j]
            if j > left.shape[1] or k - 1 - j > right.shape[1]:
                continue
            hit = np.ones(n, dtype=bool)
            if j:
                hit &= (left[:, left.shape[1] - j :] == m[:j]).all(axis=1)
            if k - 1 - j:
                hit &= (right[:, : k - 1 - j] == m[j + 1 :]).all(axis=1)
            ok[:, m[j]] &= ~hit
    return ok
