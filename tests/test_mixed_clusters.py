"""Two archives made with the same primers share addresses, so a cluster of their reads can
hold two strands. Nanopore reads (indels) are split by edit distance: each strand gets its
own estimate, and the inner code, keyed by the archive, tells whose each is."""

import subprocess

import numpy as np
import pytest

from helix_media.benchmarks.traces import synthetic
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
def test_nanopore_reads_of_two_archives_with_the_same_primers_decode_both(tmp_path):
    rng = np.random.default_rng(0)
    ids = {}
    for name, seed in (("a", 1), ("b", 2)):
        (tmp_path / f"{name}.bin").write_bytes(rng.bytes(3000))
        subprocess.run(
            ["helix-transcode", str(tmp_path / f"{name}.bin"), str(tmp_path / f"{name}.dnapkt")],
            check=True, capture_output=True,
        )  # fmt: skip
        subprocess.run(
            ["helix", "simulate", str(tmp_path / f"{name}.dnapkt"), str(tmp_path / f"{name}.fq"),
             "--profile", "nanopore-r9", "--coverage", "20", "--seed", str(seed)],
            check=True, capture_output=True,
        )  # fmt: skip
        probe = subprocess.run(
            ["helix", "probe", str(tmp_path / f"{name}.dnapkt")], capture_output=True, text=True
        ).stdout
        ids[name] = probe.split("archive: ")[1].split()[0]
    mix = tmp_path / "mix.fastq"
    mix.write_text((tmp_path / "a.fq").read_text() + (tmp_path / "b.fq").read_text())
    for name, archive in ids.items():
        out = tmp_path / f"{name}.out"
        done = subprocess.run(
            ["helix-transcode", str(mix), str(out), "--archive", archive],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == (tmp_path / f"{name}.bin").read_bytes()
