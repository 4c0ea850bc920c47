"""Paired-end reads: merging mates, reading R1/R2 FASTQ, simulating and decoding a 2x150 run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from helix_media.archive.encode import encode_file
from helix_media.channel.sequencing import Channel, simulate_pairs
from helix_media.cli import main, transcode_main
from helix_media.dna.nucleotides import reverse_complement, to_string
from helix_media.errors import HelixError
from helix_media.readpath.paired import PairReport, merge_pairs
from helix_media.strandio.fasta import N_CODE, read_pairs, write_reads


def _strands(n: int, length: int = 240, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length), dtype=np.uint8)


def _mates(strand: np.ndarray, len1: int, len2: int) -> tuple[np.ndarray, np.ndarray]:
    """What a sequencer reads of a molecule: len1 nt from its start, len2 from its end."""
    return strand[:len1].copy(), reverse_complement(strand)[:len2].copy()


def test_exact_mates_merge_into_their_strand():
    strands = _strands(400)
    layouts = [(150, 150), (130, 130), (150, 120), (200, 100)]  # one group per layout
    pairs = [_mates(s, *layouts[i % 4]) for i, s in enumerate(strands)]
    reads, report = merge_pairs([p[0] for p in pairs], [p[1] for p in pairs])
    assert report == PairReport(pairs=400, merged=400, unmerged=0)
    assert all(np.array_equal(r, s) for r, s in zip(reads, strands, strict=True))


def test_the_overlap_takes_the_base_of_higher_quality():
    strand = _strands(1)[0]
    r1, r2 = _mates(strand, 150, 150)  # overlap: strand positions 90..149
    q1, q2 = np.full(150, 35, np.uint8), np.full(150, 35, np.uint8)
    r1[100], q1[100] = (r1[100] + 1) % 4, 5  # R1 wrong at 100, R2 right
    j = 239 - 120  # R2's index of strand position 120
    r2[j], q2[j] = (r2[j] + 1) % 4, 5  # R2 wrong at 120, R1 right
    (merged,), _ = merge_pairs([r1], [r2], [q1], [q2])
    assert np.array_equal(merged, strand)
    # equal qualities, or none: R1's base stays
    same = np.full(150, 35, np.uint8)
    (merged,), _ = merge_pairs([r1], [r2], [same], [same])
    assert merged[100] == r1[100] and merged[120] == strand[120]
    (merged,), _ = merge_pairs([r1], [r2])
    assert merged[100] == r1[100] and np.array_equal(np.delete(merged, 100), np.delete(strand, 100))
    # an N never wins, with or without qualities
    r1[110], q1[110] = N_CODE, 40
    for quals in (([q1], [q2]), (None, None)):
        (merged,), _ = merge_pairs([r1], [r2], *quals)
        assert merged[110] == strand[110]


def test_dovetail_mates_longer_than_the_molecule_give_the_molecule():
    rng = np.random.default_rng(3)
    molecules = [rng.integers(0, 4, n, dtype=np.uint8) for n in (40, 100, 149)]
    r1, r2 = [], []
    for m in molecules:  # each read runs on into its adapter (random here) after the molecule
        r1.append(np.concatenate([m, rng.integers(0, 4, 150 - len(m), np.uint8)]))
        r2.append(
            np.concatenate([reverse_complement(m), rng.integers(0, 4, 150 - len(m), np.uint8)])
        )
    reads, report = merge_pairs(r1, r2)
    assert report.merged == 3
    assert all(np.array_equal(r, m) for r, m in zip(reads, molecules, strict=True))


def test_mates_that_do_not_overlap_come_back_as_two_reads():
    strands = _strands(3, seed=1)
    apart = [_mates(s, 100, 100) for s in strands[:2]]  # 2x100 over 240 nt: 40 nt apart
    whole = _mates(strands[2], 150, 150)
    r1 = [apart[0][0], whole[0], apart[1][0]]
    r2 = [apart[0][1], whole[1], apart[1][1]]
    reads, report = merge_pairs(r1, r2)
    assert report == PairReport(pairs=3, merged=1, unmerged=2)
    expected = [r1[0], r2[0], strands[2], r1[2], r2[2]]  # pair order, mates as they were
    assert all(np.array_equal(r, e) for r, e in zip(reads, expected, strict=True))
    assert merge_pairs([], []) == ([], PairReport())


def test_simulated_pairs_read_both_ends_of_each_molecule():
    strands = _strands(50, seed=2)
    exact = Channel(coverage=4, synthesis_error=0.0, sub=0.0, seed=4)
    r1, r2 = simulate_pairs(strands, exact, 150)
    assert len(r1) == len(r2) > 100 and (r2.reverse == ~r1.reverse).all()
    for a, b, src, rev in zip(r1, r2, r1.source, r1.reverse, strict=True):
        molecule = reverse_complement(strands[src]) if rev else strands[src]
        assert np.array_equal(a, molecule[:150])
        assert np.array_equal(b, reverse_complement(molecule)[:150])
    noisy = replace(exact, synthesis_error=0.01, sub=0.01)
    a1, a2 = simulate_pairs(strands, noisy, 150)
    b1, b2 = simulate_pairs(strands, noisy, 150)
    assert np.array_equal(a1.bases, b1.bases) and np.array_equal(a2.qualities, b2.qualities)
    merged, report = merge_pairs(list(a1), list(a2))
    assert report.merged == report.pairs == len(a1)


def _write_pair(tmp_path: Path, names2: list[str] | None = None) -> tuple[Path, Path]:
    strands = _strands(3, seed=5)
    r1 = [to_string(s[:150]) for s in strands]
    r2 = [to_string(reverse_complement(s)[:150]) for s in strands]
    p1, p2 = tmp_path / "x_R1.fastq", tmp_path / "x_R2.fastq.gz"
    write_reads(p1, [f"m{i} 1:N:0" for i in range(3)], r1, ["I" * 150] * 3)
    names2 = names2 or [f"m{i} 2:N:0" for i in range(3)]
    write_reads(p2, names2, r2[: len(names2)], ["I" * 150] * len(names2))
    return p1, p2


def test_read_pairs(tmp_path):
    mates1, mates2 = read_pairs(*_write_pair(tmp_path))
    assert mates1.names[0] == "m0 1:N:0" and mates2.names[2] == "m2 2:N:0"
    assert [len(b) for b in mates2.bases] == [150] * 3 and (mates1.qualities[0] == 40).all()
    reads, report = merge_pairs(mates1.bases, mates2.bases, mates1.qualities, mates2.qualities)
    assert report.merged == 3 and all(len(r) == 240 for r in reads)


@pytest.mark.parametrize(
    ("names2", "message"),
    [
        (
            ["m0 2:N:0", "zz 2:N:0", "m2 2:N:0"],
            "x_R2.fastq.gz: record 2 is not the mate of record 2",
        ),
        (["m0 2:N:0", "m1 2:N:0"], "x_R2.fastq.gz: ends after 2 reads but"),
    ],
)
def test_unpaired_files_fail_with_one_line(tmp_path, capsys, names2, message):
    p1, p2 = _write_pair(tmp_path, names2)
    with pytest.raises(HelixError, match=message):
        read_pairs(p1, p2)
    out = tmp_path / "out.bin"
    assert transcode_main([str(p1), str(out), "--reads2", str(p2), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {p2}") and len(err.splitlines()) == 1
    assert "Traceback" not in err and not out.exists()


def test_reads2_needs_fastq_reads_to_decode(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p1, p2 = _write_pair(tmp_path)
    (tmp_path / "f.bin").write_bytes(b"data")
    for argv in (["f.bin", "f.dnapkt"], ["f.dnapkt", "f.out"]):  # encoding; not FASTQ
        assert transcode_main([*argv, "--reads2", str(p2), "-q"]) == 1
        assert capsys.readouterr().err.startswith("error: --reads2 is for decoding paired-end")
    assert transcode_main([str(p1), "out.bin", "--reads2", str(p1), "-q"]) == 1
    assert "is the R1 file itself" in capsys.readouterr().err


def test_file_round_trip_through_a_2x150_run(tmp_path, capsys):
    data = np.random.default_rng(9).bytes(3000)
    (tmp_path / "data.bin").write_bytes(data)
    encode_file(str(tmp_path / "data.bin"), str(tmp_path / "a.dnapkt"), codec="raw")
    reads = tmp_path / "run.fastq.gz"
    argv = ["simulate", str(tmp_path / "a.dnapkt"), str(reads), "--paired-end", "150"]
    assert main([*argv, "--coverage", "12", "--sub", "0.005", "--seed", "1"]) == 0
    r1, r2 = tmp_path / "run_R1.fastq.gz", tmp_path / "run_R2.fastq.gz"
    assert f"{r1}, {r2}: " in capsys.readouterr().out
    out = tmp_path / "back.bin"
    assert transcode_main([str(r1), str(out), "--reads2", str(r2)]) == 0
    assert out.read_bytes() == data
    summary = capsys.readouterr().out
    assert "read pairs" in summary and " 0 unmerged" in summary
    # each mate alone is too short for a strand: without --reads2 nothing decodes
    assert transcode_main([str(r1), str(tmp_path / "no.bin"), "-q"]) == 1
    assert "give the mates with --reads2" in capsys.readouterr().err
    assert not (tmp_path / "no.bin").exists()
