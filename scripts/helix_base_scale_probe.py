"""Which base layer should sit under the x265 enhancement? A measurement.

At quality levels 2-7 the learned base layer is only a preview (``--layers 1``) and what
frames fall back to where enhancement strands are lost, so its strands are overhead on the
x265 stream. This prints the base's data strands and PSNR (48 frames at most 320 wide, as
``helix bench helix`` takes them) coded at full size at several masks, and coded at half size
(:mod:`helix_media_builtins.codecs.helix.scaling`: 2 x 2 means, cubic upscaling on decoding) at
several masks. Figures are in docs/helix-codec.md.

Usage: ``python scripts/helix_base_scale_probe.py CLIP [CLIP ...]``
"""

from __future__ import annotations

import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from helix_media_builtins.codecs.helix.codec import HelixEncoder, continuous_values
from helix_media_builtins.codecs.helix.scaling import downscale2, upscale2

from helix_media.benchmarks.helix import reference_clip
from helix_media.media.codec import VideoInfo
from helix_media.media.metrics import psnr

SETTINGS = [(1, 0.6), (1, 0.8), (1, 0.9), (2, 0.0), (2, 0.4), (2, 0.6), (2, 0.8)]


def base_layer(frames: np.ndarray, scale: int, mask: float) -> tuple[int, float]:
    """(data strands, PSNR dB) of the base layer alone at 1 / ``scale`` of the size."""
    height, width = frames.shape[1:3]
    coded = frames if scale == 1 else downscale2(frames)
    h, w = coded.shape[1:3]
    enc = HelixEncoder(VideoInfo(w, h, Fraction(24)), mask, 37, "cpu", 1)  # level 1: no scaling
    strands, scores = 0, []
    for g in range(0, len(frames), 8):
        tok, cont = enc.tokens(coded[g : g + 8])
        strands += len(enc.code_base(tok, cont)) // enc.slice_bytes
        out = enc.base.padded_frames(tok, ~enc.mask, continuous_values(cont))[:, :h, :w]
        out = out if scale == 1 else upscale2(out, height, width)
        scores += [psnr(a, b) for a, b in zip(frames[g : g + 8], out, strict=False)]
    return strands, float(np.mean(scores))


def main(clips: list[str]) -> None:
    print("| clip | base coded at | mask | data strands | PSNR dB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            frames = np.stack(reference_clip(clip, Path(tmp) / "ref.mkv", 48, 320))
            for scale, mask in SETTINGS:
                strands, score = base_layer(frames, scale, mask)
                size = "full size" if scale == 1 else "half size"
                print(f"| {Path(clip).name} | {size} | {mask} | {strands} | {score:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
