"""Train the enhancement layers (:mod:`.layers`) over a frozen base layer.

The base is what the shipped runtime decodes: each training GOP goes through the installed
model set's ONNX encoder, the checkerboard mask (``mask``), the transformer fill and the
decoder, once, into an in-memory cache of (frames, base) pairs; training then draws random
crops of those pairs, so the layers learn the residual of the base exactly as deployed.
Loss per step: MSE + LAMBDAS[L-1] * bits per pixel, L = 1..MAX_LAYERS drawn at random. Each
step also draws the latent's mask ratio (the runtime's checkerboard: 0, the default 0.6, or any)
and, half the time, a share of kept positions lost (up to 15 %, scattered as the runtime's
interleaved strands scatter them), so one model serves every mask and degrades gently.
"""

from __future__ import annotations

import csv
import json
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.train.data import GopSampler
from helix_media_builtins.codecs.helix.train.hardware import describe, use_bf16
from helix_media_builtins.codecs.helix.train.layers import (
    LAMBDAS,
    LAYER_T,
    MAX_LAYERS,
    Layers,
    psnr,
)

CACHE_SIZE = 128  # cached GOPs are 8 x 128 x 128; training crops are taken from them


def base_cache(data: Path, gops: int, mask: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(frames, base) uint8 arrays (N, 8, 128, 128, 3): sampled GOPs and their base decode."""
    from helix_media.media.codec import VideoInfo
    from helix_media_builtins.codecs.helix.codec import HelixEncoder, continuous_values

    info = VideoInfo(CACHE_SIZE, CACHE_SIZE, Fraction(25))
    enc = HelixEncoder(info, mask, 37, "cpu", quality=1)
    sampler = GopSampler(data, crop=CACHE_SIZE, seed=seed)
    frames = np.empty((gops, 8, CACHE_SIZE, CACHE_SIZE, 3), np.uint8)
    base = np.empty_like(frames)
    for i in tqdm(range(gops), desc="base layer", unit="GOP"):
        g = sampler.batch(1)[0].transpose(1, 2, 3, 0)
        frames[i] = np.clip((g + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        tok, cont = enc.tokens(frames[i])
        base[i] = enc.base.padded_frames(tok, ~enc.mask, continuous_values(cont))
    return frames, base


def to_tensor(a: np.ndarray) -> torch.Tensor:
    """(B, 8, H, W, 3) uint8 -> (B, 3, 8, H, W) float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 4, 1, 2, 3))).float() / 127.5 - 1


