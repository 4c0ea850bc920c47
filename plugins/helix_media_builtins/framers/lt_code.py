"""LT (Luby transform) fountain code with a robust soliton distribution, as DNA Fountain uses.

A droplet is the XOR of ``d`` distinct source blocks; ``d`` and the blocks follow from the
droplet's seed alone (counter-based splitmix64, so both sides draw the same numbers, vectorized
over seeds). Decoding peels degree-1 droplets in rounds (each droplet keeps the XOR of its
unknown neighbours' indices, so the last one is read off directly) and solves what peeling
leaves with Gaussian elimination over GF(2) on bit-packed rows. Blocks are rows of uint64 words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import ceil, log, sqrt

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_SALT = np.uint64(0x4C54_2D53_4545_4431)  # "LT-SEED1": droplet streams differ from whitening
MAX_RESIDUAL = 6000  # Gaussian elimination beyond this many unknowns is left undone,
MAX_WORK = 3_000_000_000  # or beyond this many word operations (a few seconds)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer (a bijection of uint64), vectorized."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=64)
def robust_soliton(k: int, c: float = 0.025, delta: float = 0.001) -> np.ndarray:
    """Cumulative robust soliton distribution over degrees 1..D (Luby 2002); c and delta
    are DNA Fountain's published settings (mean degree ~12 for k = 500: few blocks are left
    uncovered by chance, which is what fails first under heavy dropout).

    The tail beyond the spike at k/R is cut off and the rest renormalized, as common
    implementations do: it keeps droplets short.
    """
    d = np.arange(1, k + 1, dtype=np.float64)
    rho = np.where(d == 1, 1.0 / k, 1.0 / (d * np.maximum(d - 1, 1)))
    r = c * log(k / delta) * sqrt(k)
    spike = max(1, min(k, int(round(k / r)))) if r > 0 else k
    tau = np.zeros(k)
    tau[: spike - 1] = r / (k * d[: spike - 1])
    tau[spike - 1] = r * log(r / delta) / k if r > delta else 0.0
    mu = (rho + tau)[:spike]
    return np.cumsum(mu / mu.sum())


def mean_degree(k: int) -> float:
    cdf = robust_soliton(k)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    return float((pmf * np.arange(1, len(pmf) + 1)).sum())


def neighbours(seeds: np.ndarray, k: int, salt: int = 0) -> np.ndarray:
    """(m,) seeds -> (m, W) int64 distinct source indices per droplet, padded with -1.

    Draws W = max degree + 16 candidates ``hash(seed, j) mod k`` and keeps the first ``d``
    distinct ones (``d`` from the seed's first draw), so no per-droplet loop is needed.
    """
    seeds = np.asarray(seeds, dtype=np.uint64)
    cdf = robust_soliton(k)
    width = min(len(cdf) + 16, k + 16)
    with np.errstate(over="ignore"):
        key = mix64(mix64(seeds ^ _SALT) ^ np.uint64(salt))
        u = mix64(key[:, None] + np.arange(width + 1, dtype=np.uint64) * _GOLDEN)
    degree = np.searchsorted(cdf, (u[:, 0] >> np.uint64(11)) / float(1 << 53), side="right") + 1
    degree = np.minimum(degree, min(len(cdf), k))
    cand = (u[:, 1:] % np.uint64(k)).astype(np.int64)
    order = np.argsort(cand, axis=1, kind="stable")
    srt = np.take_along_axis(cand, order, axis=1)
    first_sorted = np.ones_like(srt, dtype=bool)
    first_sorted[:, 1:] = srt[:, 1:] != srt[:, :-1]
    first = np.zeros_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    keep = first & (np.cumsum(first, axis=1) <= degree[:, None])
    out = np.where(keep, cand, -1)
    # move kept entries to the front of each row (stable), trim the all-padding columns
    pos = np.argsort(~keep, axis=1, kind="stable")
    out = np.take_along_axis(out, pos, axis=1)
    return out[:, : max(1, int(keep.sum(axis=1).max(initial=1)))]


def encode(sources: np.ndarray, seeds: np.ndarray, salt: int = 0, chunk: int = 4096) -> np.ndarray:
    """(k, words) uint64 sources, (m,) seeds -> (m, words) droplet values."""
    k, words = sources.shape
    padded = np.concatenate([sources, np.zeros((1, words), dtype=np.uint64)])
    out = np.empty((len(seeds), words), dtype=np.uint64)
    for a in range(0, len(seeds), chunk):
        nb = neighbours(seeds[a : a + chunk], k, salt)
        out[a : a + chunk] = np.bitwise_xor.reduce(padded[np.where(nb < 0, k, nb)], axis=1)
    return out


@dataclass
class DecodeResult:
    blocks: np.ndarray  # (k, words)
    known: np.ndarray  # (k,) bool
    peeled: int  # sources found by peeling (the rest by elimination)


def decode(
    seeds: np.ndarray, values: np.ndarray, k: int, salt: int = 0, chunk: int = 4096
) -> DecodeResult:
    """Recover the k sources from droplets (seed, value); ``known`` marks the solved ones."""
    values = np.array(values, dtype=np.uint64, copy=True)
    m, words = values.shape
    if m == 0:
        return DecodeResult(np.zeros((k, words), np.uint64), np.zeros(k, bool), 0)
    nb = _stack_ragged([neighbours(seeds[a : a + chunk], k, salt) for a in range(0, m, chunk)])
    valid = nb >= 0
    deg = valid.sum(axis=1)
    xor_idx = np.bitwise_xor.reduce(np.where(valid, nb, 0), axis=1)
    rows, cols = np.nonzero(valid)
    src_of_entry = nb[rows, cols]
    by_src = np.argsort(src_of_entry, kind="stable")
    drop_sorted = rows[by_src]
    src_ptr = np.searchsorted(src_of_entry[by_src], np.arange(k + 1))
    blocks = np.zeros((k, words), dtype=np.uint64)
    known = np.zeros(k, dtype=bool)
    while True:
        ripple = np.flatnonzero(deg == 1)
        if len(ripple) == 0:
            break
        s, first = np.unique(xor_idx[ripple], return_index=True)
        fresh = ~known[s]
        s, r = s[fresh], ripple[first[fresh]]
        if len(s) == 0:
            break
        blocks[s] = values[r]
        known[s] = True
        counts = src_ptr[s + 1] - src_ptr[s]
        starts = np.repeat(src_ptr[s], counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        d = drop_sorted[starts + offs]
        s_rep = np.repeat(s, counts)
        np.subtract.at(deg, d, 1)
        np.bitwise_xor.at(xor_idx, d, s_rep)
        np.bitwise_xor.at(values, d, blocks[s_rep])
    peeled = int(known.sum())
    if not known.all():
        _eliminate(nb, deg, values, blocks, known)
    return DecodeResult(blocks, known, peeled)


def inconsistent(
    seeds: np.ndarray, values: np.ndarray, result: DecodeResult, k: int, salt: int = 0
) -> np.ndarray:
    """Droplets whose blocks are all known but whose value is not their XOR: a wrong droplet
    (an RS miscorrection) got in, or was used to solve those blocks."""
    nb = _stack_ragged(
        [neighbours(seeds[a : a + 4096], k, salt) for a in range(0, len(seeds), 4096)]
    )
    padded = np.concatenate([result.blocks, np.zeros((1, values.shape[1]), np.uint64)])
    full = np.where(nb < 0, True, np.concatenate([result.known, [True]])[np.where(nb < 0, k, nb)])
    xor = np.bitwise_xor.reduce(padded[np.where(nb < 0, k, nb)], axis=1)
    return full.all(axis=1) & (xor != values).any(axis=1)


def decode_checked(
    seeds: np.ndarray, values: np.ndarray, k: int, doubt: np.ndarray, salt: int = 0
) -> DecodeResult:
    """:func:`decode`, then a consistency check over all droplets. A wrong droplet (an RS
    miscorrection, a stranger's strand) spoils every block peeled from it, so where droplets
    disagree the wrong ones are searched for and left out, not the blocks: first among the
    doubtful droplets (``doubt`` > 0: symbols RS had to correct), most doubtful first, then
    among all of them (:func:`_culprits`). Where no consistent set is found, no block is
    trusted (a block that no disagreeing droplet touches may still be a wrong one's)."""
    doubt = np.asarray(doubt)
    trial = _Trials(seeds, values, k, salt)
    res, bad = trial(np.zeros(0, dtype=np.int64))
    if not bad.any():
        return res
    for level in sorted({int(x) for x in doubt if x > 0}, reverse=True):
        doubtful = np.flatnonzero(doubt >= level)
        out, bad = trial(doubtful)
        if not bad.any():
            found = _culprits(trial, doubtful[np.argsort(-doubt[doubtful], kind="stable")])
            return out if found is None else found
    # a wrong droplet RS had no doubt about: look for it in slices of the sure droplets
    # small enough to leave out (the doubtful ones left out meanwhile)
    doubtful, sure = np.flatnonzero(doubt > 0), np.flatnonzero(doubt <= 0)
    size = max(1, (len(seeds) - k) // 4)
    for start in range(0, len(sure) if size < len(sure) else 0, size):
        suspects = sure[start : start + size]
        if trial.spent or trial(np.concatenate([doubtful, suspects]))[1].any():
            continue
        found = _culprits(trial, suspects, doubtful)
        if found is not None:
            return found
    res.known[:] = False  # which blocks the wrong droplets reached cannot be told
    return res


class _Trials:
    """Decodings without some droplets, at most :data:`MAX_TRIALS` of them: (result, the
    droplets kept that disagree with it). ``keep`` is the last trial's kept droplets."""

    def __init__(self, seeds: np.ndarray, values: np.ndarray, k: int, salt: int) -> None:
        self.seeds, self.values, self.k, self.salt = seeds, values, k, salt
        self.count = 0
        self.keep = np.ones(len(seeds), dtype=bool)

    @property
    def spent(self) -> bool:
        return self.count >= MAX_TRIALS

    def __call__(self, left_out: np.ndarray) -> tuple[DecodeResult, np.ndarray]:
        self.count += 1
        self.keep = np.ones(len(self.seeds), dtype=bool)
        self.keep[left_out] = False
        s, v = self.seeds[self.keep], self.values[self.keep]
        res = decode(s, v, self.k, self.salt)
        if len(s) == 0:
            return res, np.zeros(0, dtype=bool)
        return res, inconsistent(s, v, res, self.k, self.salt)


#: decodings one :func:`decode_checked` may spend looking for wrong droplets
MAX_TRIALS = 48


def _culprits(
    trial: _Trials, suspects: np.ndarray, base: np.ndarray | None = None
) -> DecodeResult | None:
    """Given that leaving out ``suspects`` (and ``base``) makes the droplets agree, find the
    few suspects that do (adaptive splitting, ~2 log2 n decodings per wrong droplet) and
    decode without just those (and ``base``); None where the trials run out or the result
    does not hold up."""

    def find(group: np.ndarray, others: np.ndarray) -> np.ndarray | None:
        if trial.spent:
            return None
        if len(group) == 0 or not trial(others)[1].any():
            return group[:0]
        if len(group) == 1:
            return group
        half = len(group) // 2
        first = find(group[:half], np.concatenate([others, group[half:]]))
        if first is None:
            return None
        second = find(group[half:], np.concatenate([others, first]))
        return None if second is None else np.concatenate([first, second])

    base = suspects[:0] if base is None else base
    found = find(suspects, base)
    if found is None or trial.spent:
        return None
    res, bad = trial(np.concatenate([base, found]))
    return None if bad.any() else res


def _stack_ragged(parts: list[np.ndarray]) -> np.ndarray:
    width = max(p.shape[1] for p in parts)
    return np.concatenate(
        [np.pad(p, ((0, 0), (0, width - p.shape[1])), constant_values=-1) for p in parts]
    )


def _eliminate(
    nb: np.ndarray, deg: np.ndarray, values: np.ndarray, blocks: np.ndarray, known: np.ndarray
) -> None:
    """Gauss-Jordan over GF(2) on what peeling left: droplets with unknown neighbours."""
    unknown = np.flatnonzero(~known)
    rows = np.flatnonzero(deg > 0)
    work = len(unknown) * len(rows) * (len(unknown) // 64 + values.shape[1] + 1)
    if len(rows) == 0 or len(unknown) > MAX_RESIDUAL or work > MAX_WORK:
        return
    col_of = np.full(len(known) + 1, -1, dtype=np.int64)
    col_of[unknown] = np.arange(len(unknown))
    sub = nb[rows]
    c = col_of[np.where(sub < 0, len(known), sub)]
    n_cols = len(unknown)
    cw = -(-n_cols // 64)
    mat = np.zeros((len(rows), cw), dtype=np.uint64)
    r_idx, j = np.nonzero(c >= 0)
    cc = c[r_idx, j]
    np.bitwise_or.at(mat, (r_idx, cc // 64), np.uint64(1) << (cc % 64).astype(np.uint64))
    aug = np.concatenate([mat, values[rows]], axis=1)
    pivot_row = np.full(n_cols, -1, dtype=np.int64)
    r = 0
    for col in range(n_cols):
        w, bit = col // 64, np.uint64(1) << np.uint64(col % 64)
        has = (aug[r:, w] & bit) != 0
        if not has.any():
            continue
        p = r + int(np.argmax(has))
        if p != r:
            aug[[r, p]] = aug[[p, r]]
        hit = (aug[:, w] & bit) != 0
        hit[r] = False
        aug[hit] ^= aug[r]
        pivot_row[col] = r
        r += 1
        if r == len(aug):
            break
    solved = np.flatnonzero(pivot_row >= 0)
    if len(solved) == 0:
        return
    pr = aug[pivot_row[solved], :cw]
    ones = _popcount_rows(pr)
    alone = ones == 1  # no free column left in the pivot's row: the value is determined
    s = solved[alone]
    blocks[unknown[s]] = aug[pivot_row[s], cw:]
    known[unknown[s]] = True


def _popcount_rows(a: np.ndarray) -> np.ndarray:
    return np.unpackbits(np.ascontiguousarray(a).view(np.uint8), axis=1).sum(axis=1)


#: droplets beyond k that decoding wants after the losses the overhead pays for: a GF(2)
#: system of k unknowns needs ~10 spare equations to be solvable with high probability, so a
#: small archive (tens of blocks) would otherwise fail on a few unlucky lost strands
MIN_SPARE = 10


def droplets_needed(k: int, overhead: float) -> int:
    """Droplets to emit for ``k`` source blocks: after losing the share ``overhead / (1 +
    overhead)`` of them, ``k + MIN_SPARE`` remain."""
    return int(ceil((k + MIN_SPARE) * (1.0 + overhead)))
