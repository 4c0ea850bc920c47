"""Clustering reads by similarity (helix_media.readpath.cluster): reads whose address carries
an indel still join their strand's cluster, in one process or in parts alike."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from helix_media import plugins
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import transcode_main
from helix_media.readpath import cluster, consensus, read_stream
from helix_media.readpath.parts import strong_keys
from helix_media.readpath.reads import ReadProcessor
from helix_media.strandio.fasta import read_reads

NANOPORE = Channel(coverage=12, sub=0.01, ins=0.01, dele=0.01)  # 1 + 1 + 1 % per base


@pytest.fixture(scope="module")
def framed():
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    rng = np.random.default_rng(0)
    payload = rng.integers(0, 2, (120, fr.payload_bits(coder))).astype(np.uint8)
    return fr, coder, fr.frame(np.arange(120), payload, coder)


@pytest.fixture(scope="module", autouse=True)
def _alignment_consensus():
    """The tests check the clustering; the consensus is the alignment's (the reconstructor
    has tests of its own). Module-scoped: the module's fixtures decode with it too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(consensus, "USE_RECONSTRUCT", False)
        yield


def _outside_main_cluster(part, routed, source) -> float:
    """Share of the trimmed reads that are not in their strand's largest cluster."""
    main: dict[int, int] = {}
    pairs = zip(source[routed.index].tolist(), routed.keys.tolist(), strict=True)
    for (s, _), n in Counter(pairs).items():
        main[s] = max(main.get(s, 0), n)
    return 1 - sum(main.values()) / len(part.index)


def test_reads_with_indels_in_the_address_join_their_strands_cluster(framed):
    fr, _, strands = framed
    reads = simulate(strands, replace(NANOPORE, seed=1))
    rp = ReadProcessor(fr)
    part = rp.trim(list(reads))
    strong = strong_keys([rp.key_stats(part)])
    source = reads.source[part.index]
    damaged = part.keys != fr.address_keys(np.arange(len(strands)))[source]
    assert damaged.mean() > 0.2  # an indel or two substitutions in the address: a wrong key
    (by_address,) = rp.route(part, strong)
    labels = rp.labels([part], strong)
    (by_similarity,) = rp.route(part, strong, 1, None, labels)
    assert _outside_main_cluster(part, by_address, reads.source) > 0.03
    assert _outside_main_cluster(part, by_similarity, reads.source) < 0.005
    assert by_similarity.report.similar == len(labels.index) > 0


def _noisy_reads(strands, seed: int, **kw) -> list[np.ndarray]:
    channel = Channel(coverage=30, sub=0.03, ins=0.03, dele=0.04, seed=seed, **kw)
    return list(simulate(strands[:60], channel))


def test_parts_and_bucket_partitions_give_the_labels_of_one_process(framed):
    """3+3+4 % errors at 30x: loose reads, anchors outvoting, spurious strong keys merged."""
    fr, _, strands = framed
    reads = _noisy_reads(strands, 2, contaminants=0.03)
    rp = ReadProcessor(fr)
    whole = rp.trim(reads)
    strong = strong_keys([rp.key_stats(whole)])
    one = rp.labels([whole], strong)
    assert len(one.index) > 300 and len(one.merge_from)  # both branches ran
    parts = [rp.trim(reads[lo : lo + 400], lo) for lo in range(0, len(reads), 400)]
    strong_parts = strong_keys([rp.key_stats(p) for p in parts])
    for field in ("keys", "counts", "anchor_index", "anchor_key"):
        assert np.array_equal(getattr(strong, field), getattr(strong_parts, field))
    for n_buckets in (1, 3, 5):
        got = rp.labels(parts, strong_parts, n_buckets)
        for field in ("index", "label", "merge_from", "merge_to"):
            assert np.array_equal(getattr(one, field), getattr(got, field)), (n_buckets, field)


def test_pairs_tested_on_threads_give_the_edges_of_the_walk(framed, monkeypatch):
    """Blocks of candidate pairs tested on threads confirm exactly the pairs the one-thread
    walk does (small blocks: many pairs joined inside a block before their turn)."""
    fr, _, strands = framed
    reads = _noisy_reads(strands, 4)
    rp = ReadProcessor(fr)
    whole = rp.trim(reads)
    strong = strong_keys([rp.key_stats(whole)])
    entries = rp.buckets(whole, strong, 1)
    monkeypatch.setattr(cluster, "PAIR_BLOCK", 16)
    edges = {}
    for n in ("1", "3"):
        monkeypatch.setenv("HELIX_THREADS", n)
        edges[n] = cluster.confirm(entries)
    assert len(edges["1"]) > 300
    assert np.array_equal(edges["1"], edges["3"])


@pytest.fixture(scope="module")
def noisy_fastq(framed, tmp_path_factory):
    """1+1+1 % at 12x with junk: chimeras, dimers, random and foreign reads."""
    fr, _, strands = framed
    path = tmp_path_factory.mktemp("noisy") / "reads.fastq"
    channel = Channel(coverage=12, sub=0.01, ins=0.01, dele=0.01, contaminants=0.05, seed=3)
    write_reads(str(path), simulate(strands, channel))
    seqs = read_reads(str(path), allow_n=True)[1]
    return path, seqs, ReadProcessor(fr).process(seqs)


