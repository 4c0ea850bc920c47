"""Sequencing simulator: strands -> the reads a user gets back from synthesis, PCR and sequencing.

Each strand is lost with probability ``dropout``; a kept strand gets a negative-binomial number
of reads (mean ``coverage``, dispersion ``skew``: synthesis and PCR bias make coverage uneven).
Each read is a molecule of either orientation (half are reverse complements) carrying its own
errors: synthesis errors (``synthesis_error`` per base, split equally between substitutions,
insertions and deletions) and sequencing errors at their own rates. Quality strings follow an
Illumina-like profile (Q37 falling to Q30 along the read) with low scores at errors. Optional
``contaminants`` adds reads a real run contains: random sequence, adapter/primer dimers,
chimeras of two strands, and strands of another archive (other primers). Paired-end runs
(:func:`simulate_pairs`) read each molecule from both ends instead, as Illumina's 2x150 does.

A channel with a ``shape`` (:mod:`helix_media.channel.profiles`, ``--profile``) varies its
error rates along the read and with homopolymers, inserts 1-4 nt at a time, cuts a share of
reads short and writes nanopore-like qualities; without one (the default) reads are as above.

Everything is vectorized over reads and deterministic in ``seed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from helix_media.dna.nucleotides import reverse_complement
from helix_media.errors import HelixError

BATCH = 50_000  # reads per vectorized batch (bounds memory: ~3 bytes per base per read)


class ReadShape(Protocol):
    """What :func:`simulate` asks of a channel's ``shape`` (a profile's
    :class:`~helix_media.channel.profiles.ErrorShape`): errors in oriented molecules, then
    reads cut short."""

    def mutate(
        self,
        molecules: np.ndarray,
        reverse: np.ndarray,
        rates: tuple[float, float, float],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def cut(
        self, flat: np.ndarray, lens: np.ndarray, quals: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class Channel:
    coverage: float = 30.0
    dropout: float = 0.0
    synthesis_error: float = 1 / 7500
    sub: float = 0.00109
    ins: float = 0.0
    dele: float = 0.0
    skew: float = 8.0  # negative-binomial dispersion: coverage CV ~ sqrt(1/coverage + 1/skew)
    contaminants: float = 0.0  # extra reads, as a share of all reads
    seed: int = 0
    shape: ReadShape | None = None  # a profile's error shape; None: uniform errors as above

    def rates(self) -> tuple[float, float, float]:
        """Per-base substitution, insertion, deletion probabilities of a read."""
        s = self.synthesis_error / 3
        return self.sub + s, self.ins + s, self.dele + s


@dataclass
class Reads:
    """Reads as one flat base array plus offsets (vectorized work never builds strings)."""

    bases: np.ndarray  # uint8 0..3, all reads end to end
    offsets: np.ndarray  # int64, len = n_reads + 1
    qualities: np.ndarray  # uint8 Phred scores, aligned with ``bases``
    source: np.ndarray  # int64 strand index per read (-1: contaminant); for tests only
    reverse: np.ndarray  # bool per read: read from the reverse strand

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __iter__(self) -> Iterator[np.ndarray]:
        for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True):
            yield self.bases[a:b]


def read_counts(n: int, channel: Channel, rng: np.random.Generator) -> np.ndarray:
    """Reads per strand: 0 for dropped strands, negative binomial otherwise."""
    mean, r = channel.coverage, channel.skew
    counts = rng.negative_binomial(r, r / (r + mean), n) if mean > 0 else np.zeros(n, np.int64)
    counts[rng.random(n) < channel.dropout] = 0
    return counts.astype(np.int64)


def _mutate(
    molecules: np.ndarray, rates: tuple[float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(m, L) molecules -> (flat bases, lengths, flat qualities) with indels applied."""
    m, length = molecules.shape
    p_sub, p_ins, p_del = rates
    u = rng.random((m, length))
    sub = u < p_sub
    dele = (u >= p_sub) & (u < p_sub + p_del)
    ins = (u >= p_sub + p_del) & (u < p_sub + p_del + p_ins)
    base = np.where(sub, (molecules + rng.integers(1, 4, (m, length))) % 4, molecules)
    quality = 37 - 7 * np.arange(length)[None, :] / length + rng.normal(0, 1.5, (m, length))
    quality = np.where(sub, rng.integers(8, 25, (m, length)), quality)
    # slot 0: an inserted base (before the position), slot 1: the position's own base
    slots = np.stack([rng.integers(0, 4, (m, length)), base], axis=2).astype(np.uint8)
    quals = np.stack([rng.integers(8, 25, (m, length)), quality], axis=2)
    keep = np.stack([ins, ~dele], axis=2)
    lengths = keep.sum(axis=(1, 2))
    q = np.clip(np.rint(quals[keep]), 2, 41).astype(np.uint8)
    return slots[keep], lengths, q


