"""Channel profiles (``helix simulate --profile``): illumina, nanopore-r9, nanopore-r10."""

import hashlib
import importlib.util
from dataclasses import replace
from pathlib import Path

import edlib
import numpy as np
import pytest
from scipy import stats

from helix_media.channel.errorstats import load_clusters, measure, nanopore_data, run_lengths
from helix_media.channel.profiles import PROFILES, profile_channel
from helix_media.channel.sequencing import Channel, simulate
from helix_media.cli import main
from helix_media.cli.helix import helix_parser
from helix_media.dna.nucleotides import reverse_complement, to_string
from helix_media.errors import HelixError


def _digest(reads) -> str:
    parts = (reads.bases, reads.offsets, reads.qualities, reads.source, reads.reverse)
    return hashlib.sha256(b"".join(p.tobytes() for p in parts)).hexdigest()


@pytest.fixture(scope="module")
def strands():
    return np.random.default_rng(11).integers(0, 4, (300, 240)).astype(np.uint8)


@pytest.fixture(scope="module")
def short():
    """Random 110-nt strands, like the fitted references."""
    return np.random.default_rng(3).integers(0, 4, (200, 110)).astype(np.uint8)


def _oriented(reads, strands):
    """(read, its strand) string pairs, reads turned back to the strand's orientation."""
    refs = [to_string(s) for s in strands]
    return [
        (to_string(reverse_complement(r) if rev else r), refs[src])
        for r, rev, src in zip(reads, reads.reverse, reads.source, strict=True)
    ]


def _full_length(name: str, **values):
    channel = profile_channel(name, **values)
    return replace(channel, shape=replace(channel.shape, truncated=0.0))


def test_default_and_illumina_are_todays_simulator(strands):
    # sha256 of the reads that the simulator gave before profiles existed (commit 1032ac2);
    # a numpy release that changed its generators' streams would change them too
    assert profile_channel() == profile_channel("illumina") == Channel()
    default = simulate(strands, Channel())
    assert _digest(default) == "fbc283141beb7b3a7a942efece581de8c1f458d3021e982bafcade2cec58016a"
    noisy = Channel(coverage=15, sub=0.004, ins=0.002, dele=0.002, contaminants=0.03, seed=9)
    assert _digest(simulate(strands, noisy)) == (
        "32a1c6ed82590565e208f193bca61932f00234a59c6b026dc7e013b7e6608670"
    )


def test_cli_profile_illumina_is_byte_identical_and_rates_override(tmp_path, strands):
    fasta = tmp_path / "s.fasta"
    fasta.write_text("".join(f">s{i}\n{to_string(s)}\n" for i, s in enumerate(strands[:40])))
    runs = {
        "none": [],
        "illumina": ["--profile", "illumina"],
        "r9": ["--profile", "nanopore-r9"],
        "r9-sub": ["--profile", "nanopore-r9", "--sub", "0.05"],
    }
    for name, extra in runs.items():
        argv = ["simulate", str(fasta), str(tmp_path / f"{name}.fq"), "--coverage", "5", *extra]
        assert main([*argv, "--seed", "2"]) == 0
    text = {name: (tmp_path / f"{name}.fq").read_bytes() for name in runs}
    assert text["none"] == text["illumina"]
    assert text["r9"] != text["none"] and text["r9-sub"] != text["r9"]
    choices = next(a.choices for a in _simulate_parser()._actions if a.dest == "profile")
    assert tuple(choices) == tuple(PROFILES)
    over = profile_channel("nanopore-r9", sub=0.05, coverage=5)
    assert over.sub == 0.05 and over.coverage == 5
    assert over.shape is PROFILES["nanopore-r9"].shape and over.dele == PROFILES["nanopore-r9"].dele


def _simulate_parser():
    sub = next(a for a in helix_parser()._actions if a.dest == "command")
    return sub.choices["simulate"]


