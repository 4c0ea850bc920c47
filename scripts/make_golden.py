"""Write the golden archive of the default HELIX model set: tests/golden/helix-<set>.dnapkt
(8 frames, 64 x 64, cropped from the sample, at the set's top quality level with its layers
masked, so every layer network and the interleave are exercised) and the frames it decodes
to, which tests/test_model_sets.py checks forever after. Run once when a model set is added:
python scripts/make_golden.py. With --x265: tests/golden/helix-x265-v<params version>.dnapkt
instead, the same clip at the top level of the x265 enhancement, with the frames of its base
layer alone too (--layers 1), for tests/test_helix_x265_enhancement.py: run it when the
params version changes, and keep the older ones."""

from __future__ import annotations

import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from helix_media_builtins.helix.codec import PARAMS_VERSION, HelixCodec
from helix_media_builtins.helix.models import load_models

from helix_media.archive.decode import decode_media
from helix_media.archive.encode import encode_video
from helix_media.media.video_io import open_video
from helix_media.resources import sample_clip

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden"


def main(x265: bool) -> None:
    models = load_models()
    frames = [
        f.to_ndarray(format="rgb24")[80:144, 120:184]
        for f in open_video(str(sample_clip())).frames()
    ][:8]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mkv"
        with av.open(str(clip), "w") as c:
            s = c.add_stream("ffv1", rate=Fraction(12))
            s.width, s.height, s.pix_fmt = 64, 64, "bgr0"
            for a in frames:
                c.mux(s.encode(av.VideoFrame.from_ndarray(a, format="rgb24")))
            c.mux(s.encode(None))
        if x265:
            out = GOLDEN / f"helix-x265-v{PARAMS_VERSION}.dnapkt"
            options = {"enhancement": "x265"}
        else:
            out = GOLDEN / f"helix-{models.id}.dnapkt"
            options = {"enhancement": "learned"}
            if models.layers and models.layers.masked:
                options["layer_mask"] = 0.6
        quality = HelixCodec().rungs(enhancement=options["enhancement"])
        encode_video(
            str(clip), str(out), codec="helix", quality=quality, audio=False,
            codec_options=options,
        )  # fmt: skip
    decoded = {"frames": _frames(out)} | ({"base": _frames(out, layers=1)} if x265 else {})
    np.savez_compressed(out.with_suffix(".frames.npz"), **decoded)
    print(f"{out}: quality {quality}, {len(decoded['frames'])} frames")


def _frames(path: Path, layers: int | None = None) -> np.ndarray:
    return np.stack(
        [f.to_ndarray(format="rgb24") for f in decode_media(str(path), layers=layers).frames]
    )


if __name__ == "__main__":
    main("--x265" in sys.argv[1:])
