"""The deterministic spatio-temporal checkerboard that decides which discrete tokens are stored.

Every token position (t, y, x) of a GOP's token grid gets a rank in 0..63 from an 8x8 Bayer
(ordered-dither) matrix, shifted by half the range per time slice; a ratio R masks the ranks
below round(64 R). So R = 0.5 is an exact checkerboard whose two time slices complement each
other, masked sets are nested (a higher ratio masks a superset), and every masked token keeps
visible neighbours in space or time. Encoder and decoder compute it from R and the grid shape
alone; nothing about it is stored.
"""

from __future__ import annotations

import numpy as np

LEVELS = 64


def _bayer(n: int) -> np.ndarray:
    m = np.zeros((1, 1), dtype=np.int64)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


BAYER8 = _bayer(8)


def mask_ranks(t: int, h: int, w: int) -> np.ndarray:
    """(t, h, w) ranks in 0..63."""
    ys, xs = np.arange(h)[:, None] % 8, np.arange(w)[None, :] % 8
    base = BAYER8[ys, xs]
    return np.stack([(base + (LEVELS // 2) * k) % LEVELS for k in range(t)])


def checkerboard_mask(ratio: float, t: int, h: int, w: int) -> np.ndarray:
    """(t, h, w) bool, True where the token is masked (not stored)."""
    if not 0 <= ratio < 1:
        raise ValueError(f"mask ratio must be in [0, 1), got {ratio}")
    return mask_ranks(t, h, w) < round(ratio * LEVELS)
