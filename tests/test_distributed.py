"""The same jobs on a local Dask cluster of two worker processes give the same results."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from clips import frames_of, write_clip

pytest.importorskip("dask.distributed")

from helix_media import distributed
from helix_media.archive import pool
from helix_media.archive.parse import read_dna
from helix_media.channel.sequencing import Channel, simulate, write_reads  # noqa: E402
from helix_media.cli import main, transcode_main  # noqa: E402
from helix_media.readpath import read_stream  # noqa: E402
from helix_media.strandio.strand_files import read_strands  # noqa: E402


@pytest.fixture(scope="module")
def dask_cluster():
    with distributed.cluster(workers=2, quiet=True) as client:
        yield client


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    d = tmp_path_factory.mktemp("dist")
    clip = write_clip(d / "clip.mp4", frames=24)
    out = d / "clip.dnapkt"
    assert transcode_main([str(clip), str(out), "-q", "--no-audio"]) == 0
    strands = np.stack(read_strands(out)[1])
    # indels, chimeras, junk and a lost strand: every branch of the read path has work
    channel = Channel(coverage=20, sub=0.004, ins=0.002, dele=0.002, contaminants=0.02, seed=3)
    reads = d / "reads.fastq.gz"
    write_reads(str(reads), simulate(strands, channel))
    return d, clip, out, reads


@pytest.mark.slow
def test_reads_decode_to_the_same_frames_and_counts(archive, dask_cluster, monkeypatch):
    d, _, _, reads = archive
    assert transcode_main([str(reads), str(d / "single.mkv"), "-q"]) == 0
    single = read_dna(str(reads))
    monkeypatch.setattr(read_stream, "PART_READS", 64)  # many parts, many owners
    with distributed.cluster(dask_cluster.scheduler.address, quiet=True):
        spread = read_dna(str(reads))
        assert spread[3]["reads"]["reads"] > 3 * 64
        args = [str(reads), str(d / "spread.mkv"), "-q"]
        assert transcode_main([*args, "--scheduler", dask_cluster.scheduler.address]) == 0
    assert spread[3] == single[3]
    assert sorted(spread[2]) == sorted(single[2])
    assert all((spread[2][a] == single[2][a]).all() for a in single[2])
    assert np.array_equal(
        np.stack(frames_of(d / "spread.mkv")), np.stack(frames_of(d / "single.mkv"))
    )
    assert (d / "spread.mkv").read_bytes() == (d / "single.mkv").read_bytes()


def test_estimates_are_the_same_in_the_same_order(archive, dask_cluster, monkeypatch):
    from helix_media import plugins
    from helix_media.readpath.reads import ReadProcessor
    from helix_media.strandio.fasta import read_reads

    _, _, _, reads = archive
    fr = plugins.get_framer("helix")
    seqs = read_reads(str(reads), allow_n=True)[1]
    here = ReadProcessor(fr).process(seqs)
    monkeypatch.setattr(read_stream, "PART_READS", 50)
    there = distributed.estimate_strands(dask_cluster, fr, read_stream.ReadParts("", seqs))
    assert here.report.clusters_aligned and here.report.outliers  # the branches ran
    assert (there.strands == here.strands).all()
    assert (there.erasures == here.erasures).all()
    assert there.report == here.report


@pytest.mark.slow
def test_pool_add_on_a_cluster_writes_the_same_strands(archive, dask_cluster, tmp_path):
    d, clip, _, _ = archive
    other = write_clip(tmp_path / "other.mp4", kind="noise", frames=6)
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"pool notes\n" * 200)
    items = [str(clip), str(other), str(notes)]
    pool.add_items(str(tmp_path / "single.dnapkt"), items, own_primers=True)
    with distributed.cluster(dask_cluster.scheduler.address, quiet=True):
        pool.add_items(str(tmp_path / "spread.dnapkt"), items, own_primers=True)
    single = (tmp_path / "single.dnapkt").read_bytes()
    assert (tmp_path / "spread.dnapkt").read_bytes() == single
    # from reads of the whole pool: the workers trim by the item's own primers
    reads = tmp_path / "pool.fastq"
    strands = np.stack(read_strands(tmp_path / "spread.dnapkt")[1])
    write_reads(str(reads), simulate(strands, Channel(coverage=10, seed=1)))
    out = tmp_path / "clip.mkv"
    cmd = ["pool", "get", str(reads), "clip.mp4", str(out)]
    assert main([*cmd, "--scheduler", dask_cluster.scheduler.address]) == 0
    assert len(frames_of(out)) == 24


@pytest.mark.parametrize("on_cluster", [False, True], ids=["here", "cluster"])
def test_framing_and_parsing_in_shards_give_the_same_results(
    archive, dask_cluster, monkeypatch, tmp_path, on_cluster
):
    _, clip, single, reads = archive
    whole = {src: read_dna(str(src)) for src in (single, reads)}
    monkeypatch.setattr(distributed, "SHARD_ROWS", 10)
    assert len(read_strands(single)[1]) >= 30  # several shards
    out = tmp_path / "spread.dnapkt"
    address = dask_cluster.scheduler.address if on_cluster else None
    where = ["--scheduler", address] if on_cluster else []
    assert transcode_main([str(clip), str(out), "-q", "--no-audio", *where]) == 0
    assert out.read_bytes() == single.read_bytes()
    with distributed.cluster(address, quiet=True):
        for src, (_, meta, blocks, stats) in whole.items():
            _, meta2, blocks2, stats2 = read_dna(str(src))
            assert (meta2, stats2) == (meta, stats)
            assert sorted(blocks2) == sorted(blocks)
            assert all((blocks2[a] == blocks[a]).all() for a in blocks)


def test_without_dask_the_options_name_the_extra(archive, monkeypatch, capsys):
    d, _, _, reads = archive
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails
    assert transcode_main([str(reads), str(d / "x.mkv"), "--workers", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: --scheduler and --workers need Dask: pip install 'helix-media[distributed]'"
    )
    assert not (d / "x.mkv").exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_one_line_error(archive, capsys):
    d, _, _, reads = archive
    args = [str(reads), str(d / "x.mkv"), "--scheduler", "tcp://127.0.0.1:9"]
    assert transcode_main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err[0]


@pytest.mark.slow
def test_bench_scale_runs_and_checks_itself(capsys):
    args = ["bench", "scale", "--strands", "300", "--workers", "1", "--part-reads", "512"]
    assert main(args) == 0  # 1 when a cluster's estimates or strands differ from one process
    table = capsys.readouterr().out
    assert "1 workers" in table and table.rstrip().endswith("True")