@pytest.mark.parametrize(
    "bad",
    [
        ["--sub", "nan"],
        ["--ins", "-0.1"],
        ["--del", "2"],
        ["--coverage", "nan"],
        ["--skew", "inf"],
        ["--contaminants", "1"],
        ["--profile", "nanopore-r9", "--paired-end", "150"],
    ],
)
def test_cli_rejects_bad_numbers_in_one_line(tmp_path, capsys, bad):
    fasta = tmp_path / "s.fasta"
    fasta.write_text(">a\nACGTACGTAC\n")
    assert main(["simulate", str(fasta), str(tmp_path / "r.fq"), *bad]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "r.fq").exists()


def test_profiles_are_deterministic_in_the_seed(short):
    for name in ("nanopore-r9", "nanopore-r10"):
        channel = profile_channel(name, coverage=10, contaminants=0.05, seed=4)
        a, b = simulate(short, channel), simulate(short, channel)
        assert _digest(a) == _digest(b)
        assert _digest(simulate(short, replace(channel, seed=5))) != _digest(a)
    with pytest.raises(HelixError):
        profile_channel("nanopore-r11")


@pytest.mark.parametrize("name", ["nanopore-r9", "nanopore-r10"])
def test_realized_rates_match_the_profile(short, name):
    channel = _full_length(name, seed=1)
    reads = simulate(short, channel, counts=np.full(len(short), 20))
    stats = measure(_oriented(reads, short))
    got = stats.rates()
    want = np.array([channel.sub, channel.ins, channel.dele])
    # alignment hides a few errors (an insertion beside a deletion is one substitution)
    assert np.all(np.abs(got / want - 1) < 0.12), (got, want)
    assert stats.rates()[1] + stats.rates()[2] > stats.rates()[0]  # indels dominate
    hp = stats.homopolymer_rates().sum(0)  # all errors by run length 1, 2, 3, 4+
    assert hp[2] > 1.08 * hp[0] and hp[3] > 1.6 * hp[0]
    assert stats.homopolymer_rates()[2, 3] > 2.5 * stats.homopolymer_rates()[2, 0]  # deletions
    ends = stats.position_rates()[1]  # insertions crowd at the strand's ends
    assert ends[0] > 1.2 * ends[1:9].mean() and ends[-1] > 1.2 * ends[1:9].mean()
    q = reads.qualities.mean()
    assert (10 < q < 20) if name == "nanopore-r9" else (14 < q < 24)


def test_explicit_rates_keep_the_shape(short):
    channel = _full_length("nanopore-r9", sub=0.0, ins=0.0, dele=0.04, seed=2)
    stats = measure(_oriented(simulate(short, channel, counts=np.full(len(short), 10)), short))
    sub, ins, dele = stats.rates()
    assert sub < 0.002 and ins < 0.002 and abs(dele / 0.04 - 1) < 0.12
    assert stats.homopolymer_rates()[2, 3] > 2.5 * stats.homopolymer_rates()[2, 0]


def test_truncated_reads_and_both_orientations(strands):
    channel = profile_channel("nanopore-r9", coverage=20, seed=3)
    shape = channel.shape
    reads = simulate(strands, channel)
    lengths = np.diff(reads.offsets)
    cut = lengths < 0.92 * strands.shape[1]
    assert abs(cut.mean() - shape.truncated) < 0.012, cut.mean()
    assert 0.45 < reads.reverse.mean() < 0.55
    ends = {"3'": 0, "5'": 0}
    for i in np.flatnonzero(cut)[:200]:
        read = reads.bases[reads.offsets[i] : reads.offsets[i + 1]]
        mol = strands[reads.source[i]]
        mol = reverse_complement(mol) if reads.reverse[i] else mol
        hit = edlib.align(to_string(read), to_string(mol), mode="HW", task="locations")
        hit = hit["locations"][0]
        ends["3'" if hit[0] < 10 else "5'"] += 1  # kept the read's start: its 3' end was cut
    assert min(ends.values()) > 0.3 * sum(ends.values()), ends
    for i in range(40):  # each read matches its strand in the orientation it says
        read = reads.bases[reads.offsets[i] : reads.offsets[i + 1]]
        if cut[i] or reads.source[i] < 0:
            continue
        mol, rc = strands[reads.source[i]], reverse_complement(strands[reads.source[i]])
        near, far = (rc, mol) if reads.reverse[i] else (mol, rc)
        d_near = edlib.align(to_string(read), to_string(near))["editDistance"]
        assert d_near < 40 < edlib.align(to_string(read), to_string(far))["editDistance"]


