"""Sequence files: FASTA/CSV for synthesis orders, FASTA/FASTQ (optionally compressed) back in.

Parsing and compression go through dnaio, the field's FASTA/FASTQ library; this module
adds what a DNA-storage pipeline needs on top: atomic output, vendor order sheets, strict
ACGT checking with one-line errors that name the record and letter, and numpy arrays.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import lzma
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import dnaio
import numpy as np
import xopen

from helix_media.dna import nucleotides
from helix_media.errors import HelixError
from helix_media.strandio.atomic import atomic_output
from helix_media.strandio.bounded_records import MAX_READ_NT, open_bounded

T = TypeVar("T")
N_CODE = 4  # code of N (unknown base) in arrays from read_reads(allow_n=True)
_SNIFF_CHUNK = 1 << 16


def _decompress_errors() -> tuple[type[BaseException], ...]:
    """What damaged compressed input raises inside xopen's (optional, faster) backends."""
    errors: list[type[BaseException]] = [EOFError, OSError, zlib.error, lzma.LZMAError]
    for module, name in (("isal.igzip_lib", "IsalError"), ("zlib_ng.zlib_ng", "error")):
        with contextlib.suppress(ImportError, AttributeError):
            errors.append(getattr(importlib.import_module(module), name))
    return tuple(errors)


_DECOMPRESS_ERRORS = _decompress_errors()
# dnaio's own format errors; ValueError covers non-ASCII text (UnicodeDecodeError).
_FORMAT_ERRORS = (dnaio.exceptions.FileFormatError, dnaio.exceptions.UnknownFileFormat, ValueError)


def default_names(n: int) -> list[str]:
    return [f"helix_{i:06d}" for i in range(n)]


def _records(strands: np.ndarray, names: Sequence[str] | None) -> tuple[list[str], list[str]]:
    strands = np.asarray(strands)
    if strands.ndim != 2:
        raise ValueError(f"expected an (n, length) array of strands, got shape {strands.shape}")
    names = default_names(len(strands)) if names is None else list(names)
    if len(names) != len(strands):
        raise ValueError(f"{len(names)} names for {len(strands)} strands")
    if any("\n" in name or "\r" in name for name in names):
        raise ValueError("strand names must not contain line breaks")
    if strands.size and (strands.dtype.kind not in "ui" or strands.min() < 0 or strands.max() > 3):
        raise ValueError("strands must be integer bases 0..3 (A, C, G, T)")
    return names, nucleotides.to_strings(strands.astype(np.uint8, copy=False))


def write_fasta(
    path: str | os.PathLike[str], strands: np.ndarray, names: Sequence[str] | None = None
) -> None:
    """One unwrapped record per strand; gzip-compressed when ``path`` ends in ``.gz``.

    Compression uses xopen (dnaio's opener) at dnaio's default level 1: random-looking DNA
    barely compresses beyond 2 bits/nt, and level 6 is ~40x slower for ~10% less.
    """
    names, seqs = _records(strands, names)
    compress = os.fspath(path).lower().endswith(".gz")
    with atomic_output(path, "wb") as out, contextlib.ExitStack() as stack:
        target = out
        if compress:
            gz = xopen.xopen(out, "wb", compresslevel=1, threads=0, format="gz")
            target = stack.enter_context(gz)
        with dnaio.FastaWriter(target, line_length=None) as writer:
            for name, seq in zip(names, seqs, strict=True):
                writer.write(dnaio.SequenceRecord(name, seq))


def write_reads(
    path: str | os.PathLike[str],
    names: Sequence[str],
    seqs: Sequence[str],
    qualities: Sequence[str] | None = None,
) -> None:
    """Reads of any lengths: FASTQ when ``qualities`` are given, else FASTA; ``.gz`` compresses."""
    compress = os.fspath(path).lower().endswith(".gz")
    with atomic_output(path, "wb") as out, contextlib.ExitStack() as stack:
        target = out
        if compress:
            gz = xopen.xopen(out, "wb", compresslevel=1, threads=0, format="gz")
            target = stack.enter_context(gz)
        if qualities is None:
            writer = stack.enter_context(dnaio.FastaWriter(target, line_length=None))
            for name, seq in zip(names, seqs, strict=True):
                writer.write(dnaio.SequenceRecord(name, seq))
        else:
            writer = stack.enter_context(dnaio.FastqWriter(target))
            for name, seq, q in zip(names, seqs, qualities, strict=True):
                writer.write(dnaio.SequenceRecord(name, seq, q))


