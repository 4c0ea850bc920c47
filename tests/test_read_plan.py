"""Sequencing plans (``--read-plan PROFILE:COVERAGE``): the strand loss they imply and the
auto outer code sized for it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helix_media.blocks.outer_code import Auto, OuterCode, auto_redundancy, parity_needed
from helix_media.channel.profiles import profile_channel
from helix_media.channel.read_plan import DECODE_FAILURE, ReadPlan
from helix_media.errors import HelixError


@pytest.mark.parametrize(
    "text", ["nanopore-r9", "pacbio:10", "nanopore-r9:x", "nanopore-r9:nan", "illumina:0", ":5"]
)
def test_a_malformed_plan_is_one_clear_error(text):
    with pytest.raises(HelixError, match="--read-plan"):
        ReadPlan.parse(text)


def test_a_plan_names_a_profile_and_a_mean_coverage():
    assert ReadPlan.parse("nanopore-r10:7.5") == ReadPlan("nanopore-r10", 7.5)


def test_no_reads_is_the_profiles_negative_binomial_at_zero():
    plan = ReadPlan("nanopore-r9", 10)
    r = profile_channel("nanopore-r9").skew
    assert plan.no_reads() == pytest.approx((r / (r + 10)) ** r)


@pytest.mark.parametrize("profile", sorted(DECODE_FAILURE))
def test_loss_falls_with_coverage_and_includes_strands_without_reads(profile):
    losses = [ReadPlan(profile, c).strand_loss() for c in (2, 5, 10, 20, 40)]
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))
    for c in (2, 5, 10):
        plan = ReadPlan(profile, c)
        assert plan.no_reads() <= plan.strand_loss() <= 1
        assert plan.design_loss() > plan.strand_loss()  # ordinary dropout on top


def test_a_single_read_decodes_on_illumina_not_on_nanopore():
    assert DECODE_FAILURE["illumina"][0] < 0.05
    assert DECODE_FAILURE["nanopore-r9"][0] > 0.9


def test_auto_for_a_loss_gives_each_segment_the_parity_that_loss_needs():
    k, bits = 1000, 300
    code = OuterCode.for_streams(Auto(0.1), {}, {"file": (0, k)}, bits)
    assert code.parity_strands == parity_needed(k, 0.1)
    assert code.redundancy == auto_redundancy(k, bits, 0.1)
    plain = OuterCode.for_streams(None, {}, {"file": (0, k)}, bits)
    assert plain.redundancy == auto_redundancy(k, bits) < code.redundancy
    assert OuterCode.for_streams(Auto(), {}, {"file": (0, k)}, bits) == plain


def test_auto_for_a_loss_applies_per_stream_too():
    bits = 300
    streams = {"video": (0, 500), "audio": (500, 40)}
    code = OuterCode.for_streams(Auto(0.08), {"audio": 0.5}, streams, bits)
    (video, audio) = code.ranges
    assert video[2] == auto_redundancy(500, bits, 0.08) and audio[2] == 0.5
    assert math.isclose(sum(s.parity_count for s in code.segments()), code.parity_strands)


def test_read_plan_and_an_explicit_rate_contradict_each_other(tmp_path):
    from helix_media.cli import transcode_main

    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 1000)
    args = [str(src), str(tmp_path / "a.dnapkt"), "--read-plan", "nanopore-r9:10"]
    assert transcode_main([*args, "--redundancy", "0.1"]) == 1
    assert not (tmp_path / "a.dnapkt").exists()


@pytest.mark.slow
def test_an_archive_sized_for_its_read_plan_decodes_a_run_of_that_plan(tmp_path):
    """30 kB, nanopore-r9 reads at a mean of 15x: the default outer code (2 % loss) cannot
    rebuild what such a run loses; the one sized by --read-plan does, bit-exactly."""
    from helix_media.cli import main, transcode_main
    from helix_media.strandio.container_reader import read_dnapkt

    src = tmp_path / "f.bin"
    src.write_bytes(np.random.default_rng(5).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    plain, planned = tmp_path / "plain.dnapkt", tmp_path / "planned.dnapkt"
    assert transcode_main([str(src), str(plain), "-q"]) == 0
    assert transcode_main([str(src), str(planned), "--read-plan", "nanopore-r9:15", "-q"]) == 0
    assert len(read_dnapkt(planned)[1]) > 1.1 * len(read_dnapkt(plain)[1])
    for archive, decodes in ((plain, False), (planned, True)):
        reads = tmp_path / f"{archive.stem}.fastq"
        sim = ["simulate", str(archive), str(reads), "--profile", "nanopore-r9", "--coverage", "15"]
        assert main([*sim, "--seed", "2"]) == 0
        back = tmp_path / f"{archive.stem}.bin"
        assert transcode_main([str(reads), str(back), "-q"]) == (0 if decodes else 1)
        assert (back.exists() and back.read_bytes() == src.read_bytes()) == decodes