def test_coverage_is_skewed_and_contaminants_pass(short):
    reads = simulate(short, profile_channel("nanopore-r9", coverage=30, contaminants=0.1))
    per = np.bincount(reads.source[reads.source >= 0], minlength=len(short))
    assert 0.4 < per.std() / per.mean() < 1.0  # NB size 2.16: CV about sqrt(1/30 + 1/2.16)
    assert 0.08 < (reads.source < 0).mean() < 0.12


def test_run_lengths():
    got = run_lengths(np.array([[0, 0, 1, 2, 2, 2, 3, 0], [1, 1, 1, 1, 2, 3, 3, 0]]))
    assert got.tolist() == [[2, 2, 1, 3, 3, 3, 1, 1], [4, 4, 4, 4, 1, 2, 2, 1]]


@pytest.mark.skipif(nanopore_data() is None, reason="real nanopore reads absent")
def test_simulated_reads_look_like_the_real_ones():
    from helix_media.benchmarks.channel_fit import compare

    clusters = load_clusters(nanopore_data() / "valid.json")[:150]
    real, sim = compare(clusters)
    assert sim.reads == real.reads
    assert np.all(np.abs(sim.rates() / real.rates() - 1) < 0.1)
    assert abs(sim.mean_edit() / real.mean_edit() - 1) < 0.08
    assert np.abs(sim.edit_share() - real.edit_share()).sum() < 0.15
    assert abs(sim.homopolymer_rates()[2, 3] / real.homopolymer_rates()[2, 3] - 1) < 0.25


def test_bench_channel_fit_skips_without_data(tmp_path, capsys):
    assert main(["bench", "channel-fit", "--data", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out


def test_fit_skew_finds_the_negative_binomial_size():
    path = Path(__file__).resolve().parents[1] / "scripts/fit_nanopore_profile.py"
    spec = importlib.util.spec_from_file_location("fit_nanopore_profile", path)
    fit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fit)
    rng = np.random.default_rng(0)
    counts = rng.negative_binomial(2.0, 2.0 / (2.0 + 25), 4000)
    size, mean = fit.fit_skew(counts[counts >= 6])
    assert abs(size - 2.0) < 0.4 and abs(mean - 25) < 4
    # the Poisson-lognormal it is compared with finds its own sigma, and fits its own counts
    # better than the negative binomial does
    lognormal = rng.poisson(25 * rng.lognormal(-(0.6**2) / 2, 0.6, 4000))
    lognormal = lognormal[lognormal >= 6]
    sigma, mean, ll = fit.fit_lognormal_skew(lognormal)
    assert abs(sigma - 0.6) < 0.08 and abs(mean - 25) < 2.5
    size, nb_mean = fit.fit_skew(lognormal)
    p = size / (size + nb_mean)
    nb = fit.truncated_loglik(lambda k: stats.nbinom.pmf(k, size, p), lognormal)
    assert ll > nb


def test_bench_channel_profile_checks_its_options(capsys):
    argv = ["bench", "channel", "--profile", "nanopore-r10", "--no-video"]
    for bad in (["--coverages", "20,x"], ["--coverages", "0"], ["--strands", "0"]):
        assert main([*argv, *bad]) == 1
        assert capsys.readouterr().err.startswith("error: ")
