"""Hostile read files cost bounded work and memory (issue 38, item 9).

A 1 MB gzip can hold one read of 512 million bases: the readers cut a read longer than any
strand (``MAX_READ_NT``) while streaming, so it is never held whole, and the trimmer counts
it as too long. Reads without primers are rejected by a compiled edit-distance screen
before any edlib call. Real reads decode as before.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from helix_media import plugins
from helix_media.cli import main, transcode_main
from helix_media.readpath.trim import Trimmer
from helix_media.strandio import bounded_records
from helix_media.strandio.bounded_records import MAX_READ_NT
from helix_media.strandio.fasta import iter_reads, read_reads

GIANT = 50_000_000  # bases of the giant read: the old reader held ~8 bytes of memory each
BLOCK = 1 << 20

posix = pytest.mark.skipif(not hasattr(os, "wait4"), reason="needs os.wait4 (POSIX)")

CLI = "import sys; from helix_media.cli import transcode_main; sys.exit(transcode_main())"


def _giant_fastq(path: Path, n: int) -> None:
    """One read of ``n`` bases, written in blocks (never whole in this process either)."""
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(b"@giant\n")
        for letter in b"A+I":
            if letter == ord("+"):
                f.write(b"\n+\n")
                continue
            for lo in range(0, n, BLOCK):
                f.write(bytes([letter]) * min(BLOCK, n - lo))
        f.write(b"\n")


def _giant_fasta(path: Path, n: int, width: int | None) -> None:
    """A short record, one of ``n`` bases (lines of ``width``, or one line), a short one."""
    with open(path, "wb") as f:
        f.write(b">a\n" + b"ACGT" * 60 + b"\n>giant\n")
        line = b"C" * (width or BLOCK) + (b"\n" if width else b"")
        step = width or BLOCK
        for _ in range(n // step):
            f.write(line)
        f.write(b"\n>c\n" + b"GT" * 50 + b"\n")


def _junk_fastq(path: Path, n: int, length: int = 240, seed: int = 1) -> None:
    """``n`` random reads: no primers, nothing of any archive."""
    rng = np.random.default_rng(seed)
    seqs = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, (n, length))]
    qual = b"I" * length
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.writelines(b"@r%d\n%s\n+\n%s\n" % (i, s.tobytes(), qual) for i, s in enumerate(seqs))


def _run(args: list[str]) -> tuple[int, str, str, int]:
    """helix-transcode in a child process -> (exit code, stdout, stderr, peak RSS in bytes).

    ``os.wait4`` reaps the child itself, giving its own peak rather than the largest of
    every child pytest ran (RUSAGE_CHILDREN). HELIX_DEBUG turns an unexpected exception into
    a traceback, which the tests reject.
    """
    env = dict(os.environ, HELIX_DEBUG="1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", CLI, *args], stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: Popen must not
        out.seek(0)
        err.seek(0)
        texts = out.read().decode(), err.read().decode()
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return code, *texts, usage.ru_maxrss * scale


def _one_line_error(code: int, err: str) -> str:
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@posix
@pytest.mark.slow
def test_a_giant_read_costs_no_memory_of_its_size(tmp_path: Path) -> None:
    """A 50-Mb read: a clean error and about the memory of a one-read file; the old reader
    peaked ~420 MB above it (dnaio's buffer, the str, its upper-case copy, the codes)."""
    tiny = tmp_path / "tiny.fastq"
    tiny.write_text("@r\nACGTACGT\n+\nIIIIIIII\n")
    giant = tmp_path / "giant.fastq.gz"
    _giant_fastq(giant, GIANT)
    code, _, err, base = _run([str(tiny), str(tmp_path / "t.bin")])
    _one_line_error(code, err)
    code, _, err, peak = _run([str(giant), str(tmp_path / "g.bin")])
    assert "no 240-nt strands to decode" in _one_line_error(code, err)
    assert peak - base < 100 * 2**20, (peak, base)
    assert not (tmp_path / "g.bin").exists()


@pytest.mark.parametrize("chunk", [7, 1 << 20], ids=["tiny-steps", "one-step"])
@pytest.mark.parametrize("fmt", ["fastq", "fasta"])
def test_reads_longer_than_any_strand_come_cut(tmp_path: Path, monkeypatch, fmt, chunk):
    """Up to MAX_READ_NT bases a read is untouched; a longer one keeps MAX_READ_NT + 1 (so
    it is still too long), FASTQ qualities cut alike, FASTA lines past the cut dropped; the
    next record is intact, whichever steps the stream is filtered in."""
    monkeypatch.setattr(bounded_records, "_BOUND_CHUNK", chunk)
    lengths = [240, MAX_READ_NT, MAX_READ_NT + 1, MAX_READ_NT + 2, 3 * MAX_READ_NT, 17]
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGTacgtN"), n)) for n in lengths]
    path = tmp_path / f"r.{fmt}"
    if fmt == "fastq":
        text = "".join(f"@r{i}\n{s}\n+\n{'I' * len(s)}\r\n" for i, s in enumerate(seqs))
    else:  # wrapped at 70, CRLF line ends, a comment line
        wrap = ["\r\n".join(s[k : k + 70] for k in range(0, len(s), 70)) for s in seqs]
        text = "".join(f">r{i}\r\n{s}\r\n#\n" for i, s in enumerate(wrap))
    path.write_text(text)
    names, reads = read_reads(path, allow_n=True)
    assert names == [f"r{i}" for i in range(len(seqs))]
    assert [len(r) for r in reads] == [min(n, MAX_READ_NT + 1) for n in lengths]
    codes = {c: i for i, c in enumerate("ACGTN")}
    for seq, read in zip(seqs, reads, strict=True):
        assert read.tolist() == [codes[c] for c in seq.upper()[: len(read)]]


@pytest.mark.parametrize("width", [60, None], ids=["wrapped", "one-line"])
def test_a_giant_fasta_record_is_cut_while_streaming(tmp_path: Path, width: int | None) -> None:
    """FASTA records may span lines: the cut counts the record's letters, and the lines
    past it never reach the parser (a wrapped record would otherwise be held whole)."""
    path = tmp_path / "g.fa"
    _giant_fasta(path, 20_000_000, width)
    tracemalloc.start()
    try:
        parts = list(iter_reads(path, 2))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    reads = [r for part in parts for r in part]
    assert [len(r) for r in reads] == [240, MAX_READ_NT + 1, 100]
    assert (reads[1] == 1).all()  # C
    assert reads[2].tolist() == [2, 3] * 50
    assert peak < 8 * 2**20  # the record is 20 MB; each step holds 1 MB of it


@pytest.fixture(scope="module")
def trimmer() -> Trimmer:
    return Trimmer(plugins.get_framer("helix"))


def _primed(trimmer: Trimmer, rng: np.random.Generator, edits: int) -> np.ndarray:
    """A strand-like read: primers around a random body, ``edits`` random edits, half of
    them reverse complemented, some with N."""
    read = np.concatenate([trimmer.p5, rng.integers(0, 4, trimmer.body), trimmer.p3])
    for _ in range(edits):
        at, op = int(rng.integers(0, len(read))), int(rng.integers(0, 3))
        if op == 0:
            read[at] = rng.integers(0, 5)
        elif op == 1:
            read = np.delete(read, at)
        else:
            read = np.insert(read, at, rng.integers(0, 5))
    if rng.integers(0, 2):
        read = np.where(read == 4, 4, 3 - read)[::-1]
    return read.astype(np.uint8)


def test_compiled_primer_alignment_finds_what_edlib_finds(trimmer: Trimmer) -> None:
    """The compiled aligner gives edlib's result for every read: the same bodies, the same
    orientation, the same reads without primers (and random reads almost never pass)."""
    rng = np.random.default_rng(3)
    primed = [_primed(trimmer, rng, int(rng.integers(0, 20))) for _ in range(1500)]
    junk = [rng.integers(0, 5, int(rng.integers(120, 400))).astype(np.uint8) for _ in range(1500)]
    reads = primed + junk
    got = trimmer.aligned_bodies(reads, np.arange(len(reads)))
    want = [trimmer._edlib_body(r) for r in reads]
    for (body, rev), (body_e, rev_e) in zip(got, want, strict=True):
        assert (body is None) == (body_e is None) and rev == rev_e
        assert body is None or np.array_equal(body, body_e)
    found = np.array([body is not None for body, _ in got])
    assert found[:1500].sum() > 1000 and found[1500:].sum() <= 5  # ~3e-4 of random reads


def test_junk_and_giant_reads_are_counted_without_the_aligner(trimmer: Trimmer, monkeypatch):
    """Junk goes to no primers and a read longer than any strand to too long, without an
    edlib alignment each (the old trimmer aligned every one of them, in Python)."""
    rng = np.random.default_rng(4)
    junk = [rng.integers(0, 4, 240).astype(np.uint8) for _ in range(3000)]
    long = np.concatenate([trimmer.p5, np.zeros(MAX_READ_NT, np.uint8), trimmer.p3])
    calls = []
    monkeypatch.setattr(trimmer, "_edlib_body", lambda r: calls.append(r))
    part = trimmer([*junk, long])
    report = part.report
    assert report.reads == 3001 and report.too_long == 1 and report.too_short == 0
    assert report.no_primers == 3000 - len(part.index)
    assert len(part.index) <= 5 and not calls


@posix
def test_junk_reads_give_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.fastq.gz"
    _junk_fastq(path, 3000)
    code, _, err, _ = _run([str(path), str(tmp_path / "o.bin")])
    assert str(path) in _one_line_error(code, err)
    assert not (tmp_path / "o.bin").exists()


def test_real_reads_still_decode(tmp_path: Path, capsys) -> None:
    """Simulated reads (with errors, both orientations) decode to the file, and with a
    giant read and junk added the same strands come out, the extra reads counted."""
    data = np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    (tmp_path / "f.bin").write_bytes(data)
    assert transcode_main([str(tmp_path / "f.bin"), str(tmp_path / "a.dnapkt"), "-q"]) == 0
    reads = tmp_path / "r.fastq"
    assert main(["simulate", str(tmp_path / "a.dnapkt"), str(reads), "--seed", "1"]) == 0
    assert transcode_main([str(reads), str(tmp_path / "o.bin")]) == 0
    assert (tmp_path / "o.bin").read_bytes() == data
    assert "0 too short" in capsys.readouterr().out
    with open(reads, "a") as f:
        f.write(f"@giant\n{'A' * 3 * MAX_READ_NT}\n+\n{'I' * 3 * MAX_READ_NT}\n")
    from helix_media.archive.decode import decode_any

    got = decode_any(str(reads), str(tmp_path / "o2.bin"))
    assert (tmp_path / "o2.bin").read_bytes() == data
    assert got.stats["reads"]["too_long"] == 1
