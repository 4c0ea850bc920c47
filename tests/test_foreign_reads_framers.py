"""Issue 38 item 11: with the ``fountain`` and ``hidden-address`` framers, 1 % of another
archive's reads (same primers) made a complete archive report 100 % loss: their strands
passed the inner code and spoiled fountain droplets. Now these framers key data strands by
the archive, as ``helix`` does, so a stranger's strands fail to parse; archives written
before (no ``keyed`` in the framer's metadata) still decode, unkeyed."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from helix_media_builtins.framers import lt_code

from helix_media import plugins
from helix_media.archive.parse import read_dna
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import transcode_main
from helix_media.strandio.strand_files import read_strands

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FRAMERS = ["fountain", "hidden-address"]


def _encode(d: Path, name: str, size: int, framer: str, seed: int) -> tuple[Path, Path]:
    data = d / f"{name}.bin"
    data.write_bytes(np.random.default_rng(seed).integers(0, 256, size, np.uint8).tobytes())
    dna = d / f"{name}.dnapkt"
    assert transcode_main([str(data), str(dna), "--framer", framer, "-q"]) == 0
    return data, dna


def _reads(dna: Path, path: Path, seed: int) -> list[str]:
    """Reads at 20x, as FASTQ records (4 lines each)."""
    write_reads(str(path), simulate(np.stack(read_strands(str(dna))[1]), Channel(20, seed=seed)))
    lines = path.read_text().splitlines()
    return ["\n".join(lines[i : i + 4]) for i in range(0, len(lines), 4)]


@pytest.fixture(scope="module", params=FRAMERS)
def ours_theirs(request, tmp_path_factory):
    """Ours (6 kB of random bytes) and theirs (3 kB), same primers and framer, and reads of
    both: (framer, dir, our bytes, our reads, their reads, their archive)."""
    d = tmp_path_factory.mktemp(request.param)
    ours, a = _encode(d, "ours", 6000, request.param, 1)
    _, b = _encode(d, "theirs", 3000, request.param, 2)
    return request.param, d, ours, _reads(a, d / "a.fastq", 1), _reads(b, d / "b.fastq", 2), b


def _decode(reads: list[str], path: Path, *args: str) -> tuple[int, Path]:
    path.write_text("\n".join(reads) + "\n")
    out = path.with_suffix(".out")
    return transcode_main([str(path), str(out), "-q", *args]), out


@pytest.mark.slow
def test_one_percent_foreign_reads_cost_nothing(ours_theirs, tmp_path, capsys):
    """Before: "1 of 1 chunks ... lost", exit 1 (every block of ours given up)."""
    _, _, ours, mine, theirs, _ = ours_theirs
    foreign = random.Random(3).sample(theirs, len(mine) // 100)
    reads = mine + foreign
    random.Random(4).shuffle(reads)
    rc, out = _decode(reads, tmp_path / "mix.fastq")
    assert rc == 0 and "data lost" not in capsys.readouterr().err
    assert out.read_bytes() == ours.read_bytes()
    _, meta, _, stats = read_dna(str(tmp_path / "mix.fastq"))
    assert stats["data_strands_found"] == stats["data_strands"]
    assert stats["archive_id"] == meta["id"] and meta["framer"]["keyed"] is True


@pytest.mark.slow
def test_mixed_reads_of_two_archives_decode_each_alone(ours_theirs, tmp_path, capsys):
    """All reads of both, as the helix framer's test has them: ours (the most data strands)
    decodes, theirs is named and counted as foreign, and --archive gives theirs."""
    _, d, ours, mine, theirs, b = ours_theirs
    rc, out = _decode(mine + theirs, tmp_path / "both.fastq")
    err = capsys.readouterr().err
    assert rc == 0 and "strands of 1 other archive(s)" in err and "data lost" not in err
    assert out.read_bytes() == ours.read_bytes()
    stats = read_dna(str(tmp_path / "both.fastq"))[3]
    assert stats["foreign_strands"] > 0 and len(stats["archives"]) == 2
    their_id = read_dna(str(b))[1]["id"]
    rc, out = _decode(mine + theirs, tmp_path / "theirs.fastq", "--archive", str(their_id))
    assert rc == 0 and out.read_bytes() == (d / "theirs.bin").read_bytes()


@pytest.mark.parametrize("framer", FRAMERS)
def test_keyed_strands_parse_under_their_key_only(framer):
    fr = plugins.get_framer(framer)
    coder = fr.metadata_coder
    bits = np.random.default_rng(5).integers(0, 2, (40, fr.payload_bits(coder)), dtype=np.uint8)
    strands = fr.frame(np.arange(40), bits, coder, key=1234)
    assert fr.check(strands).ok(fr.constraints).all()
    got = fr.parse(strands, coder, key=1234)
    assert sorted(got.addresses[got.ok].tolist()) == list(range(40))
    assert not fr.parse(strands, coder, key=99).ok.any()
    assert not fr.parse(strands, coder).ok.any()  # nor unkeyed
    # the same input and key: the same strands; key 0 is the old, unkeyed layout
    np.testing.assert_array_equal(strands, fr.frame(np.arange(40), bits, coder, key=1234))
    np.testing.assert_array_equal(
        fr.frame(np.arange(40), bits, coder, key=0), fr.frame(np.arange(40), bits, coder)
    )


@pytest.mark.parametrize("framer", FRAMERS)
def test_an_archive_written_before_keys_still_decodes(framer, tmp_path, monkeypatch, capsys):
    """An old writer: no ``keyed`` in the framer's metadata, so unkeyed data strands."""
    cls = type(plugins.get_framer(framer))
    new_describe = cls.describe
    monkeypatch.setattr(
        cls, "describe", lambda self: {k: v for k, v in new_describe(self).items() if k != "keyed"}
    )
    data, dna = _encode(tmp_path, "old", 3000, framer, 6)
    monkeypatch.undo()
    fr, meta, _, _ = read_dna(str(dna))
    assert "keyed" not in meta["framer"] and "keyed" in fr.describe()
    strands = np.stack(read_strands(str(dna))[1])
    assert fr.parse(strands, fr.metadata_coder, key=meta["id"]).ok.sum() < 20  # unkeyed
    out = tmp_path / "old.out"
    assert transcode_main([str(dna), str(out), "-q"]) == 0
    assert out.read_bytes() == data.read_bytes()
    reads = _reads(dna, tmp_path / "old.fastq", 7)
    assert _decode(reads, tmp_path / "r.fastq")[0] == 0


