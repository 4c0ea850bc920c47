"""--strand-length (helix framer, 200-300 nt) and the default (auto) outer code: layout,
constraints at every length, round trips from clean strands and from reads with no length
hint, the vendor sheet, what the default protection survives, and the --redundancy 0 warning."""

import csv
import json

import numpy as np
import pytest
from clips import write_clip

from helix_media import plugins
from helix_media.archive.decode import decode_file
from helix_media.archive.encode import encode_file, encode_video
from helix_media.blocks.outer_code import (
    DESIGN_DROPOUT,
    OuterCode,
    auto_redundancy,
    parity_needed,
)
from helix_media.channel.damage import damage
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import main, transcode_main
from helix_media.errors import HelixError
from helix_media.strandio.strand_files import read_strands, write_strands

LENGTHS = (200, 260, 300)


@pytest.fixture(scope="module")
def base():
    fr = plugins.get_framer("helix")
    return fr, plugins.get_coder("enumerative", constraints=fr.constraints)


def _file(tmp_path, size=3000, seed=0, name="data.bin"):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


# -- the layout ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_layout_at_each_length(base):
    fr240, coder = base
    assert (fr240.strand_length, fr240.payload_nt, fr240.n_parity) == (240, 152, 6)
    assert fr240.payload_bits(coder) == 300 and "strand_length" not in fr240.describe()
    bits = {}
    for n in range(200, 301):
        fr = fr240.at_length(n)
        assert fr.strand_length == n and fr.o_primer3 + 20 == n
        assert n == 20 + 16 + fr.payload_nt + 1 + 5 * fr.n_parity + 1 + 20
        if n != 240:
            assert fr.n_parity == 4 and fr.describe()["strand_length"] == n
        bits[n] = fr.payload_bits(coder)
    # more payload per strand spreads primers, address and parity over more bits
    assert bits[200] == 240 and bits[260] == 359 and bits[300] == 439
    assert bits[300] / 260 > 1.68  # bits per nt without primers, before the outer code
    assert fr240.at_length(199) is None and fr240.at_length(301) is None
    with pytest.raises(ValueError, match="200-300 nt"):
        plugins.get_framer("helix", strand_length=320)


@pytest.mark.parametrize("length", [200, 218, 240, 259, 260, 278, 298, 300])
def test_every_strand_obeys_the_constraints(base, length):
    """Random and adversarial payloads (all zeros, all ones: whitening happens upstream),
    data strands keyed, metadata strands: GC 45-55 %, runs <= 3, no motif, no primer copy.
    218, 238 ... 298 are the lengths whose worst case needs the fillers' help for GC."""
    fr = base[0].at_length(length)
    coder = base[1]
    bits = fr.payload_bits(coder)
    rng = np.random.default_rng(length)
    payload = rng.integers(0, 2, (400, bits)).astype(np.uint8)
    payload[:40] = 0
    payload[40:80] = 1
    payload[80:120, ::2] = 1
    payload[80:120, 1::2] = 0
    addresses = np.arange(400)
    addresses[300:] |= 1 << 24  # metadata addresses: the metadata coder, no key
    strands = fr.frame(addresses, payload, coder, key=0x1234ABCD)
    report = fr.check(strands)
    assert report.ok(fr.constraints).all()
    assert report.gc.min() >= 0.45 and report.gc.max() <= 0.55
    assert report.max_homopolymer.max() <= 3 and report.motif_hits.max() == 0
    parsed = fr.parse(strands, coder, coder, key=0x1234ABCD)
    assert parsed.ok.all()
    np.testing.assert_array_equal(parsed.payload, payload)
    np.testing.assert_array_equal(parsed.addresses, addresses)


@pytest.mark.parametrize("length", LENGTHS)
def test_substitutions_and_erasures_are_corrected_at_each_length(base, length):
    """4 parity words: 2 substitutions anywhere (clean strands), 1 with one symbol kept for
    detection (reads), or 4 erased bases."""
    fr, coder = base[0].at_length(length), base[1]
    rng = np.random.default_rng(7)
    payload = rng.integers(0, 2, (100, fr.payload_bits(coder))).astype(np.uint8)
    strands = fr.frame(np.arange(100), payload, coder, key=99)
    hurt = strands.copy()
    for row in hurt:
        pos = rng.choice(length, 2, replace=False)
        row[pos] = (row[pos] + rng.integers(1, 4, 2)) % 4
    parsed = fr.parse(hurt, coder, key=99)
    assert parsed.ok.all() and (parsed.payload == payload).all()
    erasures = np.zeros(strands.shape, dtype=bool)
    erasures[:, fr.o_payload + 10] = True
    one = strands.copy()
    one[:, 50] = (one[:, 50] + 1) % 4
    parsed = fr.parse(one, coder, erasures=erasures, key=99)
    assert parsed.ok.all() and (parsed.payload == payload).all()
    # another archive's strands (another key) never decode into this one
    assert not fr.parse(strands, coder, key=98).ok.any()


