"""Strand addresses with minimum Hamming distance 3, inside the synthesis constraints.

A read whose address carries one substitution must still join its strand's cluster, so
addresses are words of a shortened quaternary Hamming code [16, 13, 3] over GF(4): 13
information symbols and 3 parity symbols, any two codewords at least 3 bases apart. One
substitution is corrected by its syndrome; two are (mostly) detected.

Not every codeword obeys the constraints (GC 7-9 of 16, no run > 3 or motif, also across the
primer junction), so addresses are the *valid* codewords in order: data strand ``i`` gets the
``i``-th valid position counting up from 0, metadata strand ``j`` the ``j``-th counting down
from the top, and a position becomes an information word through a fixed scrambling
bijection (so used addresses lie far apart, see :func:`scramble`). The tables are built
lazily, 65536 candidates at a time (about 32 % are valid: ~10.7 M data addresses), so an
archive pays only for the addresses it uses.
"""

from __future__ import annotations

import itertools
import threading

import numba
import numpy as np

from helix_media.dna.constraints import Constraints, longest_runs, motif_hits
from helix_media.dna.nucleotides import GC_BASE

N, K = 16, 13  # code length and information symbols (quaternary)
CHUNK = 1 << 16
HALF = 4**K // 2  # positions below: data; above: metadata
_MASK = 4**K - 1
_MULTIPLIER = 0x2F6B4E5  # odd, so multiplication is a bijection modulo 2**26
_INVERSE = pow(_MULTIPLIER, -1, 4**K)
# GF(4) = {0, 1, a, a^2} as 0, 1, 2, 3 (a^2 = a + 1): addition is XOR
_EXP = np.array([1, 2, 3], dtype=np.uint8)
_LOG = np.array([0, 0, 1, 2], dtype=np.int64)


_MUL = np.array(
    [
        [0 if a == 0 or b == 0 else _EXP[(_LOG[a] + _LOG[b]) % 3] for b in range(4)]
        for a in range(4)
    ],
    dtype=np.uint8,
)


