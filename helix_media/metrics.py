"""Picture quality: PSNR of 8-bit RGB, per frame and averaged over a video.

PSNR is computed on RGB (not Y) so codecs that work in different colour spaces compare
fairly, and it is capped at :data:`PSNR_CAP` dB: identical frames would give infinity, which
would make one perfect frame dominate a mean.
"""

from __future__ import annotations

import os
from itertools import zip_longest

import numpy as np

from .errors import HelixError

PSNR_CAP = 100.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two 8-bit images of the same shape, capped at :data:`PSNR_CAP`."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise HelixError(f"cannot compare images of shapes {a.shape} and {b.shape}")
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    if mse == 0:
        return PSNR_CAP
    return float(min(PSNR_CAP, 10 * np.log10(255.0**2 / mse)))


def video_psnr(path_a: str | os.PathLike[str], path_b: str | os.PathLike[str]) -> float:
    """Mean per-frame RGB PSNR of two videos with the same frame count and size."""
    from .video_io import open_video

    src_a, src_b = open_video(path_a), open_video(path_b)
    if (src_a.info.width, src_a.info.height) != (src_b.info.width, src_b.info.height):
        raise HelixError(
            f"cannot compare {src_a.info.width}x{src_a.info.height} video {path_a} with "
            f"{src_b.info.width}x{src_b.info.height} video {path_b}"
        )
    values: list[float] = []
    count_a = count_b = 0
    for fa, fb in zip_longest(src_a.frames(), src_b.frames()):
        count_a += fa is not None
        count_b += fb is not None
        if fa is not None and fb is not None:
            values.append(psnr(fa.to_ndarray(format="rgb24"), fb.to_ndarray(format="rgb24")))
    if count_a != count_b:
        raise HelixError(f"frame counts differ: {path_a} has {count_a}, {path_b} has {count_b}")
    if not values:
        raise HelixError(f"{path_a} has no frames to compare")
    return float(np.mean(values))