# -- whole archives ------------------------------------------------------------------------------
@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.slow
def test_round_trip_from_clean_strands_needs_no_hint(tmp_path, length):
    src = _file(tmp_path, 4000, seed=length)
    dna = tmp_path / "a.dnapkt"
    r = encode_file(str(src), str(dna), strand_length=length)
    assert r.strands.shape[1] == length
    assert r.metadata["framer"]["strand_length"] == length  # recorded in the DNA
    header, _ = read_strands(dna)
    assert header["strand_length"] == length
    report = plugins.get_framer("helix").at_length(length).check(r.strands)
    assert report.ok(plugins.get_framer("helix").at_length(length).constraints).all()
    # .dnapkt (header), FASTA (no header: the commonest length), FASTA shuffled with junk
    fasta = tmp_path / "a.fasta"
    write_strands(fasta, r.strands, {})
    rng = np.random.default_rng(1)
    junk = [rng.integers(0, 4, n).astype(np.uint8) for n in (240, 240, 150, 299)]
    mixed = [*r.strands[rng.permutation(len(r.strands))], *junk]
    (tmp_path / "mixed.fasta").write_text(
        "".join(f">s{i}\n{''.join('ACGT'[b] for b in s)}\n" for i, s in enumerate(mixed))
    )
    for path in (dna, fasta, tmp_path / "mixed.fasta"):
        out = tmp_path / "back.bin"
        decode_file(str(path), str(out))
        assert out.read_bytes() == src.read_bytes()


def test_junk_of_another_length_does_not_hide_the_strands(tmp_path):
    """The commonest sequence length names the layout tried first; the framer's own length is
    still tried when that finds no metadata (here: more 250-nt junk than 240-nt strands)."""
    src = _file(tmp_path, 1500, seed=5)
    r = encode_file(str(src), None)
    rng = np.random.default_rng(2)
    junk = rng.integers(0, 4, (len(r.strands) + 5, 250))
    text = "".join(
        f">s{i}\n{''.join('ACGT'[b] for b in s)}\n" for i, s in enumerate([*r.strands, *junk])
    )
    (tmp_path / "mixed.fasta").write_text(text)
    out = tmp_path / "back.bin"
    decode_file(str(tmp_path / "mixed.fasta"), str(out))
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    "length,channel",
    [
        (200, Channel(coverage=30, dropout=0.01, seed=1)),
        (260, Channel(coverage=10, dropout=0.02, seed=2)),
        (300, Channel(coverage=30, dropout=0.01, seed=3)),
        (300, Channel(coverage=10, dropout=0.02, seed=4)),
    ],
)
@pytest.mark.slow
def test_round_trip_from_simulated_reads(tmp_path, length, channel):
    """helix simulate's channel (30x with 1 % dropout, the paper's; 10x with 2 %), FASTQ in
    both orientations, no framer or length given: bit-exact through the default outer code."""
    src = _file(tmp_path, 8000, seed=length + channel.seed)
    r = encode_file(str(src), None, strand_length=length)
    fastq = tmp_path / "reads.fastq.gz"
    write_reads(str(fastq), simulate(r.strands, channel))
    out = tmp_path / "back.bin"
    result = decode_file(str(fastq), str(out))
    assert out.read_bytes() == src.read_bytes()
    assert result.stats["strands_unrecoverable"] == 0


def test_same_input_same_strands(tmp_path):
    src = _file(tmp_path, 2000)
    a = encode_file(str(src), None, strand_length=300)
    b = encode_file(str(src), None, strand_length=300)
    np.testing.assert_array_equal(a.strands, b.strands)


