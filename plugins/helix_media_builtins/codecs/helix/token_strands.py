"""A GOP's visible tokens and continuous vectors -> slices of exactly one strand's payload.

Each slice decodes on its own: the arithmetic coder starts afresh in every slice and a symbol's
context comes only from items earlier in the same slice, so a lost strand loses only its own
items (which the predictor then fills like masked ones).

The GOP's items form one sequence: the visible tokens in ``token_context.coding_order``, then
the continuous items, :data:`CONT_GROUP` channels of one position ordered by channel group,
then raster position (:func:`continuous_items`), so each channel's context is the same
channel one position earlier. Items are packed greedily until the next would not fit, and a
slice may hold the last tokens and the first continuous items: no strand is left part-empty
between the two kinds. Slice layout (layout 3), most significant bit first::

    first item (ceil(log2 n) bits) | item count (8 bits) | arithmetic-coded symbols | zeros

Layout 2 (archives of helix params version <= 2) kept the kinds apart, each slice starting
with a kind bit (0 tokens, 1 continuous) and counting items within its kind; it still decodes.
"""

from __future__ import annotations

import numpy as np

from helix_media_builtins.codecs.helix.arith import ArithmeticDecoder, ArithmeticEncoder
from helix_media_builtins.codecs.helix.token_context import CONT_DIM, CONT_LEVELS, TOKEN_LEVELS

COUNT_BITS = 8
MAX_COUNT = (1 << COUNT_BITS) - 1
KINDS = ("token", "continuous")
CONT_GROUP = 4
CONT_GROUPS = CONT_DIM // CONT_GROUP
ITEM_DIMS = {"token": len(TOKEN_LEVELS), "continuous": CONT_GROUP}
LAYOUT = 3  # what pack writes; unpack also reads 2


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


class _Sequence:
    """A run of items (one kind, or both kinds one after the other) that slices cut into
    pieces: item ``i``'s kind, its index within its kind, tables and context reset."""

    def __init__(self, sizes: dict[str, int], kinds: tuple[str, ...], cum: dict):
        self.kinds, self.sizes, self.cum = kinds, sizes, cum
        self.offsets = np.cumsum([0] + [sizes[k] for k in kinds]).tolist()
        self.n = self.offsets[-1]

    def item(self, i: int) -> tuple[str, int, object, bool]:
        """(kind, index within the kind, tables, whether the item starts a fresh context)."""
        k = next(j for j in range(len(self.kinds)) if i < self.offsets[j + 1])
        kind, local = self.kinds[k], i - self.offsets[k]
        if kind == "token":
            return kind, local, self.cum, local == 0
        positions = self.sizes[kind] // CONT_GROUPS
        g = local // positions
        tables = self.cum["continuous"][g * CONT_GROUP : (g + 1) * CONT_GROUP]
        return kind, local, tables, local % positions == 0


def pack(items: dict[str, np.ndarray], cum: dict, slice_bits: int) -> list[np.ndarray]:
    """{"token": (n, 4), "continuous": (m, CONT_GROUP)} items -> slices of (slice_bits,) bits
    in layout 3. ``cum`` holds the cumulative tables of one mask ratio (``token0..3``,
    ``continuous``)."""
    seq = _Sequence({k: len(items[k]) for k in KINDS}, KINDS, cum)
    rows = {k: items[k].tolist() for k in KINDS}
    index_bits = _index_bits(seq.n)
    slices, start = [], 0
    while start < seq.n:
        enc, prev, count = ArithmeticEncoder(), None, 0
        while start + count < seq.n and count < MAX_COUNT:
            snap = enc.snapshot()
            kind, local, tables, fresh = seq.item(start + count)
            row = rows[kind][local]
            CODERS[kind][0](enc, tables, row, None if fresh else prev)
            if index_bits + COUNT_BITS + enc.bits_if_finished() > slice_bits:
                enc.restore(snap)
                break
            prev, count = row, count + 1
        if count == 0:
            raise ValueError(f"one item does not fit a {slice_bits}-bit slice")
        bits = _to_bits(start, index_bits) + _to_bits(count, COUNT_BITS) + enc.finish()
        out = np.zeros(slice_bits, dtype=np.uint8)
        out[: len(bits)] = bits
        slices.append(out)
        start += count
    return slices


def unpack(
    slices: list[np.ndarray | None], sizes: dict[str, int], cum: dict, layout: int = LAYOUT
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Slices (None = lost) -> {kind: (items, received)}: items (n, dims) int64 and a bool
    per item. A slice whose header is impossible (a miscorrected strand) is ignored."""
    out = {
        kind: (np.zeros((sizes[kind], ITEM_DIMS[kind]), np.int64), np.zeros(sizes[kind], bool))
        for kind in KINDS
    }
    joint = _Sequence(sizes, KINDS, cum)
    alone = [_Sequence(sizes, (kind,), cum) for kind in KINDS]
    for s in slices:
        if s is None:
            continue
        bits = s.tolist()
        if layout == 2:  # a kind bit, then a sequence of that kind alone
            seq, bits = alone[bits[0]], bits[1:]
        else:
            seq = joint
        start, count = header(bits, seq.n)
        if count == 0 or start + count > seq.n:
            continue
        dec = ArithmeticDecoder(bits[_index_bits(seq.n) + COUNT_BITS :])
        prev = None
        for i in range(start, start + count):
            kind, local, tables, fresh = seq.item(i)
            prev = CODERS[kind][1](dec, tables, None if fresh else prev)
            out[kind][0][local] = prev
            out[kind][1][local] = True
    return out


def header(bits: list[int], n: int) -> tuple[int, int]:
    """(first item, item count) of a layout-3 slice of a GOP with ``n`` items."""
    ib = _index_bits(n)
    return _from_bits(bits[:ib]), _from_bits(bits[ib : ib + COUNT_BITS])


def _to_bits(value: int, n: int) -> list[int]:
    return [(value >> (n - 1 - i)) & 1 for i in range(n)]


def _from_bits(bits: list[int]) -> int:
    v = 0
    for b in bits:
        v = (v << 1) | b
    return v
