"""The HELIX networks in PyTorch (training and export only; the runtime uses their ONNX files).

GOP of 8 RGB frames in [-1, 1], shape (B, 3, 8, H, W) with H, W multiples of 32.

- :class:`Encoder` -> discrete FSQ tokens (B, 4, 2, H/8, W/8), levels [8, 5, 5, 5] (1000 codes),
  and a continuous stream (B, 16, H/32, W/32) in (-1, 1), quantized to 16 levels for storage.
- :class:`Predictor`: a bidirectional transformer that predicts masked tokens from visible
  ones, cross-attending to the continuous stream (MaskGIT/MAGE style).
- :class:`Decoder` fuses (filled) tokens, the mask and the continuous stream into frames.

Temporal convolutions are Conv2d with (k, 1) kernels over (T, H*W): Conv3d's backward gave NaN
gradients under CPU bf16 autocast here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = (8, 5, 5, 5)
TOKEN_DIMS = len(LEVELS)
TOKEN_T = 2  # token time slices per GOP of 8 frames
CONT_DIM = 16
CONT_LEVELS = 16
GOP = 8


def fsq(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Finite scalar quantization of (B, 4, ...) -> (values in [-1, 1] with straight-through
    gradients, integer indices 0..L-1)."""
    vals, idxs = [], []
    for d, n in enumerate(LEVELS):
        half = (n - 1) / 2
        offset = 0.5 if n % 2 == 0 else 0.0
        shift = torch.atanh(torch.tensor(offset / half)) if offset else 0.0
        bounded = torch.tanh(z[:, d] + shift) * half - offset
        q = bounded + (torch.round(bounded) - bounded).detach()
        vals.append(q / (n // 2))
        idxs.append(torch.round(bounded).long() + n // 2)
    return torch.stack(vals, 1), torch.stack(idxs, 1)


def token_values(idx: torch.Tensor) -> torch.Tensor:
    """Indices (B, 4, ...) -> the decoder's values in [-1, 1]."""
    scale = torch.tensor([n // 2 for n in LEVELS], dtype=torch.float32, device=idx.device)
    shape = (1, TOKEN_DIMS) + (1,) * (idx.dim() - 2)
    return (idx.float() - scale.view(shape)) / scale.view(shape)


def quantize_continuous(c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(-1, 1) -> (16-level values with straight-through gradients, indices 0..15)."""
    x = (c + 1) / 2 * (CONT_LEVELS - 1)
    q = x + (torch.round(x) - x).detach()
    return q / (CONT_LEVELS - 1) * 2 - 1, torch.round(x).long()


def continuous_bits(cont: torch.Tensor, prior_logits: torch.Tensor) -> torch.Tensor:
    """Mean code length in bits of the quantized continuous stream under a learned per-channel
    categorical prior (CONT_DIM, CONT_LEVELS): the rate term of training.

    Between two levels the code length is interpolated linearly, so at a level it is the exact
    cost and in between its gradient moves a value towards the cheaper neighbour, while the
    prior itself is fitted to the levels in use (a factorized entropy model, as in learned
    image codecs, here on the stream's own 16-level grid)."""
    x = ((cont.float() + 1) / 2 * (CONT_LEVELS - 1)).clamp(0, CONT_LEVELS - 1)
    lo = x.detach().floor().clamp(max=CONT_LEVELS - 2).long()
    frac = x - lo
    cost = -F.log_softmax(prior_logits.float(), -1) / math.log(2)  # (C, L) bits
    c = cost.view(1, CONT_DIM, CONT_LEVELS, *([1] * (x.dim() - 2)))
    c = c.expand(x.shape[0], -1, -1, *x.shape[2:])
    lo_cost = c.gather(2, lo.unsqueeze(2)).squeeze(2)
    hi_cost = c.gather(2, (lo + 1).unsqueeze(2)).squeeze(2)
    return ((1 - frac) * lo_cost + frac * hi_cost).mean()


class ResBlock(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.c1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.c2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.gelu(self.c1(F.gelu(x))))


class TemporalConv(nn.Module):
    """Conv over time for (B, C, T, H, W), as Conv2d over (T, H*W)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, (k, 1), stride=(stride, 1), padding=(k // 2, 0))

    def forward(self, x):
        b, c, t, h, w = x.shape
        y = self.conv(x.reshape(b, c, t, h * w))
        return y.reshape(b, y.shape[1], y.shape[2], h, w)


def per_frame(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a 2-D module to every frame of (B, C, T, H, W)."""
    b, c, t, h, w = x.shape
    y = module(x.transpose(1, 2).reshape(b * t, c, h, w))
    return y.reshape(b, t, y.shape[1], y.shape[2], y.shape[3]).transpose(1, 2)


class Encoder(nn.Module):
    def __init__(self, c1: int = 64, c2: int = 128):
        super().__init__()
        self.stem = nn.Sequential(
            nn.PixelUnshuffle(4),
            nn.Conv2d(48, c1, 3, padding=1),
            ResBlock(c1),
            ResBlock(c1),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1),
            ResBlock(c2),
        )
        self.t1 = TemporalConv(c2, c2, stride=2)  # 8 -> 4
        self.t2 = TemporalConv(c2, c2, stride=2)  # 4 -> 2
        self.tok = nn.Sequential(ResBlock(c2), nn.Conv2d(c2, TOKEN_DIMS, 1))
        self.cont_t = TemporalConv(c2, c2, k=2, stride=2)  # 2 -> 1
        self.cont = nn.Sequential(
            nn.Conv2d(c2, c2, 4, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(c2, c2, 4, stride=2, padding=1),
            nn.GELU(),
            nn.Conv2d(c2, CONT_DIM, 1),
        )

    def forward(self, x: torch.Tensor):
        """(B, 3, 8, H, W) -> (token values, token indices, continuous (B, 16, H/32, W/32))."""
        f = per_frame(self.stem, x)
        f = self.t2(F.gelu(self.t1(f)))
        z = per_frame(self.tok, F.gelu(f))
        vals, idx = fsq(z)
        c = self.cont_t(F.gelu(f))[:, :, 0]
        return vals, idx, torch.tanh(self.cont(c))


class Decoder(nn.Module):
    def __init__(self, c1: int = 64, c2: int = 128):
        super().__init__()
        self.tok_in = nn.Conv2d(TOKEN_DIMS + 1, c2, 1)
        self.up_t1 = TemporalConv(c2, c2)
        self.up_t2 = TemporalConv(c2, c2)
        self.cont_in = nn.Sequential(nn.Conv2d(CONT_DIM, c2, 3, padding=1), nn.GELU())
        self.fuse = nn.Conv2d(2 * c2, c2, 1)
        self.mid = nn.Sequential(ResBlock(c2), ResBlock(c2))
        self.up = nn.Sequential(
            nn.Conv2d(c2, 4 * c1, 3, padding=1),
            nn.PixelShuffle(2),
            ResBlock(c1),
            ResBlock(c1),
            nn.Conv2d(c1, 48, 3, padding=1),
            nn.PixelShuffle(4),
        )

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, cont: torch.Tensor):
        """tokens (B, 4, 2, h, w) values, mask (B, 1, 2, h, w) 1 = masked (filled by a
        prediction), cont (B, 16, h/4, w/4) -> frames (B, 3, 8, 8h, 8w)."""
        f = per_frame(self.tok_in, torch.cat([tokens, mask], 1))
        f = torch.repeat_interleave(f, 2, dim=2)
        f = self.up_t1(F.gelu(f))
        f = torch.repeat_interleave(f, 2, dim=2)
        f = self.up_t2(F.gelu(f))  # (B, c2, 8, h, w)
        c = self.cont_in(F.interpolate(cont, scale_factor=4.0, mode="nearest"))
        c = c.unsqueeze(2).expand(-1, -1, f.shape[2], -1, -1)
        f = per_frame(self.fuse, torch.cat([F.gelu(f), c], 1))
        return torch.tanh(per_frame(self.up, per_frame(self.mid, f)))


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o1, self.o2 = nn.Linear(d, d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def _attend(self, q, k, v):
        b, n, d = q.shape
        split = lambda t: t.reshape(b, t.shape[1], self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        y = F.scaled_dot_product_attention(split(q), split(k), split(v))
        return y.transpose(1, 2).reshape(b, n, d)

    def forward(self, x, ctx):
        q, k, v = self.qkv(self.n1(x)).chunk(3, -1)
        x = x + self.o1(self._attend(q, k, v))
        k, v = self.kv(ctx).chunk(2, -1)
        x = x + self.o2(self._attend(self.q(self.n2(x)), k, v))
        return x + self.mlp(self.n3(x))


class Predictor(nn.Module):
    """Masked-token transformer. Positions come from depthwise convolutions (conditional
    position encoding), so it runs on token grids of any size."""

    def __init__(self, d: int = 128, layers: int = 4, heads: int = 4):
        super().__init__()
        self.embed = nn.ModuleList(nn.Embedding(n + 1, d) for n in LEVELS)  # index n = masked
        # the visible tokens' values again, through a differentiable path: in training the
        # encoder learns from the predictor's errors to make its tokens predictable
        self.value_in = nn.Linear(TOKEN_DIMS, d)
        nn.init.zeros_(self.value_in.weight)
        nn.init.zeros_(self.value_in.bias)
        self.time = nn.Parameter(torch.zeros(1, d, TOKEN_T, 1, 1))
        self.pos = nn.Conv2d(d, d, 3, padding=1, groups=d)
        self.cont_in = nn.Linear(CONT_DIM, d)
        self.cont_pos = nn.Conv2d(d, d, 3, padding=1, groups=d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, sum(LEVELS))

    def forward(
        self, idx: torch.Tensor, cont: torch.Tensor, values: torch.Tensor | None = None
    ) -> torch.Tensor:
        """idx (B, 4, 2, h, w) int64 with masked entries = level count, cont (B, 16, h', w')
        -> logits (B, 23, 2, h, w): 8 + 5 + 5 + 5 per position. ``values``: the tokens' values
        with gradients (training); by default they are computed from ``idx``."""
        b, _, t, h, w = idx.shape
        visible = (idx[:, :1] < LEVELS[0]).long()
        if values is None:
            values = token_values(idx * visible)  # masked ones are zeroed below
        e = sum(emb(idx[:, i]) for i, emb in enumerate(self.embed))  # (B, T, h, w, d)
        e = e + self.value_in((values * visible).permute(0, 2, 3, 4, 1))
        e = e.permute(0, 4, 1, 2, 3) + self.time
        e = e + per_frame(self.pos, e)
        x = e.flatten(2).transpose(1, 2)  # (B, T*h*w, d)
        c = self.cont_in(cont.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        c = (c + self.cont_pos(c)).flatten(2).transpose(1, 2)
        for blk in self.blocks:
            x = blk(x, c)
        y = self.head(self.norm(x))  # (B, T*h*w, 23)
        return y.transpose(1, 2).reshape(b, sum(LEVELS), t, h, w)


def split_logits(logits: torch.Tensor) -> list[torch.Tensor]:
    return list(torch.split(logits, list(LEVELS), dim=1))


def expected_values(logits: torch.Tensor) -> torch.Tensor:
    """Predicted token values: the mean of each dimension's softmax (B, 4, 2, h, w)."""
    out = []
    for n, lg in zip(LEVELS, split_logits(logits), strict=True):
        grid = (torch.arange(n, dtype=torch.float32, device=lg.device) - n // 2) / (n // 2)
        out.append((lg.float().softmax(1) * grid.view(1, n, 1, 1, 1)).sum(1))
    return torch.stack(out, 1)


class Helix(nn.Module):
    """The three networks together, for training."""

    def __init__(self, predictor_layers: int = 4):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.predictor = Predictor(layers=predictor_layers)
        # the rate term's entropy model of the continuous stream (training only, not exported)
        self.cont_prior = nn.Parameter(torch.zeros(CONT_DIM, CONT_LEVELS))


def load_checkpoint(path, predictor_layers: int | None = None) -> Helix:
    """A :class:`Helix` with a checkpoint's weights. Layers added since the checkpoint was
    written keep their initialisation (each new layer starts as a no-op); so do predictor
    blocks beyond the checkpoint's when ``predictor_layers`` asks for more (their residual
    outputs start at zero), which deepens a trained predictor without changing what it does."""
    state = torch.load(path, map_location="cpu")
    blocks = {k.split(".")[2] for k in state if k.startswith("predictor.blocks.")}
    have = len(blocks)
    model = Helix(max(have, predictor_layers or have))
    for blk in model.predictor.blocks[have:]:
        for layer in (blk.o1, blk.o2, blk.mlp[-1]):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
    model.load_state_dict(state, strict=False)
    return model
