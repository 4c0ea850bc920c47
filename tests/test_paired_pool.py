"""Paired-end reads (--reads2) for `helix pool get`, `helix pool list` and `helix probe`."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from helix_media.archive import pool
from helix_media.archive.encode import encode_file
from helix_media.cli import main

FILES = {"notes.txt": b"pool notes\n" * 300, "table.csv": np.random.default_rng(5).bytes(4000)}
RUN = ["--paired-end", "150", "--coverage", "20", "--sub", "0.005", "--seed", "1"]


def _one_line_error(capsys, start: str) -> str:
    err = capsys.readouterr().err
    assert err.startswith(start), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two small files in a pool, a raw archive of one, and a simulated 2x150 run of each."""
    d = tmp_path_factory.mktemp("paired_pool")
    for name, data in FILES.items():
        (d / name).write_bytes(data)
    p = d / "pool.dnapkt"
    pool.add_items(str(p), [str(d / n) for n in FILES])
    encode_file(str(d / "table.csv"), str(d / "a.dnapkt"), codec="raw")
    assert main(["simulate", str(p), str(d / "pool.fastq.gz"), *RUN]) == 0
    assert main(["simulate", str(d / "a.dnapkt"), str(d / "a.fastq.gz"), *RUN]) == 0
    return d


def _mates(d, stem: str) -> tuple[str, str]:
    return str(d / f"{stem}_R1.fastq.gz"), str(d / f"{stem}_R2.fastq.gz")


def test_pool_get_from_paired_reads_returns_the_items(run, tmp_path, capsys):
    r1, r2 = _mates(run, "pool")
    capsys.readouterr()
    for name, data in FILES.items():
        out = tmp_path / f"{name}.out"
        assert main(["pool", "get", r1, name, str(out), "--reads2", r2]) == 0
        assert out.read_bytes() == data
        summary = capsys.readouterr().out
        assert "read pairs" in summary and " 0 unmerged" in summary and "SHA-256 ok" in summary
    # the library: a PoolSource merges the mates once for every item it reads
    source = pool.PoolSource(r1, r2)
    assert source.pairs["merged"] == source.pairs["pairs"] > 0
    assert pool.decode_item(source, "notes.txt").data == FILES["notes.txt"]


def test_pool_list_and_probe_item_from_paired_reads_match_the_strands(run, capsys):
    r1, r2 = _mates(run, "pool")
    p = str(run / "pool.dnapkt")
    capsys.readouterr()
    assert main(["pool", "list", p, "--json"]) == 0
    strands = json.loads(capsys.readouterr().out)
    assert main(["pool", "list", r1, "--reads2", r2, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == strands
    assert main(["pool", "list", r1, "--reads2", r2]) == 0
    assert "table.csv" in capsys.readouterr().out
    assert main(["probe", p, "--item", "notes.txt", "--json"]) == 0
    cost = json.loads(capsys.readouterr().out)
    assert main(["probe", r1, "--reads2", r2, "--item", "notes.txt", "--json"]) == 0
    paired = json.loads(capsys.readouterr().out)
    for key in ("item", "kind", "item_strands", "metadata_strands", "data_strands"):
        assert paired[key] == cost[key]


def test_probe_of_paired_reads_reports_as_the_strands(run, capsys):
    r1, r2 = _mates(run, "a")
    capsys.readouterr()
    assert main(["probe", str(run / "a.dnapkt"), "--json"]) == 0
    strands = json.loads(capsys.readouterr().out)
    assert main(["probe", r1, "--reads2", r2, "--json"]) == 0
    paired = json.loads(capsys.readouterr().out)
    same = ("codec", "coder", "framer", "archived_file", "archived_size", "payload_bytes")
    for key in (*same, "payload_bits_per_nt", "streams"):
        assert paired[key] == strands[key], key
    assert paired["archived_file"] == "table.csv" and paired["archived_size"] == 4000
    assert paired["pairs"]["merged"] == paired["pairs"]["pairs"] == paired["strands"]
    assert paired["strands_ok"] >= strands["strands_ok"] and "pairs" not in strands
    assert main(["probe", r1, "--reads2", r2]) == 0
    assert "  pairs: " in capsys.readouterr().out


def test_r1_alone_hints_at_reads2(run, tmp_path, capsys):
    for stem, argv in (
        ("pool", ["pool", "get", "{r1}", "notes.txt", str(tmp_path / "x.txt")]),
        ("pool", ["pool", "list", "{r1}"]),
        ("pool", ["probe", "{r1}", "--item", "notes.txt"]),
        ("a", ["probe", "{r1}"]),
    ):
        r1, _ = _mates(run, stem)
        assert main([a.format(r1=r1) for a in argv]) == 1
        err = _one_line_error(capsys, f"error: {r1}: no ")
        assert "give the mates with --reads2" in err
    assert not (tmp_path / "x.txt").exists()


def test_reads2_needs_fastq_reads(run, tmp_path, capsys):
    _, r2 = _mates(run, "pool")
    out = tmp_path / "x.txt"
    p, a = str(run / "pool.dnapkt"), str(run / "a.dnapkt")
    (tmp_path / "reads.fasta").write_text(">r\nACGT\n")
    for argv in (
        ["pool", "get", p, "notes.txt", str(out)],
        ["pool", "list", p],
        ["probe", a],
        ["probe", p, "--item", "notes.txt"],
        ["probe", str(tmp_path / "reads.fasta")],
    ):
        assert main([*argv, "--reads2", r2]) == 1
        _one_line_error(capsys, "error: --reads2 is for decoding paired-end reads: ")
    assert not out.exists()


def _bad_r2(run, tmp_path, how: str) -> str:
    """An R2 file that does not pair with the pool's R1."""
    r1, r2 = _mates(run, "pool")
    if how == "itself":
        return r1
    with gzip.open(r2, "rt") as f:
        lines = f.read().splitlines()
    if how == "short":
        lines = lines[:-4]
    else:
        lines[4] = "@stranger/2"  # record 2 names another read
    bad = tmp_path / "bad_R2.fastq"
    bad.write_text("\n".join(lines) + "\n")
    return str(bad)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("short", "bad_R2.fastq: ends after "),
        ("stranger", "bad_R2.fastq: record 2 is not the mate of record 2"),
        ("itself", "is the R1 file itself"),
    ],
)
def test_mismatched_mates_fail_with_one_line(run, tmp_path, capsys, how, message):
    r1, _ = _mates(run, "pool")
    r2 = _bad_r2(run, tmp_path, how)
    out = tmp_path / "x.txt"
    for argv in (
        ["pool", "get", r1, "notes.txt", str(out)],
        ["pool", "list", r1],
        ["probe", r1, "--item", "notes.txt"],
    ):
        assert main([*argv, "--reads2", r2]) == 1
        assert message in _one_line_error(capsys, "error: ")
    assert not out.exists()


def test_mates_that_never_overlap_fail_with_one_line(run, tmp_path, capsys):
    short = str(tmp_path / "short.fastq")
    assert main(["simulate", str(run / "a.dnapkt"), short, "--paired-end", "100"]) == 0
    r1, r2 = str(tmp_path / "short_R1.fastq"), str(tmp_path / "short_R2.fastq")
    for argv in (["probe", r1], ["pool", "list", r1]):
        assert main([*argv, "--reads2", r2]) == 1
        assert "no read pair overlaps its mate" in _one_line_error(capsys, f"error: {r1}, {r2}")