def _contaminants(
    strands: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Reads that belong to no strand of the archive, as a padded (count, L) array + lengths."""
    n, length = strands.shape
    out = rng.integers(0, 4, (count, length)).astype(np.uint8)  # kind 0: random sequence
    lengths = np.full(count, length)
    kind = rng.integers(0, 4, count)
    dimer = np.flatnonzero(kind == 1)  # 5' primer + 3' primer with nothing between
    out[dimer, :20] = strands[0, :20]
    out[dimer, 20:40] = strands[0, length - 20 :]
    lengths[dimer] = 40
    chimera = np.flatnonzero(kind == 2)  # front of one strand, back of another
    margin = 60 if length > 120 else max(1, length // 4)  # short strands: a shorter margin
    cut = rng.integers(margin, length - margin, len(chimera))
    a, b = rng.integers(0, n, len(chimera)), rng.integers(0, n, len(chimera))
    take_a = np.arange(length)[None, :] < cut[:, None]
    out[chimera] = np.where(take_a, strands[a], strands[b])
    foreign = np.flatnonzero(kind == 3)  # a strand of another archive: same body, other primers
    out[foreign] = strands[rng.integers(0, n, len(foreign))]
    out[foreign, :20] = rng.integers(0, 4, (len(foreign), 20))
    out[foreign, length - 20 :] = rng.integers(0, 4, (len(foreign), 20))
    return out, lengths


def _draw(
    strands: np.ndarray,
    channel: Channel,
    rng: np.random.Generator,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Which molecules get read, in read order: strand index (-1: contaminant), orientation,
    and the contaminants (padded rows, true lengths). ``counts``: reads per strand, given."""
    if counts is None:
        counts = read_counts(len(strands), channel, rng)
    source = np.repeat(np.arange(len(strands)), counts)
    n_junk = int(round(channel.contaminants * len(source) / max(1e-9, 1 - channel.contaminants)))
    source = np.concatenate([source, np.full(n_junk, -1)])
    source = source[rng.permutation(len(source))]
    reverse = rng.random(len(source)) < 0.5
    junk, junk_len = _contaminants(strands, n_junk, rng) if n_junk else (None, None)
    return source, reverse, junk, junk_len


def _molecules(
    strands: np.ndarray,
    source: np.ndarray,
    reverse: np.ndarray,
    junk: np.ndarray | None,
    junk_len: np.ndarray | None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of the molecules read: (b, L) oriented rows (a short one at the row's start)
    and each one's true length."""
    junk_at = 0
    for start in range(0, len(source), BATCH):
        src = source[start : start + BATCH]
        molecules = strands[np.maximum(src, 0)]
        bad = np.flatnonzero(src < 0)
        mol_len = np.full(len(src), strands.shape[1])
        if len(bad):
            molecules[bad] = junk[junk_at : junk_at + len(bad)]
            mol_len[bad] = junk_len[junk_at : junk_at + len(bad)]
            junk_at += len(bad)
        rev = reverse[start : start + BATCH]
        molecules[rev] = reverse_complement(molecules[rev])
        # short contaminants sit at the start of the row after reversal too
        short = np.flatnonzero(mol_len < strands.shape[1])
        for i in short[rev[short]]:
            molecules[i, : mol_len[i]] = molecules[i, strands.shape[1] - mol_len[i] :]
        yield molecules, mol_len


def _truncate(
    flat: np.ndarray, lens: np.ndarray, quals: np.ndarray, limit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reads as flat bases + lengths -> each cut to its first ``limit`` bases (where longer):
    the padding of short rows goes, and a sequencer reads no more cycles than it runs."""
    if (lens <= limit).all():
        return flat, lens, quals
    pos = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
    keep = pos < np.repeat(limit, lens)
    return flat[keep], np.minimum(lens, limit), quals[keep]


def _reads(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], source: np.ndarray, reverse: np.ndarray
) -> Reads:
    """Batches of (flat bases, lengths, flat qualities) -> one Reads."""
    if not parts:
        empty = np.zeros(0, np.uint8)
        return Reads(empty, np.zeros(1, np.int64), empty, source, reverse)
    flat, lens, quals = (np.concatenate(p) for p in zip(*parts, strict=True))
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return Reads(flat, offsets, quals, source, reverse)


def simulate(strands: np.ndarray, channel: Channel, counts: np.ndarray | None = None) -> Reads:
    """(n, L) strands -> reads in random order (a sequencer's output is unordered).
    ``counts``: exactly this many reads of each strand (no dropout, no coverage draw)."""
    strands = np.asarray(strands, dtype=np.uint8)
    rng = np.random.default_rng(channel.seed)
    source, reverse, junk, junk_len = _draw(strands, channel, rng, counts)
    parts = []
    done, shape = 0, channel.shape
    for molecules, mol_len in _molecules(strands, source, reverse, junk, junk_len):
        if shape is None:
            flat, lens, q = _mutate(molecules, channel.rates(), rng)
        else:
            rev = reverse[done : done + len(mol_len)]
            flat, lens, q = shape.mutate(molecules, rev, channel.rates(), rng)
        done += len(mol_len)
        full = mol_len == strands.shape[1]  # only short molecules lose their padding
        part = _truncate(flat, lens, q, np.where(full, lens, mol_len))
        parts.append(part if shape is None else shape.cut(*part, rng))
    return _reads(parts, source, reverse)


def simulate_pairs(strands: np.ndarray, channel: Channel, read_length: int) -> tuple[Reads, Reads]:
    """Paired-end sequencing (e.g. Illumina 2x150): (R1, R2), R1[i] and R2[i] mates.

    Each molecule, of either orientation, is read from both ends: R1 is its first
    ``read_length`` bases, R2 the first ``read_length`` of its reverse complement (all of it
    when shorter). Synthesis errors are in the molecule, so both mates carry them; sequencing
    errors and the quality profile are each read's own, as on a real instrument.
    """
    if channel.shape is not None:
        raise HelixError("paired-end reads are Illumina's: use no profile, or --profile illumina")
    strands = np.asarray(strands, dtype=np.uint8)
    rng = np.random.default_rng(channel.seed)
    source, reverse, junk, junk_len = _draw(strands, channel, rng)
    synthesis = (channel.synthesis_error / 3,) * 3
    sequencing = (channel.sub, channel.ins, channel.dele)
    parts: tuple[list, list] = ([], [])
    for molecules, mol_len in _molecules(strands, source, reverse, junk, junk_len):
        flat, lens, q = _mutate(molecules, synthesis, rng)
        flat, lens, _ = _truncate(flat, lens, q, mol_len)
        for mate, from_end in zip(parts, (False, True), strict=True):
            rows, length = _read_ends(flat, lens, read_length, from_end)
            mate.append(_truncate(*_mutate(rows, sequencing, rng), length))
    return _reads(parts[0], source, reverse), _reads(parts[1], source, ~reverse)


def _read_ends(
    flat: np.ndarray, lens: np.ndarray, length: int, from_end: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Molecules (flat bases + lengths) -> the first ``length`` bases of each, or of each one's
    reverse complement (``from_end``), as padded (m, length) rows + their true lengths."""
    pos = np.arange(length)
    n = np.minimum(lens, length)
    start = np.cumsum(lens) - lens
    idx = start[:, None] + (lens[:, None] - 1 - pos if from_end else pos)
    valid = pos < n[:, None]
    bases = flat[np.where(valid, idx, 0)] if len(flat) else np.zeros(valid.shape, np.uint8)
    bases = 3 - bases if from_end else bases
    return np.where(valid, bases, 0).astype(np.uint8), n


def mate_paths(path: str) -> tuple[str, str]:
    """Where paired-end reads go: OUT.fastq[.gz] -> OUT_R1.fastq[.gz], OUT_R2.fastq[.gz]."""
    for ext in (".fastq.gz", ".fq.gz", ".fastq", ".fq"):
        if path.lower().endswith(ext):
            stem, ext = path[: -len(ext)], path[-len(ext) :]
            return f"{stem}_R1{ext}", f"{stem}_R2{ext}"
    raise HelixError(f"{path}: paired-end reads are FASTQ: OUT must end in .fastq or .fq (or .gz)")


def write_reads(path: str, reads: Reads, mate: str = "") -> None:
    """FASTQ, or FASTA when ``path`` says .fa/.fasta (``.gz`` compresses); written atomically.
    Read i is named ``read{i}{mate}`` (``mate``: "/1" or "/2" for paired-end reads)."""
    from helix_media.strandio.fasta import write_reads as write_records

    lower = path.lower().removesuffix(".gz")
    fastq = lower.endswith((".fq", ".fastq"))
    text = np.frombuffer(b"ACGT", dtype=np.uint8)[reads.bases].tobytes().decode()
    qual = (reads.qualities + 33).tobytes().decode()
    off = reads.offsets.tolist()
    seqs = [text[a:b] for a, b in zip(off[:-1], off[1:], strict=True)]
    quals = [qual[a:b] for a, b in zip(off[:-1], off[1:], strict=True)] if fastq else None
    names = [f"read{i}{mate}" for i in range(len(seqs))]
    write_records(path, names, seqs, quals)
