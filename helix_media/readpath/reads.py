"""Sequencing reads -> strand estimates: orient and trim, cluster by address, consensus.

1. **Orient and trim.** A read is a strand or its reverse complement, with errors. Reads of the
   strand's exact length are checked against both primers vectorized (Hamming); the rest go
   through edlib's semi-global alignment of each primer near its end. What lies between the
   primers is the strand's *body* (address + payload + parity).
2. **Cluster** by the framer's ``cluster_keys`` of the body's first bases (the helix framer's
   distance-3 address code corrects one substitution there, so a damaged address still joins
   its cluster).
3. **Consensus.** Where most of a cluster's reads have the body's exact length, a position-wise
   majority vote (vectorized over all clusters); positions with low agreement become erasures
   for the inner Reed-Solomon code, which corrects twice as many erasures as errors. Clusters
   whose reads carry indels get a multiple alignment (abPOA) and a column-wise vote.

A cluster where many reads disagree with its consensus holds two strands at one address
(another archive made with the same primers): its reads are split in two groups, each voted
on its own; the inner code, keyed by the archive, tells whose each is.

Reads that never join a cluster (no primers: garbage, adapter dimers, another archive's
strands; unreadable address) are counted, never decoded. Chimeras that join a cluster are
outvoted and counted as outliers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from helix_media.dna.nucleotides import reverse_complement
from helix_media.readpath.parts import (
    EstimatesPart,
    ReadReport,
    StrandEstimates,
    Trimmed,
    strong_keys,
)
from helix_media.strandio.fasta import N_CODE

PRIMER_MISMATCHES = 4  # per primer, fast path


PRIMER_EDITS = 5  # per primer, edlib path


AGREEMENT = 0.6  # below this share of votes a base is handed to RS as an erasure


MSA_READS = 15  # reads per cluster given to the multiple alignment


MIXED_MIN_READS = 2  # far-off reads that agree with each other: a second strand's estimate


SPLIT_SAMPLE = 64  # reads of a cluster compared pairwise to find the two strands' seeds


TRIM_CHUNK = 1 << 16  # reads per step of the vectorized trim (bounds its temporaries)


VOTE_CHUNK = 1 << 12  # reads per step of the vote: small steps, small temporaries, warm caches


_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


def _share_differing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, the share of positions where ``a`` and ``b`` differ (no float temporaries)."""
    return np.count_nonzero(a != b, axis=1) / a.shape[1]


def _rc_any(read: np.ndarray) -> np.ndarray:
    """Reverse complement that keeps N as N."""
    out = reverse_complement(np.minimum(read, 3)).astype(np.uint8)
    out[read[::-1] == N_CODE] = N_CODE
    return out


