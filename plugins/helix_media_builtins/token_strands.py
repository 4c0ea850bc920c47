"""A GOP's visible tokens and continuous vectors -> slices of exactly one strand's payload.

Each slice decodes on its own: the arithmetic coder starts afresh in every slice and a symbol's
context comes only from items earlier in the same slice, so a lost strand loses only its own
items (which the predictor then fills like masked ones). Slice layout, most significant bit
first::

    kind (1 bit: 0 tokens, 1 continuous) | first item (ceil(log2 n) bits) | item count (8 bits)
    | arithmetic-coded symbols | zero padding

Items are packed greedily in raster order (t, y, x) until the next would not fit.
"""

from __future__ import annotations

import numpy as np

from helix_media.arith import ArithmeticDecoder, ArithmeticEncoder
from helix_media.token_context import CONT_DIM, CONT_LEVELS, TOKEN_LEVELS

COUNT_BITS = 8
MAX_COUNT = (1 << COUNT_BITS) - 1
KINDS = ("token", "continuous")


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


def _encode_vector(enc: ArithmeticEncoder, cum: dict, vec: list[int], prev: list[int] | None):
    table = cum["continuous"]
    for c in range(CONT_DIM):
        enc.encode(table[c][prev[c] if prev is not None else CONT_LEVELS], vec[c])


def _decode_vector(dec: ArithmeticDecoder, cum: dict, prev: list[int] | None) -> list[int]:
    table = cum["continuous"]
    return [
        dec.decode(table[c][prev[c] if prev is not None else CONT_LEVELS]) for c in range(CONT_DIM)
    ]


CODERS = {"token": (_encode_token, _decode_token), "continuous": (_encode_vector, _decode_vector)}


def pack(items: dict[str, np.ndarray], cum: dict, slice_bits: int) -> list[np.ndarray]:
    """{"token": (n, 4), "continuous": (m, 16)} items -> slices of (slice_bits,) uint8 bits."""
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
                encode(enc, cum, row, prev)
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
        "token": (
            np.zeros((sizes["token"], len(TOKEN_LEVELS)), np.int64),
            np.zeros(sizes["token"], bool),
        ),
        "continuous": (
            np.zeros((sizes["continuous"], CONT_DIM), np.int64),
            np.zeros(sizes["continuous"], bool),
        ),
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
            prev = decode(dec, cum, prev)
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
