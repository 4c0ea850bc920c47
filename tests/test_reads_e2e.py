"""Video -> strands -> reads (our simulator, and ART's Illumina simulator) -> the same video."""

import shutil
import subprocess

import pytest

from helix_media.archive.decode import decode_media
from helix_media.cli import main, transcode_main
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands

SAMPLE = sample_clip()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("reads")
    assert (
        transcode_main(
            [str(SAMPLE), str(d / "s.dnapkt"), "--redundancy", "0.1", "--codec", "bitstream", "-q"]
        )
        == 0
    )
    return d, decode_media(str(d / "s.dnapkt"))


def _same_frames(a, b):
    x = [f.to_ndarray() for f in a.frames]
    y = [f.to_ndarray() for f in b.frames]
    return len(x) == len(y) and all((p == q).all() for p, q in zip(x, y, strict=True))


@pytest.mark.slow
def test_fastq_from_the_paper_channel_decodes_identically(archive, capsys):
    d, clean = archive
    reads = d / "paper.fastq.gz"
    argv = ["simulate", str(d / "s.dnapkt"), str(reads), "--dropout", "0.01", "--seed", "3"]
    assert main([*argv, "--contaminants", "0.02"]) == 0
    assert transcode_main([str(reads), str(d / "back.mp4")]) == 0
    out = capsys.readouterr().out
    assert "without primers" in out and "rebuilt by the outer code" in out
    hurt = decode_media(str(reads))
    assert not hurt.result.concealed_frames and _same_frames(clean, hurt)
    assert hurt.result.stats["reads"]["no_primers"] > 0


@pytest.mark.skipif(
    shutil.which("art_illumina") is None,
    reason="ART not installed (Debian: apt-get install art-nextgen-simulation-tools)",
)
@pytest.mark.slow
def test_art_illumina_reads_decode_identically(archive, tmp_path):
    d, clean = archive
    assert main(["export", str(d / "s.dnapkt"), str(tmp_path / "s.fa")]) == 0
    cmd = ["art_illumina", "-ss", "MSv1", "-l", "240", "-c", "30", "-i", str(tmp_path / "s.fa")]
    cmd += ["-o", str(tmp_path / "art"), "-rs", "1", "-na", "-q"]
    subprocess.run(cmd, check=True, capture_output=True)
    hurt = decode_media(str(tmp_path / "art.fq"))
    strands = len(read_strands(str(d / "s.dnapkt"))[1])
    assert hurt.result.stats["reads"]["reads"] > 25 * strands  # ART at -c 30, 240 of 240 nt
    assert not hurt.result.concealed_frames and _same_frames(clean, hurt)