def _same(a, b) -> None:
    assert a.strands.shape == b.strands.shape
    assert (a.strands == b.strands).all() and (a.erasures == b.erasures).all()
    assert a.report == b.report


def test_the_disk_shuffle_gives_the_estimates_of_one_process(framed, noisy_fastq, monkeypatch):
    fr = framed[0]
    path, _, whole = noisy_fastq
    monkeypatch.setattr(read_stream, "PART_READS", 200)
    monkeypatch.setattr(read_stream, "BUCKET_READS", 300)
    monkeypatch.setattr(read_stream, "OWNER_READS", 400)
    streamed = read_stream.estimate_strands(fr, read_stream.ReadParts(str(path)))
    assert whole.report.reads > 3 * 400 and whole.report.similar > 50
    _same(streamed, whole)


@pytest.mark.slow
def test_dask_gives_the_estimates_of_one_process(framed, noisy_fastq, monkeypatch):
    pytest.importorskip("dask.distributed")
    from helix_media import distributed

    fr = framed[0]
    _, seqs, whole = noisy_fastq
    monkeypatch.setattr(read_stream, "PART_READS", 250)
    with distributed.cluster(workers=2, quiet=True) as client:
        client.run(setattr, consensus, "USE_RECONSTRUCT", False)  # as in this process
        spread = distributed.estimate_strands(client, fr, read_stream.ReadParts("", seqs))
    _same(spread, whole)


def test_junk_and_foreign_reads_are_counted_not_clustered(framed, noisy_fastq):
    fr, coder, strands = framed
    report = noisy_fastq[2].report
    assert report.no_primers > 0 and report.too_short > 0  # random, foreign reads; dimers
    used = report.clustered + report.no_primers + report.too_short + report.no_address
    assert used + report.not_selected == report.reads
    assert report.clusters <= len(strands) + 5  # junk forms no clusters of its own
    est = noisy_fastq[2]
    parsed = fr.parse(est.strands, coder, None, est.erasures)
    assert len(set(parsed.addresses[parsed.ok].tolist())) >= 0.97 * len(strands)


def test_the_clusters_are_deterministic(framed, noisy_fastq):
    fr = framed[0]
    _, seqs, whole = noisy_fastq
    _same(ReadProcessor(fr).process(seqs), whole)


def test_select_applies_to_similarity_clusters_by_their_consensus_address(framed, noisy_fastq):
    fr, coder, strands = framed
    _, seqs, whole = noisy_fastq
    keep = np.arange(0, len(strands), 2)
    est = ReadProcessor(fr).process(seqs, select=fr.address_keys(keep))
    parsed = fr.parse(est.strands, coder, None, est.erasures)
    got = set(parsed.addresses[parsed.ok].tolist())
    assert got <= set(keep.tolist()) and len(got) >= 0.95 * len(keep)
    assert est.report.not_selected > 0.4 * whole.report.clustered


def test_a_reconstructor_is_used_for_indel_clusters_and_its_doubts_erased(framed, monkeypatch):
    fr, _, strands = framed
    calls = []

    class Fake:
        def __init__(self, bases, confidence):
            self.bases, self.confidence = bases, confidence

    def fake(reads, length, candidates=0):
        calls.append(len(reads))
        got = consensus.align(list(reads), length)
        confidence = np.ones(length)
        confidence[:3] = 0.1  # three doubtful bases: erasures
        return Fake(got[0], confidence)

    monkeypatch.setattr(consensus, "USE_RECONSTRUCT", True)
    monkeypatch.setattr(consensus, "_RECONSTRUCT", [fake])
    reads = list(simulate(strands[:20], Channel(coverage=8, ins=0.01, dele=0.01, seed=4)))
    est = ReadProcessor(fr).process(reads)
    assert len(calls) == est.report.clusters_aligned > 10
    assert est.erasures[:, 20:23].all(axis=1).sum() >= len(calls)

    def broken(reads, length, candidates=0):
        raise RuntimeError("draft")

    monkeypatch.setattr(consensus, "_RECONSTRUCT", [broken])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = ReadProcessor(fr).process(reads)
    assert caught and again.report.clusters_aligned == est.report.clusters_aligned


def test_a_noisy_run_of_a_small_file_decodes_bit_exactly(tmp_path):
    """1+1+1 % errors at 10x: with clusters by address alone this decoded nothing."""
    data = np.random.default_rng(5).integers(0, 256, 6000, dtype=np.uint8).tobytes()
    (tmp_path / "f.bin").write_bytes(data)
    args = [str(tmp_path / "f.bin"), str(tmp_path / "f.dnapkt"), "--redundancy", "0.1", "-q"]
    assert transcode_main(args) == 0
    from helix_media.strandio.strand_files import read_strands

    strands = np.stack(read_strands(tmp_path / "f.dnapkt")[1])
    channel = Channel(coverage=10, sub=0.01, ins=0.01, dele=0.01, seed=0)
    write_reads(str(tmp_path / "r.fastq"), simulate(strands, channel))
    assert transcode_main([str(tmp_path / "r.fastq"), str(tmp_path / "out.bin"), "-q"]) == 0
    assert (tmp_path / "out.bin").read_bytes() == data


def test_labels_of_no_edges_are_empty():
    from helix_media.readpath.parts import Strong

    none = np.zeros(0, dtype=np.int64)
    got = cluster.labels([], Strong(none, none, none, none))
    assert not len(got.index) and not len(got.merge_from)