class ReadProcessor:
    """Turns reads into strand estimates for one framer's layout."""

    def __init__(self, framer) -> None:
        self.framer = framer
        self.length = framer.strand_length
        self.p5 = np.asarray(framer.primer5, dtype=np.uint8)
        self.p3 = np.asarray(framer.primer3, dtype=np.uint8)
        self.body = self.length - len(self.p5) - len(self.p3)
        self.address_nt = framer.cluster_span - len(self.p5)

    # -- 1. orient and trim ------------------------------------------------------------------
    def _fast_bodies(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact-length reads (m, L) -> (found, reversed, bodies (m, body))."""
        a, b = len(self.p5), len(self.p3)
        fwd = (rows[:, :a] != self.p5).sum(1) + (rows[:, -b:] != self.p3).sum(1)
        rc = np.where(rows == N_CODE, N_CODE, 3 - rows)[:, ::-1]
        rev = (rc[:, :a] != self.p5).sum(1) + (rc[:, -b:] != self.p3).sum(1)
        use_rc = rev < fwd
        oriented = np.where(use_rc[:, None], rc, rows)
        found = np.minimum(fwd, rev) <= 2 * PRIMER_MISMATCHES
        return found, use_rc, oriented[:, a : self.length - b]

    def _aligned_body(self, read: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """Any-length read -> (body or None, reversed) by edlib primer alignment."""
        import edlib

        slack = 12
        p5 = _LETTERS[self.p5].tobytes().decode()
        p3 = _LETTERS[self.p3].tobytes().decode()
        for reverse in (False, True):
            seq = _rc_any(read) if reverse else read
            text = _LETTERS[seq].tobytes().decode()
            head = edlib.align(p5, text[: len(p5) + slack], mode="HW", task="locations")
            if head["editDistance"] < 0 or head["editDistance"] > PRIMER_EDITS:
                continue
            tail_from = max(0, len(text) - len(p3) - slack)
            tail = edlib.align(p3, text[tail_from:], mode="HW", task="locations")
            if tail["editDistance"] < 0 or tail["editDistance"] > PRIMER_EDITS:
                continue
            start = head["locations"][0][1] + 1
            end = tail_from + tail["locations"][-1][0]
            if end > start:
                return seq[start:end], reverse
        return None, False

    # -- 2. cluster ------------------------------------------------------------------------
    def _rescue_keys(
        self, keys: np.ndarray, heads: np.ndarray, rows: np.ndarray, strong: np.ndarray
    ) -> None:
        """Reads whose key few others share (an indel in or before the address shifts it):
        try the address with one base deleted or inserted at each position, and take a
        variant that names a well-supported (``strong``) cluster."""
        lost = rows[~np.isin(keys[rows], strong)]
        if not len(lost) or not len(strong):
            return
        h = heads[lost]  # (m, address_nt + 1)
        a = self.address_nt
        variants = [np.delete(h, j, axis=1)[:, :a] for j in range(a + 1)]  # a deletion
        for j in range(a):  # an insertion: drop the inserted base
            for base in range(4):
                ins = np.concatenate([h[:, :j], np.full((len(h), 1), base, h.dtype), h[:, j:]], 1)
                variants.append(ins[:, :a])
        cand = self.framer.cluster_keys(np.concatenate(variants)).reshape(len(variants), -1)
        hit = np.isin(cand, strong) & (cand >= 0)
        first = hit.argmax(axis=0)
        found = hit.any(axis=0)
        keys[lost[found]] = cand[first[found], np.flatnonzero(found)]

    # -- 3. consensus ------------------------------------------------------------------------
    def _vote(self, bodies: np.ndarray, cluster: np.ndarray, n_clusters: int):
        """Majority per position over equal-length bodies -> (consensus, agreement) per cluster.
        ``cluster`` must be sorted."""
        starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
        # Clusters without reads keep consensus 0 and agreement 0 (as an all-zero count would).
        consensus = np.zeros((n_clusters, self.body), dtype=np.uint8)
        agreement = np.zeros((n_clusters, self.body))
        # whole clusters at a time, about VOTE_CHUNK reads each: the per-read one-hot and the
        # per-cluster counts stay small however many reads there are
        bounds = [*starts[:: max(1, len(starts) * VOTE_CHUNK // max(len(bodies), 1))], len(bodies)]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            part = bodies[lo:hi]
            at = starts[(starts >= lo) & (starts < hi)] - lo
            counts = np.stack(
                [np.add.reduceat((part == b).astype(np.int32), at, axis=0) for b in range(4)], 2
            )
            ids = cluster[lo + at]
            total = counts.sum(axis=2)
            support = counts.max(axis=2)
            consensus[ids] = counts.argmax(axis=2)
            tie = ((counts == support[..., None]).sum(axis=2) > 1) & (support > 0)
            agreement[ids] = np.where(tie, 0.0, support / np.maximum(total, 1))
        return consensus, agreement

    @staticmethod
    def _mixed_clusters(cluster: np.ndarray, far: np.ndarray, n_clusters: int) -> np.ndarray:
        """Clusters with several reads far from the consensus: two strands may share the
        address (another archive with the same primers); :meth:`_split` checks that the far
        reads agree with each other (chimeras and damaged reads do not)."""
        return np.bincount(cluster, weights=far, minlength=n_clusters) >= MIXED_MIN_READS

    def _split(self, bodies, cluster, mixed, consensus, agreement):
        """Each mixed cluster -> two strand estimates, each voted on by the reads within 10 %
        of its densest read. The first replaces the cluster's consensus in place; the
        second is returned, with the clusters split and a mask of the rows it explains (not
        outliers). RS, keyed by the archive, decides which estimate is whose."""
        extra, extra_agreement, split = [], [], []
        explained = np.zeros(len(bodies), dtype=bool)
        for c in np.flatnonzero(mixed).tolist():
            at = np.flatnonzero(cluster == c)
            rows = bodies[at]
            # two seeds: the read with most close neighbours, then the same among the rest
            # (found on at most SPLIT_SAMPLE reads, so deep clusters stay linear)
            sample = rows[:SPLIT_SAMPLE]
            near = (sample[:, None, :] != sample[None, :, :]).mean(axis=2) <= 0.1
            seed1 = near.sum(axis=1).argmax()
            rest = near & ~near[seed1][None, :] & ~near[seed1][:, None]
            seed2 = rest.sum(axis=1).argmax()
            first = (rows != sample[seed1]).mean(axis=1) <= 0.1
            second = ((rows != sample[seed2]).mean(axis=1) <= 0.1) & ~first
            if min(first.sum(), second.sum()) < MIXED_MIN_READS:
                continue
            for i, g in enumerate((first, second)):
                got, agree = self._vote(rows[g], np.zeros(int(g.sum()), dtype=np.int64), 1)
                if i == 0:
                    consensus[c], agreement[c] = got[0], agree[0]
                else:
                    extra.append(got[0])
                    extra_agreement.append(agree[0])
                    split.append(c)
                    explained[at[g]] = True
        if not extra:
            no = np.zeros((0, self.body), dtype=np.uint8), np.zeros((0, self.body))
            return *no, np.zeros(0, dtype=np.int64), explained
        return np.stack(extra), np.stack(extra_agreement), np.array(split), explained

    def _align(self, reads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
        """abPOA multiple alignment -> column vote over non-gap columns, or None."""
        import pyabpoa

        texts = [_LETTERS[r].tobytes().decode() for r in reads[:MSA_READS]]
        result = pyabpoa.msa_aligner().msa(texts, out_cons=False, out_msa=True)
        rows = np.frombuffer("".join(result.msa_seq[: len(texts)]).encode(), dtype=np.uint8)
        msa = rows.reshape(len(texts), -1)
        codes = np.full(256, 5, dtype=np.uint8)  # 5 = gap
        codes[_LETTERS] = np.arange(5)
        msa = codes[msa]
        counts = np.stack([(msa == b).sum(axis=0) for b in range(6)], axis=1)  # A C G T N gap
        keep = counts[:, :4].sum(axis=1) > counts[:, 5]
        counts = counts[keep, :4]
        if len(counts) != self.body:
            return None
        support = counts.max(axis=1)
        tie = (np.sort(counts, axis=1)[:, 2] == support) & (support > 0)
        agreement = np.where(tie, 0.0, support / np.maximum(counts.sum(axis=1), 1))
        return counts.argmax(axis=1).astype(np.uint8), agreement

    # -- the stages, each on a part of the reads (one part in one process; many on a cluster) --
    def trim(self, reads: Sequence[np.ndarray], first: int = 0) -> Trimmed:
        """Stage 1, per part of the reads (``first``: the global index of ``reads[0]``):
        orient and trim each read, and read its cluster key. Reads without a body are
        counted and dropped here."""
        report = ReadReport(reads=len(reads))
        lengths = np.fromiter((len(r) for r in reads), dtype=np.int64, count=len(reads))
        report.too_short = int((lengths < self.length // 2).sum())
        exact = np.flatnonzero(lengths == self.length)
        fixed_body = np.zeros((len(reads), self.body), dtype=np.uint8)
        has_fixed = np.zeros(len(reads), dtype=bool)
        for lo in range(0, len(exact), TRIM_CHUNK):  # in chunks: the temporaries stay small
            rows = exact[lo : lo + TRIM_CHUNK]
            found, rev, bodies = self._fast_bodies(np.stack([reads[i] for i in rows]))
            fixed_body[rows[found]] = bodies[found]
            has_fixed[rows[found]] = True
            report.reverse += int(rev[found].sum())
        # the rest (indels, odd lengths, fast-path misses) through the aligner
        other_bodies: dict[int, np.ndarray] = {}
        for i in np.flatnonzero(~has_fixed & (lengths >= self.length // 2)):
            body, reverse = self._aligned_body(reads[i])
            if body is None:
                report.no_primers += 1
                continue
            report.reverse += reverse
            if len(body) == self.body:
                fixed_body[i], has_fixed[i] = body, True
            else:
                other_bodies[int(i)] = body
        has_body = has_fixed.copy()
        has_body[list(other_bodies)] = True
        rows = np.flatnonzero(has_body)
        # heads: the address and one more base; bodies too short for one have no key
        heads = np.zeros((len(rows), self.address_nt + 1), dtype=np.uint8)
        has_head = has_fixed[rows].copy()
        heads[has_head] = fixed_body[rows[has_head], : self.address_nt + 1]
        local = {int(i): j for j, i in enumerate(rows.tolist())}
        for i, body in other_bodies.items():
            if len(body) > self.address_nt:
                heads[local[i]], has_head[local[i]] = body[: self.address_nt + 1], True
        keys = np.full(len(rows), -1, dtype=np.int64)
        keys[has_head] = self.framer.cluster_keys(heads[has_head, : self.address_nt])
        return Trimmed(
            index=rows + first,
            fixed=has_fixed[rows],
            bodies=fixed_body[rows],
            other={local[i]: b for i, b in other_bodies.items()},
            heads=heads,
            has_head=has_head,
            keys=keys,
            report=report,
        )

    @staticmethod
    def key_counts(part: Trimmed) -> tuple[np.ndarray, np.ndarray]:
        """(keys, reads per key) in one part; summed over all parts they tell which clusters
        are strong enough to rescue reads into (:meth:`_rescue_keys`)."""
        return np.unique(part.keys[part.keys >= 0], return_counts=True)

    def route(
        self,
        part: Trimmed,
        strong: np.ndarray,
        owners: int = 1,
        select: np.ndarray | None = None,
    ) -> list[Trimmed]:
        """Stage 2, per part: rescue keys into the ``strong`` clusters (keys with
        ``STRONG_CLUSTER`` reads or more over all parts), drop reads outside ``select``, and
        split the part by owner (key modulo ``owners``), so that each cluster's reads meet in
        one place. Exact-length reads without an address go on as estimates of their own."""
        keys = part.keys.copy()
        rows = np.flatnonzero(part.has_head)
        self._rescue_keys(keys, part.heads, rows, strong)
        report = ReadReport()
        keep = np.ones(len(keys), dtype=bool)
        if select is not None:
            drop = (keys >= 0) & ~np.isin(keys, select)
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

    def consensus(self, routed: Sequence[Trimmed]) -> EstimatesPart:
        """Stage 3, per owner: the reads of its clusters from every part -> a consensus
        per cluster (voted, aligned or split in two) and the outliers, as estimates."""
        part = Trimmed.concat(routed)
        order = np.lexsort((part.index, part.keys))  # by cluster, then by read: as one process
        part = part.take(order, part.keys[order], part.report)
        report = part.report
        keys, index = part.keys, part.index
        clustered = np.flatnonzero(keys >= 0)
        report.clustered = len(clustered)
        uniq, cluster_of = np.unique(keys[clustered], return_inverse=True)
        n_clusters = report.clusters = len(uniq)
        # vote where a cluster is mostly exact-length reads, align otherwise
        is_fixed = part.fixed[clustered]
        n_fixed = np.bincount(cluster_of[is_fixed], minlength=n_clusters)
        n_all = np.bincount(cluster_of, minlength=n_clusters)
        fixed_rows = clustered[is_fixed]  # sorted by cluster already
        sorted_cluster = cluster_of[is_fixed]
        consensus = np.zeros((n_clusters, self.body), dtype=np.uint8)
        agreement = np.zeros((n_clusters, self.body))
        if len(fixed_rows):
            consensus, agreement = self._vote(part.bodies[fixed_rows], sorted_cluster, n_clusters)
        align = np.flatnonzero((n_fixed < np.maximum(3, n_all / 2)) & (n_all > n_fixed))
        failed = np.zeros(n_clusters, dtype=bool)
        bounds = np.concatenate([[0], np.cumsum(n_all)])
        for c in align:
            rows_c = clustered[bounds[c] : bounds[c + 1]]
            seqs = [part.other.get(int(i), part.bodies[i]) for i in rows_c]
            got = self._align(seqs) if len(seqs) > 1 else None
            if got is None:
                if len(seqs) == 1 and len(seqs[0]) == self.body:
                    consensus[c], agreement[c] = np.minimum(seqs[0], 3), 1.0
                    continue
                failed[c] = True
                continue
            consensus[c], agreement[c] = got
        report.clusters_aligned = int(len(align) - failed[align].sum())
        report.clusters_failed = int(failed.sum())
        # Outliers: exact-length reads that disagree with their consensus on > 10 % of bases
        # (chimeras, indel pairs, or a read whose damaged address fell into another strand's
        # cluster). Those whose address differs from the consensus's may belong to a strand
        # of their own: they go on as strand estimates, as do exact-length reads whose address
        # could not be read. The inner RS code decides whether they are any good.
        outlier_rows = np.flatnonzero(part.fixed & (keys < 0))
        extra = np.zeros((0, self.body), dtype=np.uint8)
        extra_agreement = np.zeros((0, self.body))
        extra_keys = np.zeros(0, dtype=np.int64)
        if len(fixed_rows):
            bodies = part.bodies[fixed_rows]
            theirs = consensus[sorted_cluster]
            diff = _share_differing(bodies, theirs)
            mixed = self._mixed_clusters(sorted_cluster, diff > 0.1, n_clusters) & ~failed
            if mixed.any():
                extra, extra_agreement, split, explained = self._split(
                    bodies, sorted_cluster, mixed, consensus, agreement
                )
                extra_keys = uniq[split]
                report.clusters_split = len(extra)
                theirs = consensus[sorted_cluster]
                diff = np.where(explained, 0.0, _share_differing(bodies, theirs))
            report.outliers = int((diff > 0.1).sum())
            a = self.address_nt
            elsewhere = (bodies[:, :a] != theirs[:, :a]).any(1) & (diff > 0.1)
            outlier_rows = np.concatenate([outlier_rows, fixed_rows[elsewhere]])
        keep = ~failed
        return EstimatesPart(
            keys=np.concatenate([uniq[keep], extra_keys]),
            bodies=np.concatenate([consensus[keep], extra]),
            erasures=np.concatenate([agreement[keep], extra_agreement]) < AGREEMENT,
            outlier_index=index[outlier_rows],
            outliers=np.minimum(part.bodies[outlier_rows], 3),
            outlier_erasures=part.bodies[outlier_rows] == N_CODE,
            report=report,
        )

    def assemble(
        self, parts: Sequence[EstimatesPart], reports: Sequence[ReadReport]
    ) -> StrandEstimates:
        """Stage 4: every owner's estimates in one order whatever the partition (consensus
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
        return StrandEstimates(strands, mask, report)

    def process(
        self, reads: Sequence[np.ndarray], select: np.ndarray | None = None
    ) -> StrandEstimates:
        """Reads -> strand estimates, all stages in this process. ``select`` (cluster keys,
        see the framer's ``address_keys``) keeps only reads whose address is one of them:
        another pool item's reads are dropped after trimming, before consensus and decoding.
        :mod:`.distributed` runs the same stages over many parts on a Dask cluster."""
        part = self.trim(reads)
        routed = self.route(part, strong_keys([self.key_counts(part)]), 1, select)
        return self.assemble([self.consensus(routed)], [part.report])
