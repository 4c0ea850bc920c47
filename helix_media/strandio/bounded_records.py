"""Sequence files cut to a bounded record length while they are decompressed, before dnaio.

dnaio grows its buffer until a whole record fits, so a 1 MB gzip holding one 512-Mb read
would be held whole (and FASTA's wrapped lines joined in Python). This stream sits between
the decompressor and dnaio and cuts any record longer than :data:`MAX_READ_NT` to one base
more (so the read path still counts it as too long), filtering 1 MB at a time with compiled
kernels; records up to the bound pass through unchanged.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import BinaryIO

import numba
import numpy as np
import xopen

#: Longest read the read path takes whole: beyond any strand a framer may make (the built-in
#: ones top out at 300 nt; synthesized genes at a few kb), with room for indels and adapters;
#: a longer read is no strand (concatemers, contamination, a hostile file). The readers cut it to
#: ``MAX_READ_NT + 1`` bases while streaming, so that it is never held whole in memory and
#: the trimmer still counts it (too long); a 1 MB gzip can inflate to a 1 GB record.
MAX_READ_NT = 4096
_BOUND_CHUNK = 1 << 20  # decompressed bytes filtered per step


_WHITE = np.zeros(256, dtype=np.bool_)
_WHITE[list(b" \t\r\v\f")] = True


@numba.njit(cache=True)
def _first_too_long(data, line, cap):  # pragma: no cover - compiled
    """(index of the first byte past ``cap`` in its line or len(data), bytes of the last
    line) for ``data`` whose first line has ``line`` bytes before it. Jumps ``cap`` bytes
    ahead and looks back for a newline, so it touches a fraction of the bytes of a file
    whose lines are all short (a FASTQ of reads)."""
    n, start = len(data), -line  # start of the current line
    while start + cap < n:
        q, low = start + cap, max(start, 0)
        while q >= low and data[q] != 10:
            q -= 1
        if q < low:
            return start + cap, cap
        start = q + 1
    q, low = n - 1, max(start, 0)
    while q >= low and data[q] != 10:
        q -= 1
    return n, n - (q + 1 if q >= low else start)


@numba.njit(cache=True)
def _bound_fastq(data, out, state, cap):  # pragma: no cover - compiled
    """Copy ``data`` to ``out`` with each line cut after ``cap`` bytes; returns bytes out.
    ``state[0]``: bytes of the current line so far (it may span chunks). Sequence and
    quality lines of a record are cut alike, so the record stays valid FASTQ. A chunk
    with nothing to cut (the usual one) is only scanned: ``out`` is then left unwritten."""
    first, line = _first_too_long(data, state[0], cap)
    if first == len(data):
        state[0] = line
        return first
    out[:first] = data[:first]
    i, j, n = first, first, len(data)
    while i < n:
        end = i
        while end < n and data[end] != 10:
            end += 1
        keep = max(0, min(end - i, cap - line))
        out[j : j + keep] = data[i : i + keep]
        j += keep
        line = min(cap, line + end - i)
        if end < n:
            out[j] = 10
            j, line = j + 1, 0
        i = end + 1
    state[0] = line
    return j


@numba.njit(cache=True)
def _bound_fasta(data, out, state, cap, white):  # pragma: no cover - compiled
    """Copy ``data`` to ``out`` with each record cut after ``cap`` sequence letters (header
    and comment lines after ``cap`` bytes); returns bytes out. A record's lines beyond the
    cut are dropped whole, so a wrapped giant record leaves no trail of blank lines.
    ``state``: [bytes of the current line, its kind (0 blank so far, 1 header or comment,
    2 sequence, 3 dropped sequence), letters of the current record]."""
    line, kind, letters, j = state[0], state[1], state[2], 0
    for b in data:
        if b == 10:
            if kind != 3:
                out[j] = b
                j += 1
            line, kind = 0, 0
            continue
        if kind == 0 and not white[b]:
            if b == 62 or b == 35:  # '>' starts a record, '#' a comment (as dnaio reads)
                kind = 1
                letters = 0 if b == 62 else letters
            else:
                kind = 3 if letters >= cap else 2
        line += 1
        if kind == 3 or (kind == 1 and line > cap):
            continue
        if kind == 2 and not white[b]:
            if letters >= cap:
                continue
            letters += 1
        out[j] = b
        j += 1
    state[0], state[1], state[2] = line, kind, letters
    return j


class BoundedRecords(io.RawIOBase):
    """A decompressed FASTA/FASTQ byte stream whose records are cut to at most ``limit + 1``
    letters as it streams: a record of ``limit`` letters or fewer passes unchanged, a longer
    one keeps ``limit + 1`` (still too long, so its reader can count it) and the rest is
    dropped unread by the parser, which would otherwise hold the whole record at once."""

    def __init__(self, raw: BinaryIO, fileformat: str, limit: int = MAX_READ_NT) -> None:
        super().__init__()
        self._raw = raw
        self._fastq = fileformat == "fastq"
        self._cap = limit + 1
        self._state = np.zeros(3, dtype=np.int64)
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        """Filter the next chunk into the output; False at the end of the stream."""
        data = self._raw.read(_BOUND_CHUNK)
        if not data:
            return False
        codes = np.frombuffer(data, dtype=np.uint8)
        out = np.empty_like(codes)
        if self._fastq:
            n = _bound_fastq(codes, out, self._state, self._cap)
        else:
            n = _bound_fasta(codes, out, self._state, self._cap, _WHITE)
        self._out = memoryview(data if n == len(data) else out[:n].tobytes())
        return True

    def readinto(self, buffer) -> int:
        while not len(self._out):
            if not self._fill():
                return 0
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


@contextlib.contextmanager
def open_bounded(path: str, fileformat: str, limit: int | None) -> Iterator[BinaryIO]:
    """The file, decompressed, for dnaio; records cut to ``limit`` (+1) letters unless None."""
    with xopen.xopen(path, "rb", threads=0) as raw:
        if limit is None:
            yield raw
            return
        with io.BufferedReader(BoundedRecords(raw, fileformat, limit), _BOUND_CHUNK) as f:
            yield f
