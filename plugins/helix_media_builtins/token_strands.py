"""A GOP's visible tokens and continuous vectors -> slices of exactly one strand's payload.

Each slice decodes on its own: the arithmetic coder starts afresh in every slice and a symbol's
context comes only from items earlier in the same slice, so a lost strand loses only its own
items (which the predictor then fills like masked ones). Slice layout, most significant bit
first::

    kind (1 bit: 0 tokens, 1 continuous) | first item (ceil(log2 n) bits) | item count (8 bits)
    | arithmetic-coded symbols | zero padding

Token items are the visible tokens in ``token_context.coding_order``. Continuous items are
:data:`CONT_GROUP` channels of one position, ordered by channel group, then raster position
(:func:`continuous_items`): small items fill a slice closely, and each channel's context is
still the same channel one position earlier. Items are packed greedily until the next would
not fit.
"""

from __future__ import annotations

import numpy as np

from helix_media.arith import ArithmeticDecoder, ArithmeticEncoder
from helix_media.token_context import CONT_DIM, CONT_LEVELS, TOKEN_LEVELS

COUNT_BITS = 8
MAX_COUNT = (1 << COUNT_BITS) - 1
KINDS = ("token", "continuous")
CONT_GROUP = 4
CONT_GROUPS = CONT_DIM // CONT_GROUP
ITEM_DIMS = {"token": len(TOKEN_LEVELS), "continuous": CONT_GROUP}


def continuous_items(cont: np.ndarray) -> np.ndarray:
    """(16, h, w) continuous indices -> (16 / CONT_GROUP * h * w, CONT_GROUP) items."""
    groups = cont.reshape(CONT_GROUPS, CONT_GROUP, -1)
    return groups.transpose(0, 2, 1).reshape(-1, CONT_GROUP)


def continuous_from_items(items: np.ndarray, h: int, w: int) -> np.ndarray:
    """Inverse of :func:`continuous_items` (also for per-item flags, shape (n,) -> (16, h, w))."""
    if items.ndim == 1:
        items = np.repeat(items[:, None], CONT_GROUP, 1)
    groups = items.reshape(CONT_GROUPS, h * w, CONT_GROUP).transpose(0, 2, 1)
    return groups.reshape(CONT_DIM, h, w)


def _index_bits(n: int) -> int:
    return max(1, (n - 1).bit_length())


def _encode_token(enc: ArithmeticEncoder, cum: dict, tok: list[int], prev: list[int] | None):
    L = TOKEN_LEVELS
    p = prev if prev is not None else L
    enc.encode(cum["token0"][p[0]], tok[0])
    for d in range(1, len(L)):
        enc.encode(cum[f"token{d}"][p[d]][tok[d - 1]], tok[d])


def _decode_token(dec: ArithmeticDecoder, cum: dict, prev: list[int] | None) -> list[int]:
    L = TOKEN_LEVELS
    p = prev if prev is not None else L
    tok = [dec.decode(cum["token0"][p[0]])]
    for d in range(1, len(L)):
        tok.append(dec.decode(cum[f"token{d}"][p[d]][tok[d - 1]]))
    return tok


def _encode_vector(enc: ArithmeticEncoder, tables: list, vec: list[int], prev: list[int] | None):
    for c, table in enumerate(tables):
        enc.encode(table[prev[c] if prev is not None else CONT_LEVELS], vec[c])


def _decode_vector(dec: ArithmeticDecoder, tables: list, prev: list[int] | None) -> list[int]:
    return [
        dec.decode(table[prev[c] if prev is not None else CONT_LEVELS])
        for c, table in enumerate(tables)
    ]


CODERS = {"token": (_encode_token, _decode_token), "continuous": (_encode_vector, _decode_vector)}


def _item_tables(kind: str, cum: dict, index: int, n: int):
    """(tables for item ``index`` of ``n``, whether it starts a run with no context)."""
    if kind == "token":
        return cum, False
    positions = n // CONT_GROUPS
    g = index // positions
    return cum["continuous"][g * CONT_GROUP : (g + 1) * CONT_GROUP], index % positions == 0


def pack(items: dict[str, np.ndarray], cum: dict, slice_bits: int) -> list[np.ndarray]:
    """{"token": (n, 4), "continuous": (m, CONT_GROUP)} items -> slices of (slice_bits,) bits.
    ``cum`` holds the cumulative tables of one mask ratio (``token0..3``, ``continuous``)."""
    slices = []
    for kind_no, kind in enumerate(KINDS):
        rows = items[kind].tolist()
        encode = CODERS[kind][0]
        header_bits = 1 + _index_bits(len(rows)) + COUNT_BITS
        start = 0
        while start < len(rows):
            enc, prev, count = ArithmeticEncoder(), None, 0
            while start + count < len(rows) and count < MAX_COUNT:
                snap = enc.snapshot()
                row = rows[start + count]
                tables, fresh = _item_tables(kind, cum, start + count, len(rows))
                encode(enc, tables, row, None if fresh else prev)
                if header_bits + enc.bits_if_finished() > slice_bits:
                    enc.restore(snap)
                    break
                prev, count = row, count + 1
            if count == 0:
                raise ValueError(f"one {kind} item does not fit a {slice_bits}-bit slice")
            header = [
                kind_no,
                *_to_bits(start, _index_bits(len(rows))),
                *_to_bits(count, COUNT_BITS),
            ]
            bits = header + enc.finish()
            out = np.zeros(slice_bits, dtype=np.uint8)
            out[: len(bits)] = bits
            slices.append(out)
            start += count
    return slices


def unpack(
    slices: list[np.ndarray | None], sizes: dict[str, int], cum: dict
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Slices (None = lost) -> {kind: (items, received)}: items (n, dims) int64 and a bool
    per item. A slice whose header is impossible (a miscorrected strand) is ignored."""
    out = {
        kind: (np.zeros((sizes[kind], ITEM_DIMS[kind]), np.int64), np.zeros(sizes[kind], bool))
        for kind in KINDS
    }
    for s in slices:
        if s is None:
            continue
        bits = s.tolist()
        kind = KINDS[bits[0]]
        n = sizes[kind]
        ib = _index_bits(n)
        start = _from_bits(bits[1 : 1 + ib])
        count = _from_bits(bits[1 + ib : 1 + ib + COUNT_BITS])
        if count == 0 or start + count > n:
            continue
        decode = CODERS[kind][1]
        dec = ArithmeticDecoder(bits[1 + ib + COUNT_BITS :])
        items, received = out[kind]
        prev = None
        for i in range(start, start + count):
            tables, fresh = _item_tables(kind, cum, i, n)
            prev = decode(dec, tables, None if fresh else prev)
            items[i] = prev
        received[start : start + count] = True
    return out


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _from_bits(bits: list[int]) -> int:
    v = 0
    for b in bits:
        v = (v << 1) | b
    return v
