"""The ``bitstream`` codec's ``target_psnr``: the CRF search and the PSNR it measures.

Each GOP is coded at the highest CRF whose decoded frames reach the target mean RGB PSNR (the
lowest CRF when none does). The search starts from the previous GOP's CRF and steps by 1, 2,
4... until it has a CRF that reaches the target and one that misses it, then bisects between
them, assuming PSNR falls as the CRF rises: 2-6 encodes of the GOP where neighbouring GOPs
are alike. The PSNR is summed from exact integer squared errors, so every machine makes the
same choice from the same decoded frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from helix_media.media.metrics import PSNR_CAP


def frame_psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    """RGB PSNR of two uint8 images as :func:`helix_media.media.metrics.psnr` computes it, from
    an exact integer sum of squared errors."""
    d = (reference.astype(np.int32) - decoded.astype(np.int32)).ravel()
    sse = int(np.dot(d, d))
    if sse == 0:
        return PSNR_CAP
    return min(PSNR_CAP, 10 * math.log10(255**2 * d.size / sse))


def search_crf(reaches: Callable[[int], bool], start: int, lo: int, hi: int) -> int:
    """The highest CRF in ``lo..hi`` for which ``reaches(crf)`` (``lo`` when none does),
    searched from ``start``; ``reaches`` is called at most once per CRF by the caller's
    cache, about 2 log2(distance) + 1 times."""
    good, bad = (start, None) if reaches(start) else (None, start)
    step = 1
    while good is None and bad > lo:  # down until the target is reached
        c = max(lo, bad - step)
        good, bad = (c, bad) if reaches(c) else (None, c)
        step *= 2
    while bad is None and good < hi:  # up until it is missed
        c = min(hi, good + step)
        good, bad = (c, None) if reaches(c) else (good, c)
        step *= 2
    if good is None:
        return lo  # out of reach: the best the encoder does
    while bad is not None and bad - good > 1:
        c = (good + bad) // 2
        good, bad = (c, bad) if reaches(c) else (good, c)
    return good
