"""Primer pairs for random access, drawn from a constrained code set and checked by primer3.

Primers must be far apart (and far from each other's reverse complements) so that each pair
amplifies only its own strands, and each must behave in PCR: melting temperature in a window,
no stable hairpin or self-dimer, and no stable dimer with its partner. We draw run-free
candidates with 50 % GC (the EORS word rule, see :mod:`helix_media.design.codesets`) whose 3' end
suits a forward or a reverse primer, keep those that primer3-py passes, search a large set
pairwise >= D apart with the code-set search, and pair them by melting temperature.

A strand reads ``forward | ... | reverse``, so the forward primer is ordered as written, while
the reverse primer anneals to the strand's 3' end and is ordered as its reverse complement
(:attr:`PrimerPair.reverse_oligo`). Every check holds for the oligos *as ordered*, 5'->3'
(:attr:`Primer.oligo`): the 3'-end rule, primer3's hairpin and self-dimer of each oligo, and
the pair's cross-dimer of the forward oligo with the reverse oligo (Tm is the duplex's, the
same for a word and its reverse complement). A word is screened for each role its 3' end
allows, the reverse role on its reverse complement; the vectorized 3'-end screen and the Tm
window drop candidates before the costlier primer3 calls, which are cached by sequence.

The 3'-end rule is primer3's PRIMER_GC_CLAMP / PRIMER_MAX_END_GC: the last ``--gc-clamp`` N
bases (default 1, 0 lifts it) are all G or C, and at most ``--max-end-gc`` K (default 3) of the
last 5 are; the clamp of a reverse primer sits on the *first* bases of the ``reverse`` word.

    helix primers [--pairs K] [--length L] [--distance D] [--seconds S] [--avoid SEQ]
                  [--gc-clamp N] [--max-end-gc K] [--out F]

(the command itself: :mod:`helix_media.cli.primers`)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from helix_media.design.codeset_search import IndependentSetSearch
from helix_media.design.conflict_graph import ConflictGraph, distances, pack
from helix_media.dna.constraints import Constraints, motif_hits
from helix_media.dna.nucleotides import (
    GC_BASE,
    from_string,
    reverse_complement,
    to_string,
    to_strings,
)
from helix_media.errors import HelixError

END_WINDOW = 5  # PRIMER_MAX_END_GC counts G/C among this many 3'-end bases


@dataclass(frozen=True)
class Limits:
    """primer3 thresholds (kcal/mol for free energies at 37 C, Celsius for Tm, bases for the
    3' end of each primer as ordered: PRIMER_GC_CLAMP and PRIMER_MAX_END_GC)."""

    tm_min: float = 55.0
    tm_max: float = 62.0
    max_tm_diff: float = 2.0
    hairpin_dg: float = -2.0  # no hairpin more stable than this
    dimer_dg: float = -6.0  # no self- or cross-dimer more stable than this
    gc_clamp: int = 1  # the last N bases are G/C (0: no clamp)
    max_end_gc: int = 3  # at most this many G/C among the last 5 bases


@dataclass(frozen=True)
class Primer:
    """One primer in one role. ``seq`` is the word as it sits on the strand (what the framer
    writes); ``oligo`` is the primer as ordered, 5'->3': ``seq`` for a forward primer, its
    reverse complement for a reverse one. ``tm``, ``hairpin_dg`` and ``homodimer_dg`` are
    primer3's figures for ``oligo`` (Tm: C; free energies: kcal/mol at 37 C)."""

    seq: str
    oligo: str
    tm: float
    hairpin_dg: float
    homodimer_dg: float


@dataclass(frozen=True)
class PrimerPair:
    """``forward`` and ``reverse`` as they sit on the strand (the framer's primer5 / primer3);
    the forward primer is ordered as written, the reverse one as :attr:`reverse_oligo`.
    ``heterodimer_dg`` is primer3's cross-dimer of the two oligos as ordered."""

    forward: Primer
    reverse: Primer
    heterodimer_dg: float

    @property
    def reverse_oligo(self) -> str:
        """The reverse primer as synthesized, 5'->3': reverse complement of ``reverse.seq``."""
        return self.reverse.oligo


def _primer3():
    try:
        import primer3
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise HelixError("helix primers needs primer3-py (pip install primer3-py)") from exc
    return primer3


# primer3 results by sequence: a word and another's reverse complement can be the same oligo,
# and pairing meets the same (forward, reverse) oligos from both partners
@functools.lru_cache(maxsize=1 << 16)
def _tm(oligo: str) -> float:
    return float(_primer3().calc_tm(oligo))


@functools.lru_cache(maxsize=1 << 16)
def _hairpin_dg(oligo: str) -> float:
    return float(_primer3().calc_hairpin(oligo).dg) / 1000.0


@functools.lru_cache(maxsize=1 << 16)
def _homodimer_dg(oligo: str) -> float:
    return float(_primer3().calc_homodimer(oligo).dg) / 1000.0


@functools.lru_cache(maxsize=1 << 16)
def heterodimer_dg(forward_oligo: str, reverse_oligo: str) -> float:
    """primer3's cross-dimer free energy (kcal/mol) of two oligos as ordered, 5'->3'."""
    return float(_primer3().calc_heterodimer(forward_oligo, reverse_oligo).dg) / 1000.0


def thermo(seq: str, reverse: bool = False) -> Primer:
    """primer3's Tm and hairpin / self-dimer free energies (kcal/mol) of the word ``seq`` as a
    forward primer, or (``reverse``) as a reverse one, i.e. of its reverse complement."""
    oligo = _rc(seq) if reverse else seq
    return Primer(seq, oligo, _tm(oligo), _hairpin_dg(oligo), _homodimer_dg(oligo))


def _rc(seq: str) -> str:
    return to_string(reverse_complement(from_string(seq)))


def check_limits(length: int, limits: Limits) -> None:
    """HelixError unless a primer of ``length`` nt can meet the 3'-end rule of ``limits``."""
    n, k = limits.gc_clamp, limits.max_end_gc
    if not 0 <= n <= length:
        raise HelixError(f"--gc-clamp must be 0..{length} (the primer length), got {n}")
    if not 0 <= k <= END_WINDOW:
        raise HelixError(f"--max-end-gc must be 0..{END_WINDOW} (G/C in the last 5), got {k}")
    if min(n, END_WINDOW) > k:
        raise HelixError(
            f"--gc-clamp {n} puts {min(n, END_WINDOW)} G/C in the last 5 bases, "
            f"more than --max-end-gc {k}"
        )
    if n > length // 2:
        raise HelixError(
            f"--gc-clamp {n} needs {n} G/C, a {length}-nt primer holds {length // 2} (50 % GC)"
        )


def end_ok(oligos: np.ndarray, limits: Limits) -> np.ndarray:
    """(m, L) primers as ordered 5'->3' -> whether each meets the 3'-end rule (GC clamp and
    at most ``max_end_gc`` G/C in the last 5 bases)."""
    gc = GC_BASE[oligos]
    length = oligos.shape[1]
    clamp = gc[:, length - limits.gc_clamp :].all(axis=1)
    return clamp & (gc[:, -END_WINDOW:].sum(axis=1) <= limits.max_end_gc)


def roles(words: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """(m, L) strand-sense words -> (usable as forward, usable as reverse primer) by the 3'-end
    rule, checked on the oligo that is ordered: the word, or its reverse complement."""
    return end_ok(words, limits), end_ok(reverse_complement(words), limits)


def candidates(
    length: int, count: int, rng: np.random.Generator, limits: Limits | None = None
) -> np.ndarray:
    """Distinct random words with no equal neighbours, floor(L/2) G+C, no restriction site,
    and (given ``limits``) a 3' end that suits a forward or a reverse primer."""
    out: list[np.ndarray] = []
    have = 0
    motifs = Constraints().motifs
    for _ in range(200):
        m = max(1024, 8 * (count - have))
        steps = rng.integers(1, 4, (m, length - 1))
        w = (np.cumsum(np.concatenate([rng.integers(0, 4, (m, 1)), steps], 1), 1) % 4).astype(
            np.uint8
        )
        w = w[(GC_BASE[w].sum(axis=1) == length // 2) & (motif_hits(w, motifs) == 0)]
        if limits is not None:
            fwd, rev = roles(w, limits)
            w = w[fwd | rev]
        out.append(w)
        have += len(w)
        if have >= 2 * count:
            break
    words = np.unique(np.concatenate(out), axis=0)
    return words[rng.permutation(len(words))[:count]]


FORWARD, REVERSE = 0, 1  # a word's roles: its oligo is the word, or its reverse complement


class Screen:
    """primer3 checks of (m, L) strand-sense words in each role their 3' end allows, always on
    the oligo as ordered: :meth:`primer` (i, FORWARD) checks word i, (i, REVERSE) its reverse
    complement. Computed on first use and kept, cheapest first: the vectorized 3'-end rule,
    then Tm (once per word: a word and its reverse complement form the same duplex), then the
    hairpin, then the self-dimer. One passing role admits a word to the code set; the other is
    checked only if pairing asks for it."""

    def __init__(self, words: np.ndarray, limits: Limits):
        self.limits = limits
        self.end_ok = roles(words, limits)
        self.oligos = (to_strings(words), to_strings(reverse_complement(words)))
        self._done: dict[tuple[int, int], Primer | None] = {}

    def tm(self, i: int) -> float:
        return _tm(self.oligos[FORWARD][i])

    def primer(self, i: int, role: int) -> Primer | None:
        """Word ``i`` as a primer in ``role``, or None if its oligo breaks ``limits``."""
        key = (i, role)
        if key not in self._done:
            self._done[key] = self._check(i, role)
        return self._done[key]

    def usable(self, i: int) -> bool:
        return self.primer(i, FORWARD) is not None or self.primer(i, REVERSE) is not None

    def _check(self, i: int, role: int) -> Primer | None:
        lim = self.limits
        if not self.end_ok[role][i]:
            return None
        tm = self.tm(i)
        if not lim.tm_min <= tm <= lim.tm_max:
            return None
        oligo = self.oligos[role][i]
        hairpin = _hairpin_dg(oligo)
        if hairpin < lim.hairpin_dg:
            return None
        homodimer = _homodimer_dg(oligo)
        if homodimer < lim.dimer_dg:
            return None
        return Primer(self.oligos[FORWARD][i], oligo, tm, hairpin, homodimer)

    def pair(self, a: int, b: int) -> PrimerPair | None:
        """Words a and b as a pair: a forward and b reverse, else b forward and a reverse, the
        first whose oligos pass all checks, the cross-dimer of the two included; or None."""
        for f, r in ((a, b), (b, a)):
            fwd = self.primer(f, FORWARD)
            rev = self.primer(r, REVERSE) if fwd is not None else None
            if fwd is not None and rev is not None:
                dg = heterodimer_dg(fwd.oligo, rev.oligo)
                if dg >= self.limits.dimer_dg:
                    return PrimerPair(fwd, rev, dg)
        return None


def _far_from_rc(words: np.ndarray, distance: int) -> np.ndarray:
    rc = reverse_complement(words)
    return distances(pack(words), pack(rc), words.shape[1]) >= distance


def _avoid_mask(words: np.ndarray, avoid: list[str], distance: int) -> np.ndarray:
    keep = np.ones(len(words), dtype=bool)
    codes = pack(words)
    for s in avoid:
        a = from_string(s)
        if len(a) != words.shape[1]:
            raise HelixError(f"--avoid {s}: length {len(a)}, primers are {words.shape[1]} nt")
        for v in (a, reverse_complement(a)):
            keep &= distances(codes, pack(v[None])[0], words.shape[1]) >= distance
    return keep


def propose_pairs(
    pairs: int = 8,
    length: int = 20,
    distance: int = 10,
    limits: Limits = Limits(),
    pool: int = 3000,
    seconds: float = 2.0,
    seed: int = 0,
    avoid: tuple[str, ...] = (),
    moves: int | None = None,
) -> tuple[list[PrimerPair], int]:
    """Up to ``pairs`` primer pairs; every primer is >= ``distance`` from every other primer
    of the set and from their reverse complements, and ends (as ordered) by the 3'-end rule of
    ``limits``. The code-set search runs for ``seconds``, or for ``moves`` steps where given
    (the same pairs on every machine, as archives need). Returns (pairs, size of the code
    set)."""
    if not 12 <= length <= 32:
        raise HelixError(f"primer length must be 12..32, got {length}")
    if not 1 <= distance <= length:
        raise HelixError(f"distance must be 1..{length}, got {distance}")
    check_limits(length, limits)
    rng = np.random.default_rng(seed)
    words = candidates(length, pool, rng, limits)
    words = words[_far_from_rc(words, distance) & _avoid_mask(words, list(avoid), distance)]
    checks = Screen(words, limits)
    keep = [i for i in range(len(words)) if checks.usable(i)]
    if len(keep) < 2:
        return [], len(keep)
    kept = words[keep]
    graph = ConflictGraph(pack(kept), distance, length, mirror=pack(reverse_complement(kept)))
    search = IndependentSetSearch(graph, rng)
    chosen = [keep[j] for j in search.run(seconds if moves is None else None, moves=moves)]
    # pair primers of alike Tm, those nearest the middle of the window first; skip partners
    # that suit neither order (a forward, b reverse or b, a) or whose oligos would dimerize
    tm = {i: checks.tm(i) for i in chosen}
    mid = (limits.tm_min + limits.tm_max) / 2
    chosen.sort(key=lambda i: abs(tm[i] - mid))
    used: set[int] = set()
    out: list[PrimerPair] = []
    for a in chosen:
        if a in used or len(out) >= pairs:
            continue
        partners = sorted(
            (b for b in chosen if b != a and b not in used), key=lambda b: abs(tm[b] - tm[a])
        )
        for b in partners:
            if abs(tm[b] - tm[a]) > limits.max_tm_diff:
                break
            pair = checks.pair(a, b)
            if pair is not None:
                out.append(pair)
                used.update((a, b))
                break
    return out, len(chosen)
