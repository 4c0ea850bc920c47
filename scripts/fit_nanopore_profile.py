"""Fit the ``nanopore-r9`` channel profile to real nanopore reads; print its parameters.

    .venv/bin/python scripts/fit_nanopore_profile.py [--data DIR] [--rounds 6]

Reads ``valid.json`` of Microsoft's Clustered Nanopore Reads (``../shared/data/nanopore-cnr``,
or ``--data``/``$HELIX_NANOPORE_DATA``; never ``test.json``), aligns every read to its
reference with edlib and counts, per reference base: substitutions, insertions, deletions; their
rates in 10 position bins along the strand and by homopolymer run length (1, 2, 3, 4+); the
insertion lengths; the share of inserted bases that copy the base before them; the substitution
matrix; how much more the edit distance varies from read to read than independent errors
would make it (a per-read rate factor). Coverage skew: the negative-binomial size that best
explains the reads per cluster (maximum likelihood, truncated to the file's > 5 per cluster).

Alignment hides some errors (an insertion next to a deletion reads as a substitution, a
deletion in a run can land anywhere in it) and the dataset kept only reads of 106-115 nt, so
counts are not yet parameters: starting from them, each round simulates reads of each
reference with the profile, filters them to 106-115 nt, measures them the same way, and scales
every parameter by real / simulated (every round: seed 0, twice as many reads as the real
ones; the "fitted" line: as many, seed 1). The printed constants are what
``helix_media/channel/profiles.py`` stores. Exits 0 with a note when the data are absent.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from helix_media.channel.errorstats import (
    ErrorStats,
    load_clusters,
    measure,
    nanopore_data,
    reads_like,
)
from helix_media.channel.profiles import PROFILES, ErrorShape

LENGTHS = (106, 115)  # the dataset's reads: trimmed, 106-115 nt


def fit_skew(counts: np.ndarray, least: int = 6) -> tuple[float, float]:
    """Negative-binomial (size, mean) of reads per cluster, by maximum likelihood on a grid,
    for counts truncated to >= ``least``."""
    values, mult = np.unique(counts, return_counts=True)
    ks = np.arange(least)
    means = np.arange(2.0, 60.001, 0.05)
    best = (-np.inf, 0.0, 0.0)
    for size in np.arange(0.5, 12.001, 0.01):
        # log pmf = lgamma(k + size) - lgamma(size) - lgamma(k + 1) + size log p + k log(1 - p)
        core = np.array(
            [math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) for k in values]
        )
        head = np.array(
            [math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1) for k in ks]
        )
        p = size / (size + means)
        ll = (
            (mult * core).sum()
            + len(counts) * size * np.log(p)
            + (mult * values).sum() * np.log1p(-p)
        )
        tail = 1 - np.exp(
            head[None, :] + size * np.log(p)[:, None] + ks * np.log1p(-p)[:, None]
        ).sum(1)
        ll -= len(counts) * np.log(tail)
        i = int(np.argmax(ll))
        if ll[i] > best[0]:
            best = (float(ll[i]), float(size), float(means[i]))
    return best[1], best[2]


def truncated_loglik(pmf, counts: np.ndarray, least: int = 6) -> float:
    """Log-likelihood of ``counts`` (all >= ``least``) under ``pmf(k)``, truncated there."""
    seen = 1 - sum(pmf(np.arange(least)))
    return float(np.log(pmf(counts)).sum() - len(counts) * np.log(seen))


def fit_lognormal_skew(counts: np.ndarray, least: int = 6) -> tuple[float, float, float]:
    """Poisson-lognormal (sigma, mean, log-likelihood) of reads per cluster truncated to
    >= ``least``, by maximum likelihood (the abundance's log has sd sigma)."""
    from scipy.optimize import minimize
    from scipy.special import gammaln

    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()

    def pmf(mean, sigma):
        lam = np.exp(np.log(mean) - sigma**2 / 2 + sigma * nodes)
        return lambda k: (
            np.exp(np.asarray(k)[:, None] * np.log(lam) - lam - gammaln(np.asarray(k) + 1)[:, None])
            @ weights
        )

    def cost(x):
        return -truncated_loglik(pmf(*np.exp(x)), counts, least)

    start = np.log([max(float(np.mean(counts)), 1.0), 0.5])
    best = minimize(cost, start, method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})
    mean, sigma = np.exp(best.x)
    return float(sigma), float(mean), float(-best.fun)


