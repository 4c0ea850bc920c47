"""The read path over a sequencing run bigger than memory, in one process.

The stages of :class:`.reads.ReadProcessor` with a disk shuffle between them, as a cluster
runs them with a network one (:mod:`.distributed`): each part of the file is trimmed and
spilled; the parts' key statistics give the strong clusters and their anchors; each part's
loose reads and anchors are spilled as similarity signatures by bucket partition; each
bucket partition's pairs are confirmed, and the edges of all give the loose reads' labels
(:mod:`.cluster`); each part is read back, routed by cluster into ``owners`` spill files;
each owner's reads are voted on in turn. Memory holds a part, one bucket partition and one
owner's reads, not the run; the estimates are the ones
:meth:`~.reads.ReadProcessor.process` gives for the whole run at once.
"""

from __future__ import annotations

import itertools
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from helix_media.readpath import cluster
from helix_media.readpath.parts import StrandEstimates, strong_keys
from helix_media.readpath.reads import ReadProcessor

PART_READS = 1 << 15  # reads per part: ~8 MB of bases, about a second of work
OWNER_READS = 1 << 16  # reads per consensus step: ~0.1 GB at its peak
BUCKET_READS = 1 << 20  # reads per bucket partition (a node's body goes to most of them)


class ReadParts:
    """Reads as parts of at most :data:`PART_READS`, from a file (streamed: no process holds
    the whole run) or from reads already in memory (merged mates). ``first`` is the first
    part, kept for what must look at some reads before the run (the framer's guess). A file
    of one part is read once: each framer tried reads it again, and decompressing a
    hostile file (a 1 MB gzip inflates to 1 GB) is most of the work it makes."""

    def __init__(self, path: str, reads: Sequence[np.ndarray] | None = None) -> None:
        self.path = path
        self.reads = reads
        self.first = next(iter(self), [])
        if reads is None and len(self.first) < PART_READS:  # a short part is the last one
            self.reads = self.first

    def __iter__(self) -> Iterator[list[np.ndarray]]:
        if self.reads is not None:
            for lo in range(0, len(self.reads), PART_READS):
                yield list(self.reads[lo : lo + PART_READS])
            return
        from helix_media.strandio.fasta import iter_reads

        yield from iter_reads(self.path, PART_READS, allow_n=True)


def _dump(obj, path: Path) -> None:
    with open(path, "ab") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)


def _load_all(path: Path) -> list:
    out = []
    with open(path, "rb") as f:
        while True:
            try:
                out.append(pickle.load(f))
            except EOFError:
                return out


def estimate_strands(
    framer, parts: Iterable[list[np.ndarray]], select: np.ndarray | None = None
) -> StrandEstimates:
    """Reads, part by part -> strand estimates; a run of one part stays in memory."""
    rp = ReadProcessor(framer)
    parts = iter(parts)
    first = next(parts, [])
    second = next(parts, None)
    if second is None:  # small: no spilling
        return rp.process(first, select)
    with tempfile.TemporaryDirectory(prefix="helix-reads-") as tmp:
        spill = Path(tmp)
        stats, reports, at, n_parts = [], [], 0, 0
        for reads in itertools.chain((first, second), parts):  # one part at a time
            trimmed = rp.trim(reads, at)
            at += len(reads)
            stats.append(rp.key_stats(trimmed))
            reports.append(trimmed.report)
            _dump(trimmed, spill / f"part{n_parts}")
            n_parts += 1
        strong = strong_keys(stats)
        n_buckets = max(1, -(-at // BUCKET_READS))
        for k in range(n_parts):  # keys rescued; similarity signatures, by bucket partition
            (trimmed,) = _load_all(spill / f"part{k}")
            (spill / f"part{k}").unlink()
            trimmed = rp.rescue(trimmed, strong)
            _dump(trimmed, spill / f"part{k}")
            for b, entries in enumerate(rp.buckets(trimmed, strong, n_buckets)):
                _dump(entries, spill / f"bucket{b}")
        edges = []
        for b in range(n_buckets):
            edges.append(cluster.confirm(_load_all(spill / f"bucket{b}")))
            (spill / f"bucket{b}").unlink()
        labels = cluster.labels(edges, strong)
        owners = max(1, -(-at // OWNER_READS))
        for k in range(n_parts):
            (trimmed,) = _load_all(spill / f"part{k}")
            (spill / f"part{k}").unlink()
            for o, bucket in enumerate(rp.route(trimmed, strong, owners, select, labels)):
                _dump(bucket, spill / f"owner{o}")
        estimates = []
        for o in range(owners):
            path = spill / f"owner{o}"
            estimates.append(rp.consensus(_load_all(path), select))
            path.unlink()
    return rp.assemble(estimates, reports)
