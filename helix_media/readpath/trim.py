"""Stage 1 of the read path: orient each read, trim its primers, read its address key.

Reads of the strand's exact length are checked against both primers vectorized (Hamming);
the rest go through a semi-global alignment of each primer near its end (edlib's distance
and junctions, compiled over all of a part's reads at once), which finds a primer with
indels and so the body's true start. What lies between the primers is the
strand's *body* (address + payload + parity).
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from helix_media.dna.nucleotides import reverse_complement
from helix_media.readpath.parts import ReadReport, Trimmed
from helix_media.strandio.bounded_records import MAX_READ_NT
from helix_media.strandio.fasta import N_CODE

PRIMER_MISMATCHES = 4  # per primer, fast path

#: per 20-nt primer, edlib path. Measured (edlib HW, 20-nt primer in a 32-nt window): a
#: primer read with 3+3+4 % errors needs more than 5 edits 0.46 % of the time, more than 6
#: 0.065 %; a random window is within 6 edits of it 1.2 % of the time, so a junk read
#: passes both primers ~3e-4 of the time.
PRIMER_EDITS = 6

PRIMER_SLACK = 12  # bases beyond the primer's length searched at each end (indels, junk)

JUNCTION = 4  # primer bases next to the body that an exact-length read must nearly match

TRIM_CHUNK = 1 << 16  # reads per step of the vectorized trim (bounds its temporaries)

LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


@numba.njit(cache=True)
def _best_end(pattern, text, lo, hi, step, comp):  # pragma: no cover - compiled
    """Fewest edits of all of ``pattern`` (up to 64 nt) against any substring of ``text``
    read from ``lo`` toward ``hi`` (``step`` +1 or -1, ``hi`` excluded; ``comp``: each base
    complemented), and the last place read where such a best match ends: edlib's HW
    distance and, of its end locations, the one farthest along, by the same bit-parallel
    recurrence (Myers 1999), one 64-bit step per text base. N (4) matches nothing."""
    one, m = np.uint64(1), len(pattern)
    peq = np.zeros(5, np.uint64)  # bit i: pattern[i] is that base
    for i in range(m):
        peq[pattern[i]] |= one << np.uint64(i)
    last = one << np.uint64(m - 1)
    pv, mv = ~np.uint64(0), np.uint64(0)
    score = best = m
    where = -1
    for j in range(lo, hi, step):
        c = min(text[j], 4)
        eq = peq[3 - c if comp and c < 4 else c]
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        score += 1 if ph & last else -1 if mh & last else 0
        ph, mh = ph << one, mh << one  # no carry in: the match may start anywhere
        pv = mh | ~(xv | ph)
        mv = ph & xv
        if score <= best:
            best, where = score, j
    return best, where


@numba.njit(cache=True)
def _aligned_bodies(flat, starts, ends, p5, p3r, slack, most):  # pragma: no cover
    """For each read ``flat[starts[k]:ends[k]]``: (found, reversed, body start, body end),
    the body in the read as oriented (its reverse complement where reversed). The 5' primer
    is aligned semi-globally within its length + ``slack`` of the start, the 3' primer
    (``p3r``: reversed) of the end, each within ``most`` edits; of equally good junctions
    the one that keeps the most primer (a primer's last base substituted also aligns as
    that base deleted, one base early). Forward first; the reverse complement is read in
    place, backward and complemented. Junk costs one short scan: under a microsecond."""
    n = len(starts)
    found = np.zeros(n, dtype=np.bool_)
    rev = np.zeros(n, dtype=np.bool_)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    w5, w3 = len(p5) + slack, len(p3r) + slack
    for k in range(n):
        a, b = starts[k], ends[k]
        length = b - a
        h5, h3 = min(length, w5), min(length, w3)
        # forward: 5' primer from the start onward, 3' primer from the end backward
        d5, e5 = _best_end(p5, flat, a, a + h5, 1, False)
        if d5 <= most:
            d3, e3 = _best_end(p3r, flat, b - 1, b - 1 - h3, -1, False)
            if d3 <= most and e3 - a > e5 + 1 - a:
                found[k], lo[k], hi[k] = True, e5 + 1 - a, e3 - a
                continue
        # reverse complement: its start is the read's end, read backward, complemented
        d5, e5 = _best_end(p5, flat, b - 1, b - 1 - h5, -1, True)
        if d5 > most:
            continue
        d3, e3 = _best_end(p3r, flat, a, a + h3, 1, True)
        start, end = b - 1 - e5 + 1, b - 1 - e3  # in the reverse complement's coordinates
        if d3 <= most and end > start:
            found[k], rev[k], lo[k], hi[k] = True, True, start, end
    return found, rev, lo, hi


def rc_any(read: np.ndarray) -> np.ndarray:
    """Reverse complement that keeps N as N."""
    out = reverse_complement(np.minimum(read, 3)).astype(np.uint8)
    out[read[::-1] == N_CODE] = N_CODE
    return out


class Trimmer:
    """Orients and trims reads for one framer's layout."""

    def __init__(self, framer) -> None:
        self.framer = framer
        self.length = framer.strand_length
        self.p5 = np.asarray(framer.primer5, dtype=np.uint8)
        self.p3 = np.asarray(framer.primer3, dtype=np.uint8)
        self.body = self.length - len(self.p5) - len(self.p3)
        self.address_nt = framer.cluster_span - len(self.p5)
        self._p5 = LETTERS[self.p5].tobytes().decode()
        self._p3r = LETTERS[self.p3[::-1]].tobytes().decode()  # aligned from the read's end
        self._p3_reversed = np.ascontiguousarray(self.p3[::-1])

    def fast_bodies(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Exact-length reads (m, L) -> (found, reversed, bodies (m, body))."""
        a, b = len(self.p5), len(self.p3)
        fwd = (rows[:, :a] != self.p5).sum(1) + (rows[:, -b:] != self.p3).sum(1)
        rc = np.where(rows == N_CODE, N_CODE, 3 - rows)[:, ::-1]
        rev = (rc[:, :a] != self.p5).sum(1) + (rc[:, -b:] != self.p3).sum(1)
        use_rc = rev < fwd
        oriented = np.where(use_rc[:, None], rc, rows)
        found = np.minimum(fwd, rev) <= 2 * PRIMER_MISMATCHES
        # an insertion in one primer and a deletion in the other keep the length but shift
        # the body: the bases at a junction then disagree; such reads go to the aligner
        j = JUNCTION
        found &= (oriented[:, a - j : a] != self.p5[-j:]).sum(1) <= 1
        found &= (oriented[:, self.length - b : self.length - b + j] != self.p3[:j]).sum(1) <= 1
        return found, use_rc, oriented[:, a : self.length - b]

    def aligned_bodies(
        self, reads: Sequence[np.ndarray], rows: np.ndarray
    ) -> list[tuple[np.ndarray | None, bool]]:
        """Any-length reads -> (body or None, reversed) each, by semi-global alignment of
        each primer near its end: compiled over all the reads at once
        (:func:`_aligned_bodies`), or with edlib where a primer is longer than 64 nt."""
        if not len(rows):
            return []
        if max(len(self.p5), len(self.p3)) > 64:
            return [self._edlib_body(reads[i]) for i in rows]
        lengths = np.fromiter((len(reads[i]) for i in rows), np.int64, len(rows))
        ends = np.cumsum(lengths)
        flat = np.concatenate([reads[i] for i in rows])
        found, rev, lo, hi = _aligned_bodies(
            flat, ends - lengths, ends, self.p5, self._p3_reversed, PRIMER_SLACK, PRIMER_EDITS
        )
        out: list[tuple[np.ndarray | None, bool]] = []
        for k, i in enumerate(rows):
            if not found[k]:
                out.append((None, False))
                continue
            seq = rc_any(reads[i]) if rev[k] else reads[i]
            out.append((seq[lo[k] : hi[k]], bool(rev[k])))
        return out

    def aligned_body(self, read: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """One read's :meth:`aligned_bodies`."""
        return self.aligned_bodies([read], np.zeros(1, dtype=np.int64))[0]

    def _edlib_body(self, read: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """:meth:`aligned_body` by edlib (any primer length): the same search, in Python."""
        import edlib

        for reverse in (False, True):
            seq = rc_any(read) if reverse else read
            text = LETTERS[seq].tobytes().decode()
            head = edlib.align(
                self._p5, text[: len(self._p5) + PRIMER_SLACK], mode="HW", task="locations"
            )
            if head["editDistance"] < 0 or head["editDistance"] > PRIMER_EDITS:
                continue
            tail_from = max(0, len(text) - len(self._p3r) - PRIMER_SLACK)
            tail = edlib.align(self._p3r, text[tail_from:][::-1], mode="HW", task="locations")
            if tail["editDistance"] < 0 or tail["editDistance"] > PRIMER_EDITS:
                continue
            start = max(end for _, end in head["locations"]) + 1
            end = len(text) - 1 - max(end for _, end in tail["locations"])
            if end > start:
                return seq[start:end], reverse
        return None, False

    def __call__(self, reads: Sequence[np.ndarray], first: int = 0) -> Trimmed:
        """Orient and trim each read of a part (``first``: the global index of ``reads[0]``)
        and read its cluster key. Reads without a body are counted and dropped here."""
        report = ReadReport(reads=len(reads))
        lengths = np.fromiter(map(len, reads), dtype=np.int64, count=len(reads))
        report.too_short = int((lengths < self.length // 2).sum())
        report.too_long = int((lengths > MAX_READ_NT).sum())
        exact = np.flatnonzero(lengths == self.length)
        fixed_body = np.zeros((len(reads), self.body), dtype=np.uint8)
        has_fixed = np.zeros(len(reads), dtype=bool)
        for lo in range(0, len(exact), TRIM_CHUNK):  # in chunks: the temporaries stay small
            rows = exact[lo : lo + TRIM_CHUNK]
            found, rev, bodies = self.fast_bodies(np.stack([reads[i] for i in rows]))
            fixed_body[rows[found]] = bodies[found]
            has_fixed[rows[found]] = True
            report.reverse += int(rev[found].sum())
        # the rest (indels, odd lengths, fast-path misses) through the aligner
        other_bodies: dict[int, np.ndarray] = {}
        rest = np.flatnonzero(~has_fixed & (lengths >= self.length // 2) & (lengths <= MAX_READ_NT))
        for i, (body, reverse) in zip(rest, self.aligned_bodies(reads, rest), strict=True):
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
        at = np.searchsorted(rows, np.fromiter(other_bodies, np.int64, len(other_bodies)))
        local = dict(zip(other_bodies, at.tolist(), strict=True))
        for i, body in other_bodies.items():
            if len(body) > self.address_nt:
                heads[local[i]], has_head[local[i]] = body[: self.address_nt + 1], True
        keys = np.full(len(rows), -1, dtype=np.int64)
        keys[has_head] = self.framer.cluster_keys(heads[has_head, : self.address_nt])
        return Trimmed(
            index=rows + first,
            fixed=has_fixed[rows],
            bodies=fixed_body if len(rows) == len(reads) else fixed_body[rows],
            other={local[i]: b for i, b in other_bodies.items()},
            heads=heads,
            has_head=has_head,
            keys=keys,
            report=report,
        )
