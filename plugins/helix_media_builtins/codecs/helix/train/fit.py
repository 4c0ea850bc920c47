"""Train the HELIX networks end to end on random GOP crops (paper eq. 6, as far as a CPU allows).

Loss = L1 + 0.2 (1 - SSIM)                      reconstruction, through the masked path
     + ce_weight cross-entropy of masked tokens the predictor (masking robustness)
     + predict_weight |E[prediction] - token|^2 masked tokens: also trains the *encoder* to
                                                make tokens its neighbours predict
     + 0.01 |continuous|                        rate proxy: small values cost fewer bits
     + rate_weight bits(continuous)             rate: code length under a learned prior
Each GOP of a batch gets its own mask: ratio from a truncated Gaussian (``mask_mean``,
``mask_sd``, [0, 0.85], and 0 for 15 % of GOPs so the unmasked path stays sharp); a share
``checker_share`` of the masks is the inference checkerboard, the rest random, and some add a
run of lost tokens like a lost strand. ``freeze_encoder`` trains only the predictor and the
decoder (a fine-tune that leaves the stored streams unchanged). ``init`` fine-tunes from an
earlier checkpoint; its recipe is kept in the new one's as ``init_recipe``. ``predictor_layers``
deepens the predictor (new blocks start as no-ops, see ``load_checkpoint``). ``workers`` > 0
samples batches in that many loader processes (use them with ``device="cuda"``).
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_msssim import ssim
from tqdm import tqdm

from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.train.data import GopSampler
from helix_media_builtins.codecs.helix.train.hardware import describe, use_bf16
from helix_media_builtins.codecs.helix.train.model import (
    LEVELS,
    TOKEN_T,
    Helix,
    continuous_bits,
    expected_values,
    load_checkpoint,
    quantize_continuous,
    split_logits,
)


def sample_masks(
    rng: np.random.Generator,
    b: int,
    h: int,
    w: int,
    mean: float = 0.55,
    sd: float = 0.2,
    checker_share: float = 0.5,
) -> np.ndarray:
    """(b, 1, 2, h, w) bool training masks (True = masked)."""
    out = np.zeros((b, 1, TOKEN_T, h, w), dtype=bool)
    for i in range(b):
        if rng.random() < 0.15:
            continue
        r = float(np.clip(rng.normal(mean, sd), 0.0, 0.85))
        if rng.random() < checker_share:
            m = checkerboard_mask(r, TOKEN_T, h + 8, w + 8)
            dy, dx = rng.integers(0, 8, size=2)
            m = m[:, dy : dy + h, dx : dx + w]
        else:
            m = rng.random((TOKEN_T, h, w)) < r
        if rng.random() < 0.3:  # a lost strand: a run of tokens in coding order (y, x, t)
            flat = m.transpose(1, 2, 0).reshape(-1)
            n = int(rng.integers(8, 40))
            s = int(rng.integers(0, max(1, flat.size - n)))
            flat[s : s + n] = True
            m = flat.reshape(h, w, TOKEN_T).transpose(2, 0, 1)
        out[i, 0] = m
    return out


class _GopStream(torch.utils.data.IterableDataset):
    """Endless batches from a :class:`GopSampler` of its own in each loader process (seeded
    by the worker's number, so processes never repeat each other's crops)."""

    def __init__(self, data_dir: Path, crop: int, seed: int, batch: int) -> None:
        self.data_dir, self.crop, self.seed, self.batch = data_dir, crop, seed, batch

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker = info.id if info is not None else 0
        sampler = GopSampler(self.data_dir, crop=self.crop, seed=self.seed * 1009 + worker + 1)
        while True:
            yield torch.from_numpy(sampler.batch(self.batch))


def gop_batches(data_dir: Path, crop: int, seed: int, batch: int, workers: int, pin: bool):
    """Training batches as tensors: sampled in this process (``workers`` 0, reproducible as
    before), or by that many loader processes, so a GPU is not left waiting on one Python
    sampler."""
    sampler = GopSampler(data_dir, crop=crop, seed=seed)  # fails early without data
    if workers <= 0:
        while True:
            yield torch.from_numpy(sampler.batch(batch))
    loader = torch.utils.data.DataLoader(
        _GopStream(data_dir, crop, seed, batch),
        batch_size=None,
        num_workers=workers,
        pin_memory=pin,
        prefetch_factor=4,
        persistent_workers=True,
    )
    yield from loader


def fit(
    data_dir: Path,
    out_dir: Path,
    *,
    steps: int = 100_000,
    minutes: float = 45.0,
    batch: int = 16,
    crop: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    log_every: int = 25,
    bf16: bool = True,
    device: str = "cpu",
    init: Path | None = None,
    ce_weight: float = 0.05,
    predict_weight: float = 0.0,
    mask_mean: float = 0.55,
    mask_sd: float = 0.2,
    checker_share: float = 0.5,
    rate_weight: float = 0.0,
    freeze_encoder: bool = False,
    predictor_layers: int | None = None,
    workers: int = 0,
) -> dict:
    """Train until ``steps`` or ``minutes`` run out; write ``helix.pt`` and ``train_log.csv``."""
    torch.manual_seed(seed)
    bf16 = use_bf16(bf16, device)
    rng = np.random.default_rng(seed)
    gops = gop_batches(data_dir, crop, seed, batch, workers, pin=device == "cuda")
    if init is None:
        model = Helix(predictor_layers or 4)
    else:
        model = load_checkpoint(init, predictor_layers)
    model = model.to(device)
    init_recipe = None
    if init is not None:
        parent = Path(init).parent / "recipe.json"
        init_recipe = json.loads(parent.read_text()) if parent.exists() else str(init)
    if freeze_encoder:  # tokens and continuous stream stay as they are: so do their tables
        model.encoder.requires_grad_(False)
    # the rate term's prior starts uniform and must follow the stream quickly: 30x the rate
    nets = [p for n, p in model.named_parameters() if n != "cont_prior" and p.requires_grad]
    opt = torch.optim.AdamW(
        [{"params": nets, "scale": 1.0}, {"params": [model.cont_prior], "scale": 30.0}],
        lr=lr,
        weight_decay=1e-4,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "train_log.csv"
    metrics = ["loss", "l1", "ssim", "ce", "psnr", "masked_acc", "cont_bits"]
    fields = ["step", "seconds", "lr", *metrics]
    start, deadline = time.time(), time.time() + minutes * 60
    levels = torch.tensor(LEVELS, device=device).view(1, len(LEVELS), 1, 1, 1)
    step, acc = 0, {k: 0.0 for k in metrics}
    with open(log_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        bar = tqdm(total=steps, unit="step", desc="train", mininterval=10)
        while step < steps and time.time() < deadline:
            # cosine schedule over the time budget (or steps, whichever is nearer)
            frac = max(step / steps, (time.time() - start) / (minutes * 60))
            for g in opt.param_groups:
                g["lr"] = g["scale"] * lr * 0.5 * (1 + math.cos(math.pi * min(1.0, frac)))
            x = next(gops).to(device, non_blocking=True)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16):
                vals, idx, cont = model.encoder(x)
                cq, _ = quantize_continuous(cont.float())
                keep = torch.rand(cq.shape[0], 1, *cq.shape[2:], device=device) >= 0.05
                cq = cq * keep  # a lost continuous strand reads as zeros
                mask = sample_masks(rng, batch, *idx.shape[-2:], mask_mean, mask_sd, checker_share)
                mask = torch.from_numpy(mask).to(device)
                logits = model.predictor(torch.where(mask, levels, idx), cq, vals)
                predicted = expected_values(logits)
                filled = torch.where(mask, predicted, vals)
                y = model.decoder(filled, mask.float(), cq)
            y, x01 = (y.float() + 1) / 2, (x + 1) / 2
            l1 = (y - x01).abs().mean()
            flat = lambda t: t.transpose(1, 2).reshape(-1, 3, crop, crop)  # noqa: E731
            s = ssim(flat(y), flat(x01), data_range=1.0, size_average=True)
            m = mask[:, 0].float()
            ce, hits = 0.0, torch.ones_like(m)
            for d, lg in enumerate(split_logits(logits.float())):
                ce_d = F.cross_entropy(lg, idx[:, d], reduction="none")
                ce = ce + (ce_d * m).sum() / m.sum().clamp(min=1)
                hits = hits * (lg.argmax(1) == idx[:, d]).float()
            miss = ((predicted - vals.float()) ** 2 * mask).sum() / mask.sum().clamp(min=1)
            loss = l1 + 0.2 * (1 - s) + ce_weight * ce + predict_weight * miss
            cont_bits = continuous_bits(cont, model.cont_prior)
            loss = loss + 0.01 * cont.float().abs().mean() + rate_weight * cont_bits
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            bar.update()
            mse = F.mse_loss(y.detach(), x01).item()
            for k, v in dict(loss=loss, l1=l1, ssim=s, ce=ce, cont_bits=cont_bits).items():
                acc[k] += v.item()
            acc["psnr"] += 10 * math.log10(1 / max(mse, 1e-10))
            acc["masked_acc"] += float((hits * m).sum() / m.sum().clamp(min=1))
            if step % log_every == 0:
                row = {k: round(v / log_every, 5) for k, v in acc.items()}
                row.update(
                    step=step,
                    seconds=round(time.time() - start, 1),
                    lr=round(opt.param_groups[0]["lr"], 7),
                )
                writer.writerow(row)
                fh.flush()
                bar.set_postfix(psnr=row["psnr"], acc=row["masked_acc"])
                acc = {k: 0.0 for k in acc}
            if step % 500 == 0:
                torch.save(model.state_dict(), out_dir / "helix.pt")
        bar.close()
    torch.save(model.state_dict(), out_dir / "helix.pt")
    recipe = {
        "steps": step,
        "minutes": round((time.time() - start) / 60, 1),
        "batch": batch,
        "crop": crop,
        "lr": lr,
        "seed": seed,
        "bf16": bf16,
        "device": device,
        "ce_weight": ce_weight,
        "predict_weight": predict_weight,
        "rate_weight": rate_weight,
        "freeze_encoder": freeze_encoder,
        "predictor_layers": len(model.predictor.blocks),
        "workers": workers,
        "mask": {"mean": mask_mean, "sd": mask_sd, "checkerboard_share": checker_share},
        "threads": torch.get_num_threads(),
        "hardware": describe(device),
        "data": json.loads((data_dir / "sources.json").read_text()),
    }
    if init_recipe is not None:
        recipe["init_recipe"] = init_recipe
    (out_dir / "recipe.json").write_text(json.dumps(recipe, indent=1))
    return recipe
