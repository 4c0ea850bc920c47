"""End to end through the CLI: video -> strands -> video, damage, and bad input."""

import json
from pathlib import Path

import av
import numpy as np
import pytest
from clips import frames_of, write_clip

from helix_media import plugins
from helix_media.archive.decode import decode_media
from helix_media.channel.damage import damage
from helix_media.cli import main, transcode_main
from helix_media.media.metrics import video_psnr
from helix_media.resources import sample_clip
from helix_media.strandio.strand_files import read_strands, write_strands

SAMPLE = sample_clip()


@pytest.fixture(scope="module")
def sample_roundtrip(tmp_path_factory):
    d = tmp_path_factory.mktemp("rt")
    assert transcode_main([str(SAMPLE), str(d / "out.dnapkt"), "--codec", "bitstream", "-q"]) == 0
    assert transcode_main([str(d / "out.dnapkt"), str(d / "back.mp4"), "-q"]) == 0
    return d


@pytest.fixture(scope="module")
def small_archive(tmp_path_factory):
    """A 4 s clip, 160x120 with sound (3 GOPs), archived as the sample is: what the fast tests
    probe, damage and decode (the sample's own archive takes seconds to encode)."""
    d = tmp_path_factory.mktemp("small")
    clip = write_clip(d / "in.mp4", frames=48, size=(160, 120), audio=True)
    assert transcode_main([str(clip), str(d / "out.dnapkt"), "--codec", "bitstream", "-q"]) == 0
    return d / "out.dnapkt"


@pytest.fixture(scope="module")
def unprotected(tmp_path_factory):
    """The sample without an outer code (--redundancy 0): the tests of what lost strands
    cost need one, since the default outer code rebuilds them."""
    path = tmp_path_factory.mktemp("r0") / "r0.dnapkt"
    argv = [str(SAMPLE), str(path), "--codec", "bitstream", "--redundancy", "0", "-q"]
    assert transcode_main(argv) == 0
    return path


@pytest.mark.slow
def test_sample_roundtrip_is_playable_and_faithful(sample_roundtrip):
    back = sample_roundtrip / "back.mp4"
    with av.open(str(SAMPLE)) as a, av.open(str(back)) as b:
        sa, sb = a.streams.video[0], b.streams.video[0]
        assert (sb.width, sb.height) == (sa.width, sa.height)
        assert sb.average_rate == sa.average_rate
        assert len(b.streams.audio) == 1  # the sample's audio came along
    assert len(frames_of(back)) == len(frames_of(SAMPLE))
    assert video_psnr(str(SAMPLE), str(back)) >= 35.0


