"""Stage 3 of the read path: each cluster's reads -> a strand estimate with erasures.

Where most of a cluster's reads have the body's exact length, a position-wise majority vote
(vectorized over all clusters); positions with low agreement become erasures for the inner
Reed-Solomon code, which corrects twice as many erasures as errors. Clusters whose reads
carry indels go to trace reconstruction (:mod:`.reconstruct`, when it is there) or to a
multiple alignment (abPOA) and a column vote whose length is repaired to the body's (the
weakest columns dropped or added back); bases of low confidence become erasures.

A cluster where many reads disagree with its consensus holds two strands at one address
(another archive made with the same primers): its reads are split in two groups, each voted
on its own; the inner code, keyed by the archive, tells whose each is. Reads with indels
are split by edit distance (:func:`.reconstruct.reconstruct` leaves the other strand's reads
out), and the reads left out get an estimate of their own where they agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from helix_media.readpath import alternatives
from helix_media.readpath.cluster import LABEL_BASE, far
from helix_media.readpath.parts import EstimatesPart, Trimmed
from helix_media.readpath.threads import threads
from helix_media.readpath.trim import LETTERS
from helix_media.strandio.fasta import N_CODE

AGREEMENT = 0.6  # below this share of votes a base is handed to RS as an erasure

#: reads per cluster given to the multiple alignment, those closest to the body's length.
#: At 3+3+4 % errors (oracle clusters of 200 strands): 15 reads 181 exact, 30 reads 191.
MSA_READS = 24

#: a reconstructed base below this confidence is handed to RS as an erasure. Measured on
#: oracle clusters with the draft reconstructor of this writing (RS-decoded strands of 267
#: at 1+1+1 % 5x, by threshold 0 / 0.3 / 0.5 / 0.9: 227 / 227 / 225 / 224; at 10x and at
#: 3+3+4 % 30x no change): erasures gain nothing yet, 0.3 costs nothing; measure again
#: when its confidence is calibrated.
CONFIDENCE = 0.3

VOTE_SHARE = 0.8  # a cluster is voted on when this share of its reads have the exact length
DISPUTED = 10  # ... and at most this many of its voted bases are erasures

USE_RECONSTRUCT = True  # send indel clusters to reconstruct() when the module is there

MIXED_MIN_READS = 2  # far-off reads that agree with each other: a second strand's estimate
#: ... from indel reads where they fit their own estimate this well (log-likelihood per base;
#: the 0.1 % worst reads of real strands: -0.68)
SPLIT_FLOOR = -0.8

SPLIT_SAMPLE = 64  # reads of a cluster compared pairwise to find the two strands' seeds

VOTE_CHUNK = 1 << 12  # reads per step of the vote: small steps, small temporaries, warm caches

#: indel clusters handed to a thread at once; the compiled reconstruction releases the GIL,
#: so the threads share the cores (the Python between its kernels does not)
THREAD_CHUNK = 32


def _rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]``, as a view where the rows are a contiguous run (no copy of the reads)."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return a[rows[0] : rows[-1] + 1]
    return a[rows]


def _disagreement(bodies, estimate, cluster, address_nt: int) -> tuple[np.ndarray, np.ndarray]:
    """Per read: the share of its bases that differ from its cluster's estimate, and whether
    its address does; in chunks, so no read-sized temporaries are made."""
    share = np.empty(len(bodies))
    address = np.empty(len(bodies), dtype=bool)
    for lo in range(0, len(bodies), VOTE_CHUNK):
        differ = bodies[lo : lo + VOTE_CHUNK] != estimate[cluster[lo : lo + VOTE_CHUNK]]
        share[lo : lo + VOTE_CHUNK] = np.count_nonzero(differ, axis=1) / differ.shape[1]
        address[lo : lo + VOTE_CHUNK] = differ[:, :address_nt].any(axis=1)
    return share, address


_RECONSTRUCT: list = []  # [the function or None], looked up once


def reconstructor() -> Callable | None:
    """``reconstruct.reconstruct`` where that module imports and has it, else None."""
    if not _RECONSTRUCT:
        try:
            from helix_media.readpath import reconstruct as module
        except Exception:  # not written yet, or broken: today's alignment does the work
            module = None
        fn = getattr(module, "reconstruct", None)
        _RECONSTRUCT.append(fn if callable(fn) else None)
    return _RECONSTRUCT[0] if USE_RECONSTRUCT else None


def vote(bodies: np.ndarray, cluster: np.ndarray, n_clusters: int, body: int):
    """Majority per position over equal-length bodies -> (consensus, agreement) per cluster.
    ``cluster`` must be sorted."""
    starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
    # Clusters without reads keep consensus 0 and agreement 0 (as an all-zero count would).
    consensus = np.zeros((n_clusters, body), dtype=np.uint8)
    agreement = np.zeros((n_clusters, body))
    # whole clusters at a time, about VOTE_CHUNK reads each: the per-read one-hot and the
    # per-cluster counts stay small however many reads there are
    bounds = [*starts[:: max(1, len(starts) * VOTE_CHUNK // max(len(bodies), 1))], len(bodies)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        part = bodies[lo:hi]
        at = starts[(starts >= lo) & (starts < hi)] - lo
        counts = np.stack(  # (a uint8 view of the bool one-hot: no int32 copy of the reads)
            [
                np.add.reduceat((part == b).view(np.uint8), at, axis=0, dtype=np.int32)
                for b in range(4)
            ],
            2,
        )
        ids = cluster[lo + at]
        total = counts.sum(axis=2)
        support = counts.max(axis=2)
        consensus[ids] = counts.argmax(axis=2)
        tie = ((counts == support[..., None]).sum(axis=2) > 1) & (support > 0)
        agreement[ids] = np.where(tie, 0.0, support / np.maximum(total, 1))
    return consensus, agreement


def align(reads: Sequence[np.ndarray], body: int) -> tuple[np.ndarray, np.ndarray] | None:
    """abPOA multiple alignment -> column vote over the columns most reads fill, repaired to
    ``body`` columns: the kept columns with the least margin over gaps are dropped, or the
    dropped ones with the most are added back (a residual indel of the vote is where reads
    disagree most). Measured on oracle clusters at 1+1+1 % and 10x: 186 of 200 exact and 11
    of the wrong length without the repair, 190 and none with it."""
    import pyabpoa

    texts = [LETTERS[r].tobytes().decode() for r in reads]
    result = pyabpoa.msa_aligner().msa(texts, out_cons=False, out_msa=True)
    rows = np.frombuffer("".join(result.msa_seq[: len(texts)]).encode(), dtype=np.uint8)
    msa = rows.reshape(len(texts), -1)
    codes = np.full(256, 5, dtype=np.uint8)  # 5 = gap
    codes[LETTERS] = np.arange(5)
    msa = codes[msa]
    counts = np.stack([(msa == b).sum(axis=0) for b in range(6)], axis=1)  # A C G T N gap
    margin = counts[:, :4].sum(axis=1) - counts[:, 5]
    keep = margin > 0
    extra = int(keep.sum()) - body
    if extra > 0:
        kept = np.flatnonzero(keep)
        keep[kept[np.lexsort((kept, margin[kept]))[:extra]]] = False
    elif extra < 0:
        gone = np.flatnonzero(~keep)
        if len(gone) < -extra:
            return None
        keep[gone[np.lexsort((gone, -margin[gone]))[:-extra]]] = True
    counts = counts[keep, :4]
    support = counts.max(axis=1)
    tie = (np.sort(counts, axis=1)[:, 2] == support) & (support > 0)
    agreement = np.where(tie, 0.0, support / np.maximum(counts.sum(axis=1), 1))
    return counts.argmax(axis=1).astype(np.uint8), agreement


def indel_consensus(reads: Sequence[np.ndarray], body: int) -> IndelConsensus | None:
    """A cluster whose reads carry indels -> its :class:`IndelConsensus`, or None. The
    :data:`MSA_READS` reads closest to the body's length are used; a cluster of few reads
    also gets strands one edit away for the inner code to try (:mod:`.alternatives`; none
    from the alignment). Where at least ``MIXED_MIN_READS`` reads were far from the strand
    and make a likely strand of their own, that is a second estimate (two archives with the
    same primers: the inner code, keyed by the archive, tells whose each is)."""
    none = np.zeros((0, body), dtype=np.uint8)
    if len(reads) == 1:
        if len(reads[0]) != body:
            return None
        return IndelConsensus(np.minimum(reads[0], 3), np.ones(body), none)
    off = np.abs(np.fromiter((len(r) for r in reads), dtype=np.int64, count=len(reads)) - body)
    reads = [reads[i] for i in np.argsort(off, kind="stable")[:MSA_READS]]
    fn = reconstructor()
    if fn is not None:
        ask = alternatives.COUNT if len(reads) <= alternatives.MAX_READS else 0
        try:
            got = fn(reads, body, candidates=ask)
        except Exception as exc:  # a draft that fails must not fail the decode
            warnings.warn(f"reconstruct failed ({exc!r}); using the alignment", stacklevel=2)
        else:
            if len(got.bases) == body:  # low confidence -> agreement 0: an erasure
                sure = np.asarray(got.confidence) >= CONFIDENCE
                near = getattr(got, "candidates", None)
                near = near if near is not None and near.shape[1:] == (body,) else none
                out = IndelConsensus(np.asarray(got.bases, dtype=np.uint8), sure * 1.0, near)
                left_out = getattr(got, "other_strand", ())
                if len(left_out) >= MIXED_MIN_READS:
                    other = fn([reads[i] for i in left_out], body)
                    per_base = other.log_likelihood / max(1, other.reads_used * body)
                    if len(other.bases) == body and per_base > SPLIT_FLOOR:
                        out.second = np.asarray(other.bases, dtype=np.uint8)
                        out.second_agreement = np.asarray(other.confidence) >= CONFIDENCE
                return out
    got = align(reads, body)
    return None if got is None else IndelConsensus(*got, none)


@dataclass
class IndelConsensus:
    """An indel cluster's estimate: bases, agreement (or confidence) per base, strands one
    edit away to try; and a second strand's estimate where the cluster holds two."""

    bases: np.ndarray
    agreement: np.ndarray
    alternatives: np.ndarray
    second: np.ndarray | None = None
    second_agreement: np.ndarray | None = None


