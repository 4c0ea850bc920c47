"""JPEG-DNA's image coding: DCT and quantization as JPEG, then categories and values coded as
ternary Huffman words and Goldman bases (the JPEG DNA VM); planes <-> bases."""

from __future__ import annotations

from functools import cache

import numpy as np

from helix_media_builtins.coders import goldman, paircode

MAX_TRITS = 12  # longest Huffman codeword; longer codes are flattened (as JPEG limits to 16)


# Table I: category c (= nt of the value's PAIRCODE word) holds +-LOW[c]..+-HIGH[c]
HIGH = {2: 5, 3: 25, 4: 75, 5: 275, 6: 775, 7: 2775, 8: 7775}


LOW = {c: (HIGH[c - 1] + 1 if c > 2 else 1) for c in HIGH}


HALF = {c: HIGH[c] - LOW[c] + 1 for c in HIGH}


assert all(2 * HALF[c] == paircode.count(c) for c in HIGH)


_HIGHS = np.array([HIGH[c] for c in sorted(HIGH)])


MAX_VALUE = HIGH[8]


N_DC, N_AC = 8, 2 + 16 * 7  # DC: categories 0, 2..8; AC: EOB, ZRL, 16 runs x 7 categories


EOB, ZRL = 0, 1


TABLE_SIZES = (N_DC, N_AC, N_DC, N_AC)  # luma DC, luma AC, chroma DC, chroma AC


_LUMA_Q = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]  # fmt: skip


_CHROMA_Q = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
] + [99] * 32  # fmt: skip


