"""Paired-end reads -> single reads: each R1 joined with its mate R2 where the two overlap.

Illumina reads a molecule from both ends: in a 2x150 run over 240-nt strands, R1 holds a
molecule's first 150 bases and R2 the first 150 of its reverse complement. Neither holds a
whole strand, which the read path (:mod:`.reads`) needs, but R1 and reverse_complement(R2)
overlap by 60 bases, and joined they do.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helix_media.errors import HelixError
from helix_media.strandio.fasta import N_CODE, read_pairs

MIN_OVERLAP = 16  # a chance overlap this long with <= 1 mismatch has odds ~1e-8 per offset
MAX_MISMATCH_RATE = 0.1
CHUNK = 1 << 14  # pairs scored at once: bounds memory (~40 MB at 2x150) and stays in cache
_R1_N = N_CODE + 1  # R1's N recoded, so that no comparison counts N against N as a match


@dataclass
class PairReport:
    """What happened to the pairs: each one is either merged or not."""

    pairs: int = 0
    merged: int = 0
    unmerged: int = 0  # no acceptable overlap: R1 and R2 went on as two reads

    def to_json(self) -> dict[str, int]:
        return dict(vars(self))


def merge_pairs(
    r1: Sequence[np.ndarray],
    r2: Sequence[np.ndarray],
    q1: Sequence[np.ndarray] | None = None,
    q2: Sequence[np.ndarray] | None = None,
    min_overlap: int = MIN_OVERLAP,
    max_mismatch_rate: float = MAX_MISMATCH_RATE,
) -> tuple[list[np.ndarray], PairReport]:
    """Mates (uint8 bases as from :func:`.fasta.read_reads`, Phred scores) -> reads.

    reverse_complement(R2) is tried at every offset against R1 that overlaps it by at least
    ``min_overlap`` bases, including offsets where it starts before R1 (the molecule was
    shorter than the reads, which ran on into adapter). An offset is acceptable when at most
    ``max_mismatch_rate`` of its overlap mismatches (an N counts as a mismatch: nothing was
    read there); the one taken has the most matches minus mismatches. That score grows with
    the evidence, so a true 60-base overlap with a sequencing error beats a perfect 16-base
    chance one, which the lowest mismatch rate would pick; on a tie the longer overlap wins,
    then the longer molecule.

    The merged read is the molecule: from R1's first base to rc(R2)'s last. In the overlap
    each position takes the base with the higher quality (R1's on a tie or without
    qualities; an N never wins). A pair without an acceptable overlap comes back as R1 and
    R2, two reads as they were: the read path orients reads itself and drops those too
    short to hold a strand. Reads come back in pair order.
    """
    if len(r1) != len(r2) or (q1 is None) != (q2 is None):
        raise ValueError("merge_pairs needs as many R2 reads as R1 reads, and both or no qualities")
    n = len(r1)
    len1 = np.fromiter((len(r) for r in r1), dtype=np.int64, count=n)
    len2 = np.fromiter((len(r) for r in r2), dtype=np.int64, count=n)
    key = len1 * (int(len2.max(initial=0)) + 1) + len2
    order = np.argsort(key, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(key[order])) + 1) if n else []
    merged: list[np.ndarray | None] = [None] * n
    for group in groups:  # pairs of one (len(R1), len(R2)) are scored together
        n1, n2 = int(len1[group[0]]), int(len2[group[0]])
        for start in range(0, len(group), CHUNK):
            rows = group[start : start + CHUNK]
            a = _stack(r1, rows, n1)
            b = _reverse_complement(_stack(r2, rows, n2))
            inserts = _best_inserts(a, b, min_overlap, max_mismatch_rate)
            ok = inserts > 0
            if not ok.any():
                continue
            qa = _qualities(q1, rows[ok], n1, a[ok])
            qb = _qualities(q2, rows[ok], n2, b[ok], reverse=True)
            for i, read in zip(rows[ok], _join(a[ok], b[ok], qa, qb, inserts[ok]), strict=True):
                merged[i] = read
    reads: list[np.ndarray] = []
    for i, read in enumerate(merged):
        reads += [r1[i], r2[i]] if read is None else [read]
    unmerged = len(reads) - n
    return reads, PairReport(pairs=n, merged=n - unmerged, unmerged=unmerged)


def merge_files(
    path1: str | os.PathLike[str], path2: str | os.PathLike[str]
) -> tuple[list[np.ndarray], PairReport]:
    """An R1 and an R2 FASTQ file (plain or compressed) -> reads, as :func:`merge_pairs`;
    an error if no pair merged (mates too short to overlap: no read holds a whole strand)."""
    mates1, mates2 = read_pairs(path1, path2, allow_n=True)
    reads, report = merge_pairs(mates1.bases, mates2.bases, mates1.qualities, mates2.qualities)
    if not report.merged:
        raise HelixError(
            f"{path1}, {path2}: no read pair overlaps its mate, so no read holds a whole "
            "strand (paired-end reads must be longer than half a strand)"
        )
    return reads, report


def check_reads_span_strands(path: str, reads: Sequence[np.ndarray], strand_length: int) -> None:
    """One-line error if every read is shorter than a strand: likely one mate of a paired-end
    run, read without its other file."""
    if reads and max(map(len, reads)) < strand_length:
        raise HelixError(
            f"{path}: no {strand_length}-nt strands to decode (reads shorter than a strand: "
            "paired-end? give the mates with --reads2)"
        )


def _stack(reads: Sequence[np.ndarray], rows: np.ndarray, length: int) -> np.ndarray:
    """Equal-length reads -> (len(rows), length) array."""
    return np.concatenate([reads[i] for i in rows]).reshape(len(rows), length)


def _reverse_complement(rows: np.ndarray) -> np.ndarray:
    """Row-wise reverse complement that keeps N as N."""
    return np.where(rows == N_CODE, N_CODE, 3 - rows)[:, ::-1].astype(np.uint8)


def _qualities(
    quals: Sequence[np.ndarray] | None,
    rows: np.ndarray,
    length: int,
    bases: np.ndarray,
    reverse: bool = False,
) -> np.ndarray:
    """Phred scores aligned with ``bases`` (0 without qualities), -1 at N so it never wins."""
    if quals is None:
        q = np.zeros(bases.shape, dtype=np.int16)
    else:
        q = _stack(quals, rows, length).astype(np.int16)
        q = q[:, ::-1] if reverse else q
    return np.where(bases == N_CODE, -1, q)


def _best_inserts(a: np.ndarray, b: np.ndarray, min_overlap: int, max_rate: float) -> np.ndarray:
    """R1s (m, n1) and rc(R2)s (m, n2) -> molecule length per pair (0: no acceptable overlap).

    A molecule of length ``size`` puts rc(R2) at offset ``size - n2`` of R1. All pairs are
    scored at once per offset; the arrays are position-major so that one offset compares a
    block of contiguous rows and the per-pair sums are fast column sums.
    """
    m, n1 = a.shape
    n2 = b.shape[1]
    ta = np.ascontiguousarray(np.where(a == N_CODE, _R1_N, a).T)
    tb = np.ascontiguousarray(b.T)
    sizes = np.arange(1, n1 + n2)
    overlaps = np.minimum(sizes, n1) - np.maximum(sizes - n2, 0)
    keep = overlaps >= min_overlap
    sizes, overlaps = sizes[keep], overlaps[keep]
    order = np.lexsort((-sizes, -overlaps))  # longest overlap, then molecule, first: ties keep it
    best = np.full(m, -1, dtype=np.int32)
    inserts = np.zeros(m, dtype=np.int64)
    same = np.empty((min(n1, n2), m), dtype=bool)
    for size, overlap in zip(sizes[order].tolist(), overlaps[order].tolist(), strict=True):
        if overlap <= best.min():  # no pair can score more than the overlap's length
            break
        a0 = max(size - n2, 0)
        b0 = a0 - (size - n2)
        eq = np.equal(ta[a0 : a0 + overlap], tb[b0 : b0 + overlap], out=same[:overlap])
        matches = eq.view(np.uint8).sum(axis=0, dtype=np.uint16).astype(np.int32)
        score = 2 * matches - overlap
        allowed = int(np.floor(max_rate * overlap + 1e-9))
        better = (matches >= overlap - allowed) & (score > best)
        best[better] = score[better]
        inserts[better] = size
    return inserts


def _join(
    a: np.ndarray, b: np.ndarray, qa: np.ndarray, qb: np.ndarray, inserts: np.ndarray
) -> list[np.ndarray]:
    """R1s and rc(R2)s with their molecule lengths -> the molecules; the overlap takes the
    base of higher quality (R1's on a tie)."""
    m, n1 = a.shape
    n2 = b.shape[1]
    width = int(inserts.max())
    pos = np.arange(width)
    in_a = pos < n1
    ib = pos - (inserts - n2)[:, None]  # position in rc(R2)
    in_b = (ib >= 0) & (ib < n2)
    ib = np.clip(ib, 0, n2 - 1)
    base_a = np.zeros((m, width), dtype=np.uint8)
    qual_a = np.zeros((m, width), dtype=np.int16)
    base_a[:, : min(n1, width)] = a[:, :width]
    qual_a[:, : min(n1, width)] = qa[:, :width]
    take_b = in_b & (~in_a | (np.take_along_axis(qb, ib, axis=1) > qual_a))
    out = np.where(take_b, np.take_along_axis(b, ib, axis=1), base_a)
    flat = out[pos < inserts[:, None]]
    ends = np.cumsum(inserts).tolist()
    return [flat[i:j] for i, j in zip([0, *ends[:-1]], ends, strict=True)]
