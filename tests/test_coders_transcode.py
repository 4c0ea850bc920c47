"""``helix-transcode --coder NAME`` end to end for every coder: video -> DNA -> video."""

import json
from fractions import Fraction

import av
import numpy as np
import pytest

from helix_media import plugins
from helix_media.cli import main, transcode_main
from helix_media.strand_files import read_strands

CODERS = ("naive", "goldman", "paircode", "tk-scone")


def tiny_clip(path, frames=6, size=(64, 48)):
    """A moving gradient (libx264), small enough for a handful of strands."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(12))
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(frames):
            x = np.linspace(0, 255, size[0])[None, :, None] + 16 * i
            img = np.broadcast_to(x % 256, (size[1], size[0], 3)).astype(np.uint8)
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return path


def frames_of(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.int64) for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return tiny_clip(tmp_path_factory.mktemp("coders") / "clip.mp4")


@pytest.mark.parametrize("name", CODERS)
def test_transcode_roundtrip_with_every_coder(clip, tmp_path, name, capsys):
    dna, back = tmp_path / f"{name}.dnapkt", tmp_path / "back.mp4"
    assert transcode_main([str(clip), str(dna), "--coder", name, "--codec", "bitstream", "-q"]) == 0
    capsys.readouterr()
    assert transcode_main([str(dna), str(back), "-q"]) == 0
    # the DNA layer is lossless: every packet came back (CRC-checked), nothing concealed
    assert "lost units" not in capsys.readouterr().err
    src, got = frames_of(clip), frames_of(back)
    assert len(got) == len(src)
    worst = max(float(np.abs(a - b).mean()) for a, b in zip(src, got, strict=True))
    assert worst < 3  # the codec's loss only
    assert main(["probe", str(dna), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["coder"] == name
    if plugins.get_coder(name).guarantees_constraints:
        assert p["constraint_violations"] == 0 and p["max_homopolymer"] <= 3
    elif name == "naive":
        assert p["constraint_violations"] > 0  # probe flags what naive does not promise
    _, seqs = read_strands(dna)
    assert all(len(s) == 240 for s in seqs)
