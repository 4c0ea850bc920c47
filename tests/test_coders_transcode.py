"""``helix-transcode --coder NAME`` end to end for every coder: video -> DNA -> video."""

import json

import numpy as np
import pytest
from clips import frames_of, write_clip

from helix_media import plugins
from helix_media.cli import main, transcode_main
from helix_media.strandio.strand_files import read_strands

CODERS = ("naive", "goldman", "paircode", "tk-scone")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("coders") / "clip.mp4", frames=6, size=(64, 48))


@pytest.mark.parametrize("name", CODERS)
def test_transcode_roundtrip_with_every_coder(clip, tmp_path, name, capsys):
    dna, back = tmp_path / f"{name}.dnapkt", tmp_path / "back.mp4"
    assert transcode_main([str(clip), str(dna), "--coder", name, "--codec", "bitstream", "-q"]) == 0
    capsys.readouterr()
    assert transcode_main([str(dna), str(back), "-q"]) == 0
    # the DNA layer is lossless: every packet came back (CRC-checked), nothing concealed
    assert "data lost" not in capsys.readouterr().err
    src, got = ([f.astype(np.int64) for f in frames_of(p)] for p in (clip, back))
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
