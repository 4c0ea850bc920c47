"""The HELIX codec's trained files: ONNX networks and the context model's frequency tables.

Every model set the package ever wrote archives with stays in ``onnx_models/<set id>/``
(package data beside this module), so every archive stays decodable; ``onnx_models/DEFAULT``
names the set new archives use. Each file in a set has a model card (``<name>.json``) with its
sha256; files are verified before use, and the codec records one model id in the archive's
metadata (16 hex digits of a hash over all four files' hashes), so an archive is never decoded
with networks or tables other than the ones that made it. Runs on onnxruntime's CPU provider,
or CUDA when asked and available.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from helix_media.errors import HelixError
from helix_media.resources import package_path
from helix_media_builtins.codecs.helix.token_context import check_tables, coding_tables

FILES = {
    "encoder": "helix_encoder.onnx",
    "decoder": "helix_decoder.onnx",
    "predictor": "helix_predictor.onnx",
    "context": "helix_context.npz",
}
#: the enhancement layers' networks and tables (model sets from 2026-12-05 on; older sets
#: have none and code the base layer alone)
LAYER_FILES = {
    "layer_encoder": "helix_layer_encoder.onnx",
    "layer_decoder": "helix_layer_decoder.onnx",
    "layer_tables": "helix_layers.npz",
}


def models_root() -> Path:
    """The package's ``onnx_models/`` (package data of this plugin, installed with it): one
    folder per model set, named by its id, and ``DEFAULT`` naming the set new archives are
    written with. Training writes new sets here too: in a checkout (editable install) it is
    the repository's ``plugins/helix_media_builtins/codecs/helix/onnx_models/``."""
    return package_path("helix_media_builtins.codecs.helix", "onnx_models")


def model_dir(model_set: str | None = None) -> Path:
    """The folder of model set ``model_set`` (default: the one named by ``DEFAULT``), or
    ``$HELIX_MODELS`` (a folder holding one set's files) when set."""
    env = os.environ.get("HELIX_MODELS")
    if env:
        return Path(env)
    root = models_root()
    name = model_set or (root / "DEFAULT").read_text().strip()
    path = root / name
    if not path.is_dir():
        have = ", ".join(installed_sets()) or "none"
        raise HelixError(
            f"these strands were made with HELIX model set {name}, which this installation "
            f"does not have (installed: {have}); other HELIX models cannot decode them"
        )
    return path


def installed_sets() -> list[str]:
    """Ids of the model sets in ``onnx_models/``: every set the package ever wrote with."""
    root = models_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / FILES["encoder"]).exists())


def set_with_file_ids(file_ids: dict[str, str]) -> str | None:
    """The installed set whose files have these ids (archives of params version 1 recorded
    each file's id instead of the set's)."""
    for name in installed_sets():
        ids = {k: _verified(models_root() / name / f)[:16] for k, f in FILES.items()}
        if ids == file_ids:
            return name
    return None