def write_csv(
    path: str | os.PathLike[str], strands: np.ndarray, names: Sequence[str] | None = None
) -> None:
    """An oligo-pool order sheet: header ``Name,Sequence,Length``, one row per oligo (RFC
    4180); Length (nt, primers included) is what a vendor prices and synthesizes by."""
    names, seqs = _records(strands, names)
    with atomic_output(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Sequence", "Length"])
        writer.writerows((n, s, len(s)) for n, s in zip(names, seqs, strict=True))


def _open_check(path: str) -> None:
    """Turn the usual can't-open mistakes into one-line errors before dnaio sees them."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError as err:
        raise HelixError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise HelixError(f"{path}: is a directory, not a sequence file") from err
    except OSError as err:
        raise HelixError(f"cannot read {path}: {err.strerror or err}") from err


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _sniff(path: str) -> str:
    """'fasta' or 'fastq' from the first character of the (decompressed) content.

    dnaio trusts the file extension; going by content names the real problem when a
    FASTQ file is called .fa, or a file is no sequence file at all.
    """
    text = b""
    try:
        with xopen.xopen(path, "rb", threads=0) as f:
            while chunk := f.read(_SNIFF_CHUNK):
                text = chunk.lstrip()
                if text:
                    break
    except _DECOMPRESS_ERRORS as err:
        raise HelixError(f"{path}: damaged or truncated file ({_one_line(err)})") from err
    if not text:
        raise HelixError(f"{path}: contains no sequences")
    first = text[:1]
    if first == b">":
        return "fasta"
    if first == b"@":
        return "fastq"
    raise HelixError(f"{path}: not a FASTA/FASTQ file (starts with {text[:12]!r})")


def _allowed_table(allow_n: bool) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    letters = "ACGTN" if allow_n else "ACGT"
    for ch in letters + letters.lower():
        table[ord(ch)] = True
    return table


_ALLOWED = {False: _allowed_table(False), True: _allowed_table(True)}


def _check_letters(
    path: str, names: list[str], seqs: list[str], allow_n: bool, first: int = 0
) -> None:
    """Vectorized over a chunk of records (``first``: how many came before it); on failure
    name the record, letter and position."""
    raw = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
    bad = ~_ALLOWED[allow_n][raw]
    if not bad.any():
        return
    pos = int(np.argmax(bad))
    ends = np.cumsum([len(s) for s in seqs])
    k = int(np.searchsorted(ends, pos, side="right"))
    offset = pos - (int(ends[k - 1]) if k else 0)
    letter = chr(raw[pos])
    allowed = "A, C, G, T or N" if allow_n else "A, C, G, T"
    hint = " (N, an unknown base, is not accepted here)" if letter in "Nn" else ""
    raise HelixError(
        f"{path}: record {first + k + 1} ({names[k]!r}) has {letter!r} at position {offset + 1}; "
        f"only {allowed} are allowed{hint}"
    )


def _chunks(
    path: str | os.PathLike[str],
    chunk: int,
    convert: Callable[[str, list[str], list[str], int], T],
    limit: int | None = None,
) -> Iterator[T]:
    """``convert(path, names, sequences, records before)`` of each ``chunk`` records of a
    FASTA/FASTQ file (.gz/.bz2/.xz too), inside the handler that turns a damaged file's
    errors into one-line ones. ``limit``: records cut to ``limit + 1`` letters as they
    stream (:class:`BoundedRecords`), None: taken whole."""
    path = os.fspath(path)
    _open_check(path)
    fileformat = _sniff(path)
    names: list[str] = []
    seqs: list[str] = []
    done = 0
    try:
        with (
            open_bounded(path, fileformat, limit) as f,
            dnaio.open(f, fileformat=fileformat) as reader,
        ):
            for record in reader:
                names.append(record.name)
                seqs.append(record.sequence)
                if len(seqs) == chunk:
                    yield convert(path, names, seqs, done)
                    done += len(seqs)
                    names, seqs = [], []
        if seqs:
            yield convert(path, names, seqs, done)
    except _FORMAT_ERRORS as err:
        kind = fileformat.upper()
        raise HelixError(f"{path}: not a valid {kind} file ({_one_line(err)})") from err
    except _DECOMPRESS_ERRORS as err:
        raise HelixError(f"{path}: damaged or truncated file ({_one_line(err)})") from err
    if not seqs and not done:
        raise HelixError(f"{path}: contains no sequences")


def iter_sequences(
    path: str | os.PathLike[str], chunk: int, allow_n: bool = False
) -> Iterator[tuple[list[str], list[str]]]:
    """Names and upper-case sequences of a FASTA/FASTQ file (.gz/.bz2/.xz too), ``chunk``
    records at a time: a sequencing run need not fit in memory.

    Anything but ACGT (and N when ``allow_n``) is an error: strands we exported never
    contain N, and reads only may once N is handled as an erasure.
    """

    def upper(path: str, names: list[str], seqs: list[str], done: int):
        _check_letters(path, names, seqs, allow_n, done)
        return names, [s.upper() for s in seqs]

    yield from _chunks(path, chunk, upper)


def read_sequences(
    path: str | os.PathLike[str], allow_n: bool = False
) -> tuple[list[str], list[str]]:
    """All names and sequences of a file at once (see :func:`iter_sequences`)."""
    ((names, seqs),) = iter_sequences(path, -1, allow_n)
    return names, seqs


def iter_reads(
    path: str | os.PathLike[str], chunk: int, allow_n: bool = False
) -> Iterator[list[np.ndarray]]:
    """Sequencing reads, ``chunk`` at a time, as :func:`read_reads` gives them: a read
    longer than :data:`MAX_READ_NT` comes cut to ``MAX_READ_NT + 1`` bases."""

    def codes(path: str, names: list[str], seqs: list[str], done: int) -> list[np.ndarray]:
        return _read_codes(path, names, seqs, allow_n, done)

    yield from _chunks(path, chunk, codes, MAX_READ_NT)


def read_strands(path: str | os.PathLike[str]) -> np.ndarray:
    """Equal-length strands (e.g. a FASTA we exported) as an (n, length) uint8 array."""
    names, seqs = read_sequences(path)
    lengths = np.array([len(s) for s in seqs])
    differ = lengths != lengths[0]
    if differ.any():
        k = int(np.argmax(differ))
        raise HelixError(
            f"{os.fspath(path)}: strands differ in length: record {k + 1} ({names[k]!r}) has "
            f"{lengths[k]} nt, record 1 has {lengths[0]} nt"
        )
    if lengths[0] == 0:
        raise HelixError(f"{os.fspath(path)}: record 1 ({names[0]!r}) has no sequence")
    return nucleotides.from_strings(seqs)


_READ_CODES = np.full(256, 255, dtype=np.uint8)
for _i, _ch in enumerate(nucleotides.ALPHABET + "N"):
    _READ_CODES[ord(_ch)] = _READ_CODES[ord(_ch.lower())] = min(_i, N_CODE)


def _read_codes(
    path: str, names: list[str], seqs: list[str], allow_n: bool, done: int
) -> list[np.ndarray]:
    """Sequences -> one uint8 array of codes each (either case), letters checked as by
    :func:`_check_letters`; the text is encoded once for both."""
    codes = _READ_CODES[np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)]
    if codes.max(initial=0) > (N_CODE if allow_n else 3):  # other letters are 255
        _check_letters(path, names, seqs, allow_n, done)  # raises, naming the record
    return _cut(codes, [len(s) for s in seqs])


def read_reads(
    path: str | os.PathLike[str], allow_n: bool = False
) -> tuple[list[str], list[np.ndarray]]:
    """Sequencing reads of any lengths: names and one uint8 array of bases per read.

    With ``allow_n``, N comes back as :data:`N_CODE` (4). A read longer than
    :data:`MAX_READ_NT` comes cut to ``MAX_READ_NT + 1`` bases (no strand is that long).
    """

    def named(path: str, names: list[str], seqs: list[str], done: int):
        return names, _read_codes(path, names, seqs, allow_n, done)

    ((names, reads),) = _chunks(path, -1, named, MAX_READ_NT)
    return names, reads


def _cut(codes: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
    """One flat array -> consecutive pieces of these lengths (views; np.split is ~5x
    slower per piece)."""
    ends = np.cumsum(lengths, dtype=np.int64).tolist()
    return [codes[a:b] for a, b in zip([0, *ends][:-1], ends, strict=True)]


def _split(table: np.ndarray, texts: list[str]) -> list[np.ndarray]:
    """ASCII strings -> one uint8 array per string, each letter mapped through ``table``."""
    codes = table[np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)]
    return _cut(codes, [len(t) for t in texts])


_PHRED = np.maximum(np.arange(256), 33).astype(np.uint8) - 33  # FASTQ letter -> Phred score


@dataclass
class Mates:
    """One file of paired-end reads (R1 or R2), record for record in file order."""

    names: list[str]
    bases: list[np.ndarray]  # uint8 codes as from read_reads (N: N_CODE)
    qualities: list[np.ndarray]  # uint8 Phred scores, one per base


def read_pairs(
    path1: str | os.PathLike[str], path2: str | os.PathLike[str], allow_n: bool = False
) -> tuple[Mates, Mates]:
    """The R1 and R2 FASTQ files of a paired-end run (.gz/.bz2/.xz too), read as pairs.

    Record k of one file must be the mate of record k of the other: the same ID, up to
    Illumina's /1 and /2 (dnaio's rule). Letters are checked as in :func:`read_sequences`;
    a mate longer than :data:`MAX_READ_NT` comes cut as by :func:`read_reads`.
    """
    paths = os.fspath(path1), os.fspath(path2)
    for path in paths:
        _open_check(path)
        if _sniff(path) != "fastq":
            raise HelixError(f"{path}: paired-end reads must be FASTQ (merging needs qualities)")
    if os.path.samefile(*paths):
        raise HelixError(f"{paths[1]}: is the R1 file itself; give the file of the mates (R2)")
    texts: tuple[list[list[str]], ...] = ([[], [], []], [[], [], []])  # names, bases, quals
    try:
        with (
            open_bounded(paths[0], "fastq", MAX_READ_NT) as f1,
            open_bounded(paths[1], "fastq", MAX_READ_NT) as f2,
            dnaio.open(f1, file2=f2, fileformat="fastq") as reader,
        ):
            try:
                for pair in reader:
                    for (names, seqs, quals), record in zip(texts, pair, strict=True):
                        names.append(record.name)
                        seqs.append(record.sequence)
                        quals.append(record.qualities)
            except dnaio.exceptions.FileFormatError as err:
                if type(err) is not dnaio.exceptions.FileFormatError:
                    raise  # a parser's error (a subclass), handled below
                raise HelixError(_pairing_problem(paths, reader, err)) from err
    except _FORMAT_ERRORS + _DECOMPRESS_ERRORS as err:
        raise _damaged(paths, err, allow_n) from err
    mates = []
    for path, (names, seqs, quals) in zip(paths, texts, strict=True):
        _check_letters(path, names, seqs, allow_n)
        seqs = [s.upper() for s in seqs]
        mates.append(Mates(names, _split(_READ_CODES, seqs), _split(_PHRED, quals)))
    return mates[0], mates[1]


def _pairing_problem(paths: tuple[str, str], reader, err: BaseException) -> str:
    """One line on why the two files do not pair (dnaio names no file)."""
    counts = reader.reader1.number_of_records, reader.reader2.number_of_records
    if counts[0] != counts[1]:
        short, long = (paths[0], paths[1]) if counts[0] < counts[1] else (paths[1], paths[0])
        return (
            f"{short}: ends after {min(counts)} reads but {long} has more; "
            "the R1 and R2 files must hold the same reads"
        )
    detail = getattr(err, "message", str(err)).removeprefix("Reads are improperly paired. ")
    return (
        f"{paths[1]}: record {counts[1]} is not the mate of record {counts[0]} of {paths[0]} "
        f"({detail.rstrip('.')}); R1 and R2 must list the same reads in the same order"
    )


def _damaged(paths: tuple[str, str], err: BaseException, allow_n: bool) -> HelixError:
    """A parse error of the paired reader, which does not say whose: read each file alone,
    which raises the one-line error naming it."""
    for path in paths:
        read_sequences(path, allow_n=allow_n)
    return HelixError(f"{paths[0]}, {paths[1]}: not valid FASTQ ({_one_line(err)})")
