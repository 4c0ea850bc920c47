"""Strand addresses with minimum Hamming distance 3, inside the synthesis constraints.

A read whose address carries one substitution must still join its strand's cluster, so
addresses are words of a shortened quaternary Hamming code [16, 13, 3] over GF(4): 13
information symbols and 3 parity symbols, any two codewords at least 3 bases apart. One
substitution is corrected by its syndrome; two are (mostly) detected.

Not every codeword obeys the constraints (GC 7-9 of 16, no run > 3 or motif, also across the
primer junction), so addresses are the *valid* codewords in order: data strand ``i`` gets the
``i``-th valid codeword counting up from information word 0, metadata strand ``j`` the
``j``-th counting down from the top. The tables are built lazily, 65536 candidates at a time
(about 45 % are valid), so an archive pays only for the addresses it uses.
"""

from __future__ import annotations

import itertools

import numpy as np

from helix_media.constraints import Constraints, longest_runs, motif_hits
from helix_media.nucleotides import GC_BASE

N, K = 16, 13  # code length and information symbols (quaternary)
CHUNK = 1 << 16
# GF(4) = {0, 1, a, a^2} as 0, 1, 2, 3 (a^2 = a + 1): addition is XOR
_EXP = np.array([1, 2, 3], dtype=np.uint8)
_LOG = np.array([0, 0, 1, 2], dtype=np.int64)


def gf4_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.uint8), np.asarray(b, dtype=np.uint8)
    prod = _EXP[(_LOG[a] + _LOG[b]) % 3]
    return np.where((a == 0) | (b == 0), 0, prod).astype(np.uint8)


def _check_matrix() -> np.ndarray:
    """H = [A | I3]: columns are distinct points of the projective plane PG(2, 4), so no two
    are dependent and the minimum distance is 3."""
    points = [p for p in itertools.product(range(4), repeat=3) if p != (0, 0, 0)]
    normalized = [p for p in points if next(x for x in p if x) == 1]  # 21 points
    unit = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    info_cols = [p for p in normalized if p not in unit][:K]
    return np.array(info_cols + unit, dtype=np.uint8).T  # (3, 16)


H = _check_matrix()


def _gf4_dot(h: np.ndarray, words: np.ndarray) -> np.ndarray:
    """(r, n) x (m, n) -> (m, r) over GF(4)."""
    prods = gf4_mul(h[None, :, :], words[:, None, :])
    return np.bitwise_xor.reduce(prods, axis=2)


def _syndrome_table() -> tuple[np.ndarray, np.ndarray]:
    """Syndrome (as a 6-bit integer) -> (position, error value); position -1 = not one error."""
    pos = np.full(64, -1, dtype=np.int64)
    val = np.zeros(64, dtype=np.uint8)
    for j in range(N):
        for e in (1, 2, 3):
            s = gf4_mul(H[:, j], np.uint8(e))
            code = int(s[0]) << 4 | int(s[1]) << 2 | int(s[2])
            pos[code], val[code] = j, e
    return pos, val


_SYN_POS, _SYN_VAL = _syndrome_table()


def info_words(values: np.ndarray) -> np.ndarray:
    """Integers < 4**13 -> (m, 13) base-4 digits, most significant first."""
    v = np.asarray(values, dtype=np.int64)
    return ((v[:, None] >> (2 * np.arange(K)[::-1])) & 3).astype(np.uint8)


def codewords(values: np.ndarray) -> np.ndarray:
    """Information words (integers) -> (m, 16) codewords (symbols 0..3 are the bases)."""
    info = info_words(values)
    parity = _gf4_dot(H[:, :K], info)  # H c = 0 with H = [A | I]  =>  p = A x
    return np.concatenate([info, parity], axis=1)