def gf4_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _MUL[np.asarray(a, dtype=np.uint8), np.asarray(b, dtype=np.uint8)]


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
    """(r, n) x (m, n) -> (m, r) over GF(4), one column at a time (small temporaries)."""
    out = np.zeros((len(words), h.shape[0]), dtype=np.uint8)
    for j in range(h.shape[1]):
        out ^= _MUL[h[:, j][None, :], words[:, j : j + 1]]
    return out


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
    symbols corrected: 0 or 1). Compiled: a nanopore read path decodes ~80 variants of
    every read whose address carries an indel."""
    w = np.ascontiguousarray(words, dtype=np.uint8).reshape(-1, N)
    return _correct(w, H, _MUL, _SYN_POS, _SYN_VAL)


@numba.njit(cache=True, nogil=True)
def _correct(w, h, mul, syn_pos, syn_val):
    m = len(w)
    value = np.empty(m, dtype=np.int64)
    one = np.zeros(m, dtype=np.int64)
    for k in range(m):
        s0 = s1 = s2 = 0
        for j in range(N):
            x = w[k, j]
            s0 ^= mul[h[0, j], x]
            s1 ^= mul[h[1, j], x]
            s2 ^= mul[h[2, j], x]
        code = (s0 << 4) | (s1 << 2) | s2
        pos = syn_pos[code]
        if code != 0 and pos < 0:
            value[k] = -1
            continue
        v = 0
        for j in range(K):
            x = w[k, j]
            if code != 0 and j == pos:
                x ^= syn_val[code]
            v = (v << 2) | x
        value[k] = v
        one[k] = code != 0
    return value, one


#: valid-step tables by (constraints, context, GC range), shared by every framer made with
#: them: building one costs ~70 ms, and a pool read makes a framer per item and per pick
_SHARED_TABLES: dict[tuple, dict[bool, list[np.ndarray]]] = {}
_TABLES_LOCK = threading.Lock()
_SHARED_MAX = 16  # primer pairs kept (a pool's own, and its items' own pairs)


class AddressCode:
    """Index <-> 16-nt address; data indices count up, metadata indices count down."""

    def __init__(self, constraints: Constraints, context: np.ndarray, gc_range=(7, 9)) -> None:
        self.constraints = constraints
        self.context = np.asarray(context, dtype=np.uint8)  # the bases before the address
        self.gc_range = gc_range
        key = (constraints, self.context.tobytes(), tuple(gc_range))
        with _TABLES_LOCK:
            if key not in _SHARED_TABLES and len(_SHARED_TABLES) >= _SHARED_MAX:
                del _SHARED_TABLES[next(iter(_SHARED_TABLES))]  # oldest: primers are many
            self._tables = _SHARED_TABLES.setdefault(key, {False: [], True: []})

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

    def _table(self, metadata: bool, need_index: int = -1, need_step: int = -1) -> np.ndarray:
        """Steps ``q`` (0, 1, ... from this region's end) whose words are valid, ascending;
        extended until it holds more than ``need_index`` entries and reaches ``need_step``."""
        chunks = self._tables[metadata]
        with _TABLES_LOCK:  # shared: two threads must not append the same chunk twice
            while True:
                covered = len(chunks) * CHUNK
                have = sum(len(c) for c in chunks)
                if (have > need_index and covered > need_step) or covered >= HALF:
                    break
                steps = np.arange(covered, covered + CHUNK, dtype=np.int64)
                chunks.append(steps[self._valid(scramble(_position(steps, metadata)))])
            return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)

    def encode(self, index: np.ndarray, metadata: np.ndarray) -> np.ndarray:
        """(m,) indices and metadata flags -> (m, 16) address bases."""
        index = np.asarray(index, dtype=np.int64)
        metadata = np.asarray(metadata, dtype=bool)
        values = np.zeros(len(index), dtype=np.int64)
        for flag in (False, True):
            rows = metadata == flag
            if rows.any():
                table = self._table(flag, need_index=int(index[rows].max()))
                if index[rows].max() >= len(table):
                    raise ValueError("address index beyond the address code's capacity")
                values[rows] = scramble(_position(table[index[rows]], flag))
        return codewords(values)

    def decode(self, bases: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(m, 16) bases -> (index or -1, metadata flag, symbols corrected)."""
        values, corrected = correct(bases)
        position = unscramble(np.maximum(values, 0))
        metadata = position >= HALF
        step = np.where(metadata, 2 * HALF - 1 - position, position)
        index = np.full(len(values), -1, dtype=np.int64)
        for flag in (False, True):
            rows = (values >= 0) & (metadata == flag)
            if rows.any():
                need = _plausible_max(step[rows])
                table = self._table(flag, need_step=min(need, METADATA_STEPS) if flag else need)
                at = np.minimum(np.searchsorted(table, step[rows]), len(table) - 1)
                index[rows] = np.where(table[at] == step[rows], at, -1)
        return index, metadata, corrected


def _plausible_max(steps: np.ndarray) -> int:
    """How far to build the table for these steps. A real archive's addresses fill a range
    from 0; a miscorrected strand's lands anywhere in 2**25, and building the table that far
    would take minutes. So the table grows to twice the 90th percentile (the largest step if
    that is smaller); steps beyond stay unresolved (index -1)."""
    return int(min(steps.max(), 2 * np.percentile(steps, 90) + CHUNK))


METADATA_STEPS = 16 * CHUNK  # ~330k metadata addresses (~10k chunks of 37 bytes, 32-spaced)


def _position(steps: np.ndarray, metadata: bool) -> np.ndarray:
    """Data addresses count up from position 0, metadata addresses down from the top."""
    return 2 * HALF - 1 - steps if metadata else steps


def scramble(position: np.ndarray) -> np.ndarray:
    """Position -> information word, a bijection on 26 bits that spreads neighbours apart.

    Consecutive positions would otherwise share most information digits, and the used
    addresses would fill every codeword near a damaged read's address: a read with an indel
    there would land in a neighbour's cluster instead of none.
    """
    w = (np.asarray(position, dtype=np.int64) * _MULTIPLIER) & _MASK
    return w ^ (w >> 13)


def unscramble(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.int64)
    x = x ^ (x >> 13)
    return (x * _INVERSE) & _MASK
