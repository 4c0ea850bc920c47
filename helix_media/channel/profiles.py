"""Channel profiles: what a sequencing technology does to reads (``helix simulate --profile``).

``illumina``
    Today's default channel, unchanged (the same reads, byte for byte, as no ``--profile``):
    substitution-dominated (0.109 % per base plus synthesis errors of 1/7500), no indels to
    speak of, Illumina-like qualities (Q37 falling to Q30).
``nanopore-r9``
    Fitted to real MinION R9.4 reads of 110-nt DNA-storage strands (Microsoft's Clustered
    Nanopore Reads, ``valid.json`` only) by ``scripts/fit_nanopore_profile.py``: insertions and
    deletions outnumber substitutions, deletions grow about fourfold in homopolymers of 4+,
    insertions crowd at the strand's ends, substitutions are mostly transitions (A<->G, C<->T),
    some reads are much worse than others, coverage is very uneven (negative binomial size
    2.16).
``nanopore-r10``
    A modern R10.4-class run: about 1 % substitutions + 1 % insertions + 1 % deletions per base.
    **Scaled, not fitted**: the r9 shape (homopolymer, position, insertion-length and
    substitution patterns, coverage skew) with the three rates set to 1 % each; qualities higher.

A profile is a :class:`~helix_media.channel.sequencing.Channel` whose ``shape`` (an
:class:`ErrorShape`) says how errors vary. The channel's ``sub``/``ins``/``dele`` stay the mean
per-base rates, so an explicit rate overrides the profile's and keeps its shape. The shape
multiplies them per base: by position along the strand (10 bins, 5' to 3' of the strand as
designed: the fitted reads are given in the reference's orientation, so that is the position
they record) and by the homopolymer run the base is in (1, 2, 3, 4+; an insertion takes the
longer run of its two neighbours). Insertions are 1-4 nt long and copy the base before them (a
homopolymer extension) at a fitted share; substitutions follow a fitted 4x4 matrix; each read
draws a factor on all its rates (gamma, mean 1, fitted variance). A share of reads is cut short
at the read's 3' end (the read stops) or 5' end (its start is missed); reads come in both
orientations. Nanopore qualities are Q10-Q20 for right bases, Q2-Q8 at errors.

The truncated-read share and the qualities are assumptions, not fitted: the dataset keeps only
reads of 106-115 nt and has no quality strings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from helix_media.channel.errorstats import HP_CLASSES, gap_runs, run_lengths
from helix_media.channel.sequencing import Channel
from helix_media.errors import HelixError

SHAPED_BATCH = 10_000  # molecules per step of the shaped error model (bounds its memory)


@dataclass(frozen=True)
class ErrorShape:
    """How errors vary along a read; multiplies a channel's mean sub/ins/del rates per base."""

    position: tuple[tuple[float, ...], ...]  # (3, bins): sub, ins, del along the strand
    homopolymer: tuple[tuple[float, ...], ...]  # (3, 4): run length 1, 2, 3, 4+
    ins_length: tuple[float, ...] = (1.0,)  # P(insertion is 1, 2, ... nt)
    ins_copy: float = 0.0  # share of inserted bases copying the base before them
    read_spread: float = 0.0  # variance of a per-read rate factor (gamma, mean 1): some reads
    # are much worse than others
    sub_matrix: tuple[tuple[float, ...], ...] | None = None  # row: from ACGT; None: uniform
    truncated: float = 0.0  # share of reads cut short
    truncated_3p: float = 0.5  # of those, the share that lose their 3' end (the rest: 5')
    truncated_keep: tuple[float, float] = (0.2, 0.9)  # a cut read keeps this share, uniform
    quality: tuple[float, float, float, int, int] = (37.0, 30.0, 1.5, 8, 24)  # Phred: right
    # bases from the read's start to its end (mean), their spread; errors: lowest..highest

    def mean_ins_length(self) -> float:
        p = np.asarray(self.ins_length) / sum(self.ins_length)
        return float(np.dot(np.arange(1, len(p) + 1), p))

    def mutate(
        self,
        molecules: np.ndarray,
        reverse: np.ndarray,
        rates: tuple[float, float, float],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(m, L) oriented molecules -> (flat bases, lengths, flat qualities) with errors."""
        parts = [
            self._mutate(molecules[a : a + SHAPED_BATCH], reverse[a : a + SHAPED_BATCH], rates, rng)
            for a in range(0, len(molecules), SHAPED_BATCH)
        ]
        if not parts:
            return np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.uint8)
        flat, lens, quals = (np.concatenate(p) for p in zip(*parts, strict=True))
        return flat, lens, quals

    def _mutate(self, molecules, reverse, rates, rng):
        m, length = molecules.shape
        runs = run_lengths(molecules)
        hp = (np.minimum(runs, HP_CLASSES) - 1).astype(np.int8)
        gap = (np.minimum(gap_runs(runs)[:, :length], HP_CLASSES) - 1).astype(np.int8)
        del runs
        pos = np.asarray(self.position, np.float32)
        fwd = (np.arange(length) * pos.shape[1] // length).astype(np.int8)
        posbin = np.where(reverse[:, None], fwd[::-1], fwd)  # the strand's 5'-to-3' position
        hpm = np.asarray(self.homopolymer, np.float32)
        read = np.ones((m, 1), np.float32)
        if self.read_spread > 0:
            k = 1 / self.read_spread
            read[:, 0] = rng.gamma(k, 1 / k, m)
        scale = (rates[0] * read, rates[1] / self.mean_ins_length() * read, rates[2] * read)
        p_sub, p_ins, p_del = (
            pos[j][posbin] * hpm[j][c] * scale[j] for j, c in enumerate((hp, gap, hp))
        )
        del hp, gap, posbin
        total = p_sub + p_del
        total += p_ins
        np.maximum(total, 1, out=total)  # extreme overrides: probabilities <= 1
        p_sub /= total
        p_del /= total
        p_del += p_sub  # cumulative: sub, then del, then ins
        p_ins /= total
        p_ins += p_del
        del total
        u = rng.random((m, length), dtype=np.float32)
        sub = u < p_sub
        dele = u < p_del
        dele &= ~sub
        ins = u < p_ins
        ins &= ~sub
        ins &= ~dele
        del u, p_sub, p_del, p_ins
        src = molecules.ravel()
        base = src.copy()
        si = np.flatnonzero(sub)
        if self.sub_matrix is None:
            base[si] = (src[si] + rng.integers(1, 4, len(si))) % 4
        else:
            cum = np.cumsum(np.asarray(self.sub_matrix), axis=1)[:, :3]
            base[si] = (rng.random(len(si))[:, None] >= cum[src[si]]).sum(1)
        hi, lo, sd, e_lo, e_hi = self.quality
        q = rng.standard_normal((m, length), dtype=np.float32)
        q *= sd
        q += (hi - (hi - lo) * np.arange(length) / length).astype(np.float32)
        q.ravel()[si] = rng.integers(e_lo, e_hi + 1, len(si))
        # inserted bases go before their position; each is 1-4 nt and may copy the base before
        ii = np.flatnonzero(ins)
        di = np.flatnonzero(dele)
        keep = ~dele.ravel()
        del sub, ins, dele
        p_len = np.asarray(self.ins_length) / sum(self.ins_length)
        k = rng.choice(len(p_len), len(ii), p=p_len) + 1
        event = np.repeat(ii, k)
        before = src[np.where(event % length > 0, event - 1, event)]
        copy = rng.random(len(event)) < self.ins_copy
        inserted = np.where(copy, before, rng.integers(0, 4, len(event))).astype(np.uint8)
        at = event - np.searchsorted(di, event)  # index among the kept bases
        out = np.insert(base[keep], at, inserted)
        quals = np.insert(q.ravel()[keep], at, rng.integers(e_lo, e_hi + 1, len(event)))
        lens = length - np.bincount(di // length, minlength=m)
        lens += np.bincount(event // length, minlength=m)
        return out, lens, np.clip(np.rint(quals), 2, 41).astype(np.uint8)

    def cut(
        self, flat: np.ndarray, lens: np.ndarray, quals: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cut a share ``truncated`` of reads short, at their 3' or 5' end."""
        n = len(lens)
        cut = rng.random(n) < self.truncated
        keep = np.floor(lens * rng.uniform(*self.truncated_keep, n)).astype(np.int64)
        three = rng.random(n) < self.truncated_3p
        new = np.where(cut, np.clip(keep, 1, lens), lens)
        start = np.where(cut & ~three, lens - new, 0)
        if not cut.any():
            return flat, lens, quals
        pos = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
        keep_base = (pos >= np.repeat(start, lens)) & (pos < np.repeat(start + new, lens))
        return flat[keep_base], new, quals[keep_base]


# -- nanopore-r9: printed by scripts/fit_nanopore_profile.py, fitted to shared/data/nanopore-cnr/
# valid.json (Microsoft's Clustered Nanopore Reads: 998 clusters, 27,951 reads; never test.json).
# Rates are what a read carries (synthesis errors included), set so that simulated reads,
# filtered to 106-115 nt as the dataset's were, show the real reads' edlib statistics.
R9_RATES = (0.01679, 0.02088, 0.02501)  # sub, ins, del per base
R9_POSITION = (
    (0.944, 0.879, 0.964, 0.986, 1.020, 1.013, 1.003, 1.059, 0.935, 1.197),
    (1.413, 0.708, 0.852, 0.904, 0.914, 0.932, 0.895, 0.946, 0.939, 1.496),
    (0.988, 0.909, 0.988, 0.973, 0.973, 0.964, 1.031, 0.961, 1.026, 1.188),
)
R9_HOMOPOLYMER = (
    (1.002, 1.006, 1.004, 0.925),
    (1.113, 0.844, 0.993, 1.200),
    (0.750, 0.948, 1.469, 3.337),
)
R9_INS_LENGTH = (0.7116, 0.2010, 0.0454, 0.0420)
R9_INS_COPY = 0.166
R9_READ_SPREAD = 0.107
R9_SUB_MATRIX = (
    (0.0000, 0.1943, 0.6520, 0.1537),
    (0.1882, 0.0000, 0.0232, 0.7886),
    (0.7424, 0.1237, 0.0000, 0.1339),
    (0.0924, 0.8247, 0.0829, 0.0000),
)
R9_SKEW = 2.16  # negative-binomial size of reads per strand (mean 26.2, > 5 kept)

R9_SHAPE = ErrorShape(
    position=R9_POSITION,
    homopolymer=R9_HOMOPOLYMER,
    ins_length=R9_INS_LENGTH,
    ins_copy=R9_INS_COPY,
    read_spread=R9_READ_SPREAD,
    sub_matrix=R9_SUB_MATRIX,
    truncated=0.05,  # assumed: the dataset keeps only full-length reads
    truncated_3p=0.5,
    quality=(16.0, 12.0, 3.0, 2, 8),  # assumed: the dataset has no quality strings
)
R10_SHAPE = replace(R9_SHAPE, quality=(20.0, 16.0, 3.0, 3, 10))

PROFILES: dict[str, Channel] = {
    "illumina": Channel(),
    "nanopore-r9": Channel(
        synthesis_error=0.0,
        sub=R9_RATES[0],
        ins=R9_RATES[1],
        dele=R9_RATES[2],
        skew=R9_SKEW,
        shape=R9_SHAPE,
    ),
    "nanopore-r10": Channel(
        synthesis_error=0.0, sub=0.01, ins=0.01, dele=0.01, skew=R9_SKEW, shape=R10_SHAPE
    ),
}


def profile_channel(name: str | None = None, **values: object) -> Channel:
    """Profile ``name``'s channel (None: the default channel) with ``values`` set on it;
    an explicit rate replaces the profile's mean and keeps its shape."""
    if name is not None and name not in PROFILES:
        raise HelixError(f"unknown profile {name!r}; choose from: {', '.join(PROFILES)}")
    known = {f.name for f in fields(Channel)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise HelixError(f"a channel has no {', '.join(unknown)}")
    return replace(PROFILES[name] if name else Channel(), **values)