def mixed_clusters(cluster: np.ndarray, far: np.ndarray, n_clusters: int) -> np.ndarray:
    """Clusters with several reads far from the consensus: two strands may share the
    address (another archive with the same primers); :func:`split` checks that the far
    reads agree with each other (chimeras and damaged reads do not)."""
    return np.bincount(cluster, weights=far, minlength=n_clusters) >= MIXED_MIN_READS


def split(bodies, cluster, mixed, consensus, agreement):
    """Each mixed cluster -> two strand estimates, each voted on by the reads within 10 %
    of its densest read. The first replaces the cluster's consensus in place; the
    second is returned, with the clusters split and a mask of the rows it explains (not
    outliers). RS, keyed by the archive, decides which estimate is whose."""
    body = bodies.shape[1]
    extra, extra_agreement, split_of = [], [], []
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
            got, agree = vote(rows[g], np.zeros(int(g.sum()), dtype=np.int64), 1, body)
            if i == 0:
                consensus[c], agreement[c] = got[0], agree[0]
            else:
                extra.append(got[0])
                extra_agreement.append(agree[0])
                split_of.append(c)
                explained[at[g]] = True
    if not extra:
        no = np.zeros((0, body), dtype=np.uint8), np.zeros((0, body))
        return *no, np.zeros(0, dtype=np.int64), explained
    return np.stack(extra), np.stack(extra_agreement), np.array(split_of), explained


