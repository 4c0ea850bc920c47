"""The ``raw`` codec: any file, stored losslessly, through the whole pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from helix_media import plugins
from helix_media.archive.decode import decode_any
from helix_media.archive.encode import encode_file
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import transcode_main
from helix_media.errors import HelixError
from helix_media.strandio.strand_files import write_strands

INPUTS = {
    "random.bin": np.random.default_rng(1).bytes(20_000),
    "zeros.dat": bytes(20_000),
    "notes.txt": b"the quick brown fox jumps over the lazy dog\n" * 400,
    "empty.pdf": b"",
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_round_trip_byte_identical_and_constraints(tmp_path, name):
    src = tmp_path / name
    src.write_bytes(INPUTS[name])
    r = encode_file(str(src), str(tmp_path / "a.dnapkt"))
    assert r.metadata["codec"] == "raw" and r.metadata["file"]["size"] == len(INPUTS[name])
    fr = plugins.get_framer(None)
    assert fr.check(r.strands).ok(fr.constraints).all()  # every strand, whole
    out = tmp_path / "back.mp4"  # a video suffix: the stored bytes are written anyway
    res = decode_any(str(tmp_path / "a.dnapkt"), str(out))
    assert out.read_bytes() == INPUTS[name]
    assert res.metadata["file"]["name"] == name


def test_zlib_levels_shrink_repetitive_input(tmp_path):
    src = tmp_path / "notes.txt"
    src.write_bytes(INPUTS["notes.txt"])
    stored = encode_file(str(src), codec="raw")
    deflated = encode_file(str(src), str(tmp_path / "z.fasta"), quality=9)
    assert deflated.data_strands < stored.data_strands / 10
    decode_any(str(tmp_path / "z.fasta"), str(tmp_path / "z.out"))
    assert (tmp_path / "z.out").read_bytes() == INPUTS["notes.txt"]


def test_from_simulated_reads_with_loss_and_outer_code(tmp_path):
    src = tmp_path / "random.bin"
    src.write_bytes(INPUTS["random.bin"])
    r = encode_file(str(src), redundancy=0.1, seed=7)
    reads = simulate(r.strands, Channel(coverage=20, dropout=0.03, seed=3))
    write_reads(str(tmp_path / "reads.fastq"), reads)
    res = decode_any(str(tmp_path / "reads.fastq"), str(tmp_path / "out.bin"))
    assert (tmp_path / "out.bin").read_bytes() == INPUTS["random.bin"]
    assert res.stats["strands_recovered"] > 0


def test_lost_strands_without_outer_code_fail_cleanly(tmp_path):
    src = tmp_path / "random.bin"
    src.write_bytes(INPUTS["random.bin"])
    r = encode_file(str(src), redundancy=0)  # the default outer code would rebuild them
    fr = plugins.get_framer(None)
    header = {"framer": "helix", "codec": "raw", "strand_length": fr.strand_length}
    write_strands(str(tmp_path / "cut.dnapkt"), r.strands[:-5], header)  # lose 5 data strands
    out = tmp_path / "out.bin"
    with pytest.raises(HelixError, match="lost or damaged"):
        decode_any(str(tmp_path / "cut.dnapkt"), str(out))
    assert not out.exists()


def test_cli_suffix_rules(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.pdf").write_bytes(INPUTS["notes.txt"])
    assert transcode_main(["notes.pdf", "n.dnapkt", "-q"]) == 0
    assert transcode_main(["n.dnapkt", "notes-back.pdf", "-q"]) == 0
    assert (tmp_path / "notes-back.pdf").read_bytes() == INPUTS["notes.txt"]
    # a video suffix PyAV cannot read stays an error: one line, exit 1, no output
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    assert transcode_main(["bad.mp4", "b.dnapkt", "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "b.dnapkt").exists()
    # ...unless raw is asked for
    assert transcode_main(["bad.mp4", "b.dnapkt", "--codec", "raw", "-q"]) == 0
    assert transcode_main(["b.dnapkt", "b.out", "-q"]) == 0
    assert (tmp_path / "b.out").read_bytes() == b"not a video at all"
    assert transcode_main(["notes.pdf", "z.dnapkt", "--quality", "12", "-q"]) == 1
    assert transcode_main(["missing.pdf", "m.dnapkt", "-q"]) == 1


def test_deterministic(tmp_path):
    src = tmp_path / "random.bin"
    src.write_bytes(INPUTS["random.bin"])
    a = encode_file(str(src), str(tmp_path / "a.dnapkt"), seed=3)
    b = encode_file(str(src), str(tmp_path / "b.dnapkt"), seed=3)
    assert np.array_equal(a.strands, b.strands)
    assert (tmp_path / "a.dnapkt").read_bytes() == (tmp_path / "b.dnapkt").read_bytes()
