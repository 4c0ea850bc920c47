"""Would a context model pay for the enhancement layers? A measurement.

The layers' integers are coded with one static table per (layer, channel). This script codes a
clip at the default model set's top quality level and reports each layer's empirical entropy
(bits per pixel) under that model and how much smaller it gets when each element's table also
depends on integer contexts both sides have: the same element in the previous time slice, the
left and upper neighbours, the layer below at the same place. Tables are fitted on the clip
itself, so the gains are upper bounds for static context tables.

Usage: ``python scripts/helix_layer_context_probe.py CLIP [--frames 48] [--mask 0.6]``
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import numpy as np
from helix_media_builtins.codecs.helix.codec import (
    HelixEncoder,
    continuous_values,
    layer_positions,
    layer_symbols,
    network_input,
    padded_gop,
)

from helix_media.media.codec import VideoInfo
from helix_media.media.video_io import open_video


def latent_symbols(clip: str, frames: int, mask: float):
    """Each layer's integers as grids (GOPs, C, T, h, w), 0 where not stored; the stored
    positions (T, h, w); the pixels coded."""
    imgs = [f.to_ndarray(format="rgb24") for f in open_video(clip).frames()][:frames]
    h, w = imgs[0].shape[:2]
    enc = HelixEncoder(VideoInfo(w, h, Fraction(25)), mask, 37, "cpu", 1)
    lt = enc.models.layers
    enc.layers = lt.count
    keep, order = layer_positions(lt, enc.info, mask)
    grids = [[] for _ in lt.steps]
    for g in range(0, len(imgs) - 7, 8):
        gop = np.stack(imgs[g : g + 8])
        tok, cont = enc.tokens(gop)
        base = enc.base.padded_frames(tok, ~enc.mask, continuous_values(cont))
        inputs = {"frames": network_input(padded_gop(gop)), "base": network_input(base)}
        if lt.masked:
            inputs["keep"] = keep[None, None].astype(np.float32)
        (y,) = enc.models.run("layer_encoder", **inputs)
        values = y[0].reshape(lt.channels, -1).T[order].reshape(-1)
        for k, s in enumerate(layer_symbols(values, lt.steps, lt.max_symbol)):
            grid = np.zeros((keep.size, lt.channels), np.int64)
            grid[order] = s.reshape(-1, lt.channels)
            grids[k].append(grid.T.reshape(lt.channels, *keep.shape))
    n_px = (len(imgs) // 8) * 8 * h * w
    return [np.stack(g) for g in grids], keep, n_px


def entropy(sym: np.ndarray, ctx: np.ndarray, stored: np.ndarray) -> float:
    """Bits of ``sym`` (G, C, T, h, w) under tables per (channel, context), stored elements."""
    bits = 0.0
    for c in range(sym.shape[1]):
        s, x = sym[:, c][stored[:, c]], ctx[:, c][stored[:, c]]
        key = x * 64 + s + 31
        _, first, n = np.unique(key, return_index=True, return_counts=True)
        ctx_n = dict(zip(*np.unique(x, return_counts=True), strict=True))
        bits -= float((n * np.log2(n / np.array([ctx_n[v] for v in x[first]]))).sum())
    return bits


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("clip")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--mask", type=float, default=0.6)
    a = p.parse_args()
    layers, keep, n_px = latent_symbols(a.clip, a.frames, a.mask)
    print(
        "layer | zeros | static bits/pixel | context: prev time slice | left+up | "
        "layer below | layer below+left+up"
    )
    for k, s in enumerate(layers):
        stored = np.broadcast_to(keep, s.shape)
        mag = lambda v: np.clip(np.abs(v), 0, 2)  # noqa: E731
        prev_t, left, up = (np.zeros_like(s) for _ in range(3))
        prev_t[:, :, 1:] = np.clip(s[:, :, :-1], -2, 2) + 2
        left[..., 1:], up[..., 1:, :] = mag(s[..., :-1]), mag(s[..., :-1, :])
        static = entropy(s, np.zeros_like(s), stored)
        cells = [entropy(s, prev_t, stored), entropy(s, left * 3 + up, stored)]
        if k:
            below = mag(layers[k - 1])
            cells += [entropy(s, below, stored), entropy(s, below * 9 + left * 3 + up, stored)]
        ratios = " | ".join(f"{c / static - 1:+.1%}" for c in cells)
        print(f"{k + 1} | {np.mean(s[stored] == 0):.3f} | {static / n_px:.4f} | {ratios}")


if __name__ == "__main__":
    main()
