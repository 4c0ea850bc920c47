"""Clustering reads by similarity, for the reads the address key cannot place.

Reads are first clustered by their address key (:mod:`.reads`): exact, vectorized and free
for clean reads. At nanopore error rates an indel in the address (or in the primer, which
shifts the trim) gives a read a key few others share; after the one-edit rescue of
:mod:`.reads` such *loose* reads are 7 % of a 1+1+1 % run (10x) and 34 % of a 3+3+4 % run
(30x). They are clustered here by the similarity of their whole bodies, together with a
few *anchor* reads of each strong cluster (the :data:`.parts.ANCHORS` reads with the
smallest index among those keyed to it), so that a loose read joins the strong cluster of
its strand or, where none is reached, a cluster of loose reads of its own.

Why a hybrid rather than similarity for every read (measured, docs/reading-dna.md): at the
paper's channel no read is loose, so the fast path only pays for the anchors' signatures
(one hash, 12 entries, and an entry in the bucket of their key, where a key's anchors meet
and confirm each other); similarity for all reads would sort ~50 signature entries per read
and confirm pairs for reads the address already places.

The work runs in partitions, one process or many alike:

A. per part of the reads (:func:`bucket_parts`): each node (loose or anchor read) gets
   signatures: in :data:`N_WINDOWS` windows along the body (half counted from each end,
   so an indel shifts a window by the drift since its end, not since the read's start),
   the minimizer (smallest hash) of the window's :data:`K`-mers under each of
   :data:`HASHES` hashes. A (window, hash, minimizer) triple is a bucket. Positional
   windows make a bucket specific (a 12-mer in a 24-nt window, not anywhere in the read),
   so random reads rarely meet, and minimizers survive the few-base drift of indels.
   Entries (bucket, node) are split by bucket into bucket partitions, with the nodes'
   bodies.
B. per bucket partition (:func:`confirm`): reads sharing a bucket are candidate pairs,
   those sharing most buckets first; a pair is confirmed when the banded edit distance of
   the bodies is at most :data:`EDIT_SHARE` of their length. Pairs already joined by
   confirmed edges are skipped (union-find), so mostly one edge per node is computed; this
   cannot change the connected components, whatever the partitioning. The tests run on
   threads a block at a time, with the edges of the one-thread walk
   (:func:`_confirm_on_threads`).
C. once, over all edges (:func:`labels`): union-find; a component takes the strong key of
   most of its anchors, or without any ``LABEL_BASE`` + its smallest read index. A strong
   key whose anchors all joined another's component is merged into it (104 keys at 3+3+4 %
   errors and 30x: a deletion in a homopolymer of a strand's address is common enough to
   give 3-4 of its reads a strong key of their own).

Labels depend only on the reads, so the Dask and disk-shuffle modes give the clusters of
one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from helix_media.readpath.pair_distance import BAND, close, close_pair
from helix_media.readpath.threads import threads

K = 12  # k-mer of the signatures: 4**12 values keep random reads out of each other's buckets
WINDOW = 24  # bases per window: 13 k-mers, a minimizer that survives a few bases of drift
STEP = 16  # windows every STEP bases
N_WINDOWS = 12  # windows of a 200-nt body: 6 from the start, 6 from the end
HASHES = 4  # minimizers per window for loose reads: 48 signatures
ANCHOR_HASHES = 1  # ... and for anchors (12): fewer entries per strong cluster on the fast path
MAX_BUCKET = 64  # members of one bucket paired (smallest indices): bounds repeats' cost
EDIT_SHARE = 0.28  # confirmed: edit distance <= this share of the longer body
PAIR_BLOCK = 256  # candidate pairs tested at once on threads (see _confirm_on_threads)
LABEL_BASE = 1 << 40  # labels of clusters found by similarity alone (above every address key)

_NONE = np.uint64(0xFFFFFFFFFFFFFFFF)
_KEY_BUCKET = np.uint64(1 << 63)  # the top bit marks an anchor's key bucket
_SALTS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
     0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63],
    dtype=np.uint64,
)  # fmt: skip


@dataclass
class Buckets:
    """Signature entries of one bucket partition from one part of the reads, with the bodies
    of the nodes they name."""

    index: np.ndarray  # (n,) int64 global read index of each node
    anchor: np.ndarray  # (n,) int64 strong key of an anchor, -1 for a loose read
    flat: np.ndarray  # bodies end to end (uint8 0..3, 4 = N)
    offsets: np.ndarray  # (n + 1,) int64
    bucket: np.ndarray  # (e,) uint64
    row: np.ndarray  # (e,) int64 node of each entry

    @staticmethod
    def concat(parts: Sequence[Buckets]) -> Buckets:
        """One bucket partition's entries from every part (each node is in one part only)."""
        at = np.cumsum([0, *(len(p.index) for p in parts)])
        base = np.cumsum([0, *(len(p.flat) for p in parts)])
        return Buckets(
            np.concatenate([p.index for p in parts]),
            np.concatenate([p.anchor for p in parts]),
            np.concatenate([p.flat for p in parts]),
            np.concatenate([[0], *(p.offsets[1:] + b for p, b in zip(parts, base, strict=False))]),
            np.concatenate([p.bucket for p in parts]),
            np.concatenate([p.row + a for p, a in zip(parts, at, strict=False)]),
        )


