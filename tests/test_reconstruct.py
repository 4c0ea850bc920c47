"""Trace reconstruction (pair-HMM polishing) on synthetic clusters, and its benchmark."""

import json

import numpy as np
import pytest

from helix_media.cli.bench import traces
from helix_media.readpath import trace_channel as tc
from helix_media.readpath.edit_scores import score
from helix_media.readpath.reconstruct import log_likelihood, reconstruct
from helix_media.readpath.template_edits import apply_edits


def noisy(strand: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """One read: each base deleted, preceded by a random insertion or substituted with
    probability ``rate`` / 3 each."""
    out = []
    for b in strand:
        u = rng.random() * 3 / rate
        if u < 1:
            continue
        if u < 2:
            out.append(rng.integers(4))
        out.append((b + rng.integers(1, 4)) % 4 if 2 <= u < 3 else b)
    return np.array(out, dtype=np.uint8)


def cluster(length=120, reads=10, rate=0.05, seed=0):
    rng = np.random.default_rng(seed)
    strand = rng.integers(0, 4, length).astype(np.uint8)
    return strand, [noisy(strand, rate, rng) for _ in range(reads)]


def test_clusters_are_reconstructed_exactly():
    exact = 0
    for seed in range(8):
        strand, reads = cluster(seed=seed)
        rec = reconstruct(reads, len(strand))
        exact += np.array_equal(rec.bases, strand)
        assert len(rec.bases) == len(strand) and rec.bases.dtype == np.uint8
        assert rec.reads_used == len(reads) and len(rec.confidence) == len(strand)
    assert exact >= 7


def test_error_free_reads_give_the_strand_with_full_confidence():
    strand, _ = cluster(seed=1)
    rec = reconstruct([strand] * 5, len(strand))
    assert np.array_equal(rec.bases, strand)
    assert rec.confidence.min() > 0.99


def test_a_single_read_gives_itself():
    read = np.array([0, 1, 2, 3, 4, 2], dtype=np.uint8)  # 4 = N
    rec = reconstruct([read], 10)
    assert np.array_equal(rec.bases[:4], read[:4]) and rec.bases[4] < 4
    assert rec.confidence[4] == 0 and rec.reads_used == 1


def test_deterministic():
    strand, reads = cluster(reads=6, rate=0.08, seed=2)
    a, b = reconstruct(reads, len(strand)), reconstruct(list(reads), len(strand))
    assert np.array_equal(a.bases, b.bases)
    assert np.array_equal(a.confidence, b.confidence)
    assert a.log_likelihood == b.log_likelihood and a.alternatives == b.alternatives


def test_the_known_length_fixes_a_consensus_of_the_wrong_length():
    strand, _ = cluster(length=80, seed=3)
    longer = np.insert(strand, 40, (strand[40] + 1) % 4)  # a base most reads insert
    reads = [longer] * 3 + [strand] * 2
    assert len(reconstruct(reads).bases) == len(strand) + 1
    assert np.array_equal(reconstruct(reads, len(strand)).bases, strand)


def test_an_outlier_read_is_dropped_and_does_not_break_it():
    strand, reads = cluster(seed=4)
    junk = np.random.default_rng(9).integers(0, 4, len(strand)).astype(np.uint8)
    reads = [np.zeros(0, np.uint8), junk, *reads]  # as long as the strand: the first seed
    rec = reconstruct(reads, len(strand))
    assert np.array_equal(rec.bases, strand)
    assert list(rec.outliers) == [1] and rec.reads_used == len(reads) - 2


def test_a_deep_cluster_is_polished_with_its_best_reads():
    strand, reads = cluster(reads=40, rate=0.08, seed=11)
    rec = reconstruct(reads, len(strand))
    assert np.array_equal(rec.bases, strand) and rec.reads_used <= 20


@pytest.mark.parametrize(
    "reads, length",
    [([[0], [0]], 1), ([[0, 1], [0, 1], [1]], 2), ([[4, 4, 4], [4, 4]], 3), ([[], [1, 2]], 2)],
)
def test_tiny_and_unknown_reads_do_not_break_it(reads, length):
    rec = reconstruct([np.array(r, dtype=np.uint8) for r in reads], length)
    assert len(rec.bases) == length and rec.bases.max() <= 3
    assert ((rec.confidence >= 0) & (rec.confidence <= 1)).all()


def test_unknown_bases_and_unknown_length():
    strand, reads = cluster(seed=5)
    reads[0][::7] = 4
    rec = reconstruct(reads)
    assert np.array_equal(rec.bases, strand)


def test_a_split_vote_has_low_confidence_and_an_alternative():
    strand, _ = cluster(length=60, seed=6)
    other = strand.copy()
    other[30] = (strand[30] + 2) % 4
    rec = reconstruct([strand] * 2 + [other] * 2, len(strand))
    assert rec.confidence[30] < 0.9 and rec.confidence[np.arange(60) != 30].min() > 0.9
    alt = {(i, code) for i, code, _ in rec.alternatives}
    assert (30, int(strand[30]) + int(other[30]) - int(rec.bases[30])) in alt


def test_the_truth_is_likelier_than_a_mutant():
    strand, reads = cluster(seed=7)
    mutant = strand.copy()
    mutant[50] = (mutant[50] + 1) % 4
    assert log_likelihood(strand, reads).sum() > log_likelihood(mutant, reads).sum() + 5


@pytest.mark.parametrize("channel", ["flat", "nanopore"])
def test_edit_scores_match_rescoring(channel):
    """The O(band) score of each single-base edit equals rescoring the edited template
    (exactly for a context-free channel; closely for the nanopore one)."""
    ch = tc.flat_channel() if channel == "flat" else tc.nanopore()
    dele, iq, em = ch.tables
    strand, reads = cluster(length=30, reads=4, rate=0.1, seed=8)
    offsets = np.r_[0, np.cumsum([len(r) for r in reads])].astype(np.int64)
    flat = np.concatenate(reads)
    use = np.ones(len(reads), dtype=np.bool_)

    def total(t):
        logp = np.empty(len(reads))
        flags = np.ones(len(t) + 1, dtype=np.bool_)
        out = score(t, flat, offsets, use, 8, dele, iq, em, logp, flags)
        return logp.sum(), out

    base, out = total(strand)
    errors = []
    for i in range(len(strand) + 1):
        for code in range(9):
            if (i == len(strand) and code < 5) or (code < 4 and code == strand[i]):
                continue
            edited = apply_edits(strand, np.array([i]), np.array([code]))
            errors.append(abs(total(edited)[0] - base - out[i, code]))
    if channel == "flat":
        assert max(errors) < 1e-9
    else:
        assert np.median(errors) < 2.0


def test_bench_prints_a_table(tmp_path, capsys):
    clusters = {}
    for k in range(3):
        strand, reads = cluster(length=50, reads=6, rate=0.02, seed=10 + k)
        clusters[str(k + 1)] = {
            "ref": "".join("ACGT"[b] for b in strand),
            "syn": ["".join("ACGT"[b] for b in r) for r in reads],
        }
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(clusters))
    assert traces.main([str(path), "--n", "2,4", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "pair-hmm" in out and "abpoa-vote" in out and "TReconLM 76.8" in out
    rows = [line for line in out.splitlines() if line.split("|")[0].strip().startswith("4")]
    assert len(rows) == 1 and "100.0" in rows[0].split("|")[1]  # 4 reads, 2 % errors


def test_bench_skips_without_data(tmp_path, capsys):
    assert traces.main([str(tmp_path / "absent.json")]) == 0
    assert "skipped" in capsys.readouterr().err
