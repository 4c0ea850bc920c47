"""The half-resolution base layer's exact 2x down- and upscaling."""

from __future__ import annotations

import numpy as np
import pytest
from helix_media_builtins.codecs.helix.scaling import downscale2, half_size, upscale2


@pytest.mark.parametrize("size", [(64, 48), (65, 47), (1, 1)])
def test_sizes_round_up_and_flat_frames_stay_flat(size):
    w, h = size
    flat = np.full((2, h, w, 3), 77, np.uint8)
    small = downscale2(flat)
    assert small.shape == (2, *half_size(w, h)[::-1], 3) and (small == 77).all()
    big = upscale2(small, h, w)
    assert big.shape == flat.shape and (big == 77).all()


def test_downscale_is_the_rounded_mean_of_each_block():
    x = np.array([[0, 1], [1, 1]], np.uint8).reshape(1, 2, 2, 1).repeat(3, -1)
    assert downscale2(x).ravel().tolist() == [1, 1, 1]  # 3 / 4 rounds to 1
    odd = np.array([[0, 4, 8], [4, 8, 12], [8, 12, 16]], np.uint8).reshape(1, 3, 3, 1)
    # the last row and column repeated: the right blocks are (8 + 8 + 12 + 12) / 4, 16
    assert downscale2(odd)[0, :, :, 0].tolist() == [[4, 10], [10, 16]]


def test_a_smooth_picture_survives_down_and_up_and_the_extremes_stay_in_range():
    yy, xx = np.mgrid[0:64, 0:96]
    smooth = (128 + 60 * np.sin(xx / 9) * np.cos(yy / 7)).astype(np.uint8)
    frames = np.repeat(smooth[None, :, :, None], 3, -1)
    back = upscale2(downscale2(frames), 64, 96).astype(int)
    assert np.abs(back - frames.astype(int))[:, 2:-2, 2:-2].max() <= 3
    edges = np.zeros((1, 8, 8, 3), np.uint8)
    edges[:, :, 4:] = 255  # a hard edge: the cubic overshoots, clipped to uint8
    up = upscale2(edges, 16, 16)
    assert up.min() == 0 and up.max() == 255 and up.dtype == np.uint8