def consensus(
    framer, body: int, routed: Sequence[Trimmed], select: np.ndarray | None = None
) -> EstimatesPart:
    """The reads of one owner's clusters from every part -> a consensus per cluster (voted,
    aligned or split in two) and the outliers, as estimates. A cluster found by similarity
    alone (label from ``LABEL_BASE``) is checked against ``select`` by the address of its
    consensus."""
    part = Trimmed.concat(routed)
    order = np.lexsort((part.index, part.keys))  # by cluster, then by read: as one process
    part = part.take(order, part.keys[order], part.report)
    report = part.report
    keys, index = part.keys, part.index
    clustered = np.flatnonzero(keys >= 0)
    uniq, cluster_of = np.unique(keys[clustered], return_inverse=True)
    n_clusters = len(uniq)
    # vote where a cluster is mostly exact-length reads, align otherwise
    is_fixed = part.fixed[clustered]
    n_fixed = np.bincount(cluster_of[is_fixed], minlength=n_clusters)
    n_all = np.bincount(cluster_of, minlength=n_clusters)
    fixed_rows = clustered[is_fixed]  # sorted by cluster already
    sorted_cluster = cluster_of[is_fixed]
    estimate = np.zeros((n_clusters, body), dtype=np.uint8)
    agreement = np.zeros((n_clusters, body))
    if len(fixed_rows):
        estimate, agreement = vote(_rows(part.bodies, fixed_rows), sorted_cluster, n_clusters, body)
    voted = n_fixed >= np.maximum(3, VOTE_SHARE * n_all)
    if len(fixed_rows):  # exact-length reads with an insertion and a deletion disagree
        voted &= (agreement < AGREEMENT).sum(axis=1) <= DISPUTED
    aligned = np.flatnonzero(~voted & (n_all > n_fixed))
    failed = np.zeros(n_clusters, dtype=bool)
    bounds = np.concatenate([[0], np.cumsum(n_all)])
    near, near_of = [np.zeros((0, body), dtype=np.uint8)], [np.zeros(0, dtype=np.int64)]
    seconds: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # cluster -> a second strand

    def run(chunk: np.ndarray) -> list[IndelConsensus | None]:
        return [
            indel_consensus([part.other.get(int(i), part.bodies[i]) for i in rows_c], body)
            for rows_c in (clustered[bounds[c] : bounds[c + 1]] for c in chunk)
        ]

    chunks = [aligned[k : k + THREAD_CHUNK] for k in range(0, len(aligned), THREAD_CHUNK)]
    with ThreadPoolExecutor(max(1, min(threads(), len(chunks)))) as pool:
        results = [got for done in pool.map(run, chunks) for got in done]
    for c, got in zip(aligned, results, strict=True):
        if got is None:
            failed[c] = True
        else:
            estimate[c], agreement[c] = got.bases, got.agreement
            near.append(got.alternatives)
            near_of.append(np.full(len(got.alternatives), c, dtype=np.int64))
            if got.second is not None:
                seconds[int(c)] = got.second, got.second_agreement
    # clusters found by similarity alone: selected by the address their consensus reads
    dropped = np.zeros(n_clusters, dtype=bool)
    if select is not None:
        new = np.flatnonzero((uniq >= LABEL_BASE) & ~failed)
        a = framer.cluster_span - len(framer.primer5)
        dropped[new] = ~np.isin(framer.cluster_keys(estimate[new, :a]), select)
        report.not_selected += int(n_all[dropped].sum())
    report.clustered += len(clustered) - int(n_all[dropped].sum())
    report.clusters += n_clusters - int(dropped.sum())
    report.clusters_aligned += int(len(aligned) - failed[aligned].sum() - dropped[aligned].sum())
    report.clusters_failed += int(failed.sum())
    # Outliers: exact-length reads that disagree with their consensus on > 10 % of bases
    # (chimeras, indel pairs, or a read whose damaged address fell into another strand's
    # cluster). Those whose address differs from the consensus's and that are far from it
    # by edit distance may belong to a strand of their own: they go on as strand estimates,
    # as do exact-length reads whose address could not be read. The inner RS code decides
    # whether they are any good.
    outlier_rows = np.flatnonzero(part.fixed & (keys < 0))
    extra = np.zeros((0, body), dtype=np.uint8)
    extra_agreement = np.zeros((0, body))
    extra_keys = np.zeros(0, dtype=np.int64)
    live = ~dropped[sorted_cluster]
    fixed_rows, sorted_cluster = fixed_rows[live], sorted_cluster[live]
    if len(fixed_rows):
        bodies = _rows(part.bodies, fixed_rows)
        a = framer.cluster_span - len(framer.primer5)
        diff, address = _disagreement(bodies, estimate, sorted_cluster, a)
        mixed = mixed_clusters(sorted_cluster, diff > 0.1, n_clusters) & ~failed
        if mixed.any():
            extra, extra_agreement, split_of, explained = split(
                bodies, sorted_cluster, mixed, estimate, agreement
            )
            extra_keys = uniq[split_of]
            report.clusters_split += len(extra)
            again = np.flatnonzero(mixed[sorted_cluster])  # their estimates changed
            diff[again], address[again] = _disagreement(
                bodies[again], estimate, sorted_cluster[again], a
            )
            diff[explained] = 0.0
        report.outliers += int((diff > 0.1).sum())
        elsewhere = np.flatnonzero(address & (diff > 0.1))
        # ... unless it is the cluster's strand shifted by an insertion and a deletion (at
        # nanopore error rates most exact-length reads are): close by edit distance
        elsewhere = elsewhere[far(bodies[elsewhere], estimate[sorted_cluster[elsewhere]])]
        outlier_rows = np.concatenate([outlier_rows, fixed_rows[elsewhere]])
    if second := [c for c in sorted(seconds) if not dropped[c]]:  # indel clusters split
        extra = np.concatenate([extra, np.stack([seconds[c][0] for c in second])])
        more = np.stack([seconds[c][1] for c in second]).astype(float)
        extra_agreement = np.concatenate([extra_agreement, more])
        extra_keys = np.concatenate([extra_keys, uniq[second]])
        report.clusters_split += len(second)
    keep = ~failed & ~dropped
    near_of = np.concatenate(near_of)
    if len(extra_keys):  # a split cluster has two strands: an alternative would be of either
        keep_alt = ~np.isin(uniq[near_of], extra_keys) & keep[near_of]
    else:
        keep_alt = keep[near_of]
    return EstimatesPart(
        keys=np.concatenate([uniq[keep], extra_keys]),
        bodies=np.concatenate([estimate[keep], extra]),
        erasures=np.concatenate([agreement[keep], extra_agreement]) < AGREEMENT,
        outlier_index=index[outlier_rows],
        outliers=np.minimum(part.bodies[outlier_rows], 3),
        outlier_erasures=part.bodies[outlier_rows] == N_CODE,
        report=report,
        alternative_keys=uniq[near_of[keep_alt]],
        alternatives=np.concatenate(near)[keep_alt],
    )
