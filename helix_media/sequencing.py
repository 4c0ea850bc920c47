"""Sequencing simulator: strands -> the reads a user gets back from synthesis, PCR and sequencing.

Each strand is lost with probability ``dropout``; a kept strand gets a negative-binomial number
of reads (mean ``coverage``, dispersion ``skew``: synthesis and PCR bias make coverage uneven).
Each read is a molecule of either orientation (half are reverse complements) carrying its own
errors: synthesis errors (``synthesis_error`` per base, split equally between substitutions,
insertions and deletions) and sequencing errors at their own rates. Quality strings follow an
Illumina-like profile (Q37 falling to Q30 along the read) with low scores at errors. Optional
``contaminants`` adds reads a real run contains: random sequence, adapter/primer dimers,
chimeras of two strands, and strands of another archive (other primers).

Everything is vectorized over reads and deterministic in ``seed``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .nucleotides import reverse_complement

BATCH = 50_000  # reads per vectorized batch (bounds memory: ~3 bytes per base per read)


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
    cut = rng.integers(60, length - 60, len(chimera))
    a, b = rng.integers(0, n, len(chimera)), rng.integers(0, n, len(chimera))
    take_a = np.arange(length)[None, :] < cut[:, None]
    out[chimera] = np.where(take_a, strands[a], strands[b])
    foreign = np.flatnonzero(kind == 3)  # a strand of another archive: same body, other primers
    out[foreign] = strands[rng.integers(0, n, len(foreign))]
    out[foreign, :20] = rng.integers(0, 4, (len(foreign), 20))
    out[foreign, length - 20 :] = rng.integers(0, 4, (len(foreign), 20))
    return out, lengths


def simulate(strands: np.ndarray, channel: Channel) -> Reads:
    """(n, L) strands -> reads in random order (a sequencer's output is unordered)."""
    strands = np.asarray(strands, dtype=np.uint8)
    rng = np.random.default_rng(channel.seed)
    counts = read_counts(len(strands), channel, rng)
    source = np.repeat(np.arange(len(strands)), counts)
    n_junk = int(round(channel.contaminants * len(source) / max(1e-9, 1 - channel.contaminants)))
    source = np.concatenate([source, np.full(n_junk, -1)])
    source = source[rng.permutation(len(source))]
    reverse = rng.random(len(source)) < 0.5
    junk, junk_len = _contaminants(strands, n_junk, rng) if n_junk else (None, None)
    parts, lengths, quals = [], [], []
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
        flat, lens, q = _mutate(molecules, channel.rates(), rng)
        # drop the padding of short contaminants (bases past their true length)
        if len(short):
            row_start = np.concatenate([[0], np.cumsum(lens)[:-1]])
            keep = np.ones(len(flat), dtype=bool)
            for i in short:
                keep[row_start[i] + min(lens[i], mol_len[i]) : row_start[i] + lens[i]] = False
                lens[i] = min(lens[i], mol_len[i])
            flat, q = flat[keep], q[keep]
        parts.append(flat)
        quals.append(q)
        lengths.append(lens)
    lens = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    bases = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
    qualities = np.concatenate(quals) if quals else np.zeros(0, np.uint8)
    return Reads(bases, offsets, qualities, source, reverse)


def write_reads(path: str, reads: Reads) -> None:
    """FASTQ, or FASTA when ``path`` says .fa/.fasta (``.gz`` compresses); written atomically."""
    from .fasta import write_reads as write_records

    lower = path.lower().removesuffix(".gz")
    fastq = lower.endswith((".fq", ".fastq"))
    text = np.frombuffer(b"ACGT", dtype=np.uint8)[reads.bases].tobytes().decode()
    qual = (reads.qualities + 33).tobytes().decode()
    off = reads.offsets.tolist()
    seqs = [text[a:b] for a, b in zip(off[:-1], off[1:], strict=True)]
    quals = [qual[a:b] for a, b in zip(off[:-1], off[1:], strict=True)] if fastq else None
    names = [f"read{i}" for i in range(len(seqs))]
    write_records(path, names, seqs, quals)
