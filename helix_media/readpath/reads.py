"""Sequencing reads -> strand estimates: orient and trim, cluster, consensus.

1. **Orient and trim** (:mod:`.trim`): primers found by Hamming distance (exact-length
   reads, vectorized) or by edlib alignment (reads with indels); between them, the body.
2. **Cluster.** By the framer's ``cluster_keys`` of the body's first bases (the helix
   framer's distance-3 address code corrects one substitution there, so a damaged address
   still joins its cluster); a read whose key few others share (an indel in or before the
   address) is rescued by trying the address with one base inserted or deleted. The reads
   still *loose* after that are clustered by the similarity of their whole bodies together
   with a few anchor reads of each strong cluster (:mod:`.cluster`): they join their
   strand's cluster or form one of their own.
3. **Consensus** (:mod:`.consensus`): a position vote where a cluster's reads have the
   body's length, trace reconstruction or a multiple alignment where they carry indels;
   uncertain bases become erasures for the inner Reed-Solomon code. Two strands at one
   address (archives sharing primers) are split apart.

Reads that never join a cluster (no primers: garbage, adapter dimers, another archive's
strands; unreadable address and no similar read) are counted, never decoded. Chimeras that
join a cluster are outvoted and counted as outliers.

Each stage works on a part of the reads, so :mod:`.read_stream` (disk shuffle) and
:mod:`helix_media.distributed` (Dask) run them over many parts with the estimates of
:meth:`ReadProcessor.process`, which runs them in one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from helix_media.readpath import cluster
from helix_media.readpath.consensus import consensus
from helix_media.readpath.parts import (
    ANCHORS,
    EstimatesPart,
    KeyStats,
    ReadReport,
    StrandEstimates,
    Strong,
    Trimmed,
    strong_keys,
)
from helix_media.readpath.trim import Trimmer


class ReadProcessor:
    """Turns reads into strand estimates for one framer's layout."""

    def __init__(self, framer) -> None:
        self.framer = framer
        self.trimmer = Trimmer(framer)
        self.length = framer.strand_length
        self.p5, self.p3 = self.trimmer.p5, self.trimmer.p3
        self.body = self.trimmer.body
        self.address_nt = self.trimmer.address_nt

    # -- stage 1, per part: orient, trim, key --------------------------------------------------
    def trim(self, reads: Sequence[np.ndarray], first: int = 0) -> Trimmed:
        """Orient and trim each read (``first``: the global index of ``reads[0]``) and read
        its cluster key. Reads without a body are counted and dropped here."""
        return self.trimmer(reads, first)

    @staticmethod
    def key_stats(part: Trimmed) -> KeyStats:
        """Keys, reads per key and each key's first reads in one part: over all parts they
        tell which clusters are strong (reads are rescued into them) and their anchors."""
        has = part.keys >= 0
        keys, inverse, counts = np.unique(part.keys[has], return_inverse=True, return_counts=True)
        first = np.full((len(keys), ANCHORS), -1, dtype=np.int64)
        order = np.lexsort((part.index[has], inverse))  # by key, then by read
        ranked = inverse[order]
        rank = np.arange(len(ranked)) - np.searchsorted(ranked, ranked)
        top = rank < ANCHORS
        first[ranked[top], rank[top]] = part.index[has][order][top]
        return KeyStats(keys, counts, first)

    # -- between stages: keys rescued into strong clusters -------------------------------------
    def _rescue_keys(
        self, keys: np.ndarray, heads: np.ndarray, rows: np.ndarray, strong: np.ndarray
    ) -> None:
        """Reads whose key few others share (an indel in or before the address shifts it):
        try the address with one base deleted or inserted at each position, and take a
        variant that names a well-supported (``strong``) cluster (deletions first, then
        insertions for the reads still lost: the first hit in that order)."""
        lost = rows[~np.isin(keys[rows], strong)]
        if not len(lost) or not len(strong):
            return
        a = self.address_nt

        def deletions(h):
            return [np.delete(h, j, axis=1)[:, :a] for j in range(a + 1)]

        def insertions(h):  # the inserted base dropped
            fill = [np.full((len(h), 1), b, h.dtype) for b in range(4)]
            return [
                np.concatenate([h[:, :j], f, h[:, j:]], 1)[:, :a] for j in range(a) for f in fill
            ]

        for variants in (deletions, insertions):
            got = variants(heads[lost])  # (m, address_nt + 1) heads
            cand = self.framer.cluster_keys(np.concatenate(got)).reshape(len(got), -1)
            hit = np.isin(cand, strong) & (cand >= 0)
            found = hit.any(axis=0)
            keys[lost[found]] = cand[hit.argmax(axis=0)[found], np.flatnonzero(found)]
            lost = lost[~found]
            if not len(lost):
                return

    def rescue(self, part: Trimmed, strong: Strong) -> Trimmed:
        """The part with keys rescued into the ``strong`` clusters (stage 2's first step; the
        later steps take a rescued part, or rescue it themselves)."""
        if part.rescued:
            return part
        keys = part.keys.copy()
        self._rescue_keys(keys, part.heads, np.flatnonzero(part.has_head), strong.keys)
        return replace(part, keys=keys, rescued=True)

    def _keys(self, part: Trimmed, strong: Strong) -> tuple[np.ndarray, np.ndarray]:
        """(keys after rescue, loose rows: those not in a strong cluster)."""
        keys = self.rescue(part, strong).keys
        return keys.copy(), ~np.isin(keys, strong.keys)

    # -- stage 2, per part: similarity signatures of the loose reads and anchors ----------------
    def buckets(self, part: Trimmed, strong: Strong, n_parts: int) -> list[cluster.Buckets]:
        """The part's loose reads and anchor reads as signature entries, split into
        ``n_parts`` bucket partitions (:func:`.cluster.bucket_parts`)."""
        _, loose = self._keys(part, strong)
        anchor = strong.anchor_of(part.index)
        rows = np.flatnonzero(loose | (anchor >= 0))
        bodies = [part.other.get(int(r), part.bodies[r]) for r in rows]
        return cluster.bucket_parts(part.index[rows], anchor[rows], bodies, n_parts)

    # -- stage 3, per part: route each read to its cluster's owner ----------------------------
    def route(
        self,
        part: Trimmed,
        strong: Strong,
        owners: int = 1,
        select: np.ndarray | None = None,
        labels: cluster.Labels | None = None,
    ) -> list[Trimmed]:
        """Rescue keys into the strong clusters, give loose reads their similarity
        ``labels`` (:func:`.cluster.labels`), drop reads outside ``select``, and split the
        part by owner (key modulo ``owners``), so that each cluster's reads meet in one
        place. Exact-length reads without any cluster go on as estimates of their own."""
        keys, loose = self._keys(part, strong)
        report = ReadReport()
        if labels is not None:
            report.similar = labels.apply(part.index, keys, loose)
        keep = np.ones(len(keys), dtype=bool)
        if select is not None:  # similarity clusters are selected by their consensus
            drop = (keys >= 0) & (keys < cluster.LABEL_BASE) & ~np.isin(keys, select)
            report.not_selected = int(drop.sum())
            keep &= ~drop
        report.no_address = int((keep & (keys < 0)).sum())
        keep &= (keys >= 0) | part.fixed
        owner = np.where(keys >= 0, keys, part.index) % owners
        out = []
        for o in range(owners):
            at = np.flatnonzero(keep & (owner == o))
            out.append(part.take(at, keys[at], report if o == 0 else ReadReport()))
        return out

    # -- stage 4, per owner: consensus ------------------------------------------------------
    def consensus(
        self, routed: Sequence[Trimmed], select: np.ndarray | None = None
    ) -> EstimatesPart:
        """The reads of one owner's clusters from every part -> a consensus per cluster
        (voted, reconstructed or split in two) and the outliers, as estimates."""
        return consensus(self.framer, self.body, routed, select)

    def assemble(
        self, parts: Sequence[EstimatesPart], reports: Sequence[ReadReport]
    ) -> StrandEstimates:
        """Stage 5: every owner's estimates in one order whatever the partition (consensus
        and split estimates by cluster key, then outliers by read), primers restored; the
        stages' counts summed into one report."""
        report = ReadReport()
        for r in [*reports, *(p.report for p in parts)]:
            report.add(r)
        keys = np.concatenate([p.keys for p in parts])
        order = np.argsort(keys, kind="stable")  # a cluster's second estimate after its first
        o_index = np.concatenate([p.outlier_index for p in parts])
        o_order = np.argsort(o_index, kind="stable")
        bodies = np.concatenate(
            [np.concatenate([p.bodies for p in parts])[order],
             np.concatenate([p.outliers for p in parts])[o_order]]
        )  # fmt: skip
        erasures = np.concatenate(
            [np.concatenate([p.erasures for p in parts])[order],
             np.concatenate([p.outlier_erasures for p in parts])[o_order]]
        )  # fmt: skip
        report.erased_bases = int(erasures.sum())
        n = report.estimates = len(bodies)
        strands = np.concatenate(
            [np.tile(self.p5, (n, 1)), bodies, np.tile(self.p3, (n, 1))], axis=1
        ).astype(np.uint8)
        pad5 = np.zeros((n, len(self.p5)), dtype=bool)
        mask = np.concatenate([pad5, erasures, np.zeros((n, len(self.p3)), dtype=bool)], axis=1)
        alt_keys = np.concatenate([p.alternative_keys for p in parts])
        if not len(alt_keys):
            return StrandEstimates(strands, mask, report)
        a_order = np.argsort(alt_keys, kind="stable")  # by cluster, likeliest first in each
        alt = np.concatenate([p.alternatives for p in parts if p.alternatives is not None])
        alt = alt[a_order]
        of = np.searchsorted(keys[order], alt_keys[a_order])  # the cluster's estimate's row
        alt = np.concatenate(
            [np.tile(self.p5, (len(alt), 1)), alt, np.tile(self.p3, (len(alt), 1))], axis=1
        ).astype(np.uint8)
        return StrandEstimates(strands, mask, report, alt, of)

    def labels(self, parts: Sequence[Trimmed], strong: Strong, n_parts: int = 1) -> cluster.Labels:
        """Similarity clustering of rescued ``parts`` in this process (signatures by
        ``n_parts`` bucket partitions, confirmed edges, labels): :mod:`.read_stream` and
        :mod:`.distributed` run the same steps with a shuffle between them."""
        entries = [self.buckets(p, strong, n_parts) for p in parts]
        edges = [cluster.confirm([e[b] for e in entries]) for b in range(n_parts)]
        return cluster.labels(edges, strong)

    def process(
        self, reads: Sequence[np.ndarray], select: np.ndarray | None = None
    ) -> StrandEstimates:
        """Reads -> strand estimates, all stages in this process. ``select`` (cluster keys,
        see the framer's ``address_keys``) keeps only reads whose address is one of them:
        another pool item's reads are dropped after trimming, before consensus and decoding.
        :mod:`.distributed` runs the same stages over many parts on a Dask cluster."""
        part = self.trim(reads)
        strong = strong_keys([self.key_stats(part)])
        part = self.rescue(part, strong)
        labels = self.labels([part], strong)
        routed = self.route(part, strong, 1, select, labels)
        return self.assemble([self.consensus(routed, select)], [part.report])
