"""Picture quality: PSNR of 8-bit RGB, per frame and averaged over a video.

PSNR is computed on RGB (not Y) so codecs that work in different colour spaces compare
fairly, and it is capped at :data:`PSNR_CAP` dB: identical frames would give infinity, which
would make one perfect frame dominate a mean.
"""

from __future__ import annotations

import os
from itertools import zip_longest

import numpy as np

from helix_media.errors import HelixError

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
    from helix_media.media.video_io import open_video

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


MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003


def _gaussian_blur(x: np.ndarray, sigma: float = 1.5, size: int = 11) -> np.ndarray:
    """'valid' separable Gaussian filter over the last two axes."""
    r = np.arange(size) - size // 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    g /= g.sum()
    x = np.lib.stride_tricks.sliding_window_view(x, size, axis=-1) @ g
    return np.lib.stride_tricks.sliding_window_view(x, size, axis=-2) @ g


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """MS-SSIM (5 scales, 11-tap Gaussian, standard weights) of two 8-bit RGB images, the
    mean over channels. Scales that would fall under the window are left out and the
    remaining weights renormalised, so small frames still get a figure."""
    x = np.asarray(a, np.float64).transpose(2, 0, 1)
    y = np.asarray(b, np.float64).transpose(2, 0, 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    values, weights = [], []
    for level, w in enumerate(MS_SSIM_WEIGHTS):
        if min(x.shape[1:]) < 11:
            break
        mx, my = _gaussian_blur(x), _gaussian_blur(y)
        sxx = _gaussian_blur(x * x) - mx * mx
        syy = _gaussian_blur(y * y) - my * my
        sxy = _gaussian_blur(x * y) - mx * my
        cs = (2 * sxy + c2) / (sxx + syy + c2)
        if level == len(MS_SSIM_WEIGHTS) - 1 or min(x.shape[1:]) < 22:
            values.append(np.maximum(((2 * mx * my + c1) / (mx**2 + my**2 + c1) * cs).mean(), 0))
            weights.append(w)
            break
        values.append(np.maximum(cs.mean(), 0))
        weights.append(w)
        h, wd = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
        x = x[:, :h, :wd].reshape(3, h // 2, 2, wd // 2, 2).mean((2, 4))
        y = y[:, :h, :wd].reshape(3, h // 2, 2, wd // 2, 2).mean((2, 4))
    if not values:
        raise HelixError("frames too small for MS-SSIM (under 11 pixels)")
    wts = np.array(weights) / sum(weights)
    return float(np.prod(np.array(values) ** wts))
