"""Export trained networks to ONNX (opset 18, one file each, dynamic batch and spatial size),
count the context model's integer frequency tables, and write a model card per file."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from helix_media_builtins.codecs.helix import token_context
from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.models import models_root
from helix_media_builtins.codecs.helix.train.data import GopSampler
from helix_media_builtins.codecs.helix.train.model import (
    CONT_DIM,
    LEVELS,
    TOKEN_T,
    Helix,
    load_checkpoint,
    quantize_continuous,
    token_values,
)

OPSET = 18


class EncoderGraph(nn.Module):
    """frames (B, 3, 8, H, W) in [-1, 1] -> token indices, continuous indices (int64)."""

    def __init__(self, model: Helix):
        super().__init__()
        self.encoder = model.encoder

    def forward(self, frames):
        _, idx, cont = self.encoder(frames)
        return idx, quantize_continuous(cont)[1]


class DecoderGraph(nn.Module):
    def __init__(self, model: Helix):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, tokens, mask, cont):
        return self.decoder(tokens, mask, cont)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export(module: nn.Module, args: tuple, path: Path, names_in, names_out, dynamic) -> None:
    torch.onnx.export(
        module,
        args,
        str(path),
        input_names=names_in,
        output_names=names_out,
        opset_version=OPSET,
        dynamic_axes=dynamic,
        dynamo=False,
        do_constant_folding=True,
    )


def export_networks(model: Helix, out: Path) -> dict[str, Path]:
    """The three ONNX files of one model."""
    model = model.eval().float()
    out.mkdir(parents=True, exist_ok=True)
    h, w = 64, 96
    frames = torch.zeros(1, 3, 8, h, w)
    idx = torch.zeros(1, len(LEVELS), TOKEN_T, h // 8, w // 8, dtype=torch.int64)
    cont = torch.zeros(1, CONT_DIM, h // 32, w // 32)
    files = {
        "encoder": out / "helix_encoder.onnx",
        "decoder": out / "helix_decoder.onnx",
        "predictor": out / "helix_predictor.onnx",
    }
    sp = {0: "batch", 3: "height", 4: "width"}
    with torch.no_grad():
        _export(
            EncoderGraph(model),
            (frames,),
            files["encoder"],
            ["frames"],
            ["token_indices", "continuous_indices"],
            {
                "frames": sp,
                "token_indices": sp,
                "continuous_indices": {0: "batch", 2: "ch", 3: "cw"},
            },
        )
        _export(
            DecoderGraph(model),
            (token_values(idx), torch.zeros(1, 1, TOKEN_T, h // 8, w // 8), cont),
            files["decoder"],
            ["tokens", "mask", "continuous"],
            ["frames"],
            {"tokens": sp, "mask": sp, "continuous": {0: "batch", 2: "ch", 3: "cw"}, "frames": sp},
        )
        _export(
            model.predictor,
            (idx, cont),
            files["predictor"],
            ["token_indices", "continuous"],
            ["logits"],
            {"token_indices": sp, "continuous": {0: "batch", 2: "ch", 3: "cw"}, "logits": sp},
        )
    return files


def count_context_tables(model: Helix, data_dir: Path, gops: int, seed: int = 0) -> dict:
    """Integer frequency tables of the context model, counted on training GOPs as they would
    be coded (visible tokens at each ratio of ``TABLE_MASKS``, in strand order)."""
    sampler = GopSampler(data_dir, crop=128, seed=seed + 1)
    counts = token_context.empty_counts()
    model = model.eval()
    with torch.no_grad():
        for _ in range(max(1, gops // 8)):
            x = torch.from_numpy(sampler.batch(8))
            _, idx, cont = model.encoder(x)
            _, cidx = quantize_continuous(cont)
            idx, cidx = idx.numpy(), cidx.numpy()
            for i in range(len(idx)):
                token_context.add_continuous_counts(counts, cidx[i])
                for ratio in token_context.TABLE_MASKS:
                    t, y, x = token_context.coding_order(checkerboard_mask(ratio, *idx.shape[2:]))
                    token_context.add_token_counts(counts, idx[i][:, t, y, x].T, ratio)
    return token_context.to_tables(counts)


def write_model_card(path: Path, kind: str, recipe: dict, metrics: dict) -> None:
    card = {
        "file": path.name,
        "kind": kind,
        "sha256": sha256(path),
        "bytes": path.stat().st_size,
        "opset": OPSET if path.suffix == ".onnx" else None,
        "recipe": recipe,
        "metrics": metrics,
        "exported": time.strftime("%Y-%m-%d"),
    }
    path.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")


def export_all(checkpoint: Path, out: Path, data_dir: Path, gops: int = 400) -> dict[str, Path]:
    """Checkpoint -> ONNX files, context tables and model cards in ``out``."""
    model = load_checkpoint(checkpoint)
    files = export_networks(model, out)
    tables = count_context_tables(model, data_dir, gops)
    files["context"] = out / "helix_context.npz"
    np.savez_compressed(files["context"], **tables)
    recipe_path = checkpoint.parent / "recipe.json"
    recipe = json.loads(recipe_path.read_text()) if recipe_path.exists() else {}
    log = checkpoint.parent / "train_log.csv"
    metrics = {}
    if log.exists():
        last = log.read_text().strip().splitlines()
        if len(last) > 1:
            metrics["final_training_row"] = dict(
                zip(last[0].split(","), last[-1].split(","), strict=True)
            )
    for kind, path in files.items():
        write_model_card(path, kind, recipe, metrics if kind != "context" else {"gops": gops})
    return files


def export_set(checkpoint: Path, out: Path | None, data_dir: Path, gops: int = 400) -> Path:
    """Export a model set into ``out``, or by default into ``onnx_models/<set id>/`` next to
    the earlier sets (which stay: archives written with them must stay decodable)."""
    import shutil

    if out is not None:
        export_all(checkpoint, out, data_dir, gops)
        return out
    root = models_root()
    tmp = root / ".export"
    shutil.rmtree(tmp, ignore_errors=True)
    final = root / set_id(export_all(checkpoint, tmp, data_dir, gops))
    if final.exists():  # the very same set is already installed
        shutil.rmtree(tmp)
    else:
        tmp.rename(final)
    return final


def set_id(files: dict[str, Path]) -> str:
    """A model set's id, as the runtime computes it: 16 hex digits of SHA-256 over the four
    files' SHA-256s (encoder, decoder, predictor, context tables)."""
    digests = "".join(sha256(files[k]) for k in ("encoder", "decoder", "predictor", "context"))
    return hashlib.sha256(digests.encode()).hexdigest()[:16]
