"""No silent loss: archive identity, honest exit statuses, OUT = IN refused, same bytes twice."""

import fcntl
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from clips import frames_of, write_clip

from helix_media import plugins
from helix_media.blocks import layout
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import main, transcode_main
from helix_media.strandio.strand_files import read_strands, write_strands

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _encode(tmp, name, size, frames, codec="bitstream"):
    clip = write_clip(tmp / f"{name}.mp4", frames=frames, size=size)
    dna = tmp / f"{name}.dnapkt"
    assert transcode_main([str(clip), str(dna), "--codec", codec, "-q"]) == 0
    return dna


@pytest.fixture(scope="module")
def two_archives(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trust")
    return tmp, _encode(tmp, "a", (96, 64), 12), _encode(tmp, "b", (64, 48), 6)


def _reads(dna, path, seed):
    _, seqs = read_strands(dna)
    write_reads(str(path), simulate(np.stack(seqs), Channel(coverage=20, seed=seed)))


def test_keyed_framer_rejects_another_archives_strands():
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder(None, constraints=fr.constraints)
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (50, fr.payload_bits(coder)), dtype=np.uint8)
    strands = fr.frame(np.arange(50), bits, coder, key=1234)
    assert fr.check(strands).ok(fr.constraints).all()
    assert fr.parse(strands, coder, key=1234).ok.all()
    assert not fr.parse(strands, coder, key=99).ok.any()
    assert not fr.parse(strands, coder).ok.any()  # unkeyed (old) readers see nothing either
    # key 0 is the unkeyed layout of archives written before archive ids
    np.testing.assert_array_equal(
        fr.frame(np.arange(50), bits, coder, key=0), fr.frame(np.arange(50), bits, coder)
    )


