"""Add trained enhancement layers to a model set: ONNX networks, integer frequency tables
(counted on training GOPs through the exported encoder, exactly as the runtime codes them) and
model cards. The base files are copied from the base set unchanged, so the new set decodes
what the base set's base layer decodes; the new set gets its own id and folder, and the old
set stays (archives written with it must stay decodable)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from helix_media_builtins.codecs.helix.masking import checkerboard_mask
from helix_media_builtins.codecs.helix.models import FILES, LAYER_FILES, HelixModels, models_root
from helix_media_builtins.codecs.helix.train.export import OPSET, _export, write_model_card
from helix_media_builtins.codecs.helix.train.fit_layers import base_cache
from helix_media_builtins.codecs.helix.train.layers import LATENT, LAYER_T, STEPS, Layers

MAX_SYMBOL = 15  # layer integers are clipped to [-15, 15]
TABLE_TOTAL = 1 << 15  # each table's total, before entries raised to 1 (<= 2**16 in all)


def export_networks(model: Layers, out: Path) -> dict[str, Path]:
    model = model.eval().float()
    h, w = 64, 96
    frames = torch.zeros(1, 3, 8, h, w)
    latent = torch.zeros(1, LATENT, LAYER_T, h // 8, w // 8)
    keep = torch.ones(1, 1, LAYER_T, h // 8, w // 8)
    sp = {0: "batch", 3: "height", 4: "width"}
    files = {k: out / LAYER_FILES[k] for k in ("layer_encoder", "layer_decoder")}
    with torch.no_grad():
        _export(
            model.encoder,
            (frames, frames, keep),
            files["layer_encoder"],
            ["frames", "base", "keep"],
            ["latent"],
            {"frames": sp, "base": sp, "keep": sp, "latent": sp},
        )
        _export(
            model.decoder,
            (latent, keep, frames),
            files["layer_decoder"],
            ["latent", "keep", "base"],
            ["frames"],
            {"latent": sp, "keep": sp, "base": sp, "frames": sp},
        )
    return files


def count_tables(encoder_path: Path, data: Path, gops: int, mask: float) -> np.ndarray:
    """Frequency tables (layers * channels, 2 * MAX_SYMBOL + 1), each entry >= 1 and each
    table's total <= 2**16, from the symbols the runtime would store: the positions kept at
    mask 0 and at ``mask`` (the default), counted together."""
    import onnxruntime as ort

    from helix_media_builtins.codecs.helix.codec import layer_symbols, network_input

    session = ort.InferenceSession(str(encoder_path))
    frames, base = base_cache(data, gops, mask, seed=1)
    size = 2 * MAX_SYMBOL + 1
    counts = np.zeros((len(STEPS), LATENT, size), np.float64)
    s = frames.shape[2] // 8
    for ratio in (0.0, mask):
        keep = ~checkerboard_mask(ratio, LAYER_T, s, s)
        for f, b in zip(frames, base, strict=True):
            inputs = {"frames": network_input(f), "base": network_input(b)}
            (y,) = session.run(None, inputs | {"keep": keep[None, None].astype(np.float32)})
            values = y[0].reshape(LATENT, -1).T[keep.reshape(-1)].reshape(-1)
            for k, sym in enumerate(layer_symbols(values, STEPS, MAX_SYMBOL)):
                chan = np.tile(np.arange(LATENT), len(sym) // LATENT)
                np.add.at(counts[k], (chan, sym + MAX_SYMBOL), 1)
    counts = counts.reshape(-1, size) + 0.5  # a prior: unseen values stay codable
    scaled = np.maximum(1, np.floor(counts / counts.sum(-1, keepdims=True) * TABLE_TOTAL))
    return scaled.astype(np.int64)


def _copy_files(names, source: Path, dest: Path) -> None:
    """Files and their model cards, unchanged."""
    for name in names:
        for suffix in (".json", Path(name).suffix):
            src = source / Path(name).with_suffix(suffix).name
            shutil.copy2(src, dest / src.name)


def _new_set(tmp: Path) -> Path:
    """The finished folder ``tmp`` -> ``onnx_models/<its id>/`` (kept as is if it exists)."""
    final = models_root() / HelixModels(tmp).id
    if final.exists():
        shutil.rmtree(tmp)
    else:
        tmp.rename(final)
    return final


def _staging() -> Path:
    tmp = models_root() / ".export"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    return tmp


def carry_layers(layers_set: Path, base_set: Path) -> Path:
    """``base_set``'s files + ``layers_set``'s layer networks and tables, unchanged ->
    ``onnx_models/<new id>/``: a retrained base keeps the learned enhancement. The layers
    refine whatever base frames they are given, and encoder and decoder give them the same
    ones, so archives stay decodable; the layers' cards still name the base they were
    trained over, and how well they fit the new one is for the bench to say."""
    tmp = _staging()
    _copy_files(FILES.values(), base_set, tmp)
    _copy_files(LAYER_FILES.values(), layers_set, tmp)
    return _new_set(tmp)


def export_set(checkpoint: Path, base_set: Path, data: Path, gops: int = 300) -> Path:
    """``base_set``'s files + the layers of ``checkpoint`` -> ``onnx_models/<new id>/``."""
    tmp = _staging()
    _copy_files(FILES.values(), base_set, tmp)
    saved = torch.load(checkpoint, map_location="cpu")
    model = Layers()
    model.load_state_dict(saved["state"])
    files = export_networks(model, tmp)
    counts = count_tables(files["layer_encoder"], data, gops, saved["recipe"]["mask"])
    files["layer_tables"] = tmp / LAYER_FILES["layer_tables"]
    np.savez_compressed(
        files["layer_tables"],
        counts=counts,
        steps=np.array(STEPS),
        shape=np.array([MAX_SYMBOL, LATENT, LAYER_T]),
        masked=np.array(True),
    )
    recipe = saved["recipe"] | {"base_set": base_set.name, "opset": OPSET}
    for kind, path in files.items():
        metrics = saved["report"] if kind != "layer_tables" else {"gops": gops}
        write_model_card(path, kind, recipe, metrics)
    return _new_set(tmp)
