"""A normal, non-editable install works: the wheel carries the model sets and the sample clip.

The wheel is built the way a release is (``python -m build``: an sdist, then the wheel from
that sdist, so a file missing from the sdist is missing from the wheel too) and installed
into a fresh virtual environment in tmp_path, with no network and no dependency downloads:

- the venv is made ``--without-pip`` and the wheel goes in with this interpreter's pip
  (``pip --python VENV_PYTHON install --no-deps --no-index WHEEL``);
- the dependencies (numpy, av, onnxruntime, ...) are the ones already installed here: one
  ``.pth`` file in the new venv's site-packages names this environment's site-packages
  directory. A plain directory line in a ``.pth`` file only appends that directory to
  ``sys.path``; the ``.pth`` files inside it are not run, so the editable install's
  ``__editable__.helix_media-*.pth`` (the finder that maps ``helix_media`` and
  ``helix_media_builtins`` to this checkout) never loads, and the directory comes after the
  venv's own site-packages, so the wheel's code and its ``helix_media-*.dist-info`` (whose
  entry points register the built-ins) win. The test checks that both packages and their
  data are imported from the venv.

Every command then runs from a folder outside the checkout, with none of the variables that
point the package elsewhere (``PYTHONPATH``, ``HELIX_MODELS``, ``HELIX_MEDIA_PLUGINS``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import av
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"

#: run by the venv's python: where the packages and their data come from
WHERE = """
import json, helix_media, helix_media_builtins
from helix_media.resources import sample_clip
from helix_media_builtins.codecs.helix.models import installed_sets, models_root
print(json.dumps({"core": helix_media.__file__, "builtins": helix_media_builtins.__file__,
                  "sample": str(sample_clip()), "models": str(models_root()),
                  "sets": installed_sets()}))
"""

#: run by the venv's python on each golden archive: the frames it gave when it was written
#: (tests/test_model_sets.py and tests/test_helix_x265_enhancement.py hold them to the same)
DECODE_GOLDEN = """
import hashlib, sys
import numpy as np
from helix_media.archive.decode import decode_media
for path in sys.argv[1:]:
    media = decode_media(path)
    try:
        z = np.load(path[: -len(".dnapkt")] + ".frames.npz")
    except FileNotFoundError:  # pinned by the hash of its yuv420p planes instead
        h = hashlib.sha256()
        for f in media.frames:
            h.update(f.to_ndarray().tobytes())
        print("sha256", path, h.hexdigest())
        continue
    got = np.stack([f.to_ndarray(format="rgb24") for f in media.frames]).astype(int)
    expected = z["frames"].astype(int)
    assert got.shape == expected.shape, (path, got.shape, expected.shape)
    assert np.abs(got - expected).max() <= 2, path
    print("ok", path)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (and this environment's dependencies): its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT], cwd=tmp)
    (wheel,) = dist.glob("helix_media-*.whl")
    env = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", env], cwd=tmp)
    python = env / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp)
    deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(purelib.strip(), "_helix_media_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    _run([*pip, "--no-deps", "--no-index", wheel], cwd=tmp)
    return env / "bin"


def _run(cmd: list, cwd: Path) -> str:
    """Run ``cmd`` in ``cwd`` with a clean environment; its stdout (stderr in the failure)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "HELIX_MODELS", "HELIX_MEDIA_PLUGINS", "VIRTUAL_ENV")
    }
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_runs_the_demo_transcodes_with_helix_and_decodes_the_golden_archives(
    venv, tmp_path
):
    site = venv.parent / "lib"
    work = tmp_path / "elsewhere"
    work.mkdir()
    assert ROOT not in work.parents

    where = json.loads(_run([venv / "python", "-c", WHERE], work))
    for key in ("core", "builtins", "sample", "models"):
        assert Path(where[key]).is_relative_to(site), (key, where[key])
    assert Path(where["sample"]).is_file()
    assert (Path(where["models"]) / "DEFAULT").read_text().strip() in where["sets"]
    golden_sets = {p.name[len("helix-") : -len(".dnapkt")] for p in GOLDEN.glob("helix-*.dnapkt")}
    assert set(where["sets"]) <= golden_sets  # every installed set has its golden archive

    out = work / "demo"
    report = _run([venv / "helix", "demo", "--out", out], work)
    assert "decoded from reads" in report and (out / "decoded_from_reads.mp4").is_file()

    _run([venv / "helix-transcode", where["sample"], "s.dnapkt", "--codec", "helix",
          "--quality", "1", "-q"], work)  # fmt: skip
    _run([venv / "helix-transcode", "s.dnapkt", "back.mkv", "-q"], work)
    with av.open(str(work / "back.mkv")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 48

    archives = sorted(GOLDEN.glob("*.dnapkt"))
    assert archives
    decoded = _run([venv / "python", "-c", DECODE_GOLDEN, *archives], work).splitlines()
    pinned = json.loads((GOLDEN / "formats-bitstream.json").read_text())["frames_sha256"]
    hashed = [line.split()[2] for line in decoded if line.startswith("sha256 ")]
    assert hashed == [pinned]  # the bitstream archive (tests/test_golden_formats.py)
    assert sum(line.startswith("ok ") for line in decoded) + len(hashed) == len(archives)
