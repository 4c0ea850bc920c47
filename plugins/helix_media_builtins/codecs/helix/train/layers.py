"""Enhancement layers: a conditional residual coder over the base layer, in PyTorch.

The base layer (today's tokens + continuous stream) decodes to a blurred GOP ``b``. The
:class:`LayerEncoder` sees the frames and ``b`` and gives one latent ``y`` (C x 4 x H/8 x W/8:
four time slices, twice the base's, on the token grid); enhancement layer k stores ``y``
refined to step ``STEP[k] = 2**-k`` (successive refinement: layer 1 is ``round(y)``, each next
layer the rounded remainder at half the step), so any prefix of layers gives a coarser ``y``.
The :class:`LayerDecoder` turns the dequantized prefix and ``b`` into a residual added to
``b``.

Both networks take ``keep`` (B x 1 x 4 x H/8 x W/8, 1 = the latent position is stored): the
checkerboard mask of the token grid applies to the latent too, so the encoder learns to put what
matters into the positions it keeps (masking is a rate knob), and the decoder, which also sees
positions lost with their strands as 0 in ``keep``, learns to fill them from the neighbours.

Training draws the number of layers at random (layer dropping) and weighs each
prefix's rate by its own lambda (rate-aware: the code length of the integers under the
per-channel Laplace entropy model is a loss term), so one model serves every rung.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from helix_media_builtins.codecs.helix.train.model import ResBlock, TemporalConv, per_frame

LATENT = 32  # channels of y
LAYER_T = 4  # time slices of y per GOP
MAX_LAYERS = 4  # enhancement layers (rungs 2..5)
STEPS = tuple(2.0**-k for k in range(MAX_LAYERS))
#: rate weight per number of layers (loss = MSE + lambda * bits per pixel), 3x apart per
#: layer as each layer halves the step. Weights 10x these (and 30x) squeezed the latent to
#: zero once they ramped in (y = 0 costs nothing under the noise proxy, and the decoder then
#: ignores it): see docs/helix-codec.md
LAMBDAS = (0.006, 0.002, 0.0006, 0.0002)


class LayerEncoder(nn.Module):
    def __init__(self, c1: int = 48, c2: int = 96):
        super().__init__()
        self.stem = nn.Sequential(
            nn.PixelUnshuffle(4),
            nn.Conv2d(96, c1, 3, padding=1),
            ResBlock(c1),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),
            ResBlock(c2),
        )
        self.t = TemporalConv(c2, c2, stride=2)  # 8 -> 4
        self.keep_in = zero_conv(1, c2)
        self.out = nn.Sequential(ResBlock(c2), nn.Conv2d(c2, LATENT, 1))

    def forward(self, frames: torch.Tensor, base: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """frames, base (B, 3, 8, H, W) in [-1, 1], keep (B, 1, 4, H/8, W/8) -> y (B, C, 4,
        H/8, W/8), zero where not kept."""
        f = per_frame(self.stem, torch.cat([frames - base, base], 1))
        f = F.gelu(self.t(F.gelu(f))) + per_frame(self.keep_in, keep)
        return per_frame(self.out, f) * keep


class LayerDecoder(nn.Module):
    def __init__(self, c1: int = 48, c2: int = 96):
        super().__init__()
        self.y_in = nn.Conv2d(LATENT, c2, 1)
        self.keep_in = zero_conv(1, c2)
        self.up_t = TemporalConv(c2, c2)
        self.base8 = nn.Sequential(nn.PixelUnshuffle(8), nn.Conv2d(192, c2, 1))
        self.fuse = nn.Sequential(nn.Conv2d(2 * c2, c2, 1), ResBlock(c2), ResBlock(c2))
        self.up = nn.Sequential(nn.Conv2d(c2, 4 * c1, 3, padding=1), nn.PixelShuffle(2))
        self.base4 = nn.Sequential(nn.PixelUnshuffle(4), nn.Conv2d(48, c1, 1))
        self.fine = nn.Sequential(ResBlock(c1), nn.Conv2d(c1, 48, 3, padding=1), nn.PixelShuffle(4))

    def forward(self, y: torch.Tensor, keep: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """y (B, C, 4, h, w) dequantized, keep (B, 1, 4, h, w) 1 where y was received, base
        (B, 3, 8, 8h, 8w) -> frames (B, 3, 8, 8h, 8w)."""
        f = per_frame(self.y_in, y) + per_frame(self.keep_in, keep)
        f = torch.repeat_interleave(f, 2, dim=2)
        f = self.up_t(F.gelu(f))
        f = per_frame(self.fuse, torch.cat([F.gelu(f), per_frame(self.base8, base)], 1))
        f = per_frame(self.up, f) + per_frame(self.base4, base)
        return base + per_frame(self.fine, F.gelu(f))


def zero_conv(cin: int, cout: int) -> nn.Conv2d:
    """A 1 x 1 conv that starts as a no-op, so a new input joins a trained network softly."""
    conv = nn.Conv2d(cin, cout, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def quantize_prefix(y: torch.Tensor, layers: int) -> torch.Tensor:
    """``y`` refined by ``layers`` successive layers (straight-through gradients): what a
    decoder holding those layers sees."""
    q = torch.zeros_like(y)
    for step in STEPS[:layers]:
        q = q + torch.round((y - q) / step) * step
    return y + (q - y).detach()


def layer_symbols(y: torch.Tensor, layers: int) -> list[torch.Tensor]:
    """The integers each layer stores (the runtime's quantizer, for counting tables)."""
    q, out = torch.zeros_like(y), []
    for step in STEPS[:layers]:
        s = torch.round((y - q) / step)
        out.append(s)
        q = q + s * step
    return out


def laplace_bits(y: torch.Tensor, step: float, log_scale: torch.Tensor) -> torch.Tensor:
    """Code length in bits of ``y`` at quantizer step ``step`` under a zero-mean Laplace per
    channel (``log_scale``: (C,)), with uniform noise standing in for rounding."""
    y = y + (torch.rand_like(y) - 0.5) * step
    b = log_scale.exp().view(1, -1, *([1] * (y.dim() - 2)))

    def cdf(v):
        return 0.5 + 0.5 * torch.sign(v) * (1 - torch.exp(-v.abs() / b))

    p = cdf(y + step / 2) - cdf(y - step / 2)
    return -torch.log2(p.clamp_min(1e-9))


class Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = LayerEncoder()
        self.decoder = LayerDecoder()
        self.log_scale = nn.Parameter(torch.zeros(LATENT))

    def forward(
        self,
        frames: torch.Tensor,
        base: torch.Tensor,
        layers: int,
        keep: torch.Tensor | None = None,
        received: torch.Tensor | None = None,
    ):
        """-> (decoded frames, bits per pixel of ``layers`` layers). ``keep``: the positions
        stored (default all), ``received``: those of them the decoder gets (default all)."""
        if keep is None:
            b, _, _, h, w = frames.shape
            keep = frames.new_ones(b, 1, LAYER_T, h // 8, w // 8)
        received = keep if received is None else keep * received
        y = self.encoder(frames, base, keep).float()  # quantizer and rate in float32
        out = self.decoder(quantize_prefix(y, layers) * received, received, base).float()
        pixels = frames.shape[0] * frames.shape[2] * frames.shape[3] * frames.shape[4]
        bits = (laplace_bits(y, STEPS[layers - 1], self.log_scale) * keep).sum()
        return out, bits / pixels


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = F.mse_loss(a.clamp(-1, 1), b).item() / 4  # [-1, 1] -> [0, 1]
    return 10 * math.log10(1 / max(mse, 1e-12))