def correct(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Syndrome-decode (m, 16) words: (information integer or -1 if not decodable,
    symbols corrected: 0 or 1)."""
    w = np.asarray(words, dtype=np.uint8)
    s = _gf4_dot(H, w)
    code = (s[:, 0].astype(np.int64) << 4) | (s[:, 1] << 2) | s[:, 2]
    fixed = w.copy()
    pos = _SYN_POS[code]
    one = (code != 0) & (pos >= 0)
    rows = np.flatnonzero(one)
    fixed[rows, pos[one]] ^= _SYN_VAL[code[one]]
    value = (fixed[:, :K].astype(np.int64) << (2 * np.arange(K)[::-1])).sum(axis=1)
    ok = (code == 0) | one
    return np.where(ok, value, -1), one.astype(np.int64)


class AddressCode:
    """Index <-> 16-nt address; data indices count up, metadata indices count down."""

    def __init__(self, constraints: Constraints, context: np.ndarray, gc_range=(7, 9)) -> None:
        self.constraints = constraints
        self.context = np.asarray(context, dtype=np.uint8)  # the bases before the address
        self.gc_range = gc_range
        self._tables: dict[bool, list[np.ndarray]] = {False: [], True: []}

    def _valid(self, values: np.ndarray) -> np.ndarray:
        """Which information words give addresses inside the constraints (cheap tests first)."""
        words = codewords(values)
        gc = GC_BASE[words].sum(axis=1)
        ok = (gc >= self.gc_range[0]) & (gc <= self.gc_range[1])
        span = max([self.constraints.max_homopolymer, *map(len, self.constraints.motifs)])
        ctx = self.context[-span:]
        with_context = np.concatenate([np.broadcast_to(ctx, (len(words), len(ctx))), words], 1)
        ok &= longest_runs(with_context) <= self.constraints.max_homopolymer
        rows = np.flatnonzero(ok)
        own = motif_hits(ctx[None, :], self.constraints.motifs)[0]  # hits inside the primer
        ok[rows] = motif_hits(with_context[rows], self.constraints.motifs) == own
        return ok

    def _table(self, metadata: bool, need_index: int = -1, need_value: int = -1) -> np.ndarray:
        """Valid information words in address order, extended until it holds ``need_index``
        entries or reaches ``need_value``."""
        chunks = self._tables[metadata]
        top = 4**K
        while True:
            have = sum(len(c) for c in chunks)
            done = len(chunks) * CHUNK >= top // 2
            last = chunks[-1][-1] if chunks and len(chunks[-1]) else None
            reached = last is not None and (
                (last <= need_value) if metadata else (last >= need_value)
            )
            if have > need_index and (need_value < 0 or reached) or done:
                break
            start = len(chunks) * CHUNK
            values = np.arange(start, start + CHUNK, dtype=np.int64)
            if metadata:
                values = top - 1 - values
            chunks.append(values[self._valid(values)])
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)

    def encode(self, index: np.ndarray, metadata: np.ndarray) -> np.ndarray:
        """(m,) indices and metadata flags -> (m, 16) address bases."""
        index = np.asarray(index, dtype=np.int64)
        values = np.zeros(len(index), dtype=np.int64)
        for flag in (False, True):
            rows = np.asarray(metadata) == flag
            if rows.any():
                table = self._table(flag, need_index=int(index[rows].max()))
                if index[rows].max() >= len(table):
                    raise ValueError("address index beyond the address code's capacity")
                values[rows] = table[index[rows]]
        return codewords(values)

    def decode(self, bases: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(m, 16) bases -> (index or -1, metadata flag, symbols corrected)."""
        values, corrected = correct(bases)
        metadata = values >= 4**K // 2
        index = np.full(len(values), -1, dtype=np.int64)
        for flag in (False, True):
            rows = (values >= 0) & (metadata == flag)
            if not rows.any():
                continue
            v = values[rows]
            table = self._table(flag, need_value=int(v.min() if flag else v.max()))
            key = -table if flag else table  # ascending for searchsorted
            probe = -v if flag else v
            at = np.minimum(np.searchsorted(key, probe), len(table) - 1)
            index[rows] = np.where(key[at] == probe, at, -1)
        return index, metadata, corrected
