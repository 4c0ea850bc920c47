"""FASTA/FASTQ/CSV sequence files: round trips, strict letters, one-line errors."""

from __future__ import annotations

import bz2
import csv
import gzip
import lzma
import os
from pathlib import Path

import dnaio
import numpy as np
import pytest

from helix_media.dna.nucleotides import from_string, to_strings
from helix_media.errors import HelixError
from helix_media.strandio import fasta
from helix_media.strandio.fasta import (
    N_CODE,
    read_reads,
    read_sequences,
    read_strands,
    write_csv,
    write_fasta,
)


def random_strands(n: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length), dtype=np.uint8)


def expect_error(path: Path, match: str, **kwargs: bool) -> str:
    with pytest.raises(HelixError, match=match) as info:
        read_sequences(path, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def write_fastq(path: Path, records: list[tuple[str, str]]) -> None:
    with dnaio.open(path, mode="w") as out:
        for name, seq in records:
            out.write(dnaio.SequenceRecord(name, seq, "I" * len(seq)))


# -- round trips ---------------------------------------------------------------------------


def test_fasta_round_trip(tmp_path: Path) -> None:
    strands = random_strands(500, 240)
    write_fasta(tmp_path / "s.fasta", strands)
    assert np.array_equal(read_strands(tmp_path / "s.fasta"), strands)
    names, seqs = read_sequences(tmp_path / "s.fasta")
    assert names[:2] == ["helix_000000", "helix_000001"] and names[-1] == "helix_000499"
    assert seqs == to_strings(strands)
    lines = (tmp_path / "s.fasta").read_text().splitlines()
    assert lines[:2] == [">helix_000000", seqs[0]]  # unwrapped records
    assert len(lines) == 1000


def test_fasta_custom_names(tmp_path: Path) -> None:
    strands = random_strands(2, 10)
    write_fasta(tmp_path / "s.fa", strands, names=["first oligo", "second"])
    assert read_sequences(tmp_path / "s.fa")[0] == ["first oligo", "second"]
    with pytest.raises(ValueError, match="2 strands"):
        write_fasta(tmp_path / "t.fa", strands, names=["one"])
    with pytest.raises(ValueError, match="line breaks"):
        write_fasta(tmp_path / "t.fa", strands, names=["a\nb", "c"])
    assert not (tmp_path / "t.fa").exists()


def test_fasta_gz_round_trip(tmp_path: Path) -> None:
    strands = random_strands(300, 100)
    write_fasta(tmp_path / "s.fa.gz", strands)
    data = (tmp_path / "s.fa.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b"
    assert gzip.decompress(data).startswith(b">helix_000000\n")
    assert np.array_equal(read_strands(tmp_path / "s.fa.gz"), strands)
    write_fasta(tmp_path / "again.fa.gz", strands)  # no time or temp name in the gzip header
    assert (tmp_path / "again.fa.gz").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.fa.gz", "s.fa.gz"]


@pytest.mark.parametrize("name", ["r.fastq", "r.fq", "r.fq.gz"])
def test_fastq_reads_of_varying_length(tmp_path: Path, name: str) -> None:
    records = [("read1 extra", "ACGTACGT"), ("read2", "acgtn"), ("read3", "GATTACA")]
    write_fastq(tmp_path / name, records)
    names, seqs = read_sequences(tmp_path / name, allow_n=True)
    assert names == ["read1 extra", "read2", "read3"]
    assert seqs == ["ACGTACGT", "ACGTN", "GATTACA"]
    names, reads = read_reads(tmp_path / name, allow_n=True)
    assert [r.tolist() for r in reads] == [
        [0, 1, 2, 3, 0, 1, 2, 3],
        [0, 1, 2, 3, N_CODE],
        from_string("GATTACA").tolist(),
    ]
    assert all(r.dtype == np.uint8 for r in reads)
    write_fastq(tmp_path / name, [("a", "ACGT"), ("b", "ACG")])
    assert [len(r) for r in read_reads(tmp_path / name)[1]] == [4, 3]
    with pytest.raises(HelixError, match="differ in length"):
        read_strands(tmp_path / name)


def test_format_detected_from_content(tmp_path: Path) -> None:
    write_fastq(tmp_path / "reads.fq", [("r", "ACGT")])
    os.rename(tmp_path / "reads.fq", tmp_path / "misnamed.fa")
    assert read_sequences(tmp_path / "misnamed.fa") == (["r"], ["ACGT"])


def test_csv_order_sheet(tmp_path: Path) -> None:
    strands = random_strands(3, 20)
    write_csv(tmp_path / "order.csv", strands)
    with open(tmp_path / "order.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Name", "Sequence", "Length"]  # vendors price and make by length
    assert rows[1:] == [[f"helix_{i:06d}", s, "20"] for i, s in enumerate(to_strings(strands))]
    write_csv(tmp_path / "named.csv", strands[:1], names=["pool 1, oligo 1"])
    assert (tmp_path / "named.csv").read_text().splitlines()[1].startswith('"pool 1, oligo 1",')


def test_lowercase_and_crlf_accepted(tmp_path: Path) -> None:
    (tmp_path / "w.fa").write_bytes(b">a\r\nacgt\r\nAC\r\n>b\r\nGGTT\r\nAA\r\n")
    assert read_sequences(tmp_path / "w.fa") == (["a", "b"], ["ACGTAC", "GGTTAA"])
    assert read_strands(tmp_path / "w.fa").tolist() == [[0, 1, 2, 3, 0, 1], [2, 2, 3, 3, 0, 0]]


# -- input errors ----------------------------------------------------------------------------


def test_letters_other_than_acgt(tmp_path: Path) -> None:
    (tmp_path / "bad.fa").write_text(">one\nACGT\n>two\nACGUA\n")
    message = expect_error(tmp_path / "bad.fa", "record 2")
    assert "'two'" in message and "'U'" in message and "position 4" in message


def test_n_needs_allow_n(tmp_path: Path) -> None:
    (tmp_path / "n.fa").write_text(">one\nACNT\n")
    expect_error(tmp_path / "n.fa", "'N' at position 3.*not accepted here")
    assert read_sequences(tmp_path / "n.fa", allow_n=True)[1] == ["ACNT"]
    with pytest.raises(HelixError, match="'N'"):
        read_strands(tmp_path / "n.fa")
    (tmp_path / "r.fa").write_text(">one\nACRT\n")
    expect_error(tmp_path / "r.fa", "'R'.*A, C, G, T or N", allow_n=True)


def test_empty_files(tmp_path: Path) -> None:
    (tmp_path / "empty.fa").write_bytes(b"")
    expect_error(tmp_path / "empty.fa", "contains no sequences")
    (tmp_path / "blank.fastq").write_bytes(b"\n\n  \n")
    expect_error(tmp_path / "blank.fastq", "contains no sequences")
    (tmp_path / "empty.fa.gz").write_bytes(gzip.compress(b""))
    expect_error(tmp_path / "empty.fa.gz", "contains no sequences")


def test_not_fasta(tmp_path: Path) -> None:
    (tmp_path / "garbage.fa").write_bytes(bytes(range(256)) * 4)
    expect_error(tmp_path / "garbage.fa", "not a FASTA/FASTQ file")
    (tmp_path / "text.fasta").write_text("hello world\n")
    expect_error(tmp_path / "text.fasta", "not a FASTA/FASTQ file")
    (tmp_path / "order.csv").write_text("Name,Sequence\nx,ACGT\n")
    expect_error(tmp_path / "order.csv", "not a FASTA/FASTQ file")
    (tmp_path / "bin.fa").write_bytes(b">x\n" + bytes(range(128, 256)))
    expect_error(tmp_path / "bin.fa", "not a valid FASTA file")
    (tmp_path / "broken.fq").write_text("@r\nACGT\n+\nII\n")
    expect_error(tmp_path / "broken.fq", "not a valid FASTQ file")


def test_damaged_gzip(tmp_path: Path) -> None:
    write_fasta(tmp_path / "s.fa.gz", random_strands(2000, 200))
    data = (tmp_path / "s.fa.gz").read_bytes()
    (tmp_path / "cut.fa.gz").write_bytes(data[: len(data) // 2])
    expect_error(tmp_path / "cut.fa.gz", "damaged or truncated")
    (tmp_path / "junk.fa.gz").write_bytes(b"\x1f\x8b\x08\x00junk junk junk junk")
    expect_error(tmp_path / "junk.fa.gz", "damaged or truncated")


def test_missing_input(tmp_path: Path) -> None:
    expect_error(tmp_path / "missing.fa", "no such file")
    expect_error(tmp_path, "is a directory")


def test_read_strands_checks_lengths(tmp_path: Path) -> None:
    (tmp_path / "l.fa").write_text(">a\nACGT\n>b\nACGTA\n")
    with pytest.raises(HelixError, match=r"record 2 \('b'\) has 5 nt, record 1 has 4 nt"):
        read_strands(tmp_path / "l.fa")
    (tmp_path / "e.fa").write_text(">a\n>b\n")
    with pytest.raises(HelixError, match="has no sequence"):
        read_strands(tmp_path / "e.fa")


# -- output errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [write_fasta, write_csv])
def test_directory_as_output(tmp_path: Path, writer) -> None:
    with pytest.raises(HelixError, match="cannot write .*: it is a directory"):
        writer(tmp_path, random_strands(2, 8))
    with pytest.raises(HelixError, match="does not exist"):
        writer(tmp_path / "missing" / "out.fa", random_strands(2, 8))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        with pytest.raises(HelixError, match="cannot write .*out.fa: Permission denied"):
            write_fasta(locked / "out.fa", random_strands(2, 8))
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_failure_while_writing_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    """Whatever breaks mid-write (disk full, a bug), no partial FASTA is left behind."""
    calls = []

    def failing_record(name: str, seq: str) -> dnaio.SequenceRecord:
        calls.append(name)
        if len(calls) == 50:
            raise OSError(28, "No space left on device")
        return dnaio.SequenceRecord(name, seq)

    monkeypatch.setattr(fasta.dnaio, "SequenceRecord", failing_record)
    for name in ("out.fa", "out.fa.gz"):
        calls.clear()
        with pytest.raises(HelixError, match=f"cannot write .*{name}: No space left on device"):
            write_fasta(tmp_path / name, random_strands(100, 8))
    assert list(tmp_path.iterdir()) == []


def test_permission_denied_is_one_line(tmp_path: Path, monkeypatch) -> None:
    """The unwritable-directory case, simulated so that it also runs as root."""
    real_open = os.open

    def deny(path, flags, mode=0o777, *args, **kwargs):
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(HelixError, match=r"^cannot write .*out\.csv: Permission denied$"):
        write_csv(tmp_path / "out.csv", random_strands(2, 8))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("suffix", "compress"), [(".bz2", bz2.compress), (".xz", lzma.compress)])
def test_other_compressions(tmp_path: Path, suffix: str, compress) -> None:
    data = compress(b">a\nACGT\n>b\nTTGG\n")
    (tmp_path / f"s.fa{suffix}").write_bytes(data)
    assert read_strands(tmp_path / f"s.fa{suffix}").tolist() == [[0, 1, 2, 3], [3, 3, 2, 2]]
    (tmp_path / f"cut.fa{suffix}").write_bytes(data[: len(data) // 2])
    expect_error(tmp_path / f"cut.fa{suffix}", "damaged or truncated")


def test_write_rejects_non_bases(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0..3"):
        write_fasta(tmp_path / "x.fa", np.full((2, 4), 7))
    with pytest.raises(ValueError, match="0..3"):
        write_csv(tmp_path / "x.csv", np.zeros((2, 4), dtype=float))
    assert list(tmp_path.iterdir()) == []