def test_mixed_reads_of_two_archives_decode_the_archive_alone(two_archives, tmp_path, capsys):
    tmp, a, b = two_archives
    _reads(a, tmp_path / "a.fastq", seed=1)
    _reads(b, tmp_path / "b.fastq", seed=2)
    mixed = (tmp_path / "a.fastq").read_bytes() + (tmp_path / "b.fastq").read_bytes()
    (tmp_path / "mix.fastq").write_bytes(mixed)
    assert transcode_main([str(tmp_path / "a.fastq"), str(tmp_path / "alone.mkv"), "-q"]) == 0
    assert transcode_main([str(tmp_path / "mix.fastq"), str(tmp_path / "mix.mkv"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "strands of 1 other archive(s)" in err and "data lost" not in err
    # same frames, same file bytes as the archive's reads alone
    assert (tmp_path / "mix.mkv").read_bytes() == (tmp_path / "alone.mkv").read_bytes()
    assert len(frames_of(tmp_path / "mix.mkv")) == 12


def test_metadata_of_two_archives_at_the_same_addresses_is_told_apart():
    fr = plugins.get_framer("helix")
    bits = fr.payload_bits(fr.metadata_coder)
    metas = [{"format": "helix-media", "id": i, "pad": "x" * 40 * i} for i in (1, 2)]
    parts = [layout.metadata_blocks(m, bits, fr.address_bits, 3) for m in metas]
    addresses = np.concatenate([p[0] for p in parts])
    blocks = np.concatenate([p[1] for p in parts])
    found = layout.recover_all_metadata(addresses, blocks, fr.address_bits)
    assert sorted(m["id"] for m in found) == [1, 2]


def test_most_strands_missing_exits_3_and_says_how_many(two_archives, tmp_path, capsys):
    _, a, _ = two_archives
    _, seqs = read_strands(a)
    strands = np.stack(seqs)
    keep = strands[::10]  # metadata copies come first: one of each chunk survives
    write_strands(tmp_path / "few.fasta", np.concatenate([strands[:12], keep]), {})
    out = tmp_path / "few.mkv"
    assert transcode_main([str(tmp_path / "few.fasta"), str(out), "-q"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("warning: data lost: ") and "data strands missing" in err
    assert out.exists()  # written, but reported as incomplete
    assert main(["probe", str(tmp_path / "few.fasta"), "--json"]) == 0
    import json

    p = json.loads(capsys.readouterr().out)
    assert p["data_strands_found"] < p["data_strands"]
    assert 0 < p["net_bits_per_nt"] <= p["payload_bits_per_nt"] <= 2


def test_output_that_is_the_input_is_refused(two_archives, tmp_path, capsys):
    _, a, _ = two_archives
    copy = tmp_path / "x.dnapkt"
    copy.write_bytes(a.read_bytes())
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    assert transcode_main([str(copy), str(copy)]) == 1
    assert transcode_main([str(copy), str(tmp_path / "." / "x.dnapkt")]) == 1
    err = capsys.readouterr().err
    assert "is also an input" in err
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


def test_pool_in_use_fails_clearly_and_get_refuses_the_pool_as_output(
    two_archives, tmp_path, capsys
):
    tmp, _, _ = two_archives
    pool = tmp_path / "p.dnapkt"
    clip = tmp / "b.mp4"
    assert main(["pool", "add", str(pool), str(clip), "--codec", "bitstream", "-q"]) == 0
    before = pool.read_bytes()
    with open(tmp_path / ".p.dnapkt.lock", "a") as lock:  # another add holds the pool
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert main(["pool", "add", str(pool), str(tmp / "a.mp4"), "-q"]) == 1
    assert "pool is in use" in capsys.readouterr().err
    assert main(["pool", "get", str(pool), "b.mp4", str(pool)]) == 1
    assert "is also an input" in capsys.readouterr().err
    assert pool.read_bytes() == before


@pytest.mark.parametrize("codec", ["bitstream", "helix"])
@pytest.mark.slow
def test_two_processes_decode_to_identical_bytes(tmp_path, codec):
    dna = _encode(tmp_path, "c", (64, 64), 8, codec=codec)
    outs = []
    for i in range(2):
        out = tmp_path / f"out{i}.mkv"
        cmd = [str(Path(sys.executable).parent / "helix-transcode"), str(dna), str(out), "-q"]
        subprocess.run(cmd, check=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def _verify(capsys, path):
    import json

    code = main(["verify", str(path), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_verify_clean_paper_channel_and_too_much_dropout(tmp_path, capsys):
    clip = write_clip(tmp_path / "v.mp4", frames=24, size=(160, 120))
    dna = tmp_path / "v.dnapkt"
    argv = [str(clip), str(dna), "--codec", "bitstream", "--quality", "20", "--redundancy", "0.1"]
    assert transcode_main([*argv, "-q"]) == 0
    code, clean = _verify(capsys, dna)
    assert code == 0 and clean["complete"] and clean["data_strands_missing"] == 0
    (segment,) = clean["segments"]
    assert clean["margin"] == segment["parity"] > 0  # every parity strand is spare
    _, seqs = read_strands(dna)
    strands = np.stack(seqs)
    channel = Channel(coverage=30, dropout=0.05, seed=4)  # within the 10 % the parity covers
    write_reads(str(tmp_path / "paper.fastq"), simulate(strands, channel))
    code, paper = _verify(capsys, tmp_path / "paper.fastq")
    assert code == 0 and paper["complete"]
    assert paper["strands_rebuilt"] > 0 and 0 <= paper["margin"] < clean["margin"]
    heavy = Channel(coverage=30, dropout=0.3, seed=4)
    write_reads(str(tmp_path / "heavy.fastq"), simulate(strands, heavy))
    code, lost = _verify(capsys, tmp_path / "heavy.fastq")
    assert code == 3 and not lost["complete"]
    assert lost["margin"] < 0 and lost["data_strands_missing"] > 0
    assert sum(lost["lost_units"].values()) > 0


def test_coders_that_do_not_guarantee_constraints_warn_with_the_count(tmp_path, capsys):
    clip = write_clip(tmp_path / "c.mp4", frames=6, size=(64, 48))
    assert transcode_main([str(clip), str(tmp_path / "e.dnapkt"), "--codec", "bitstream"]) == 0
    assert "warning" not in capsys.readouterr().err
    out = tmp_path / "p.dnapkt"
    assert transcode_main([str(clip), str(out), "--codec", "bitstream", "--coder", "paircode"]) == 0
    err = capsys.readouterr().err
    fr = plugins.get_framer("helix")
    _, seqs = read_strands(out)
    bad = int((~fr.check(np.stack(seqs)).ok(fr.constraints)).sum())
    assert bad > 0 and f"{bad} of {len(seqs)} strands are outside them" in err
    assert main(["plugins"]) == 0
    listing = capsys.readouterr().out
    assert "paircode       (paircode) - does NOT guarantee" in listing
    assert "enumerative    (enumerative) - guarantees" in listing


@pytest.mark.parametrize("framer", ["fountain", "hidden-address"])
@pytest.mark.slow
def test_fasta_of_any_framer_decodes_without_naming_it(tmp_path, framer):
    clip = write_clip(tmp_path / "f.mp4", frames=6, size=(64, 48))
    fasta = tmp_path / "f.fasta"
    argv = [str(clip), str(fasta), "--codec", "bitstream", "--framer", framer, "-q"]
    assert transcode_main(argv) == 0
    assert fasta.read_text().startswith(f">{framer}_000000\n")  # records name their framer
    assert transcode_main([str(fasta), str(tmp_path / "f.mkv"), "-q"]) == 0
    named = [str(fasta), str(tmp_path / "g.mkv"), "--framer", framer, "-q"]
    assert transcode_main(named) == 0  # --framer stays as an override
    assert (tmp_path / "f.mkv").read_bytes() == (tmp_path / "g.mkv").read_bytes()


def test_one_flipped_bit_in_a_dnapkt_costs_one_strand(two_archives, tmp_path, capsys):
    _, a, _ = two_archives
    data = bytearray(a.read_bytes())
    data[len(data) - 100] ^= 0x10  # inside the last packet: an outer-code parity strand
    hurt = tmp_path / "hurt.dnapkt"
    hurt.write_bytes(bytes(data))
    out = tmp_path / "hurt.mkv"
    # the default outer code: the one strand the bad packet held costs nothing
    assert transcode_main([str(hurt), str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "1 bad packets were left out" in err and "data lost" not in err
    assert len(frames_of(out)) == 12
    assert main(["verify", str(hurt), "--json"]) == 0
    import json

    v = json.loads(capsys.readouterr().out)
    assert v["damaged_packets"] == 1 and v["data_strands_found"] == v["data_strands"] - 1
    cut = tmp_path / "cut.dnapkt"
    cut.write_bytes(a.read_bytes()[:-1])  # the trailer's last byte gone: every strand intact
    assert transcode_main([str(cut), str(tmp_path / "cut.mkv"), "-q"]) == 0


def test_pool_with_an_unreadable_newer_catalogue_says_so(two_archives, tmp_path, capsys):
    from helix_media.archive.pool.catalogue import CATALOGUE_CHUNKS

    tmp, _, _ = two_archives
    pool = tmp_path / "p.dnapkt"
    for name in ("a.mp4", "b.mp4"):  # generations 0 and 1
        assert main(["pool", "add", str(pool), str(tmp / name), "--codec", "bitstream", "-q"]) == 0
    header, seqs = read_strands(pool)
    strands = np.stack(seqs)
    fr = plugins.get_framer("helix")
    parsed = fr.parse(strands, fr.metadata_coder, fr.metadata_coder)
    _, chunk = layout.split_metadata_address(fr.address_bits, parsed.addresses)
    meta = parsed.ok & fr.is_metadata(parsed.addresses)
    gen1 = np.flatnonzero(meta & (chunk // CATALOGUE_CHUNKS == 1))
    keep = np.ones(len(strands), dtype=bool)
    keep[gen1[1:]] = False  # one strand of generation 1 survives: there, but unreadable
    damaged = tmp_path / "d.dnapkt"
    write_strands(damaged, strands[keep], header)
    assert main(["pool", "list", str(damaged)]) == 3
    captured = capsys.readouterr()
    assert "generation(s) [1] are unreadable" in captured.err and "a.mp4" in captured.out
    assert main(["pool", "get", str(damaged), "b.mp4", str(tmp_path / "b.mkv")]) == 1
    assert "[1] are unreadable" in capsys.readouterr().err
    assert main(["pool", "add", str(damaged), str(tmp / "b.mp4"), "-q"]) == 1
    assert "adding now could lose items" in capsys.readouterr().err


def test_encoding_keeps_frame_timing_and_warns_about_what_it_cannot_keep(tmp_path, capsys):
    from fractions import Fraction

    import av

    clip = tmp_path / "vfr.mkv"
    with av.open(str(clip), "w") as c:  # 10-bit, frames 42 ms and 300 ms apart
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p10le"
        s.codec_context.time_base = Fraction(1, 1000)
        t = 0
        for i in range(12):
            img = np.full((48, 64, 3), i * 20, np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p10le")
            f.pts, f.time_base = t, Fraction(1, 1000)
            t += 42 if i % 2 else 300
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    out = tmp_path / "vfr.dnapkt"
    assert transcode_main([str(clip), str(out), "--codec", "bitstream", "-q"]) == 0
    err = capsys.readouterr().err
    assert "10-bit video (yuv420p10le) is stored as 8-bit" in err
    assert "frame rate" not in err  # a variable frame rate is kept, not warned about
    back = tmp_path / "back.mkv"
    assert transcode_main([str(out), str(back), "-q"]) == 0

    def times(path):
        with av.open(str(path)) as c:
            return [round(float(f.time), 3) for f in c.decode(video=0)]

    assert times(back) == times(clip)  # 0, 0.3, 0.342, 0.642, ...: 3.7 s, not 0.5 s
    plain = write_clip(tmp_path / "plain.mp4", frames=6, size=(64, 48))
    assert transcode_main([str(plain), str(tmp_path / "p.dnapkt"), "--codec", "bitstream"]) == 0
    assert "warning" not in capsys.readouterr().err
