"""A few training steps and an export, end to end (the full recipe:
``python -m helix_media_builtins.codecs.helix.train``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helix_media.resources import sample_clip

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread: the networks here are small, and two threads on two busy cores
    spend most of their time waiting for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_fit_and_export_a_few_steps(tmp_path):
    from helix_media_builtins.codecs.helix.models import HelixModels
    from helix_media_builtins.codecs.helix.train.export import export_all, set_id
    from helix_media_builtins.codecs.helix.train.fit import fit

    from helix_media.media.video_io import open_video

    data = tmp_path / "data"
    (data / "videos").mkdir(parents=True)
    (data / "photos").mkdir()
    frames = np.stack(
        [f.to_ndarray(format="rgb24") for f in open_video(str(sample_clip())).frames()]
    )
    np.save(data / "videos" / "sample.npy", frames[:16])
    np.save(data / "photos" / "still.npy", frames[0])
    (data / "sources.json").write_text(
        json.dumps({"videos": ["sample.npy"], "photos": ["still.npy"]})
    )
    run = tmp_path / "run"
    recipe = fit(data, run, steps=3, minutes=5, batch=2, log_every=1)
    assert recipe["steps"] == 3
    log = (run / "train_log.csv").read_text().splitlines()
    assert len(log) == 4 and log[0].startswith("step,")
    assert np.isfinite([float(v) for v in log[-1].split(",")]).all()
    tuned = tmp_path / "tuned"  # fine-tuning keeps the first run's recipe in its own
    recipe = fit(
        data,
        tuned,
        steps=2,
        batch=2,
        log_every=1,
        init=run / "helix.pt",
        predict_weight=0.05,
        rate_weight=0.01,
        workers=2,  # batches from two loader processes
    )
    assert recipe["init_recipe"]["steps"] == 3 and recipe["predict_weight"] == 0.05
    assert recipe["rate_weight"] == 0.01 and recipe["workers"] == 2
    frozen = tmp_path / "frozen"  # --freeze-encoder: the stored streams cannot change
    fit(data, frozen, steps=1, batch=2, init=tuned / "helix.pt", freeze_encoder=True)
    before, after = (torch.load(d / "helix.pt") for d in (tuned, frozen))
    assert all(torch.equal(v, after[k]) for k, v in before.items() if k.startswith("encoder."))
    assert not torch.equal(before["decoder.fuse.weight"], after["decoder.fuse.weight"])
    files = export_all(tuned / "helix.pt", tmp_path / "onnx", data, gops=8)
    card = json.loads(files["encoder"].with_suffix(".json").read_text())
    assert card["opset"] == 18 and card["recipe"]["steps"] == 2 and len(card["sha256"]) == 64

    models = HelixModels(tmp_path / "onnx")  # verifies every file against its card
    assert set_id(files) == models.id  # the folder name export gives a new set
    x = np.zeros((1, 3, 8, 64, 96), np.float32)
    tok, cont = models.run("encoder", frames=x)
    assert tok.shape == (1, 4, 2, 8, 12) and cont.shape == (1, 16, 2, 3)
    y = models.run(
        "decoder",
        tokens=np.zeros(tok.shape, np.float32),
        mask=np.zeros((1, 1, 2, 8, 12), np.float32),
        continuous=cont.astype(np.float32),
    )[0]
    assert y.shape == (1, 3, 8, 64, 96)


def test_evaluate_reports_quality_and_rate():
    from helix_media_builtins.codecs.helix.train.evaluate import evaluate, load_clip, token_kbits
    from helix_media_builtins.codecs.helix.train.model import Helix

    torch.manual_seed(0)
    row = evaluate(Helix(), load_clip(str(sample_clip()), frames=8, max_width=64))
    assert set(row) == {"cont_kbit", "psnr@0.0", "kbit@0.0", "psnr@0.6", "kbit@0.6", "acc@0.6"}
    assert np.isfinite(list(row.values())).all()
    tokens = np.random.default_rng(0).integers(0, 5, size=(3, 4, 2, 8, 8))
    none, most = np.zeros((2, 8, 8), bool), np.ones((2, 8, 8), bool)
    most[:, ::2, ::2] = False
    assert 0 < token_kbits(tokens, most) < token_kbits(tokens, none)  # fewer tokens, fewer bits
    assert token_kbits(np.zeros_like(tokens), none) == 0  # a constant costs nothing


def test_continuous_bits_is_the_code_length_at_levels_and_pulls_to_cheaper_ones():
    from helix_media_builtins.codecs.helix.train.model import CONT_DIM, CONT_LEVELS, continuous_bits

    prior = torch.zeros(CONT_DIM, CONT_LEVELS)
    prior[:, 3] = 2.0  # level 3 is the likeliest in every channel
    p = torch.softmax(prior[0], 0)
    at_level = torch.full((1, CONT_DIM, 2, 2), 3 / (CONT_LEVELS - 1) * 2 - 1)
    assert torch.isclose(continuous_bits(at_level, prior), -torch.log2(p[3]), atol=1e-5)
    between = torch.full((1, CONT_DIM, 2, 2), 3.5 / (CONT_LEVELS - 1) * 2 - 1, requires_grad=True)
    continuous_bits(between, prior).backward()
    assert (between.grad > 0).all()  # descending the rate moves values down, towards level 3


def test_deepening_the_predictor_starts_as_the_same_function(tmp_path):
    from helix_media_builtins.codecs.helix.train.model import LEVELS, Helix, load_checkpoint

    torch.manual_seed(0)
    torch.save(Helix().state_dict(), tmp_path / "helix.pt")
    small, deep = load_checkpoint(tmp_path / "helix.pt"), load_checkpoint(tmp_path / "helix.pt", 6)
    assert len(small.predictor.blocks) == 4 and len(deep.predictor.blocks) == 6
    idx = torch.stack([torch.randint(0, n + 1, (1, 2, 8, 8)) for n in LEVELS], 1)
    cont = torch.randn(1, 16, 2, 2)
    with torch.no_grad():
        assert torch.allclose(small.predictor(idx, cont), deep.predictor(idx, cont), atol=1e-6)
    torch.save(deep.state_dict(), tmp_path / "deep.pt")  # the depth is read back from a checkpoint
    assert len(load_checkpoint(tmp_path / "deep.pt").predictor.blocks) == 6


def test_a_committed_set_rebuilds_into_a_checkpoint_that_fine_tunes(tmp_path):
    """Training runs are not committed: fine-tuning starts from a set's ONNX files, and the
    rebuilt networks must compute what those files compute."""
    from helix_media_builtins.codecs.helix.train.from_model_set import write_checkpoint
    from helix_media_builtins.codecs.helix.train.model import load_checkpoint

    diffs = write_checkpoint("7744739713a04d54", tmp_path / "base" / "helix.pt")
    assert set(diffs) == {"encoder", "decoder", "predictor"} and max(diffs.values()) < 1e-4
    recipe = json.loads((tmp_path / "base" / "recipe.json").read_text())
    assert recipe["model_set"] == "7744739713a04d54" and recipe["minutes"] == 50.0
    model = load_checkpoint(tmp_path / "base" / "helix.pt")
    assert model.predictor.blocks[0].qkv.weight.abs().sum() > 0  # the anonymous MatMuls too
    with pytest.raises(SystemExit, match="no model set 'nope'"):
        write_checkpoint("nope", tmp_path / "x.pt")


def test_carrying_layers_onto_their_own_base_gives_the_same_set(tmp_path, monkeypatch):
    """``export-layers --layers-of``: a set's base + another set's layer files, unchanged.
    Carrying 8be084a1ccd4a30d's layers onto its own base (7744739713a04d54) must rebuild
    exactly that set, id and all."""
    import shutil

    from helix_media_builtins.codecs.helix.models import models_root
    from helix_media_builtins.codecs.helix.train import export_layers

    root = tmp_path / "onnx_models"
    for name in ("7744739713a04d54", "8be084a1ccd4a30d"):
        shutil.copytree(models_root() / name, root / name)
    monkeypatch.setattr(export_layers, "models_root", lambda: root)
    (root / "8be084a1ccd4a30d").rename(root / "layers")
    out = export_layers.carry_layers(root / "layers", root / "7744739713a04d54")
    assert out == root / "8be084a1ccd4a30d"
    names = lambda d: sorted(p.name for p in d.iterdir())  # noqa: E731
    assert names(out) == names(root / "layers")


def test_bf16_only_where_the_cpu_computes_in_it(monkeypatch, capsys):
    """Emulated bf16 made CPU steps 25x slower: a CPU without bf16 arithmetic trains in fp32."""
    from helix_media_builtins.codecs.helix.train import hardware

    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "fma"})
    assert hardware.use_bf16(True, "cpu") is False
    assert "training in fp32" in capsys.readouterr().err
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "avx512_bf16"})
    assert hardware.use_bf16(True, "cpu") is True
    assert hardware.use_bf16(False, "cpu") is False