def _norm(m: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Multipliers scaled to a weighted mean of 1."""
    return m / (m * weight).sum() * weight.sum()


def initial(real: ErrorStats) -> tuple[np.ndarray, ErrorShape]:
    rates = real.rates()
    pos = real.position_rates() / np.maximum(rates[:, None], 1e-12)
    hp = real.homopolymer_rates() / np.maximum(rates[:, None], 1e-12)
    shape = ErrorShape(
        position=_tuple(np.stack([_norm(p, real.pos_bases) for p in pos])),
        homopolymer=_tuple(np.stack([_norm(h, w) for h, w in zip(hp, real.hp_bases, strict=True)])),
        ins_length=tuple(real.ins_length_share().tolist()),
        ins_copy=float(np.clip((real.ins_copy_share() - 0.25) / 0.75, 0, 1)),
        sub_matrix=_tuple(real.sub_share()),
        read_spread=max(0.0, (real.edit_var() - real.mean_edit()) / real.mean_edit() ** 2),
        truncated=0.0,
    )
    return rates, shape


def refine(
    real: ErrorStats, sim: ErrorStats, rates: np.ndarray, shape: ErrorShape
) -> tuple[np.ndarray, ErrorShape]:
    """One round: every parameter times real / simulated, multipliers renormalized."""

    def ratio(a, b):
        return np.where(b > 0, a / np.maximum(b, 1e-12), 1.0)

    rates = rates * ratio(real.rates(), sim.rates())
    pos = np.asarray(shape.position) * ratio(real.position_rates(), sim.position_rates())
    hp = np.asarray(shape.homopolymer) * ratio(real.homopolymer_rates(), sim.homopolymer_rates())
    ins_len = np.asarray(shape.ins_length) * ratio(real.ins_length_share(), sim.ins_length_share())
    sub = np.asarray(shape.sub_matrix) * ratio(real.sub_share(), sim.sub_share())
    copy = shape.ins_copy + (real.ins_copy_share() - sim.ins_copy_share()) / 0.75
    spread = shape.read_spread + (real.edit_var() - sim.edit_var()) / real.mean_edit() ** 2
    shape = replace(
        shape,
        position=_tuple(np.stack([_norm(p, real.pos_bases) for p in pos])),
        homopolymer=_tuple(np.stack([_norm(h, w) for h, w in zip(hp, real.hp_bases, strict=True)])),
        ins_length=tuple((ins_len / ins_len.sum()).tolist()),
        ins_copy=float(np.clip(copy, 0, 1)),
        read_spread=float(max(0.0, spread)),
        sub_matrix=_tuple(sub / sub.sum(1, keepdims=True)),
    )
    return rates, shape


def _tuple(a: np.ndarray) -> tuple:
    return tuple(tuple(float(x) for x in row) for row in a)


def _simulated(refs, counts, rates, shape, skew, seed=0) -> ErrorStats:
    channel = replace(
        PROFILES["nanopore-r9"],
        sub=float(rates[0]),
        ins=float(rates[1]),
        dele=float(rates[2]),
        skew=skew,
        shape=shape,
        seed=seed,
    )
    sim = reads_like(refs, counts, channel, LENGTHS)
    return measure((r, ref) for ref, rs in zip(refs, sim, strict=True) for r in rs)


def _summary(label: str, st: ErrorStats) -> None:
    r = 100 * st.rates()
    print(
        f"{label:<10} sub {r[0]:.3f} %  ins {r[1]:.3f} %  del {r[2]:.3f} %  "
        f"edit {st.mean_edit():.3f} (var {st.edit_var():.2f})  ins-copy {st.ins_copy_share():.3f}"
    )


def _fmt(rows, digits=3) -> str:
    return "\n".join("    (" + ", ".join(f"{x:.{digits}f}" for x in row) + ")," for row in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="folder holding valid.json (default: shared/data/nanopore-cnr)")
    ap.add_argument("--rounds", type=int, default=6, help="simulate-and-rescale rounds (6)")
    ap.add_argument("--scale", type=int, default=2, help="simulated reads per real read (2)")
    args = ap.parse_args(argv)
    folder = Path(args.data) if args.data else nanopore_data()
    if folder is None or not (folder / "valid.json").is_file():
        print("nanopore reads absent (shared/data/nanopore-cnr/valid.json): nothing to fit")
        return 0
    clusters = load_clusters(folder / "valid.json")
    refs = [ref for ref, _ in clusters]
    counts = [len(reads) for _, reads in clusters]
    print(f"{folder / 'valid.json'}: {len(clusters)} clusters, {sum(counts)} reads")
    real = measure((r, ref) for ref, reads in clusters for r in reads)
    skew, mean = fit_skew(np.asarray(counts))
    print(f"reads per cluster: negative binomial size {skew:.2f}, mean {mean:.2f} (> 5 kept)")
    nb = truncated_loglik(
        lambda k: np.exp(
            [math.lgamma(x + skew) - math.lgamma(skew) - math.lgamma(x + 1) for x in k]
            + skew * np.log(skew / (skew + mean))
            + np.asarray(k) * np.log(mean / (skew + mean))
        ),
        np.asarray(counts),
    )
    sigma, ln_mean, ln_ll = fit_lognormal_skew(np.asarray(counts))
    print(
        f"  log-likelihood {nb:.1f}; a Poisson-lognormal fits sigma {sigma:.2f}, mean "
        f"{ln_mean:.2f}: log-likelihood {ln_ll:.1f} (kept: the negative binomial's heavier tail)"
    )
    _summary("real", real)
    rates, shape = initial(real)
    for k in range(args.rounds):
        sim = _simulated(refs, [args.scale * c for c in counts], rates, shape, skew)
        _summary(f"round {k}", sim)
        rates, shape = refine(real, sim, rates, shape)
    _summary("fitted", _simulated(refs, counts, rates, shape, skew, seed=1))
    print("\n# constants for helix_media/channel/profiles.py")
    print(f"R9_RATES = ({rates[0]:.5f}, {rates[1]:.5f}, {rates[2]:.5f})  # sub, ins, del per base")
    print(f"R9_POSITION = (\n{_fmt(shape.position)}\n)")
    print(f"R9_HOMOPOLYMER = (\n{_fmt(shape.homopolymer)}\n)")
    print(f"R9_INS_LENGTH = ({', '.join(f'{x:.4f}' for x in shape.ins_length)})")
    print(f"R9_INS_COPY = {shape.ins_copy:.3f}")
    print(f"R9_READ_SPREAD = {shape.read_spread:.3f}")
    print(f"R9_SUB_MATRIX = (\n{_fmt(shape.sub_matrix, 4)}\n)")
    print(f"R9_SKEW = {skew:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
