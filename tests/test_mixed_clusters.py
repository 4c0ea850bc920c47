"""Two archives made with the same primers share addresses, so a cluster of their reads can
hold two strands. Nanopore reads (indels) are split by edit distance: each strand gets its
own estimate, and the inner code, keyed by the archive, tells whose each is."""

import numpy as np
import pytest

from helix_media.benchmarks.traces import synthetic
from helix_media.cli import main, transcode_main
from helix_media.readpath.consensus import indel_consensus
from helix_media.readpath.reconstruct import reconstruct


def test_a_cluster_of_two_strands_gives_both_estimates():
    clusters = synthetic(200, 8, 10, seed=11)  # reads from the fitted nanopore channel
    both = 0
    for (_, a, reads_a), (_, b, reads_b) in zip(clusters[::2], clusters[1::2], strict=True):
        reads = reads_a[:8] + reads_b[:6]
        out = set(reconstruct(reads, 200).outliers.tolist())
        assert out >= set(range(8, 14)) or out >= set(range(8))  # one strand's reads sit out
        got = indel_consensus(reads, 200)
        assert got.second is not None
        pair = {got.bases.tobytes(), got.second.tobytes()}
        both += pair == {a.tobytes(), b.tobytes()}
    assert both >= 3


def test_one_strand_is_never_split():
    clusters = synthetic(200, 10, 12, seed=12)
    for _, strand, reads in clusters:
        got = indel_consensus(reads, 200)
        assert got.second is None and np.array_equal(got.bases, strand)


@pytest.mark.slow
def test_nanopore_reads_of_two_archives_with_the_same_primers_decode_both(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ids = {}
    for name, seed in (("a", 1), ("b", 2)):
        src, strands = tmp_path / f"{name}.bin", str(tmp_path / f"{name}.dnapkt")
        src.write_bytes(rng.bytes(3000))
        assert transcode_main([str(src), strands]) == 0
        reads = str(tmp_path / f"{name}.fq")
        simulate = ["simulate", strands, reads, "--profile", "nanopore-r9", "--coverage", "20"]
        assert main([*simulate, "--seed", str(seed)]) == 0
        capsys.readouterr()
        assert main(["probe", strands]) == 0
        ids[name] = capsys.readouterr().out.split("archive: ")[1].split()[0]
    mix = tmp_path / "mix.fastq"
    mix.write_text((tmp_path / "a.fq").read_text() + (tmp_path / "b.fq").read_text())
    for name, archive in ids.items():
        out = tmp_path / f"{name}.out"
        assert transcode_main([str(mix), str(out), "--archive", archive]) == 0
        assert out.read_bytes() == (tmp_path / f"{name}.bin").read_bytes()