def _verified(path: Path) -> str:
    """The file's sha256, after checking it against its model card."""
    card_path = path.with_suffix(".json")
    if not path.exists() or not card_path.exists():
        raise HelixError(f"{path}: HELIX model file or its model card is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if json.loads(card_path.read_text()).get("sha256") != digest:
        raise HelixError(f"{path}: sha256 does not match its model card (corrupt or replaced)")
    return digest


class HelixModels:
    """Verified ONNX Runtime sessions and cumulative frequency tables."""

    def __init__(
        self,
        directory: Path | None = None,
        device: str = "cpu",
        threads: int | None = None,
        optimization: str = "all",
    ):
        import onnxruntime as ort

        directory = directory or model_dir()
        files = dict(FILES)
        if (directory / LAYER_FILES["layer_encoder"]).exists():
            files |= LAYER_FILES
        digests = {k: _verified(directory / f) for k, f in files.items()}
        #: each file's id (16 hex digits of its sha256), and the set's id that archives record
        self.ids = {k: d[:16] for k, d in digests.items()}
        self.id = hashlib.sha256("".join(digests.values()).encode()).hexdigest()[:16]
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise HelixError(
                    "--device cuda: this onnxruntime has no CUDA provider "
                    "(pip install onnxruntime-gpu)"
                )
            providers.insert(0, "CUDAExecutionProvider")
        elif device != "cpu":
            raise HelixError(f"unknown device {device!r} (cpu or cuda)")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        levels = {
            "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }
        opts.graph_optimization_level = levels[optimization]
        self.sessions = {
            k: ort.InferenceSession(str(directory / files[k]), opts, providers=providers)
            for k in ("encoder", "decoder", "predictor", "layer_encoder", "layer_decoder")
            if k in files
        }
        #: enhancement layers the set can code (0: base only), their steps and tables
        self.layers = (
            LayerTables.load(directory / files["layer_tables"]) if "layer_tables" in files else None
        )
        with np.load(directory / FILES["context"]) as z:
            tables = {k: z[k] for k in z.files}
        try:
            check_tables(tables)
        except ValueError as e:
            raise HelixError(f"{directory / FILES['context']}: {e}") from None
        # cumulative lists, the arithmetic coder's form
        self.cum = {
            k: np.concatenate([np.zeros(t.shape[:-1] + (1,), np.int64), t.cumsum(-1)], -1).tolist()
            for k, t in tables.items()
        }

    @property
    def rungs(self) -> int:
        """Quality levels (see :attr:`rung_settings`)."""
        return len(self.rung_settings)

    @property
    def rung_settings(self) -> list[tuple[int, float | None, float | None]]:
        """Per quality level: (enhancement layers, the base's default mask, the layers'
        default mask); None: the codec's default mask for the base, the base's for the
        layers. Level 1 is the base alone. Unmasked sets add one layer per level. Masked sets
        first add layer 1 masked like the base, then store base and layers whole (mask 0)
        and add the others: a masked refinement adds little (layer 2 over a masked layer 1:
        +0.4 dB for +1419 strands on the sample), and under a whole layer a masked base
        costs strands (+2 %, -0.1 dB: the layer then codes what the base lost)."""
        if self.layers is None:
            return [(0, None, None)]
        if not self.layers.masked:
            return [(k, None, None) for k in range(self.layers.count + 1)]
        whole = [(k, 0.0, 0.0) for k in range(1, self.layers.count + 1)]
        return [(0, None, None), (1, None, None), *whole]

    def coding_tables(self, mask: float) -> dict:
        """Cumulative tables for coding a GOP at mask ratio ``mask``."""
        return coding_tables(self.cum, mask)

    def run(self, name: str, **inputs: np.ndarray) -> list[np.ndarray]:
        return self.sessions[name].run(None, inputs)


@dataclass(frozen=True)
class LayerTables:
    """What the enhancement layers' runtime needs besides the networks: the refinement steps,
    the symbol range, the cumulative tables of each (layer, channel) and the layout."""

    steps: tuple[float, ...]
    max_symbol: int
    channels: int
    latent_t: int
    cum: np.ndarray  # (layers * channels, 2 * max_symbol + 2)
    #: True: the networks take ``keep``, the mask ratio drops latent positions as it drops
    #: tokens, and strands hold interleaved positions (sets from 2026-12-05 on: 334b... is not)
    masked: bool = False

    @property
    def count(self) -> int:
        return len(self.steps)

    @classmethod
    def load(cls, path: Path) -> LayerTables:
        with np.load(path) as z:
            counts = z["counts"].astype(np.int64)
            steps, meta = z["steps"], z["shape"]
            masked = bool(z["masked"]) if "masked" in z.files else False
        if counts.min() < 1 or counts.sum(-1).max() > 1 << 16:
            raise HelixError(f"{path}: frequency tables out of range")
        cum = np.concatenate([np.zeros((len(counts), 1), np.int64), counts.cumsum(-1)], -1)
        max_symbol, channels, latent_t = (int(v) for v in meta)
        return cls(tuple(float(v) for v in steps), max_symbol, channels, latent_t, cum, masked)


@lru_cache(maxsize=8)
def load_models(
    device: str = "cpu",
    threads: int | None = None,
    optimization: str = "all",
    model_set: str | None = None,
) -> HelixModels:
    """Models are loaded once per process, set and setting; ``model_set`` None: the default
    (``onnx_models/DEFAULT``) for writing new archives."""
    models = HelixModels(model_dir(model_set), device, threads, optimization)
    if model_set and not os.environ.get("HELIX_MODELS") and models.id != model_set:
        raise HelixError(f"onnx_models/{model_set} holds model set {models.id}, not {model_set}")
    return models
