"""Trace reconstruction: the reads of one strand -> the most likely strand, base confidences.

Nanopore reads carry about 6 % errors, most of them insertions and deletions, so a vote per
column of a multiple alignment loses the strand wherever the alignment is unsure where a gap
goes (abPOA + vote: 45 % exact from 6 reads of valid.json). Here the strand is estimated by
maximum likelihood under a pair-HMM of the insertion/deletion/substitution channel, as
PacBio's Quiver/Arrow do (87 % from 6 reads):

1. **Draft** (:mod:`.draft`): star alignment to the read nearest the expected length and a
   vote per position, twice. Its dissent marks the places worth polishing.
2. **Polish** (:mod:`.polish`, kernels in :mod:`.pair_hmm`): every single-base edit at the
   marked places is scored against all reads from banded forward/backward matrices, and the
   improving ones are applied until none is left: first freely, then to the known length.
3. **Outliers**: reads far from the draft by edit distance (another strand's, where two
   archives share primers and addresses) sit out the polishing, and reads far less likely
   per base than the cluster's median (chimeras) are dropped and the strand polished again
   without them. The caller may reconstruct the outliers as a strand of their own.

The channel (:mod:`.trace_channel`: rates by homopolymer run, neighbours and strand end) is
fitted on real MinION reads. Each base's confidence is its posterior against the other three
bases at its place; the least confident places come with their best alternative, so that
the inner Reed-Solomon code can erase them or try them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from helix_media.readpath import alternatives
from helix_media.readpath import trace_channel as tc
from helix_media.readpath.draft import BIG, star_votes, unsure, vote
from helix_media.readpath.edit_scores import score
from helix_media.readpath.polish import confidence, polish

# Settings, each measured on valid.json (exact strands from 6 / 10 reads unless said).
BAND_SCALE = 0.45  # pair-HMM band half-width per sqrt(length): 0.45 and 0.6 alike on 220-nt
# strands (two valid.json clusters' reads joined), 0.45 faster; 110 nt: 6 either way
DRAFT_ROUNDS = 2  # star alignment + vote rounds: 1 gives 82.7 / 94.1 %, 2 86.6 / 95.6, 3 alike
DRAFT_BAND = 0.6  # the star alignment's band relative to the pair-HMM's: 0.6 and 1 alike
SEEDS = 3  # reads tried as the draft's seed (the next one if most reads are far from it)
SEED_FAR = 0.3  # ... far: edit distance over this share of the seed's length (median read)
MAX_READS = 20  # polish with the reads nearest the draft at most: all reads 98.1 %, 20 98.0
MAX_PASSES = 12  # scoring passes per polish (1.5 on average)
SEP = 4  # edits applied in one pass are this many places apart at least: 2-8 alike
FLAG_SHARE = 0.2  # polish where this share of the reads (at least one) dissent: 0.1-0.3 alike
FLAG_NEAR = 2  # ... with the base or the gaps this near it (and next to such places)
OUTLIER_NATS = 0.6  # a read this far below the median log-likelihood per base is dropped
OUTLIER_FLOOR = -0.8  # ... if also below this (per base; the 0.1 % worst true reads: -0.68)
AGREED = 0.9999  # confidence of a base (almost) no read dissents from: not scored
ALTERNATIVES = 4  # least confident places reported with their best alternative base
#: edits per base between two reads beyond which they are of two strands: on valid.json
#: two reads of one strand are 0.099 apart at the median, 0.391 at the 99.9th percentile;
#: reads of two strands (random bases) 0.464 at least, 0.573 at the median
PAIR_FAR = 0.43
MIXED_MIN_READS = 2  # reads of a second strand in a cluster: a strand of their own
SINGLE_READ_CONFIDENCE = 0.9  # one read is its own estimate, with about 6 % errors

_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
_CODES = np.full(256, 4, dtype=np.uint8)
_CODES[_LETTERS] = np.arange(5)
_CODES[np.frombuffer(b"acgtn", dtype=np.uint8)] = np.arange(5)


def encode(text: str) -> np.ndarray:
    """Letters -> codes 0..4 (A, C, G, T; anything else is N)."""
    return _CODES[np.frombuffer(text.encode(), dtype=np.uint8)]


def band_for(length: int) -> int:
    """Half-width of the pair-HMM's band: a read drifts from the diagonal like a random walk
    pinned at both ends (4 % indels per base: sd 0.1 sqrt(length) mid-strand); 4.5 sd, and
    at least 6."""
    return max(6, int(np.ceil(BAND_SCALE * np.sqrt(max(length, 1)))))


@dataclass
class Reconstruction:
    """One strand estimate.

    ``bases``: codes 0..3. ``confidence``: per base, the posterior of its base against the
    other three given the reads (the caller erases bases below a threshold: on valid.json
    from 6 reads, 0.2 % of the bases are below 0.99, and they hold 45 of the 61 wrong bases
    of the estimates off by substitutions only); indel doubts are not in it (an indel
    shifts a whole stretch). ``reads_used``: reads
    the estimate rests on (outliers and reads beyond ``MAX_READS`` left out); ``outliers``:
    indices of the dropped reads; ``other_strand``: those of them that are another strand's
    (far from the seed: two archives at one address); ``log_likelihood``: of the used reads
    given ``bases``;
    ``alternatives``: (place, base, log-likelihood ratio) of the runner-up base at the least
    confident places; ``passes``: scoring passes spent; ``candidates``: strands one edit
    away, likeliest first, where asked for (:mod:`.alternatives`)."""

    bases: np.ndarray
    confidence: np.ndarray
    reads_used: int = 0
    outliers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    other_strand: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    log_likelihood: float = 0.0
    alternatives: list[tuple[int, int, float]] = field(default_factory=list)
    passes: int = 0
    candidates: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint8))


def _pack(reads: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(reads) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in reads])
    flat = np.concatenate(reads) if reads else np.zeros(0, dtype=np.uint8)
    return np.minimum(flat, 4).astype(np.uint8), offsets


def _draft(reads, flat, offsets, target: float, band: int):
    """Star-alignment draft -> (draft, the reads of another strand or None).

    The seed is the read nearest the expected length, unless most reads are far from it
    (a chimera or another strand's read): then the next nearest, up to ``SEEDS`` tries.
    Where at least ``MIXED_MIN_READS`` reads (and not all but one) are farther from the
    seed than two reads of one strand ever are (:data:`PAIR_FAR`), the cluster holds two
    strands (two archives with the same primers): the draft is the seed's, of its reads."""
    lengths = offsets[1:] - offsets[:-1]
    order = np.argsort(np.abs(lengths - target), kind="stable")
    for k in order[:SEEDS]:
        seed = np.minimum(reads[int(k)], 3).astype(np.uint8)
        if len(seed) == 0:
            continue
        votes, ins, dist = star_votes(seed, flat, offsets, band)
        if _median(dist) <= SEED_FAR * len(seed):
            break
    other = _other_strand(dist, len(seed))
    if other is not None:
        reads = [r for r, o in zip(reads, other, strict=True) if not o]
        flat, offsets = _pack(reads)
        votes, ins, _ = star_votes(seed, flat, offsets, band)
    for rnd in range(DRAFT_ROUNDS):
        if len(seed) == 0:
            break
        if rnd:
            votes, ins, _ = star_votes(seed, flat, offsets, band)
        seed = vote(seed, votes, ins, len(reads))
    return seed, other


def _other_strand(dist: np.ndarray, length: int) -> np.ndarray | None:
    """The reads farther from the seed (or draft) than two reads of one strand ever are
    (:data:`PAIR_FAR`; reads off the band, truncated ones, are not counted), where there are
    at least ``MIXED_MIN_READS`` of them and two others: another strand's reads."""
    far = (dist > PAIR_FAR * length) & (dist < BIG)
    return far if MIXED_MIN_READS <= far.sum() <= len(dist) - 2 else None


def _alternatives(conf, code, gain) -> list[tuple[int, int, float]]:
    if not len(conf):
        return []
    k = min(ALTERNATIVES, len(conf))
    low = np.sort(np.argpartition(conf, k - 1)[:k])
    return [(int(i), int(code[i]), float(gain[i])) for i in low if np.isfinite(gain[i])]


def _median(x: np.ndarray) -> float:
    """np.median without its overhead (called twice per cluster)."""
    s = np.sort(x)
    return (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2


def _outliers(logp: np.ndarray, lengths: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Reads to drop: far below the median log-likelihood per base (and below a floor)."""
    per_base = logp / np.maximum(lengths, 1)
    med = _median(per_base[use])
    return use & (per_base < med - OUTLIER_NATS) & (per_base < OUTLIER_FLOOR)


def reconstruct(
    reads: Sequence[np.ndarray],
    length: int | None = None,
    *,
    channel: tc.Channel | None = None,
    band: int | None = None,
    candidates: int = 0,
) -> Reconstruction:
    """The most likely strand given its reads (uint8 arrays of codes 0..3, 4 = N: unknown),
    all in the strand's orientation.

    ``length``: the strand's known length; the estimate then has exactly this length (a
    consensus of the wrong length carries an indel the inner code cannot fix; on valid.json
    enforcing it lifts exact strands from 6 reads from 71 % to 87 %). ``channel``: the
    error model (default: fitted on real nanopore reads); ``band``: the pair-HMM's band
    half-width (default: :func:`band_for`); ``candidates``: how many strands one edit away
    to hand on (:func:`.alternatives.candidates`). Deterministic: the same reads in the same
    order give the same result.
    """
    reads = [np.asarray(r, dtype=np.uint8) for r in reads]
    chosen = np.array([i for i, r in enumerate(reads) if len(r)], dtype=np.int64)
    reads = [reads[i] for i in chosen]  # (``chosen``: their indices in the caller's list)
    if not reads:
        n = length or 0
        return Reconstruction(np.zeros(n, dtype=np.uint8), np.zeros(n))
    if len(reads) == 1:
        r = reads[0]
        conf = np.where(r < 4, SINGLE_READ_CONFIDENCE, 0.0)
        return Reconstruction(np.minimum(r, 3), conf, reads_used=1)
    ch = channel or tc.nanopore()
    dele, iq, em = ch.tables
    flat, offsets = _pack(reads)
    lengths = offsets[1:] - offsets[:-1]
    target = float(length) if length is not None else float(np.median(lengths))
    W = band or band_for(int(target))
    Wd = max(4, round(DRAFT_BAND * W))
    other = np.zeros(0, dtype=np.int64)  # reads of a second strand, in the caller's list
    if len(reads) <= MAX_READS:
        t, far = _draft(reads, flat, offsets, target, Wd)
        if far is not None:
            other, keep = chosen[far], np.flatnonzero(~far)
    else:
        # draft from the first MAX_READS, one more round with all of them, then polish with
        # the MAX_READS nearest the draft: as exact as all (valid.json), and bounded in time
        t, _ = _draft(reads[:MAX_READS], *_pack(reads[:MAX_READS]), target, Wd)
        votes, ins, dist = star_votes(t, flat, offsets, Wd)
        far = _other_strand(dist, len(t))
        if far is not None:  # two strands: the draft's reads vote
            other = chosen[far]
            votes, ins, _ = star_votes(t, *_pack([reads[i] for i in np.flatnonzero(~far)]), Wd)
            dist = np.where(far, 2 * BIG, dist)  # (sorted after every other read)
        t = vote(t, votes, ins, len(reads) - len(other))
        keep = np.sort(np.argsort(dist / np.maximum(lengths, 1), kind="stable")[:MAX_READS])
        keep = keep[~far[keep]] if far is not None else keep
    if len(other) or len(reads) > MAX_READS:
        reads = [reads[i] for i in keep]
        chosen = chosen[keep]
        flat, offsets = _pack(reads)
        lengths = offsets[1:] - offsets[:-1]
    votes, ins, _ = star_votes(t, flat, offsets, Wd)  # (the reads polished: more places)
    flags = unsure(t, votes, ins, len(reads), FLAG_SHARE, FLAG_NEAR)
    use = np.ones(len(reads), dtype=np.bool_)
    want = -1 if length is None else int(length)
    t, out, logp, passes, flags = polish(
        t, flat, offsets, use, W, dele, iq, em, want, MAX_PASSES, SEP, flags
    )
    drop = _outliers(logp, lengths, use)
    if drop.any() and (~drop).sum() >= 2:
        use = ~drop
        t, out, logp, more, flags = polish(
            t, flat, offsets, use, W, dele, iq, em, want, MAX_PASSES, SEP, flags
        )
        passes += more
    conf, code, gain = confidence(t, out, flags, AGREED, False)
    near = np.zeros((0, len(t)), dtype=np.uint8)
    if candidates > 0:  # the edits scored where the reads dissent (elsewhere -inf)
        near = alternatives.candidates(t, out, candidates)
    return Reconstruction(
        bases=t,
        confidence=conf,
        reads_used=int(use.sum()),
        outliers=np.sort(np.concatenate([chosen[~use], other])),
        other_strand=other,
        log_likelihood=float(logp[use].sum()),
        alternatives=_alternatives(conf, code, gain),
        passes=passes,
        candidates=near,
    )


def log_likelihood(
    template: np.ndarray, reads: Sequence[np.ndarray], channel: tc.Channel | None = None
) -> np.ndarray:
    """Each read's log-likelihood given ``template`` (to compare candidate strands)."""
    dele, iq, em = (channel or tc.nanopore()).tables
    flat, offsets = _pack([np.asarray(r, dtype=np.uint8) for r in reads])
    logp = np.empty(len(reads))
    W = band_for(len(template))
    use = np.zeros(len(reads), dtype=np.bool_)
    t = np.asarray(template, dtype=np.uint8)
    score(t, flat, offsets, use, W, dele, iq, em, logp, np.zeros(len(t) + 1, np.bool_))
    return logp