def test_probe_of_a_file_archive_names_the_file(tmp_path, capsys):
    (tmp_path / "notes.txt").write_bytes(b"field notes " * 100)
    assert transcode_main([str(tmp_path / "notes.txt"), str(tmp_path / "a.dnapkt"), "-q"]) == 0
    assert main(["probe", str(tmp_path / "a.dnapkt")]) == 0
    assert "  file: notes.txt, 1200 bytes" in capsys.readouterr().out
    assert main(["probe", str(tmp_path / "a.dnapkt"), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["archived_file"] == "notes.txt" and p["archived_size"] == 1200 and "width" not in p


def test_probe_json_has_the_contract_keys(small_archive, capsys):
    assert main(["probe", str(small_archive), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    for key in (
        "strands",
        "strand_length",
        "payload_bits_per_nt",
        "net_bits_per_nt",
        "gc_min",
        "gc_max",
        "max_homopolymer",
        "motif_hits",
        "width",
        "height",
        "frames",
        "fps",
        "cost_usd",
    ):
        assert key in p
    assert p["strand_length"] == 240 and p["max_homopolymer"] <= 3 and p["motif_hits"] == 0
    assert 0.45 <= p["gc_min"] <= p["gc_max"] <= 0.55
    assert p["cost_usd"] == pytest.approx(0.014 * p["strands"])
    assert p["codec_settings"] == "libsvtav1 preset 1, CRF 48, closed GOPs of 16 frames"


@pytest.mark.parametrize("kind,audio", [("black", False), ("noise", False), ("gradient", True)])
def test_every_exported_strand_obeys_the_constraints(tmp_path, kind, audio):
    clip = write_clip(tmp_path / f"{kind}.mp4", kind, audio=audio)
    fasta = tmp_path / "strands.fasta"
    assert transcode_main([str(clip), str(fasta), "--codec", "bitstream", "-q"]) == 0
    _, seqs = read_strands(fasta)
    strands = np.stack(seqs)
    assert strands.shape[1] == 240
    fr = plugins.get_framer("helix")
    report = fr.check(strands)
    assert (report.gc >= 0.45).all() and (report.gc <= 0.55).all()
    assert report.max_homopolymer.max() <= 3 and report.motif_hits.max() == 0
    assert len({s.tobytes() for s in strands}) == len(strands)  # whitening: no repeats
    if audio:
        back = tmp_path / "back.mp4"
        assert transcode_main([str(fasta), str(back), "-q"]) == 0
        with av.open(str(back)) as c:
            assert len(c.streams.audio) == 1


def test_three_substitutions_per_strand_decode_identically(small_archive, tmp_path):
    _, seqs = read_strands(small_archive)
    reads, _ = damage(np.stack(seqs), substitutions=3, seed=11)
    write_strands(tmp_path / "subs.fasta", reads, {})
    assert transcode_main([str(tmp_path / "subs.fasta"), str(tmp_path / "subs.mp4"), "-q"]) == 0
    clean = decode_media(str(small_archive))
    hurt = decode_media(str(tmp_path / "subs.fasta"))
    assert hurt.result.strands_ok == len(reads) and hurt.result.symbols_corrected > 0
    assert not hurt.result.concealed_frames
    a = [f.to_ndarray() for f in clean.frames]
    b = [f.to_ndarray() for f in hurt.frames]
    assert len(a) == len(b) and all((x == y).all() for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_one_percent_deleted_completes_and_reports(sample_roundtrip, unprotected, tmp_path, capsys):
    capsys.readouterr()  # the fixtures' --redundancy 0 warning
    _, seqs = read_strands(unprotected)
    reads, lost = damage(np.stack(seqs), dropout=0.01, seed=3)
    assert len(lost) > 0
    write_strands(tmp_path / "lost.fasta.gz", reads, {})
    out = tmp_path / "lost.mp4"
    # the video is written, and the exit status and the message say that data were lost
    assert transcode_main([str(tmp_path / "lost.fasta.gz"), str(out), "-q"]) == 3
    err = capsys.readouterr().err
    assert f"data lost: {len(lost)} of " in err and "data strands missing" in err
    assert "video units lost" in err
    assert len(frames_of(out)) == len(frames_of(SAMPLE))
    # the default archive (auto outer code) loses nothing to the same 1 %
    _, seqs = read_strands(sample_roundtrip / "out.dnapkt")
    reads, lost = damage(np.stack(seqs), dropout=0.01, seed=3)
    write_strands(tmp_path / "lost2.fasta.gz", reads, {})
    assert transcode_main([str(tmp_path / "lost2.fasta.gz"), str(out), "-q"]) == 0


@pytest.mark.slow
def test_outer_code_makes_lost_strands_cost_nothing(sample_roundtrip, tmp_path):
    dna = tmp_path / "r.dnapkt"
    assert (
        transcode_main(
            [str(SAMPLE), str(dna), "--redundancy", "0.15", "--codec", "bitstream", "-q"]
        )
        == 0
    )
    _, seqs = read_strands(dna)
    reads, lost = damage(np.stack(seqs), dropout=0.10, seed=5)  # 10 % of all strands lost
    write_strands(tmp_path / "lost.fasta", reads, {})
    clean = decode_media(str(sample_roundtrip / "out.dnapkt"))
    hurt = decode_media(str(tmp_path / "lost.fasta"))
    assert len(lost) > 100 and not hurt.result.concealed_frames
    assert not any(hurt.result.lost_units.values())
    a = [f.to_ndarray() for f in clean.frames]
    b = [f.to_ndarray() for f in hurt.frames]
    assert len(a) == len(b) and all((x == y).all() for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_stream_redundancy_protects_one_stream(tmp_path, capsys):
    dna = tmp_path / "p.dnapkt"
    # --redundancy 0: the other streams get none (by default they would get auto)
    args = ["--codec", "bitstream", "--stream-redundancy", "video=0.2", "--redundancy", "0", "-q"]
    assert transcode_main([str(SAMPLE), str(dna), *args]) == 0
    assert capsys.readouterr().err.startswith("warning: no outer code for audio")
    assert main(["probe", str(dna), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["redundancy"] == {"video": 0.2, "audio": 0.0}
    assert main(["verify", str(dna), "--json"]) == 0
    v = json.loads(capsys.readouterr().out)
    audio_strands = p["streams"]["audio"]["strands"]
    assert v["margin"] == 0  # the audio strands have no parity: any loss there is data
    assert {"data": audio_strands, "parity": 0, "present": audio_strands, "margin": 0} in v[
        "segments"
    ]
    video, audio = (p["streams"][k]["strands"] for k in ("video", "audio"))
    assert p["parity_strands"] == -(-video // 5) and p["data_strands"] == video + audio + \
        p["parity_strands"]  # fmt: skip
    _, seqs = read_strands(dna)
    strands = np.stack(seqs)
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    clean = decode_media(str(dna))
    meta = clean.result.metadata
    addresses = fr.parse(strands, coder, key=meta["id"]).addresses
    first = meta["streams"]["video"]["first_strand"]
    rng = np.random.default_rng(0)
    lost_video = rng.choice(np.arange(first, first + video), p["parity_strands"], replace=False)
    keep = ~np.isin(addresses, lost_video)
    write_strands(tmp_path / "v.fasta", strands[keep], {})
    hurt = decode_media(str(tmp_path / "v.fasta"))
    assert not any(hurt.result.lost_units.values()) and not hurt.result.concealed_frames
    a = [f.to_ndarray() for f in clean.frames]
    b = [f.to_ndarray() for f in hurt.frames]
    assert len(a) == len(b) and all((x == y).all() for x, y in zip(a, b, strict=True))
    audio_first = meta["streams"]["audio"]["first_strand"]
    write_strands(tmp_path / "a.fasta", strands[addresses != audio_first], {})
    assert decode_media(str(tmp_path / "a.fasta")).result.lost_units["audio"]  # no parity


@pytest.mark.slow
def test_stream_redundancy_names_a_stream_of_the_archive(tmp_path, capsys):
    dna = tmp_path / "p.dnapkt"
    args = [str(SAMPLE), str(dna), "--codec", "bitstream", "-q", "--stream-redundancy"]
    assert transcode_main([*args, "video.1=0.1"]) != 0
    assert "no stream video.1 in this archive (streams: video, audio)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        transcode_main([*args, "video"])
    assert "expected STREAM=R" in capsys.readouterr().err
    assert not dna.exists()


def test_strand_loss_in_one_gop_spares_the_others(tmp_path):
    """No outer code (--redundancy 0), 3 GOPs: the middle data strand lost costs GOP 1 alone."""
    clip = write_clip(tmp_path / "in.mp4", frames=48, size=(160, 120))
    dna = tmp_path / "r0.dnapkt"
    argv = [str(clip), str(dna), "--codec", "bitstream", "--redundancy", "0", "-q"]
    assert transcode_main(argv) == 0
    _, seqs = read_strands(dna)
    strands = np.stack(seqs)
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    clean_media = decode_media(str(dna))
    key = clean_media.result.metadata["id"]
    addresses = fr.parse(strands, coder, key=key).addresses
    data = np.sort(addresses[~fr.is_metadata(addresses)])
    middle = data[len(data) // 2]  # inside GOP 1
    write_strands(tmp_path / "gop1.fasta", strands[addresses != middle], {})
    clean = clean_media.frames
    hurt = decode_media(str(tmp_path / "gop1.fasta")).frames
    same = [
        bool((x.to_ndarray() == y.to_ndarray()).all()) for x, y in zip(clean, hurt, strict=True)
    ]
    assert len(same) == 48 and all(same[:16]) and all(same[32:]) and not any(same[16:32])


def _fails_cleanly(capsys, argv, out_path=None):
    code = transcode_main(argv)
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err
    if out_path is not None:
        assert not Path(out_path).exists()
        assert not [p for p in Path(out_path).parent.iterdir() if ".tmp" in p.name]


def test_bad_inputs_give_one_line_errors(tmp_path, capsys, small_archive):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n")
    _fails_cleanly(capsys, [str(text), str(tmp_path / "a.dnapkt")], tmp_path / "a.dnapkt")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    _fails_cleanly(capsys, [str(empty), str(tmp_path / "b.dnapkt")], tmp_path / "b.dnapkt")
    data = small_archive.read_bytes()
    trunc = tmp_path / "trunc.dnapkt"
    trunc.write_bytes(data[: len(data) // 2])
    # a damaged .dnapkt decodes what it can: its lost half is reported, exit 3
    assert transcode_main([str(trunc), str(tmp_path / "c.mp4"), "-q"]) == 3
    err = capsys.readouterr().err
    assert "bad packets were left out" in err and "data lost:" in err
    assert (tmp_path / "c.mp4").exists()
    bad = tmp_path / "bad.fasta"
    bad.write_text(">s1\nACGTNNXACGT\n")
    _fails_cleanly(capsys, [str(bad), str(tmp_path / "d.mp4")], tmp_path / "d.mp4")
    empty_fa = tmp_path / "empty.fasta"
    empty_fa.write_text("")
    _fails_cleanly(capsys, [str(empty_fa), str(tmp_path / "e.mp4")], tmp_path / "e.mp4")
    _fails_cleanly(capsys, [str(SAMPLE), "/nonexistent-dir/out.dnapkt"])
    _fails_cleanly(capsys, [str(small_archive), "/nonexistent-dir/x.mp4"])
    _fails_cleanly(capsys, [str(tmp_path / "missing.mp4"), str(tmp_path / "f.dnapkt")])