def test_video_at_300_nt_and_the_cli(tmp_path, capsys):
    clip = write_clip(tmp_path / "g.mp4")
    dna = tmp_path / "g.dnapkt"
    assert transcode_main([str(clip), str(dna), "--strand-length", "300", "-q"]) == 0
    assert main(["probe", str(dna), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert p["strand_length"] == 300 and p["constraint_violations"] == 0
    assert p["loss_tolerance"]["video"]["parity_per_segment"] > 0
    assert transcode_main([str(dna), str(tmp_path / "back.mp4"), "-q"]) == 0
    # a length outside the framer's range, a framer without lengths, a length when decoding
    for args in (["--strand-length", "320"], ["--framer", "fountain", "--strand-length", "260"]):
        assert transcode_main([str(clip), str(tmp_path / "x.dnapkt"), *args, "-q"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: --strand-length") and err.count("\n") == 1
    assert transcode_main([str(dna), str(tmp_path / "y.mp4"), "--strand-length", "300"]) == 1
    assert "decoding reads it from the strands" in capsys.readouterr().err


def test_the_vendor_sheet_states_the_length(tmp_path, capsys):
    # 300 nt, as the tests above: the coder's tables for a length are built once per process
    r = encode_file(str(_file(tmp_path, 1500)), str(tmp_path / "a.dnapkt"), strand_length=300)
    assert main(["export", str(tmp_path / "a.dnapkt"), str(tmp_path / "order.csv")]) == 0
    assert f"{len(r.strands)} strands of 300 nt" in capsys.readouterr().out
    with open(tmp_path / "order.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Name", "Sequence", "Length"]
    assert {row[2] for row in rows[1:]} == {"300"} and {len(row[1]) for row in rows[1:]} == {300}


# -- the default outer code ----------------------------------------------------------------------
def test_auto_redundancy_gives_each_segment_what_2_percent_dropout_needs():
    assert [parity_needed(k) for k in (1, 100, 1000, 3700)] == [3, 12, 46, 121]
    for bits in (300, 359, 439):
        for n in (1, 7, 100, 552, 1839, 5000, 40_000):
            r = auto_redundancy(n, bits)
            assert len(repr(r)) <= 8  # a short number in the metadata
            for seg in OuterCode.create(r, bits, n).segments():
                assert seg.parity_count >= parity_needed(seg.data_count)
    # small archives need a larger share: random loss varies more relative to k
    assert auto_redundancy(100, 300) > auto_redundancy(1000, 300) > auto_redundancy(3700, 300)
    assert DESIGN_DROPOUT == 0.02


@pytest.mark.parametrize("length", [240, 300])
def test_the_default_survives_2_percent_dropout(tmp_path, length):
    """A fixed set (every 50th strand, metadata included) and random 2 % (3 seeds)."""
    src = _file(tmp_path, 30_000, seed=length)
    r = encode_file(str(src), None, strand_length=length)
    assert "outer_code" in r.metadata
    fixed = np.ones(len(r.strands), dtype=bool)
    fixed[::50] = False
    sets = [r.strands[fixed]] + [damage(r.strands, dropout=0.02, seed=s)[0] for s in range(3)]
    for i, strands in enumerate(sets):
        write_strands(tmp_path / f"d{i}.fasta", strands, {})
        out = tmp_path / "back.bin"
        result = decode_file(str(tmp_path / f"d{i}.fasta"), str(out))
        assert out.read_bytes() == src.read_bytes()
        assert result.stats["strands_recovered"] > 0


def test_loss_tolerance_is_the_parity_per_segment(tmp_path, capsys):
    src = _file(tmp_path, 30_000, seed=3)
    dna = tmp_path / "a.dnapkt"
    r = encode_file(str(src), str(dna), strand_length=300)
    (seg,) = OuterCode.from_json(r.metadata["outer_code"]).segments()
    assert main(["probe", str(dna)]) == 0
    line = f"loss tolerance: up to {seg.parity_count} lost strands per outer-code segment"
    assert line in capsys.readouterr().out
    assert main(["verify", str(dna)]) == 0
    assert line in capsys.readouterr().out
    # exactly that many lost data strands are rebuilt; one more loses the file
    fr = plugins.get_framer("helix").at_length(300)
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    addresses = fr.parse(r.strands, coder, coder, key=r.metadata["id"]).addresses
    for lost, code in ((seg.parity_count, 0), (seg.parity_count + 1, 3)):
        keep = ~np.isin(addresses, np.arange(lost))
        write_strands(tmp_path / "lost.fasta", r.strands[keep], {})
        assert main(["verify", str(tmp_path / "lost.fasta"), "--json"]) == code
        v = json.loads(capsys.readouterr().out)
        assert v["loss_tolerance"]["file"]["parity_per_segment"] == seg.parity_count
        assert v["complete"] == (code == 0)


def test_redundancy_0_warns_what_a_lost_strand_costs(tmp_path, capsys):
    src = _file(tmp_path, 2500)
    out = tmp_path / "a.dnapkt"
    assert transcode_main([str(src), str(out), "--redundancy", "0", "-q"]) == 0
    err = capsys.readouterr().err
    assert err == (
        "warning: no outer code (--redundancy 0): one lost strand loses the whole file "
        "(2500 bytes: a file comes back whole or not at all)\n"
    )
    assert main(["probe", str(out)]) == 0
    assert "loss tolerance: none (no outer code)" in capsys.readouterr().out
    # the default and auto say nothing
    for extra in ([], ["--redundancy", "auto"]):
        assert transcode_main([str(src), str(tmp_path / "b.dnapkt"), *extra, "-q"]) == 0
        assert capsys.readouterr().err == ""
    clip = write_clip(tmp_path / "g.mp4", audio=True)
    video = tmp_path / "v.dnapkt"
    assert transcode_main([str(clip), str(video), "--redundancy", "0", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: no outer code (--redundancy 0): one lost strand loses ")
    assert "video: its whole GOP (up to 12 frames, 1.00 s, " in err
    assert "audio: up to " in err and err.count("\n") == 1
    # one stream left out of the default protection: the warning names it
    assert transcode_main([str(clip), str(video), "--stream-redundancy", "audio=0", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: no outer code for audio: one lost strand there loses audio")


def test_python_api_default_is_protected(tmp_path):
    r = encode_video(str(write_clip(tmp_path / "g.mp4")), None, codec="bitstream")
    assert r.metadata["outer_code"]["scheme"] == "rs-cauchy"
    n = r.metadata["outer_code"]["data_strands"]
    assert r.data_strands - n == parity_needed(n)
    with pytest.raises(HelixError, match="--redundancy"):
        encode_file(str(_file(tmp_path)), None, redundancy=5)
