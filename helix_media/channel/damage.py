"""A simple damage model for clean strands: strand dropout and random substitutions.

Enough to exercise error correction and concealment; full sequencing simulation (coverage,
indels, reverse complements, FASTQ) belongs to ``helix simulate``.
"""

from __future__ import annotations

import numpy as np


def damage(
    strands: np.ndarray,
    *,
    dropout: float = 0.0,
    substitutions: int = 0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop a share ``dropout`` of strands and put exactly ``substitutions`` random
    substitutions into each survivor. Returns (damaged strands, indices of dropped strands)."""
    rng = np.random.default_rng(seed)
    n, length = strands.shape
    lost = np.sort(rng.choice(n, int(round(dropout * n)), replace=False))
    keep = np.setdiff1d(np.arange(n), lost)
    out = strands[keep].copy()
    if substitutions:
        pos = np.argsort(rng.random((len(out), length)), axis=1)[:, :substitutions]
        rows = np.arange(len(out))[:, None]
        out[rows, pos] = (out[rows, pos] + rng.integers(1, 4, pos.shape)) % 4
    return out, lost