#: ZIGZAG[i] = raster index (row * 8 + column) of the i-th coefficient in zigzag order
ZIGZAG = np.array(
    sorted(range(64), key=lambda i: (i // 8 + i % 8, i // 8 if (i // 8 + i % 8) % 2 else i % 8))
)


_u = np.arange(8)


DCT = np.sqrt(np.where(_u == 0, 1 / 8, 2 / 8))[:, None] * np.cos(
    (2 * _u[None, :] + 1) * _u[:, None] * np.pi / 16
)  # orthonormal 8-point DCT-II: JPEG's FDCT


def quant_tables(quality: int) -> tuple[np.ndarray, np.ndarray]:
    """JPEG's Annex K tables scaled by IJG's quality rule (50 = the tables themselves)."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return tuple(
        np.clip((np.array(t) * scale + 50) // 100, 1, 255).astype(np.float64)
        for t in (_LUMA_Q, _CHROMA_Q)
    )


def category(v: np.ndarray) -> np.ndarray:
    """Table I category (the value's length in nt) of each value; 0 for 0."""
    a = np.abs(v)
    return np.where(a == 0, 0, 2 + np.searchsorted(_HIGHS, a))


def value_index(v: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Value -> its PAIRCODE word number within its category (negatives first, as JPEG)."""
    high = np.array([0, 0, *_HIGHS])[cat]
    low = np.array([0, 0, *(LOW[c] for c in sorted(LOW))])[cat]
    half = high - low + 1
    return np.where(v < 0, v + high, v - low + half)


def _blocks(plane: np.ndarray) -> np.ndarray:
    """(h, w) plane -> (n, 8, 8) blocks in raster order, edges replicated to whole blocks."""
    h, w = plane.shape
    p = np.pad(plane, ((0, -h % 8), (0, -w % 8)), mode="edge").astype(np.float64)
    return p.reshape(p.shape[0] // 8, 8, p.shape[1] // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)


def _unblocks(blocks: np.ndarray, h: int, w: int) -> np.ndarray:
    rows, cols = -(-h // 8), -(-w // 8)
    p = blocks.reshape(rows, cols, 8, 8).transpose(0, 2, 1, 3).reshape(rows * 8, cols * 8)
    return p[:h, :w]


def _events(zz: np.ndarray, dc_table: int, ac_table: int) -> tuple[np.ndarray, ...]:
    """One component's zigzag blocks -> symbols in stream order: (table, symbol, value
    category, value index) arrays. Vectorized: events get (block, key) and one sort."""
    nb = len(zz)
    diff = np.diff(zz[:, 0], prepend=0)
    dcat = category(diff)
    parts = [(np.arange(nb), np.zeros(nb, np.int64), dc_table, np.maximum(dcat - 1, 0), dcat,
              value_index(diff, dcat))]  # fmt: skip
    b, p = np.nonzero(zz[:, 1:])
    p = p + 1
    v = zz[b, p]
    first = np.ones(len(b), dtype=bool)
    first[1:] = b[1:] != b[:-1]
    run = p - np.where(first, 0, np.roll(p, 1)) - 1
    cat = category(v)
    parts.append((b, 2 * p, ac_table, 2 + (run % 16) * 7 + cat - 2, cat, value_index(v, cat)))
    z = np.repeat(np.arange(len(b)), run // 16)  # ZRL: 16 zeros, before the coefficient
    zeros = np.zeros(len(z), np.int64)
    parts.append((b[z], 2 * p[z] - 1, ac_table, zeros + ZRL, zeros, zeros))
    last = np.zeros(nb, np.int64)
    np.maximum.at(last, b, p)
    e = np.flatnonzero(last < 63)  # EOB unless the block's last coefficient is non-zero
    zeros = np.zeros(len(e), np.int64)
    parts.append((e, zeros + 1000, ac_table, zeros + EOB, zeros, zeros))
    blk, key, tbl, sym, vcat, vidx = (
        np.concatenate([np.broadcast_to(np.asarray(part[i], np.int64), part[0].shape)
                        for part in parts])
        for i in range(6)
    )  # fmt: skip
    order = np.lexsort((key, blk))
    return tbl[order], sym[order], vcat[order], vidx[order]


def code_lengths(counts: np.ndarray) -> list[int]:
    """Ternary Huffman code lengths of the used symbols (0 = unused), at most MAX_TRITS."""
    lengths = [0] * len(counts)
    used = np.flatnonzero(counts)
    if len(used) == 0:
        return lengths
    weights = counts[used].astype(np.int64)
    while True:
        code = goldman.ternary_huffman(weights.tolist())
        if max(len(c) for c in code) <= MAX_TRITS:
            break
        weights = weights // 2 + 1  # flatter statistics, shorter longest word
    for s, c in zip(used.tolist(), code, strict=True):
        lengths[s] = len(c)
    return lengths


def _length_trits(lengths: list[int]) -> list[int]:
    """Code lengths as trits: 0 unused; 1 d d: 1..9; 2 d: 10..12."""
    out: list[int] = []
    for n in lengths:
        if n == 0:
            out.append(0)
        elif n <= 9:
            out += [1, (n - 1) // 3, (n - 1) % 3]
        else:
            out += [2, n - 10]
    return out


def _code_arrays(lengths: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per table and symbol: canonical codeword as an integer, and its length in trits."""
    ints = np.zeros((4, N_AC), np.int64)
    lens = np.zeros((4, N_AC), np.int64)
    for t, ls in enumerate(lengths):
        for s, c in enumerate(goldman.canonical_code(ls)):
            lens[t, s] = len(c)
            ints[t, s] = sum(d * 3 ** (len(c) - 1 - j) for j, d in enumerate(c))
    return ints, lens


def encode_bases(planes: list[np.ndarray], qtables: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Y, Cb, Cr planes -> the frame's quaternary stream (uint8 bases, a multiple of 4)."""
    comps = []
    for ci, plane in enumerate(planes):
        coef = DCT @ (_blocks(plane) - 128.0) @ DCT.T
        q = qtables[min(ci, 1)].reshape(8, 8)
        zz = np.rint(coef / q).reshape(-1, 64)[:, ZIGZAG].astype(np.int64)
        t = 2 * min(ci, 1)
        comps.append(_events(np.clip(zz, -MAX_VALUE, MAX_VALUE), t, t + 1))
    tbl, sym, vcat, vidx = (np.concatenate([c[i] for c in comps]) for i in range(4))
    lengths = [
        code_lengths(np.bincount(sym[tbl == t], minlength=size))
        for t, size in enumerate(TABLE_SIZES)
    ]
    header = np.array([t for ls in lengths for t in _length_trits(ls)], np.int64)
    ints, lens = _code_arrays(lengths)
    hl, hc = lens[tbl, sym], ints[tbl, sym]
    tok = hl + vcat
    n_h = len(header)
    total = n_h + int(tok.sum())
    total += -total % 4  # pad with trits to whole bytes
    is_trit = np.ones(total, dtype=bool)
    inc = np.ones(total, np.int64)  # trit + 1; padding trits are 0
    fixed = np.zeros(total, np.int64)
    inc[:n_h] = header + 1
    off = n_h + np.concatenate([[0], np.cumsum(tok)[:-1]]).astype(np.int64)
    rep = np.repeat(np.arange(len(tok)), hl)
    j = np.arange(len(rep)) - np.repeat(np.cumsum(hl) - hl, hl)
    inc[off[rep] + j] = hc[rep] // 3 ** (hl[rep] - 1 - j) % 3 + 1
    for c in HIGH:
        sel = np.flatnonzero(vcat == c)
        if len(sel):
            pos = (off[sel] + hl[sel])[:, None] + np.arange(c)
            fixed[pos] = paircode.encode_values(vidx[sel], c)
            is_trit[pos] = False
    # Rotating rule without a loop: base = last PAIRCODE base (or A) + sum of (trit + 1)
    inc[~is_trit] = 0
    s = np.cumsum(inc)
    anchor = np.maximum.accumulate(np.where(is_trit, -1, np.arange(total)))
    has = anchor >= 0
    a = np.maximum(anchor, 0)
    start = np.where(has, fixed[a] - s[a], 0)
    return np.where(is_trit, (start + s) % 4, fixed).astype(np.uint8)


class StreamError(ValueError):
    """The stream is not a valid JPEG-DNA frame from here on."""


@cache
def _paircode_lookup(length: int) -> list[int]:
    """Base-4 number of a ``length``-nt word -> PAIRCODE value, -1 for non-codewords."""
    lut = np.full(4**length, -1, np.int64)
    words = paircode.encode_values(np.arange(paircode.count(length)), length).astype(np.int64)
    lut[(words << (2 * np.arange(length)[::-1])).sum(axis=1)] = np.arange(len(words))
    return lut.tolist()


def _read_lengths(t: list[int], pos: int, size: int) -> tuple[list[int], int]:
    out = []
    for _ in range(size):
        if pos >= len(t) or t[pos] > 2:
            raise StreamError("damaged code table")
        head = t[pos]
        if head == 0:
            out.append(0)
            pos += 1
        elif head == 1:
            if pos + 3 > len(t) or max(t[pos + 1 : pos + 3]) > 2:
                raise StreamError("damaged code table")
            out.append(1 + 3 * t[pos + 1] + t[pos + 2])
            pos += 3
        else:
            if pos + 2 > len(t) or t[pos + 1] > 2:
                raise StreamError("damaged code table")
            out.append(10 + t[pos + 1])
            pos += 2
    return out, pos


def decode_bases(bases: np.ndarray, shapes: list[tuple[int, int]]) -> tuple[list[np.ndarray], bool]:
    """A frame's stream -> zigzag coefficients per component (nblocks, 64), and whether it
    decoded to the end. Damage stops decoding: blocks after it stay 0 (mid grey)."""
    b = np.asarray(bases, np.int64)
    n = len(b)
    t = ((b - np.concatenate([[0], b[:-1]]) - 1) % 4).tolist()  # 3: not a trit
    zz = [np.zeros((-(-h // 8) * -(-w // 8), 64), np.int64) for h, w in shapes]
    try:
        lengths, pos = [], 0
        for size in TABLE_SIZES:
            ls, pos = _read_lengths(t, pos, size)
            lengths.append(ls)
        codes = []
        for ls in lengths:
            try:
                codes.append(goldman.canonical_code(ls))
            except ValueError as exc:
                raise StreamError("damaged code table") from exc
    except StreamError:
        return zz, False
    m = max([len(c) for cs in codes for c in cs] + [1])
    tw = np.concatenate([np.minimum(np.array(t, np.int64), 2), np.zeros(m, np.int64)])
    window = sum(tw[j : j + n] * 3 ** (m - 1 - j) for j in range(m)).tolist()
    luts = []
    for cs in codes:  # window value -> symbol * 16 + length, -1 where no codeword starts
        lut = np.full(3**m, -1, np.int64)
        for s, c in enumerate(cs):
            if c:
                v = sum(d * 3 ** (m - 1 - j) for j, d in enumerate(c))
                lut[v : v + 3 ** (m - len(c))] = s * 16 + len(c)
        luts.append(lut.tolist())
    bp = np.concatenate([b, np.zeros(8, np.int64)])
    word = sum(bp[j : j + n] << (2 * (7 - j)) for j in range(8)).tolist()
    plut = {c: _paircode_lookup(c) for c in HIGH}
    ok = True
    try:
        for ci, out in enumerate(zz):
            lut_dc, lut_ac = luts[2 * min(ci, 1)], luts[2 * min(ci, 1) + 1]
            flat: list[int] = []
            vals: list[int] = []
            dc = 0
            try:
                for blk in range(len(out)):
                    if pos >= n or (e := lut_dc[window[pos]]) < 0:
                        raise StreamError("bad DC code")
                    pos += e & 15
                    cat = (e >> 4) + 1 if e >> 4 else 0
                    if cat:
                        if pos + cat > n:
                            raise StreamError("stream ends inside a DC value")
                        idx = plut[cat][word[pos] >> (2 * (8 - cat))]
                        if idx < 0:
                            raise StreamError("bad DC value")
                        pos += cat
                        dc += idx - HIGH[cat] if idx < HALF[cat] else idx - HALF[cat] + LOW[cat]
                    flat.append(blk * 64)
                    vals.append(dc)
                    k = 1
                    while k < 64:
                        if pos >= n or (e := lut_ac[window[pos]]) < 0:
                            raise StreamError("bad AC code")
                        pos += e & 15
                        sym = e >> 4
                        if sym == EOB:
                            break
                        if sym == ZRL:
                            k += 16
                            continue
                        run, cat = divmod(sym - 2, 7)
                        cat += 2
                        k += run
                        if k > 63 or pos + cat > n:
                            raise StreamError("AC value out of the block or the stream")
                        idx = plut[cat][word[pos] >> (2 * (8 - cat))]
                        if idx < 0:
                            raise StreamError("bad AC value")
                        pos += cat
                        flat.append(blk * 64 + k)
                        half = HALF[cat]
                        vals.append(idx - HIGH[cat] if idx < half else idx - half + LOW[cat])
                        k += 1
            finally:
                out.reshape(-1)[flat] = vals
    except StreamError:
        ok = False
    return zz, ok


def reconstruct(zz: np.ndarray, q: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zigzag coefficients -> an 8-bit plane."""
    coef = np.empty(zz.shape, np.float64)
    coef[:, ZIGZAG] = zz
    blocks = DCT.T @ (coef * q).reshape(-1, 8, 8) @ DCT + 128.0
    return np.clip(np.rint(_unblocks(blocks, *shape)), 0, 255).astype(np.uint8)
