"""The context model of HELIX token coding: integer frequency tables indexed by quantized
neighbour context.

Probabilities must be bit-identical in encoder and decoder on any machine, thread count and
ONNX Runtime setting: a float network's outputs differ by ~1e-7 between those, enough to
derail an arithmetic decoder. So the model is a set of integer tables (counted on training
tokens when the networks are exported, see
``helix_media_builtins.codecs.helix.train.export``), and a symbol's
context is made only of symbols coded before it in the same strand:

- token dimension 0 (8 levels): the previous token's dimension 0;
- dimension d >= 1 (5 levels): the previous token's dimension d and this token's d - 1;
- continuous channel c (16 levels): c and the same channel one position earlier.

Visible tokens are coded position by position, both time slices of a position in turn
(:func:`coding_order`), so a token's predecessor is its temporal or nearest left neighbour.
How far apart consecutive tokens lie (and how much the previous one tells) depends on the mask
ratio: token tables are counted per ratio in :data:`TABLE_MASKS`, and a ratio in between uses
the nearest one. "None" (index = level count) stands for "no previous item in this strand".
Each table row sums to :data:`TOTAL`; every symbol has a frequency of at least 1.
"""

from __future__ import annotations

import numpy as np

TOKEN_LEVELS = (8, 5, 5, 5)
CONT_DIM = 16
CONT_LEVELS = 16
TABLE_MASKS = (0.0, 0.4, 0.6, 0.7)
TOTAL_BITS = 15
TOTAL = 1 << TOTAL_BITS


def coding_order(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, y, x) indices of the visible (unmasked) tokens of a (t, h, w) mask, in coding
    order: raster over (y, x), and time within each position."""
    y, x, t = np.nonzero(~mask.transpose(1, 2, 0))
    return t, y, x


def table_mask(ratio: float) -> float:
    """The counted mask ratio whose token tables code tokens masked at ``ratio``."""
    return min(TABLE_MASKS, key=lambda m: (abs(m - ratio), m))


def token_table(d: int, mask: float) -> str:
    return f"token{d}@{mask:g}"


def table_shapes() -> dict[str, tuple[int, ...]]:
    L = TOKEN_LEVELS
    shapes = {}
    for m in TABLE_MASKS:
        shapes[token_table(0, m)] = (L[0] + 1, L[0])
        for d in range(1, len(L)):
            shapes[token_table(d, m)] = (L[d] + 1, L[d - 1], L[d])
    shapes["continuous"] = (CONT_DIM, CONT_LEVELS + 1, CONT_LEVELS)
    return shapes


def coding_tables(tables: dict, ratio: float) -> dict:
    """The tables one GOP at mask ``ratio`` is coded with: ``token0..3`` and ``continuous``."""
    m = table_mask(ratio)
    out = {f"token{d}": tables[token_table(d, m)] for d in range(len(TOKEN_LEVELS))}
    out["continuous"] = tables["continuous"]
    return out


def empty_counts() -> dict[str, np.ndarray]:
    return {k: np.zeros(s, dtype=np.float64) for k, s in table_shapes().items()}


def _with_first(items: np.ndarray, none: int) -> tuple[np.ndarray, np.ndarray]:
    """(previous item, item) pairs, each item counted twice: after its predecessor and as a
    strand's first (context None)."""
    prev = np.concatenate([np.full_like(items[:1], none), items[:-1]])
    return np.concatenate([prev, np.full_like(items, none)]), np.concatenate([items, items])


def add_token_counts(counts: dict[str, np.ndarray], tokens: np.ndarray, mask: float) -> None:
    """Count one GOP's visible tokens (n, 4), in :func:`coding_order`, into the tables of
    ``mask``."""
    if not len(tokens):
        return
    L = TOKEN_LEVELS
    for d in range(len(L)):
        prev, cur = _with_first(tokens, L[d])
        key = token_table(d, mask)
        if d == 0:
            np.add.at(counts[key], (prev[:, 0], cur[:, 0]), 1)
        else:
            np.add.at(counts[key], (prev[:, d], cur[:, d - 1], cur[:, d]), 1)


def add_continuous_counts(counts: dict[str, np.ndarray], cont: np.ndarray) -> None:
    """Count one GOP's continuous indices (16, h, w), each channel in raster order."""
    prev, cur = _with_first(cont.reshape(CONT_DIM, -1).T, CONT_LEVELS)
    ch = np.broadcast_to(np.arange(CONT_DIM), cur.shape)
    np.add.at(counts["continuous"], (ch, prev, cur), 1)


def to_tables(counts: dict[str, np.ndarray], prior: float = 0.5) -> dict[str, np.ndarray]:
    """Counts -> integer frequencies, each row summing to TOTAL, each entry >= 1."""
    out = {}
    for k, c in counts.items():
        p = (c + prior) / (c + prior).sum(-1, keepdims=True)
        n = c.shape[-1]
        f = np.floor(p * (TOTAL - n)).astype(np.int64) + 1
        short = TOTAL - f.sum(-1)
        np.put_along_axis(
            f,
            p.argmax(-1)[..., None],
            np.take_along_axis(f, p.argmax(-1)[..., None], -1) + short[..., None],
            -1,
        )
        out[k] = f.astype(np.int32)
    return out


def check_tables(tables: dict[str, np.ndarray]) -> None:
    """Raise ValueError unless ``tables`` is a valid context model."""
    for k, shape in table_shapes().items():
        t = tables.get(k)
        if t is None or t.shape != shape:
            raise ValueError(f"context table {k}: expected shape {shape}")
        if (t < 1).any() or (t.sum(-1) != TOTAL).any():
            raise ValueError(f"context table {k}: rows must be positive and sum to {TOTAL}")