def crops(frames, base, rng, batch: int, crop: int):
    idx = rng.integers(0, len(frames), batch)
    y, x = (rng.integers(0, (CACHE_SIZE - crop) // 8 + 1, 2) * 8).tolist()
    f, b = frames[idx, :, y : y + crop, x : x + crop], base[idx, :, y : y + crop, x : x + crop]
    if rng.random() < 0.5:
        f, b = f[:, :, :, ::-1], b[:, :, :, ::-1]
    return to_tensor(f), to_tensor(b)


def draw_keep(rng, batch: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(keep, received) (B, 1, LAYER_T, s, s): a mask ratio's checkerboard and random losses."""
    u = rng.random()
    ratio = 0.6 if u < 0.4 else 0.0 if u < 0.7 else rng.uniform(0, 0.8)
    s = size // 8
    keep = ~checkerboard_mask(ratio, LAYER_T, s, s)
    keep = torch.from_numpy(np.broadcast_to(keep, (batch, 1, LAYER_T, s, s)).astype(np.float32))
    lost = rng.random((batch, 1, LAYER_T, s, s)) < (
        rng.uniform(0, 0.15) if rng.random() < 0.5 else 0
    )
    return keep, torch.from_numpy((~lost).astype(np.float32))


def fit(
    data: Path,
    out: Path,
    minutes: float = 45.0,
    gops: int = 1500,
    batch: int = 8,
    crop: int = 64,
    lr: float = 1e-3,
    mask: float = 0.6,
    seed: int = 0,
    bf16: bool = True,
    device: str = "cpu",
    init: Path | None = None,
) -> dict:
    torch.manual_seed(seed)
    bf16 = use_bf16(bf16, device)
    rng = np.random.default_rng(seed)
    recipe = {
        "minutes": minutes,
        "gops": gops,
        "batch": batch,
        "crop": crop,
        "lr": lr,
        "mask": mask,
        "seed": seed,
        "bf16": bf16,
        "lambdas": LAMBDAS,
        "device": device,
        "init": str(init) if init else None,
        "masked": True,
        "hardware": describe(device),
        "threads": torch.get_num_threads(),
        "data": {k: sorted(p.name for p in (data / k).glob("*.npy")) for k in ("videos", "photos")},
    }
    out.mkdir(parents=True, exist_ok=True)
    t_cache = time.time()
    cache = out / f"base_cache_{gops}_{mask}_{seed}.npz"
    if cache.exists():  # the base layer of the same GOPs, from an earlier run
        with np.load(cache) as z:
            frames, base = z["frames"], z["base"]
    else:
        frames, base = base_cache(data, gops, mask, seed)
        np.savez(cache, frames=frames, base=base)
    held = slice(0, 32)  # first GOPs: a fixed validation batch (128 x 128)
    vf, vb = to_tensor(frames[held]), to_tensor(base[held])
    frames, base = frames[32:], base[32:]
    t_cache = time.time() - t_cache

    model = Layers()
    if init:  # a checkpoint from before ``keep`` existed loads too: its new convs start at 0
        missing, unexpected = model.load_state_dict(torch.load(init)["state"], strict=False)
        if unexpected or any("keep_in" not in k for k in missing):
            raise ValueError(f"{init}: not a layers checkpoint ({missing}, {unexpected})")
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    with open(out / "layers_train_log.csv", "w", newline="") as log_file:
        log = csv.writer(log_file)
        log.writerow(["step", "seconds", "layers", "mse_db", "bpp", "lr"])
        start, step = time.time(), 0
        budget = minutes * 60
        bar = tqdm(total=int(budget), unit="s", desc="layers")
        while (elapsed := time.time() - start) < budget:
            g = min(1.0, elapsed / budget)
            for group in opt.param_groups:
                group["lr"] = lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * g)))
            layers = int(rng.integers(1, MAX_LAYERS + 1))
            f, b = (t.to(device) for t in crops(frames, base, rng, batch, crop))
            keep, received = (t.to(device) for t in draw_keep(rng, batch, crop))
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                y, bpp = model(f, b, layers, keep, received)
            mse = F.mse_loss(y, f) / 4
            # from scratch: no rate term for the first 30 %, then a ramp to full weight at 60 %
            # (a latent squeezed before the decoder has learnt to use it stays unused)
            ramp = 1.0 if init else min(1.0, max(0.0, (g - 0.3) / 0.3))
            loss = mse + ramp * LAMBDAS[layers - 1] * bpp
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step % 1000 == 0:  # kept, so a run can be cut short or rolled back
                save(model, out, recipe, {"steps": step}, f"layers_{step}.pt")
            if step % 50 == 0:
                db = 10 * math.log10(1 / max(mse.item(), 1e-12))
                lr_now = opt.param_groups[0]["lr"]
                log.writerow([step, round(elapsed), layers, round(db, 2), bpp.item(), lr_now])
                log_file.flush()
                bar.n = int(elapsed)
                bar.set_postfix(step=step, L=layers, db=f"{db:.1f}", bpp=f"{bpp.item():.3f}")
        bar.close()
    model.eval().cpu()
    report = {"steps": step, "cache_seconds": round(t_cache), "base_psnr": psnr(vb, vf)}
    s = vf.shape[-1] // 8
    with torch.no_grad():
        for ratio in (0.0, 0.6):
            keep = ~checkerboard_mask(ratio, LAYER_T, s, s)
            keep = torch.from_numpy(np.broadcast_to(keep, (len(vf), 1, LAYER_T, s, s)).copy())
            for k in range(1, MAX_LAYERS + 1):
                y, bpp = model(vf, vb, k, keep.float())
                report[f"mask_{ratio}_layers_{k}"] = {
                    "psnr": round(psnr(y, vf), 2),
                    "bpp": round(bpp.item(), 4),
                }
    save(model, out, recipe, report)
    (out / "layers_report.json").write_text(json.dumps(report, indent=1))
    return report


def save(model: Layers, out: Path, recipe: dict, report: dict, name: str = "layers.pt") -> None:
    state = {"state": model.state_dict(), "recipe": recipe, "report": report}
    torch.save(state, out / name)
