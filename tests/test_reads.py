"""Reading DNA back: the sequencing simulator and the read path (trim, cluster, consensus)."""

import os
import sys
import types
from dataclasses import replace

import numpy as np
import pytest

from helix_media import plugins
from helix_media.benchmarks.channel import CLEAN, PAPER, trial
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.cli import main
from helix_media.readpath.reads import ReadProcessor
from helix_media.strandio.fasta import read_reads


@pytest.fixture(scope="module")
def framed():
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    rng = np.random.default_rng(0)
    payload = rng.integers(0, 2, (150, fr.payload_bits(coder))).astype(np.uint8)
    return fr, coder, payload, fr.frame(np.arange(150), payload, coder)


def _recovered(fr, coder, payload, reads):
    est = ReadProcessor(fr).process(list(reads))
    parsed = fr.parse(est.strands, coder, None, est.erasures)
    got = {}
    for a, p in zip(parsed.addresses[parsed.ok].tolist(), parsed.payload[parsed.ok], strict=True):
        got.setdefault(a, p)
    exact = [i for i in range(len(payload)) if i in got and (got[i] == payload[i]).all()]
    return exact, est.report


def test_simulator_is_deterministic_and_realistic(framed):
    strands = framed[3]
    channel = Channel(coverage=20, dropout=0.1, ins=0.002, dele=0.002, seed=4)
    a, b = simulate(strands, channel), simulate(strands, channel)
    assert (a.bases == b.bases).all() and (a.offsets == b.offsets).all()
    assert not (simulate(strands, replace(channel, seed=5)).bases[:1000] == a.bases[:1000]).all()
    per_strand = np.bincount(a.source, minlength=len(strands))
    assert 0.05 <= (per_strand == 0).mean() <= 0.18  # dropout 10 %
    assert 15 < per_strand[per_strand > 0].mean() < 25 and per_strand.std() > 3  # skewed
    assert 0.4 < a.reverse.mean() < 0.6
    lengths = np.diff(a.offsets)
    assert (lengths != 240).any() and abs(lengths.mean() - 240) < 1


def test_clean_strands_pass_through(framed):
    fr, coder, payload, strands = framed
    exact, report = _recovered(fr, coder, payload, strands)
    assert len(exact) == 150 and report.clusters == 150 and report.outliers == 0


def test_reverse_complements_and_paper_channel(framed):
    fr, coder, payload, strands = framed
    reads = simulate(strands, replace(PAPER, dropout=0.0, seed=1))
    exact, report = _recovered(fr, coder, payload, reads)
    assert len(exact) == 150
    assert report.reverse > 0.4 * report.reads and report.clusters >= 150


def test_one_percent_indels_at_30x(framed):
    fr, coder, payload, strands = framed
    reads = simulate(strands, replace(CLEAN, ins=0.005, dele=0.005, seed=2))
    exact, report = _recovered(fr, coder, payload, reads)
    assert report.clusters_aligned > 100
    assert len(exact) >= 0.95 * 150  # the rest is the outer code's job (next test)


def test_outer_code_makes_the_channel_bit_exact():
    t = trial(300, replace(CLEAN, ins=0.005, dele=0.005, dropout=0.03, seed=3), redundancy=0.1)
    assert t.decoded


def test_threads_give_the_estimates_of_one_thread(framed, monkeypatch):
    """Indel clusters are reconstructed on threads (THREAD_CHUNK at a time, in order)."""
    from helix_media.readpath import consensus, threads

    fr, _, _, strands = framed
    reads = list(simulate(strands, replace(CLEAN, coverage=6, ins=0.02, dele=0.02, seed=3)))
    monkeypatch.setattr(consensus, "THREAD_CHUNK", 4)
    got = {}
    for n in ("1", "3"):
        monkeypatch.setenv("HELIX_THREADS", n)
        assert threads.threads() == int(n)
        got[n] = ReadProcessor(fr).process(reads)
    assert got["1"].report.clusters_aligned > 100
    assert (got["1"].strands == got["3"].strands).all()
    assert (got["1"].erasures == got["3"].erasures).all()
    assert (got["1"].alternatives == got["3"].alternatives).all()


def test_one_thread_in_a_dask_task(monkeypatch):
    from helix_media.readpath.threads import threads

    monkeypatch.delenv("HELIX_THREADS", raising=False)
    fake = types.SimpleNamespace(get_worker=lambda: object())  # as in a worker's task
    monkeypatch.setitem(sys.modules, "distributed", fake)
    assert threads() == 1

    def outside():
        raise ValueError("No worker found")

    fake.get_worker = outside
    assert threads() == len(os.sched_getaffinity(0))


def test_junk_reads_are_counted_and_harmless(framed):
    fr, coder, payload, strands = framed
    reads = simulate(strands, replace(CLEAN, contaminants=0.3, seed=6))
    exact, report = _recovered(fr, coder, payload, reads)
    assert len(exact) == 150
    assert report.no_primers > 0 and report.too_short > 0 and report.outliers > 0
    used = report.clustered + report.no_primers + report.too_short + report.no_address
    assert used == report.reads


def test_simulate_cli_writes_fastq_that_decodes(tmp_path, framed, capsys):
    from helix_media.strandio.fasta import write_fasta

    fr, coder, payload, strands = framed
    write_fasta(tmp_path / "s.fasta", strands)
    out = tmp_path / "r.fastq.gz"
    assert main(["simulate", str(tmp_path / "s.fasta"), str(out), "--coverage", "8"]) == 0
    names, reads = read_reads(out)
    assert len(reads) > 800 and len(names) == len(reads)
    exact, _ = _recovered(fr, coder, payload, reads)
    assert len(exact) >= 148  # 8x with NB skew may leave a strand unread
    assert main(["simulate", str(tmp_path / "s.fasta"), str(tmp_path / "x.fq"), "--sub", "2"]) == 1
    assert capsys.readouterr().err.startswith("error: --sub")


def test_write_reads_fasta(tmp_path, framed):
    reads = simulate(framed[3][:5], Channel(coverage=3, seed=0))
    write_reads(str(tmp_path / "r.fa"), reads)
    _, got = read_reads(tmp_path / "r.fa")
    assert [g.tolist() for g in got] == [r.tolist() for r in reads]


def test_a_run_streamed_in_parts_gives_the_estimates_of_one_pass(framed, tmp_path, monkeypatch):
    """Parts spilled to disk and voted on owner by owner (a run bigger than memory) give the
    same estimates, in the same order, as all reads at once."""
    from helix_media.readpath import read_stream

    fr, _, _, strands = framed
    channel = Channel(coverage=15, sub=0.004, ins=0.002, dele=0.002, contaminants=0.03, seed=9)
    path = tmp_path / "reads.fastq"
    write_reads(str(path), simulate(strands, channel))
    whole = ReadProcessor(fr).process(read_reads(str(path), allow_n=True)[1])
    monkeypatch.setattr(read_stream, "PART_READS", 300)
    monkeypatch.setattr(read_stream, "OWNER_READS", 500)
    parts = read_stream.ReadParts(str(path))
    streamed = read_stream.estimate_strands(fr, parts)
    assert whole.report.reads > 4 * 500 and whole.report.clusters_aligned
    assert (streamed.strands == whole.strands).all()
    assert (streamed.erasures == whole.erasures).all()
    assert streamed.report == whole.report
