"""Alternatives: strands one edit from a cluster's estimate, tried by the inner code where the
estimate fails (list decoding of clusters with few nanopore reads)."""

from __future__ import annotations

import numpy as np
import pytest

from helix_media.dna.framer import ParsedStrands
from helix_media.readpath import alternatives
from helix_media.readpath.edit_scores import EDITS


def _scores(length: int) -> np.ndarray:
    """Every edit far less likely than the template (below the floor)."""
    return np.full((length + 1, EDITS), -100.0)


def test_candidates_rank_edits_by_likelihood_and_keep_the_length():
    t = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], dtype=np.uint8)
    s = _scores(len(t))
    s[3, 1] = -0.5  # substitute C at 3: nearly as likely as the template
    s[2, 4] = -1.0  # delete t[2] ...
    s[7, 5 + 2] = -0.5  # ... and insert G before place 7: a base moved (total -1.5)
    s[5, 0] = -20.0  # below the floor: never tried
    got = alternatives.candidates(t, s, 8)
    assert got.shape == (2, len(t))
    assert got[0].tolist() == [0, 1, 2, 1, 0, 1, 2, 3, 0, 1]
    assert got[1].tolist() == [0, 1, 3, 0, 1, 2, 2, 3, 0, 1]  # t[2] gone, G before old 7
    assert alternatives.candidates(t, s, 1).shape == (1, len(t))


def test_candidates_move_a_base_either_way():
    t = np.arange(8, dtype=np.uint8) % 4
    s = _scores(len(t))
    s[6, 4] = -1.0  # delete t[6] ...
    s[1, 5 + 3] = -1.0  # ... insert T before place 1
    (got,) = alternatives.candidates(t, s, 4)
    assert got.tolist() == [0, 3, 1, 2, 3, 0, 1, 3]


def test_candidates_are_deterministic_under_ties():
    t = np.zeros(12, dtype=np.uint8)
    s = _scores(len(t))
    s[:12, 1] = -1.0  # every place: C, all tied
    a = alternatives.candidates(t, s, 5)
    b = alternatives.candidates(t, s.copy(), 5)
    assert np.array_equal(a, b)
    assert [int(np.flatnonzero(r)[0]) for r in a] == [0, 1, 2, 3, 4]  # by place


def _parsed(ok, addresses) -> ParsedStrands:
    n = len(ok)
    return ParsedStrands(
        np.asarray(addresses, dtype=np.int64),
        np.arange(n * 4, dtype=np.uint8).reshape(n, 4),
        np.asarray(ok, dtype=bool),
        np.zeros(n, dtype=np.int64),
    )


def test_adopt_takes_the_first_alternative_that_parses_only_where_the_estimate_failed():
    est = _parsed([True, False, False], [5, -1, -1])
    alt = _parsed([True, False, True, True], [9, -1, 7, 8])
    of = np.array([0, 1, 1, 2])  # alternative row -> estimate row, likeliest first
    got = alternatives.adopt(est, alt, of)
    assert got.ok.tolist() == [True, True, True]
    assert got.addresses.tolist() == [5, 7, 8]  # estimate 0 kept though its alternative parsed
    assert np.array_equal(got.payload[1], alt.payload[2])
    assert np.array_equal(got.payload[0], est.payload[0])
    assert est.ok.tolist() == [True, False, False]  # the input is not changed


@pytest.mark.slow
def test_few_nanopore_reads_decode_more_strands_with_alternatives_and_never_wrongly(monkeypatch):
    from helix_media.benchmarks import read_plan

    strands, fr, meta, truth = read_plan._archive(120, seed=3)
    monkeypatch.setattr(alternatives, "COUNT", 0)
    without, wrong0 = read_plan.decode_failure("nanopore-r9", 4, strands, fr, meta, truth, 5)
    monkeypatch.setattr(alternatives, "COUNT", 48)
    with_alt, wrong1 = read_plan.decode_failure("nanopore-r9", 4, strands, fr, meta, truth, 5)
    assert wrong0 == wrong1 == 0  # (MAX_CORRECTED: an alternative needs at most one fix)
    assert with_alt < without


@pytest.mark.slow
def test_pool_items_from_few_nanopore_reads_use_alternatives_too(tmp_path, monkeypatch):
    from dataclasses import replace

    import numpy as np

    from helix_media.archive import pool
    from helix_media.archive.pool.source import read_item_blocks, read_item_metadata
    from helix_media.channel.profiles import profile_channel
    from helix_media.channel.sequencing import simulate, write_reads
    from helix_media.strandio.strand_files import read_strands

    data = tmp_path / "data.bin"
    data.write_bytes(np.random.default_rng(9).bytes(4000))
    pool.add_items(str(tmp_path / "p.dnapkt"), [str(data)], redundancy=0)
    _, strands = read_strands(str(tmp_path / "p.dnapkt"))
    strands = np.stack(strands)
    channel = replace(profile_channel("nanopore-r9"), seed=4)
    reads = simulate(strands, channel, counts=np.full(len(strands), 4))
    write_reads(str(tmp_path / "reads.fastq"), reads)
    found = []
    for count in (0, 48):
        monkeypatch.setattr(alternatives, "COUNT", count)
        source = pool.PoolSource(str(tmp_path / "reads.fastq"))
        item = pool.read_catalogue(source).find("data.bin")
        fr, meta = read_item_metadata(source, item)
        blocks, stats = read_item_blocks(source, fr, meta, item, np.arange(item.data[1]))
        found.append(stats["data_strands_found"])
    assert found[1] > found[0]