def _droplets(k: int, seed: int):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, 2**63, (k, 3), dtype=np.uint64)
    seeds = rng.choice(2**31, lt_code.droplets_needed(k, 0.35), replace=False).astype(np.uint64)
    return src, seeds, lt_code.encode(src, seeds), rng


@pytest.mark.parametrize("doubt", [0, 1])
def test_lt_decoding_leaves_out_wrong_droplets_not_blocks(doubt):
    """One wrong droplet RS had no doubt about, or five among doubtful ones: before, every
    block they reached (here all of them) was given up."""
    src, seeds, values, rng = _droplets(300, doubt)
    wrong = rng.choice(len(seeds), 1 if doubt == 0 else 5, replace=False)
    values[wrong] ^= np.uint64(1) << np.uint64(7)
    doubts = np.zeros(len(seeds), dtype=np.int64)
    doubts[rng.choice(len(seeds), 30, replace=False)] = 1  # genuine droplets RS corrected
    doubts[wrong] = doubt
    res = lt_code.decode_checked(seeds, values, 300, doubts)
    assert res.known.all() and (res.blocks == src).all()


def test_lt_decoding_never_trusts_blocks_it_cannot_check():
    """Wrong droplets it cannot single out: no block is returned, rather than a wrong one."""
    src, seeds, values, rng = _droplets(300, 2)
    values[rng.choice(len(seeds), 12, replace=False)] ^= np.uint64(1)
    res = lt_code.decode_checked(seeds, values, 300, np.zeros(len(seeds), dtype=np.int64))
    assert (res.blocks[res.known] == src[res.known]).all()
