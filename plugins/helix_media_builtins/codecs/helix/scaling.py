"""Exact 2x down- and upscaling of frames, for a base layer coded at half resolution.

Under the x265 enhancement the base layer is a preview and a fallback, and at half size it
costs far fewer strands for its PSNR (docs/helix-codec.md). Both directions are plain NumPy
arithmetic in a fixed order, not a library resampler whose SIMD paths may differ between
machines: decoded frames must be byte-identical everywhere.
"""

from __future__ import annotations

import numpy as np

#: Keys' cubic (a = -0.5) at the two phases a 2x upscale of a box-filtered image needs:
#: output pixel 2i sits at source position i - 1/4, pixel 2i + 1 at i + 1/4
_NEAR, _MID, _FAR, _OUT = 0.8671875, 0.2265625, -0.0703125, -0.0234375


def half_size(width: int, height: int) -> tuple[int, int]:
    """The half-resolution size: each side halved, rounded up."""
    return -(-width // 2), -(-height // 2)


def downscale2(frames: np.ndarray) -> np.ndarray:
    """(n, H, W, 3) uint8 -> (n, ceil(H/2), ceil(W/2), 3) uint8: means of 2 x 2 blocks (the
    last row and column repeated where a side is odd), rounded."""
    h, w = frames.shape[1:3]
    x = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge").astype(np.uint16)
    s = x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]
    return ((s + 2) // 4).astype(np.uint8)


def _up_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """Doubles ``axis`` of float32 ``x`` with the cubic kernel, edges repeated."""
    n = x.shape[axis]
    pad = [(0, 0)] * x.ndim
    pad[axis] = (2, 2)
    p = np.pad(x, pad, mode="edge")
    tap = lambda k: np.take(p, np.arange(k, k + n), axis=axis)  # noqa: E731 (source i + k - 2)
    even = _OUT * tap(0) + _MID * tap(1) + _NEAR * tap(2) + _FAR * tap(3)
    odd = _FAR * tap(1) + _NEAR * tap(2) + _MID * tap(3) + _OUT * tap(4)
    out = np.stack([even, odd], axis=axis + 1)
    return out.reshape(x.shape[:axis] + (2 * n,) + x.shape[axis + 1 :])


def upscale2(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, h, w, 3) uint8 -> (n, height, width, 3) uint8, height <= 2h and width <= 2w."""
    y = _up_axis(_up_axis(frames.astype(np.float32), 1), 2)[:, :height, :width]
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)
