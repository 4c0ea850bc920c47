"""helix-transcode end to end with the fountain framers: a clip survives 15 % strand loss."""

import numpy as np
import pytest

from helix_media import plugins
from helix_media.archive.decode import decode_video
from helix_media.channel.damage import damage
from helix_media.cli import transcode_main
from helix_media.media.metrics import video_psnr
from helix_media.strandio.strand_files import read_strands, write_strands


@pytest.fixture(scope="module")
def clip(gradient_clip):
    return gradient_clip


@pytest.mark.parametrize("framer", ["fountain", "hidden-address"])
def test_transcode_roundtrip_and_strand_loss(clip, tmp_path, framer):
    dna = tmp_path / "out.dnapkt"
    assert (
        transcode_main([str(clip), str(dna), "--framer", framer, "--codec", "bitstream", "-q"]) == 0
    )
    header, seqs = read_strands(dna)
    assert header["framer"] == framer
    fr = plugins.get_framer(framer)
    strands = np.stack(seqs)
    assert fr.check(strands).ok(fr.constraints).all()  # metadata and droplets alike

    back = tmp_path / "back.mp4"
    assert transcode_main([str(dna), str(back), "-q"]) == 0
    assert video_psnr(str(clip), str(back)) >= 30.0

    # 15 % of the strands lost and a substitution in each survivor: nothing is concealed
    reads, _ = damage(strands, dropout=0.15, substitutions=1, seed=2)
    lossy = tmp_path / "lossy.dnapkt"
    write_strands(lossy, reads, header)
    result = decode_video(str(lossy), str(tmp_path / "lossy.mp4"))
    assert result.concealed_frames == [] and not any(result.lost_units.values())
    assert video_psnr(str(back), str(tmp_path / "lossy.mp4")) >= 50.0  # same frames


def test_fasta_of_another_framer_decodes_with_or_without_framer_option(clip, tmp_path, capsys):
    """FASTA/FASTQ do not name their framer: each framer recognises its own metadata, and
    ``--framer`` stays as an override."""
    dna, fasta = tmp_path / "out.dnapkt", tmp_path / "out.fasta"
    argv = [str(clip), str(dna), "--framer", "fountain", "--codec", "bitstream", "-q"]
    assert transcode_main(argv) == 0
    write_strands(fasta, read_strands(dna)[1], {})
    back, named = tmp_path / "back.mp4", tmp_path / "named.mp4"
    assert transcode_main([str(fasta), str(back), "-q"]) == 0
    assert transcode_main([str(fasta), str(named), "--framer", "fountain", "-q"]) == 0
    assert video_psnr(str(clip), str(back)) >= 30.0
    assert back.read_bytes() == named.read_bytes()
    # a .dnapkt names its framer: another one given is refused
    assert transcode_main([str(dna), str(tmp_path / "x.mp4"), "--framer", "helix", "-q"]) != 0
    assert "framed by fountain" in capsys.readouterr().err
