"""The HELIX codec's geometry: token grids, padding and the networks' tensor layout.

Shared by :mod:`encoder` and :mod:`decoder`, which must agree on it bit for bit (which tokens
are stored, in what order, at what padded size): kept apart so that neither side owns it.
"""

from __future__ import annotations

import math

import numpy as np

from helix_media.errors import HelixError
from helix_media.media.codec import VideoInfo
from helix_media_builtins.codecs.helix import token_strands
from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.models import LayerTables
from helix_media_builtins.codecs.helix.scaling import half_size
from helix_media_builtins.codecs.helix.token_context import CONT_LEVELS

GOP = 8

#: the largest picture the codec takes (4K UHD): its networks run over the whole token grid
#: of the picture, whatever a GOP's strands hold, so a decode must not believe a bigger claim
MAX_PIXELS = 3840 * 2160


def check_size(info: VideoInfo) -> None:
    """HelixError for a picture beyond :data:`MAX_PIXELS` (or empty)."""
    if not 0 < info.width * info.height <= MAX_PIXELS:
        raise HelixError(
            f"helix codec: a {info.width}x{info.height} picture is beyond what it takes "
            "(up to 3840x2160 pixels); damaged metadata, or use another --codec"
        )


TOKEN_T, TOKEN_STRIDE, CONT_STRIDE = 2, 8, 32


def padded_size(width: int, height: int) -> tuple[int, int]:
    up = lambda n: -(-n // CONT_STRIDE) * CONT_STRIDE  # noqa: E731
    return up(width), up(height)


def padding_tokens(width: int, height: int) -> np.ndarray:
    """(2, h, w) bool: the tokens whose 8 x 8 pixels all lie in the padding."""
    pw, ph = padded_size(width, height)
    pad = np.zeros((TOKEN_T, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE), bool)
    pad[:, -(-height // TOKEN_STRIDE) :] = True
    pad[:, :, -(-width // TOKEN_STRIDE) :] = True
    return pad


def grid_sizes(
    width: int, height: int, mask: float, version: int
) -> tuple[np.ndarray, dict[str, int]]:
    """The GOP's token mask (2, h, w), True = not stored (masked, or from version 4 padding
    only), and how many items of each kind it stores."""
    pw, ph = padded_size(width, height)
    m = checkerboard_mask(mask, TOKEN_T, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE)
    if version >= 4:
        m |= padding_tokens(width, height)
    cont = (ph // CONT_STRIDE) * (pw // CONT_STRIDE) * token_strands.CONT_GROUPS
    return m, {"token": int((~m).sum()), "continuous": cont}


def base_size(info: VideoInfo, scale: int) -> tuple[int, int]:
    """(width, height) the base layer is coded at."""
    return (info.width, info.height) if scale == 1 else half_size(info.width, info.height)


def padded_gop(frames: np.ndarray) -> np.ndarray:
    """(n <= 8, H, W, 3) -> (8, H', W', 3): the last frame repeated, edges to multiples of 32."""
    h, w = frames.shape[1:3]
    pw, ph = padded_size(w, h)
    x = np.concatenate([frames, np.repeat(frames[-1:], GOP - len(frames), 0)])
    return np.pad(x, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")


def network_input(frames: np.ndarray) -> np.ndarray:
    """(8, H, W, 3) uint8 -> (1, 3, 8, H, W) float32 in [-1, 1]."""
    return (frames.transpose(3, 0, 1, 2)[None].astype(np.float32) / 127.5) - 1.0


def network_output(y: np.ndarray) -> np.ndarray:
    """(3, 8, H, W) in [-1, 1] -> (8, H, W, 3) uint8."""
    return np.clip((y.transpose(1, 2, 3, 0) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def continuous_values(cont: np.ndarray) -> np.ndarray:
    """Continuous-stream indices (16, h, w) -> the networks' values (1, 16, h, w)."""
    return (cont / (CONT_LEVELS - 1) * 2 - 1)[None].astype(np.float32)


def layer_positions(lt: LayerTables, info: VideoInfo, mask: float) -> tuple[np.ndarray, np.ndarray]:
    """(keep, order): the latent positions (T, h, w) a GOP's layers store, and their flat
    indices in coding order. Unmasked sets store every position in (t, row, column) order;
    masked ones drop the mask ratio's checkerboard and positions over padding only, and
    interleave the rest (position j of the order is the (j * a mod n)-th stored one, a coprime
    to n near n / golden ratio), so a lost strand costs scattered positions, not a patch."""
    pw, ph = padded_size(info.width, info.height)
    shape = (lt.latent_t, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE)
    if not lt.masked:
        keep = np.ones(shape, bool)
        return keep, np.arange(keep.size)
    pad = padding_tokens(info.width, info.height)[:1]
    keep = ~(checkerboard_mask(mask, *shape) | pad)
    pos = np.flatnonzero(keep)
    n = len(pos)
    a = max(1, round(n * 0.6180339887498949))
    while math.gcd(a, n) > 1:
        a += 1
    return keep, pos[np.arange(n) * a % max(n, 1)]


def layer_tables(tables, layer: int, n: int) -> np.ndarray:
    """Each element's table: one per (layer, channel)."""
    return np.tile(np.arange(tables.channels), n // tables.channels) + layer * tables.channels
