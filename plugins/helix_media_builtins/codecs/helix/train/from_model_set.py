"""A PyTorch checkpoint of a committed model set's base networks, rebuilt from its ONNX files.

Training runs (``runs/``) are not committed, so fine-tuning a model set that an earlier session
trained starts here:

    python -m helix_media_builtins.codecs.helix.train checkpoint --model-set 8be084a1ccd4a30d \
        --out runs/base/helix.pt
    python -m helix_media_builtins.codecs.helix.train fit --init runs/base/helix.pt \
        --freeze-encoder ...

Named weights are copied by name. The exporter turns each ``nn.Linear`` of the predictor into a
MatMul on an anonymous, transposed constant; those are matched to the Linear layers in the order
the forward pass calls them (checked by shape), and the result is verified: the rebuilt
predictor, decoder and encoder must give the ONNX files' outputs on random input. Not restored:
the continuous stream's training-only rate prior (``cont_prior``), which a fine-tune with
``--freeze-encoder`` does not use.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from helix_media_builtins.codecs.helix.models import installed_sets, models_root
from helix_media_builtins.codecs.helix.train.export import DecoderGraph, EncoderGraph
from helix_media_builtins.codecs.helix.train.model import CONT_DIM, LEVELS, TOKEN_T, Helix

#: each ONNX file's weight names -> the Helix state's (the predictor was exported on its own)
PREFIXES = {"encoder": "", "decoder": "", "predictor": "predictor."}


def linear_call_order(predictor: torch.nn.Module, idx, cont) -> list[str]:
    """Names of the predictor's Linear layers in the order its forward pass calls them."""
    order: list[str] = []
    hooks = [
        m.register_forward_hook(lambda *_, n=n: order.append(n))
        for n, m in predictor.named_modules()
        if isinstance(m, torch.nn.Linear)
    ]
    with torch.no_grad():
        predictor(idx, cont)
    for h in hooks:
        h.remove()
    return order


def rebuild(set_dir: Path) -> Helix:
    """The set's encoder, decoder and predictor as one :class:`Helix` (``cont_prior`` left
    at its initial value)."""
    model = Helix()
    state = model.state_dict()
    idx = torch.zeros((1, len(LEVELS), TOKEN_T, 4, 4), dtype=torch.long)
    calls = linear_call_order(model.predictor, idx, torch.zeros(1, CONT_DIM, 1, 1))
    for name, prefix in PREFIXES.items():
        graph = onnx.load(str(set_dir / f"helix_{name}.onnx")).graph
        inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        anonymous = []
        for node in graph.node:  # graph order = the order the exporter traced the calls
            if node.op_type == "MatMul" and node.input[1].startswith("onnx::MatMul"):
                anonymous.append(inits.pop(node.input[1]))
        for key, array in inits.items():
            if prefix + key in state:
                state[prefix + key] = torch.from_numpy(array.copy())
        if not anonymous:
            continue
        if len(anonymous) != len(calls):
            raise SystemExit(f"{name}: {len(anonymous)} MatMul constants, {len(calls)} Linears")
        for call, array in zip(calls, anonymous, strict=True):
            key = f"{prefix}{call}.weight"
            if tuple(array.T.shape) != tuple(state[key].shape):
                raise SystemExit(f"{key}: shape {array.T.shape} != {tuple(state[key].shape)}")
            state[key] = torch.from_numpy(array.T.copy())
    model.load_state_dict(state)
    return model.eval()


def verify(model: Helix, set_dir: Path) -> dict[str, float]:
    """Largest difference between the rebuilt networks and the ONNX files, per network."""
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(1, 3, 8, 64, 64, generator=g) * 2 - 1
    idx = torch.stack([torch.randint(0, n + 1, (1, TOKEN_T, 8, 8), generator=g) for n in LEVELS], 1)
    cont = torch.rand(1, CONT_DIM, 2, 2, generator=g) * 2 - 1
    values = torch.rand(1, len(LEVELS), TOKEN_T, 8, 8, generator=g) * 2 - 1
    mask = (torch.rand(1, 1, TOKEN_T, 8, 8, generator=g) < 0.5).float()
    cases = {
        "encoder": (EncoderGraph(model), (frames,)),
        "decoder": (DecoderGraph(model), (values, mask, cont)),
        "predictor": (model.predictor, (idx, cont)),
    }
    out = {}
    for name, (module, args) in cases.items():
        sess = ort.InferenceSession(str(set_dir / f"helix_{name}.onnx"))
        feed = {i.name: a.numpy() for i, a in zip(sess.get_inputs(), args, strict=True)}
        with torch.no_grad():
            want = module(*args)
        want = want if isinstance(want, tuple) else (want,)
        got = sess.run(None, feed)
        out[name] = max(
            float(np.abs(np.asarray(w, np.float64) - np.asarray(o, np.float64)).max())
            for w, o in zip(want, got, strict=True)
        )
    return out


def write_checkpoint(model_set: str, checkpoint: Path) -> dict[str, float]:
    """Rebuild ``model_set``'s base networks into ``checkpoint`` (with the set's recipe beside
    it as ``recipe.json``, which ``fit --init`` keeps as the new run's ``init_recipe``); returns
    the largest difference from the ONNX files per network. Raises where they disagree."""
    set_dir = models_root() / model_set
    if model_set not in installed_sets():
        raise SystemExit(f"error: no model set {model_set!r} in {models_root()}")
    model = rebuild(set_dir)
    diffs = verify(model, set_dir)
    if max(diffs.values()) > 1e-3:
        raise SystemExit(f"error: the rebuilt networks do not match the ONNX files: {diffs}")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), checkpoint)
    card = json.loads((set_dir / "helix_predictor.json").read_text())
    recipe = {"model_set": model_set, **card["recipe"]}
    (checkpoint.parent / "recipe.json").write_text(json.dumps(recipe, indent=1))
    return diffs