# -- A. signatures ----------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _mix(x):
    """splitmix64's finalizer: a k-mer code (or a salted minimizer) -> a well-spread hash."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@numba.njit(cache=True)
def _signatures(flat, offsets, hashes, salts):
    """Bucket id per (node, hash, window); ``_NONE`` where a window has no valid k-mer or the
    node uses fewer hashes (``hashes[i]``)."""
    n = len(offsets) - 1
    nf = len(salts) * N_WINDOWS
    out = np.full((n, nf), _NONE, dtype=np.uint64)
    longest = 0
    for i in range(n):
        longest = max(longest, offsets[i + 1] - offsets[i])
    codes = np.zeros(max(longest, 1), dtype=np.uint64)
    valid = np.zeros(max(longest, 1), dtype=np.bool_)
    mask = np.uint64((1 << (2 * K)) - 1)
    half = N_WINDOWS // 2
    for i in range(n):
        a = offsets[i]
        length = offsets[i + 1] - a
        code = np.uint64(0)
        run = 0
        for p in range(length):
            c = flat[a + p]
            if c > 3:
                run = 0
                code = np.uint64(0)
            else:
                code = ((code << np.uint64(2)) | np.uint64(c)) & mask
                run += 1
            if p >= K - 1:
                codes[p - K + 1] = code
                valid[p - K + 1] = run >= K
        n_pos = length - K + 1
        for j in range(N_WINDOWS):
            s = j * STEP if j < half else length - WINDOW - (N_WINDOWS - 1 - j) * STEP
            e = min(s + WINDOW - K + 1, n_pos)
            s = max(s, 0)
            for h in range(hashes[i]):
                best = _NONE
                for p in range(s, e):
                    if valid[p]:
                        v = _mix(codes[p] ^ salts[h])
                        if v < best:
                            best = v
                if best != _NONE:
                    f = h * N_WINDOWS + j
                    out[i, f] = _mix(best ^ salts[(f + 1) % len(salts)] ^ np.uint64(f))
    return out


def bucket_parts(
    index: np.ndarray, anchor: np.ndarray, bodies: Sequence[np.ndarray], n_parts: int
) -> list[Buckets]:
    """Stage A: nodes (global ``index``, ``anchor`` key or -1, ``bodies``) -> their entries
    split into ``n_parts`` bucket partitions (bucket id modulo ``n_parts``). Anchors also
    enter the bucket of their key, where those of one key meet and confirm each other."""
    lengths = np.fromiter((len(b) for b in bodies), dtype=np.int64, count=len(bodies))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(bodies).astype(np.uint8) if len(bodies) else np.zeros(0, np.uint8)
    hashes = np.where(anchor >= 0, ANCHOR_HASHES, HASHES).astype(np.int64)
    sig = _signatures(flat, offsets, hashes, _SALTS[:HASHES])
    row, col = np.nonzero(sig != _NONE)
    bucket = sig[row, col] & ~_KEY_BUCKET
    anchors = np.flatnonzero(anchor >= 0)
    if len(anchors):
        key_bucket = (anchor[anchors].astype(np.uint64) * _SALTS[-1]) | _KEY_BUCKET
        row, bucket = np.r_[row, anchors], np.r_[bucket, key_bucket]
    if n_parts == 1:
        return [Buckets(index, anchor, flat, offsets, bucket, row.astype(np.int64))]
    where = (bucket % np.uint64(n_parts)).astype(np.int64)
    out = []
    for p in range(n_parts):
        sel = where == p
        nodes, local = np.unique(row[sel], return_inverse=True)
        keep = np.zeros(len(index), dtype=bool)
        keep[nodes] = True
        out.append(
            Buckets(
                index[nodes], anchor[nodes], flat[np.repeat(keep, lengths)],
                np.concatenate([[0], np.cumsum(lengths[nodes])]).astype(np.int64),
                bucket[sel], local.astype(np.int64),
            )
        )  # fmt: skip
    return out


# -- B. candidate pairs, confirmed ----------------------------------------------------------
@numba.njit(cache=True)
def _pairs(rows, starts, buckets, anchor):
    """All pairs (a, b) of rows within each bucket (``starts``: bucket bounds over ``rows``,
    sorted by read index within a bucket), at most MAX_BUCKET members; two anchors pair only
    in their key's bucket (elsewhere they would pair the same strand's anchors ~24 times)."""
    total = 0
    for g in range(len(starts) - 1):
        m = min(starts[g + 1] - starts[g], MAX_BUCKET)
        total += m * (m - 1) // 2
    pa = np.empty(total, dtype=np.int64)
    pb = np.empty(total, dtype=np.int64)
    k = 0
    for g in range(len(starts) - 1):
        lo = starts[g]
        hi = min(starts[g + 1], lo + MAX_BUCKET)
        key_bucket = buckets[lo] >= _KEY_BUCKET
        for x in range(lo, hi):
            for y in range(x + 1, hi):
                a, b = rows[x], rows[y]
                both = anchor[a] >= 0 and anchor[b] >= 0
                if both and (not key_bucket or anchor[a] != anchor[b]):
                    continue
                pa[k], pb[k] = min(a, b), max(a, b)
                k += 1
    return pa[:k], pb[:k]


@numba.njit(cache=True, inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=True)
def _confirm(flat, offsets, pa, pb, parent, share):
    """Walk the candidate pairs in order; confirm (and union) those not joined yet."""
    prev = np.empty(2 * BAND + 1, dtype=np.int64)
    cur = np.empty(2 * BAND + 1, dtype=np.int64)
    used = np.zeros(len(pa), dtype=np.bool_)
    for k in range(len(pa)):
        ra, rb = _find(parent, pa[k]), _find(parent, pb[k])
        if ra != rb and close_pair(flat, offsets, pa[k], pb[k], share, prev, cur):
            parent[max(ra, rb)] = min(ra, rb)
            used[k] = True
    return used


@numba.njit(cache=True)
def _apart(parent, pa, pb):
    """The pairs (indices) not joined yet."""
    return np.array([k for k in range(len(pa)) if _find(parent, pa[k]) != _find(parent, pb[k])])


@numba.njit(cache=True)
def _join(parent, pa, pb, todo, ok, used):
    """:func:`_confirm`'s walk over ``todo``, with each pair's test already made (``ok``)."""
    for q in range(len(todo)):
        k = todo[q]
        ra, rb = _find(parent, pa[k]), _find(parent, pb[k])
        if ra != rb and ok[q]:
            parent[max(ra, rb)] = min(ra, rb)
            used[k] = True


def _confirm_on_threads(flat, offsets, pa, pb, parent, share, workers: int) -> np.ndarray:
    """:func:`_confirm`, the edit distances on ``workers`` threads: a block of pairs at a
    time, each pair not joined at the block's start is tested, then the block is walked in
    order. A pair is confirmed exactly when the walk confirms it (joined before its turn:
    skipped both ways; else its test decides), so the edges are the same; the cost is the
    tests of pairs a block joins before their turn."""
    used = np.zeros(len(pa), dtype=np.bool_)
    with ThreadPoolExecutor(workers) as pool:
        for s in range(0, len(pa), PAIR_BLOCK):
            a, b = pa[s : s + PAIR_BLOCK], pb[s : s + PAIR_BLOCK]
            todo = _apart(parent, a, b)
            parts = [(a[t], b[t]) for t in np.array_split(todo, workers)]
            ok = list(pool.map(lambda ab: close(flat, offsets, *ab, share), parts))
            _join(parent, a, b, todo, np.concatenate(ok), used[s : s + PAIR_BLOCK])
    return used


def far(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of ``a`` whose edit distance to the same row of ``b`` (equal lengths) exceeds
    what one strand's reads show: another sequence, not the same one with indels."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    flat = np.concatenate([a.ravel(), b.ravel()]).astype(np.uint8)
    rows = np.arange(len(a))
    offsets = np.arange(2 * len(a) + 1) * a.shape[1]
    return ~close(flat, offsets, rows, rows + len(a), EDIT_SHARE)


def confirm(parts: Sequence[Buckets]) -> np.ndarray:
    """Stage B: one bucket partition's entries from every part -> confirmed edges, (m, 2)
    global read indices."""
    b = Buckets.concat(parts)
    if not len(b.bucket):
        return np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((b.index[b.row], b.bucket))
    rows, buckets = b.row[order], b.bucket[order]
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1], True])
    pa, pb = _pairs(rows, starts, buckets, b.anchor)
    # each pair once, those sharing most buckets first (likeliest to be confirmed), then
    # by read index: an order fixed by the reads alone
    ia, ib = b.index[pa], b.index[pb]
    swap = ia > ib
    pa, pb = np.where(swap, pb, pa), np.where(swap, pa, pb)
    code = np.minimum(ia, ib) * (int(b.index.max()) + 1) + np.maximum(ia, ib)
    code, first, shared = np.unique(code, return_index=True, return_counts=True)
    pick = first[np.lexsort((code, -shared))]
    parent = np.arange(len(b.index), dtype=np.int64)
    pa, pb = pa[pick], pb[pick]
    workers = min(threads(), len(pa) // PAIR_BLOCK)
    if workers > 1:
        used = _confirm_on_threads(b.flat, b.offsets, pa, pb, parent, EDIT_SHARE, workers)
    else:
        used = _confirm(b.flat, b.offsets, pa, pb, parent, EDIT_SHARE)
    return np.stack([b.index[pa[used]], b.index[pb[used]]], axis=1)


# -- C. labels --------------------------------------------------------------------------------
@dataclass
class Labels:
    """What similarity clustering decided: a cluster label for some loose reads, and strong
    keys whose reads all join another strong cluster."""

    index: np.ndarray  # (l,) sorted global read indices of labelled loose reads
    label: np.ndarray  # (l,) their cluster: a strong key, or LABEL_BASE + a read index
    merge_from: np.ndarray  # (m,) sorted strong keys merged into ...
    merge_to: np.ndarray  # (m,) ... these

    def apply(self, index: np.ndarray, keys: np.ndarray, loose: np.ndarray) -> int:
        """Relabel ``keys`` in place (reads ``index``, ``loose`` ones may take a label);
        returns how many loose reads took one."""
        if len(self.merge_from):
            at = np.minimum(np.searchsorted(self.merge_from, keys), len(self.merge_from) - 1)
            hit = self.merge_from[at] == keys
            keys[hit] = self.merge_to[at[hit]]
        if not len(self.index):
            return 0
        rows = np.flatnonzero(loose)
        at = np.minimum(np.searchsorted(self.index, index[rows]), len(self.index) - 1)
        hit = self.index[at] == index[rows]
        keys[rows[hit]] = self.label[at[hit]]
        return int(hit.sum())


@numba.njit(cache=True)
def _components(n, ea, eb, parent):
    for k in range(len(ea)):
        ra, rb = _find(parent, ea[k]), _find(parent, eb[k])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.empty(n, dtype=np.int64)
    for i in range(n):
        roots[i] = _find(parent, i)
    return roots


def labels(edges: Sequence[np.ndarray], strong) -> Labels:
    """Stage C: every partition's edges -> :class:`Labels`. ``strong``: the
    :class:`.parts.Strong` clusters (keys, global read counts, anchors).

    A component takes the strong key with the most anchors in it, then the most reads (an
    anchor keyed wrongly, one read of another strand, is outvoted by that strand's own
    anchors; a spurious strong key, a common error in one strand's address, loses to the
    strand's true key by its read count). A strong key all of whose anchors lie in a
    component labelled otherwise is merged into that label, reads and all."""
    none = np.zeros(0, dtype=np.int64)
    e = np.concatenate([np.zeros((0, 2), np.int64), *edges])
    nodes, inv = np.unique(e, return_inverse=True)
    if not len(nodes):
        return Labels(none, none, none, none)
    anchor = strong.anchor_of(nodes)
    inv = inv.reshape(-1, 2)
    roots = _components(len(nodes), inv[:, 0], inv[:, 1], np.arange(len(nodes)))
    smallest = np.full(len(nodes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, roots, nodes)
    label = LABEL_BASE + smallest[roots]
    # (root, key) with anchors in the component; the best key per root first
    has = anchor >= 0
    pairs, n_anchors = np.unique(
        np.stack([roots[has], anchor[has]], axis=1), axis=0, return_counts=True
    )
    if len(pairs):
        reads = strong.counts[np.searchsorted(strong.keys, pairs[:, 1])]
        best = np.lexsort((pairs[:, 1], -reads, -n_anchors, pairs[:, 0]))
        pairs = pairs[best]
        first = np.r_[True, pairs[1:, 0] != pairs[:-1, 0]]
        named = np.full(len(nodes), -1, dtype=np.int64)
        named[pairs[first, 0]] = pairs[first, 1]
        label = np.where(named[roots] >= 0, named[roots], label)
    # strong keys whose anchors all sit in one component labelled with another key
    a_root = np.full(len(strong.anchor_index), -1, dtype=np.int64)
    at = np.searchsorted(nodes, strong.anchor_index)
    inside = (at < len(nodes)) & (nodes[np.minimum(at, len(nodes) - 1)] == strong.anchor_index)
    a_root[inside] = roots[at[inside]]
    key, where = np.unique(strong.anchor_key, return_inverse=True)
    lo = np.full(len(key), np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(len(key), -1, dtype=np.int64)
    np.minimum.at(lo, where, a_root)
    np.maximum.at(hi, where, a_root)
    one = (lo == hi) & (lo >= 0)
    to = np.where(one, label[np.maximum(lo, 0)], -1)
    moved = one & (to != key) & (to < LABEL_BASE)
    loose = anchor < 0
    return Labels(nodes[loose], label[loose], key[moved], to[moved])
