"""The context model of HELIX token coding: integer frequency tables indexed by quantized
neighbour context.

Probabilities must be bit-identical in encoder and decoder on any machine, thread count and
ONNX Runtime setting: a float network's outputs differ by ~1e-7 between those, enough to
derail an arithmetic decoder. So the model is a set of integer tables (counted on training
tokens when the networks are exported, see ``helix_media.train.export``), and a symbol's
context is made only of symbols coded before it in the same strand:

- token dimension 0 (8 levels): the previous token's dimension 0;
- dimension d >= 1 (5 levels): the previous token's dimension d and this token's d - 1;
- continuous channel c (16 levels): c and the previous vector's channel c.

"None" (index = level count) stands for "no previous item in this strand". Each table row
sums to :data:`TOTAL`, and every symbol has a frequency of at least 1.
"""

from __future__ import annotations

import numpy as np

TOKEN_LEVELS = (8, 5, 5, 5)
CONT_DIM = 16
CONT_LEVELS = 16
TOTAL_BITS = 15
TOTAL = 1 << TOTAL_BITS


def table_shapes() -> dict[str, tuple[int, ...]]:
    L = TOKEN_LEVELS
    shapes = {"token0": (L[0] + 1, L[0])}
    for d in range(1, len(L)):
        shapes[f"token{d}"] = (L[d] + 1, L[d - 1], L[d])
    shapes["continuous"] = (CONT_DIM, CONT_LEVELS + 1, CONT_LEVELS)
    return shapes


def empty_counts() -> dict[str, np.ndarray]:
    return {k: np.zeros(s, dtype=np.float64) for k, s in table_shapes().items()}


def add_counts(counts: dict[str, np.ndarray], tokens: np.ndarray, cont: np.ndarray) -> None:
    """Count one GOP: ``tokens`` (n, 4) visible token indices in coding order, ``cont``
    (16, h, w) continuous indices. Every item also counts as a strand's first (context None)."""
    L = TOKEN_LEVELS
    if len(tokens):
        for d in range(len(L)):
            prev = np.concatenate([[L[d]], tokens[:-1, d]])
            for p in (prev, np.full_like(prev, L[d])):
                if d == 0:
                    np.add.at(counts["token0"], (p, tokens[:, 0]), 1)
                else:
                    np.add.at(counts[f"token{d}"], (p, tokens[:, d - 1], tokens[:, d]), 1)
    vec = cont.reshape(CONT_DIM, -1).T  # (positions, 16) in coding order
    if len(vec):
        ch = np.broadcast_to(np.arange(CONT_DIM), vec.shape)
        prev = np.concatenate([np.full((1, CONT_DIM), CONT_LEVELS), vec[:-1]])
        for p in (prev, np.full_like(prev, CONT_LEVELS)):
            np.add.at(counts["continuous"], (ch, p, vec), 1)


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
