"""Quick held-out check of a checkpoint in PyTorch: PSNR at mask 0 and at the inference
checkerboard, and the predictor's exact-code accuracy on masked tokens.

It skips entropy coding and strands (``helix bench helix`` measures the whole pipeline on the
exported ONNX files); it is for comparing checkpoints and training recipes in a minute.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import torch

from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.tiling import tiles
from helix_media_builtins.codecs.helix.token_context import coding_order
from helix_media_builtins.codecs.helix.train.model import (
    GOP,
    LEVELS,
    TOKEN_T,
    Helix,
    expected_values,
    load_checkpoint,
    quantize_continuous,
)


def load_clip(path: Path, frames: int = 48, max_width: int = 320) -> np.ndarray:
    """(n, h, w, 3) uint8: the first ``frames`` frames scaled to ``max_width`` (as the bench)."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            w = min(max_width, f.width) // 2 * 2
            h = round(f.height * w / f.width) // 2 * 2
            out.append(f.reformat(width=w, height=h, format="rgb24").to_ndarray())
            if len(out) == frames:
                break
    return np.stack(out)


def _gops(clip: np.ndarray) -> torch.Tensor:
    """(n, h, w, 3) -> (n / 8, 3, 8, H, W) in [-1, 1], padded to multiples of 32 by edge pixels."""
    n, h, w, _ = clip.shape
    ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
    x = np.pad(clip[: n // GOP * GOP], ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    x = x.reshape(-1, GOP, ph, pw, 3).transpose(0, 4, 1, 2, 3)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1)


def _conditional_bits(symbols: np.ndarray, context: np.ndarray) -> float:
    """Empirical entropy in bits of ``symbols`` given ``context`` (both int arrays)."""
    _, joint = np.unique(np.stack([context, symbols]), axis=1, return_counts=True)
    _, ctx = np.unique(context, return_counts=True)
    return float(-(joint * np.log2(joint)).sum() + (ctx * np.log2(ctx)).sum())


def token_kbits(idx: np.ndarray, mask: np.ndarray) -> float:
    """Kilobits per GOP the visible tokens cost under the runtime's context model (previous
    token's dimension d and this token's d - 1), with tables fitted to these very tokens: an
    optimistic estimate, for comparing checkpoints, not a strand count."""
    t, y, x = coding_order(mask)
    vis = np.stack([g[:, t, y, x].T for g in idx])  # (gops, n, 4) in coding order
    prev = np.concatenate([np.full_like(vis[:, :1], -1), vis[:, :-1]], 1)
    bits = _conditional_bits(vis[..., 0].ravel(), prev[..., 0].ravel())
    for d in range(1, vis.shape[-1]):
        ctx = prev[..., d].ravel() * 8 + vis[..., d - 1].ravel()
        bits += _conditional_bits(vis[..., d].ravel(), ctx)
    return bits / len(idx) / 1000


def continuous_kbits(cont_idx: np.ndarray) -> float:
    """Kilobits per GOP of continuous indices (gops, 16, h, w) under the runtime's context
    (the same channel one position earlier), with self-fitted tables like :func:`token_kbits`."""
    g, c = cont_idx.shape[:2]
    seq = cont_idx.reshape(g, c, -1)
    prev = np.concatenate([np.full_like(seq[..., :1], -1), seq[..., :-1]], -1)
    channel = np.arange(c).reshape(1, c, 1) * 100
    return _conditional_bits(seq.ravel(), (prev + channel).ravel()) / g / 1000


def predictor_logits(model: Helix, idx: torch.Tensor, cont: torch.Tensor, **tiling) -> torch.Tensor:
    """The predictor's logits, run tile by tile over the grid as the runtime runs it."""
    b, _, t, h, w = idx.shape
    out = torch.zeros(b, sum(LEVELS), t, h, w)
    c = h // cont.shape[-2]
    for (ry, rx), keep, (dy, dx) in tiles(h, w, align=c, **tiling):
        cy, cx = slice(ry.start // c, ry.stop // c), slice(rx.start // c, rx.stop // c)
        out[..., dy, dx] = model.predictor(idx[..., ry, rx], cont[..., cy, cx])[(..., *keep)]
    return out


def _psnr(y: torch.Tensor, ref: torch.Tensor) -> float:
    mse = ((y - ref) ** 2).mean(dim=(1, 2, 3, 4)).clamp(min=1e-10)
    return float((10 * torch.log10(255.0**2 / mse)).mean())


@torch.no_grad()
def evaluate(model: Helix, clip: np.ndarray, masks: tuple[float, ...] = (0.0, 0.6)) -> dict:
    """PSNR (dB, mean over GOPs), token kilobits per GOP (see :func:`token_kbits`) per mask
    ratio, masked-token accuracy and continuous kilobits per GOP, for one clip."""
    model.eval()
    h, w = clip.shape[1:3]
    x = _gops(clip)
    ref = torch.round((x[..., :h, :w] + 1) * 127.5)
    vals, idx, cont = model.encoder(x)
    cq, cont_idx = quantize_continuous(cont)
    levels = torch.tensor(LEVELS).view(1, len(LEVELS), 1, 1, 1)
    out = {"cont_kbit": continuous_kbits(cont_idx.numpy())}
    for r in masks:
        m = torch.from_numpy(checkerboard_mask(r, TOKEN_T, *idx.shape[-2:]))
        m = m.view(1, 1, *m.shape).expand(idx.shape[0], -1, -1, -1, -1)
        logits = predictor_logits(model, torch.where(m, levels, idx), cq)
        filled = torch.where(m, expected_values(logits), vals)
        y = model.decoder(filled, m.float(), cq)[..., :h, :w]
        out[f"psnr@{r}"] = _psnr(torch.round((y + 1) * 127.5).clamp(0, 255), ref)
        out[f"kbit@{r}"] = token_kbits(idx.numpy(), m[0, 0].numpy())
        if r > 0:
            hits = torch.ones_like(m[:, 0], dtype=torch.bool)
            for d, lg in enumerate(torch.split(logits, list(LEVELS), 1)):
                hits &= lg.argmax(1) == idx[:, d]
            out[f"acc@{r}"] = float(hits[m[:, 0]].float().mean())
    return out


def evaluate_checkpoint(checkpoint: Path, clips: list[Path]) -> list[dict]:
    model = load_checkpoint(checkpoint)
    return [{"clip": p.name, **evaluate(model, load_clip(p))} for p in clips]
