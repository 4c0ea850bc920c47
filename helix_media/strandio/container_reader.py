"""Reading a ``.dnapkt``: strict (any damage is an error) or salvaging (damaged packets are
counted as lost strands), whole or in batches."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from helix_media.dna import nucleotides
from helix_media.errors import HelixError
from helix_media.strandio.container import (
    END_MARKER,
    MIN_TRAILER,
    PACKET_CRC,
    PACKET_HEAD,
    PREAMBLE,
    ROW_CHUNK,
    SIGNATURE,
    TAIL,
    TRAILER_HEAD,
    U32,
    VERSION,
    check_strand_length,
    crc32_rows,
    packed_bytes,
    packet_size,
)


class DnapktReader:
    """An open ``.dnapkt`` file whose framing (header, trailer, index) has been verified.

    Packets are checked (CRC, length, padding) as they are read, batch by batch, so a
    streaming consumer may receive good batches before the one that raises.
    """

    def __init__(self, path: str | os.PathLike[str], salvage: bool = False) -> None:
        self.path = os.fspath(path)
        #: ``salvage``: damaged packets are dropped (counted in ``dropped``) instead of failing
        #: the file, and a damaged or missing trailer leaves every whole packet readable, so a
        #: decoder treats them as lost strands. A damaged header (CRC, JSON, strand length) is
        #: salvaged from the packets themselves, which carry their length and CRC: the header
        #: becomes ``{"strand_length": L}`` and :attr:`header_damage` says what was wrong (the
        #: framer it named is unknown: detect it from the strands, as for FASTA).
        self.salvage = salvage
        self.dropped = 0
        self.damage: str | None = None
        self.header_damage: str | None = None
        try:
            self._f: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        except FileNotFoundError as err:
            raise HelixError(f"{self.path}: no such file") from err
        except IsADirectoryError as err:
            raise HelixError(f"{self.path}: is a directory, not a .dnapkt file") from err
        except OSError as err:
            raise HelixError(f"cannot read {self.path}: {err.strerror or err}") from err
        try:
            self._size = os.fstat(self._f.fileno()).st_size
            self._read_framing()
        except BaseException:
            self._f.close()
            raise

    # -- framing ---------------------------------------------------------------------

    def _fail(self, what: str) -> HelixError:
        return HelixError(f"{self.path}: {what}")

    def _read_at(self, offset: int, size: int, where: str) -> bytes:
        self._f.seek(offset)
        data = self._f.read(size)
        if len(data) != size:
            raise self._fail(f"truncated ({where} cut short)")
        return data

    def _read_framing(self) -> None:
        if self._size == 0:
            raise self._fail("file is empty (not a .dnapkt file)")
        start = self._f.read(PREAMBLE.size)
        self._check_signature(start)
        if len(start) < PREAMBLE.size:
            raise self._fail("truncated (file ends inside the version field)")
        _, major, minor = PREAMBLE.unpack(start)
        self.version = (major, minor)
        if major != VERSION[0]:
            raise self._fail(
                f"unsupported .dnapkt version {major}.{minor} (this reader reads {VERSION[0]}.x)"
            )
        try:
            self.header = self._read_header(start[len(SIGNATURE) :])
        except HelixError as err:
            if not self.salvage:
                raise
            self.header = self._salvage_header(err)
        self.strand_length = self.header["strand_length"]
        self.packet_size = packet_size(self.strand_length)
        try:
            self._read_trailer()
        except HelixError as err:
            if not self.salvage:
                raise
            self.damage = self.header_damage or str(err)  # read every whole packet there is
            self.count = max(0, self._size - self.packets_start) // self.packet_size

    def _check_signature(self, start: bytes) -> None:
        if start.startswith(SIGNATURE):
            return
        if SIGNATURE.startswith(start):
            raise self._fail("truncated (file ends inside the signature)")
        damaged = (SIGNATURE.replace(b"\r\n", b"\n"), SIGNATURE.replace(b"\n", b"\r\n"))
        if any(start.startswith(d[: len(SIGNATURE)]) for d in damaged):
            raise self._fail(
                "not a .dnapkt file (signature has altered line endings: "
                "was it transferred in text mode?)"
            )
        raise self._fail("not a .dnapkt file")

    def _read_header(self, version_bytes: bytes) -> dict[str, Any]:
        """Header block; its CRC also covers the version field before it."""
        (length,) = U32.unpack(self._read_at(PREAMBLE.size, U32.size, "header length"))
        if PREAMBLE.size + U32.size + length + U32.size > self._size:
            raise self._fail("truncated (file ends inside the header)")
        raw = self._read_at(PREAMBLE.size + U32.size, length + U32.size, "header")
        text, (crc,) = raw[:length], U32.unpack(raw[length:])
        if zlib.crc32(version_bytes + U32.pack(length) + text) != crc:
            raise self._fail("header CRC mismatch (file damaged)")
        try:
            header = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self._fail(f"header is not valid JSON ({err})") from err
        except RecursionError as err:  # [[[[...]]]] thousands deep: crafted, never ours
            raise self._fail(
                "damaged header (its JSON is nested too deeply; helix-media never writes "
                "that): not a readable .dnapkt, use another copy of the strands"
            ) from err
        if not isinstance(header, dict):
            raise self._fail("header is not a JSON object")
        try:
            check_strand_length(header.get("strand_length"))
        except ValueError as err:
            raise self._fail(f"bad header: {err}") from err
        self.packets_start = PREAMBLE.size + U32.size + length + U32.size
        return header

    # -- a damaged header: the layout from the packets ----------------------------------

    #: how far past the preamble a salvaging reader looks for the first intact packet
    HEADER_SCAN = 1 << 20

    def _salvage_header(self, err: HelixError) -> dict[str, Any]:
        """The header failed its checks: find the packets (self-delimiting: length and CRC)
        and their strand length from the data, or fail with a message that names the damage."""
        what = str(err).removeprefix(f"{self.path}: ").replace(" (file damaged)", "")
        found = self._find_packets()
        if found is None:
            if what.startswith("damaged header"):
                raise err
            raise self._fail(
                f"damaged header ({what}) and no intact packet after it: not a readable "
                ".dnapkt; use another copy of the strands (e.g. a FASTA export)"
            ) from err
        self.packets_start, length = found
        self.header_damage = f"damaged header ({what}); its packets were read without it"
        self.damage = self.header_damage
        return {"strand_length": length}

    def _packet_ok(self, offset: int, buf: bytes | None = None, at: int = 0) -> int | None:
        """The strand length of an intact packet at ``offset`` (its CRC and padding check
        out), None if there is none; ``buf``: the file's bytes from offset ``at`` on."""
        if buf is None:
            buf, at = self._peek(offset, packet_size(0xFFFF)), offset
        head = buf[offset - at : offset - at + 2]
        if len(head) < 2:
            return None
        length = head[0] | head[1] << 8
        if length == 0:
            return None
        size = packet_size(length)
        rec = buf[offset - at : offset - at + size]
        if (
            len(rec) < size
            or zlib.crc32(rec[: size - PACKET_CRC]) != U32.unpack(rec[size - PACKET_CRC :])[0]
        ):
            return None
        if length % 4 and rec[size - PACKET_CRC - 1] & ((1 << (2 * (4 - length % 4))) - 1):
            return None
        return length

    def _peek(self, offset: int, size: int) -> bytes:
        self._f.seek(offset)
        return self._f.read(size)

    def _find_packets(self) -> tuple[int, int] | None:
        """(first packet's offset, strand length) of a file whose header is damaged: where the
        header's length field, or the trailer's index, says the packets start, if an intact
        packet (one of the first 8) agrees; else the first intact packet past the preamble."""
        first = PREAMBLE.size + U32.size + U32.size  # an empty header
        candidates = []
        (hlen,) = U32.unpack(self._peek(PREAMBLE.size, U32.size).ljust(U32.size, b"\0"))
        candidates.append(first + hlen)
        tail = self._peek(max(0, self._size - TAIL.size), TAIL.size)
        if len(tail) == TAIL.size and self._size >= MIN_TRAILER + first:
            offset, _, marker = TAIL.unpack(tail)
            if marker == END_MARKER and first <= offset <= self._size - MIN_TRAILER:
                head = self._peek(offset, TRAILER_HEAD.size + 8)
                if len(head) == TRAILER_HEAD.size + 8 and TRAILER_HEAD.unpack_from(head)[3]:
                    (p,) = U32.unpack(head[TRAILER_HEAD.size : TRAILER_HEAD.size + 4])
                    candidates.append(p)
        for start in candidates:  # an intact first packet where they say
            if first <= start < self._size and (length := self._packet_ok(start)) is not None:
                return start, length
        stop = min(self._size, first + self.HEADER_SCAN)
        buf = self._peek(first, stop - first + packet_size(0xFFFF))  # one read for the scan
        for at in first + _packet_starts(buf, stop - first):  # the first intact packet
            length = self._packet_ok(int(at), buf, first)
            if length is not None:  # packets before it, if a candidate says so, are damaged
                size = packet_size(length)
                starts = [c for c in candidates if first <= c <= at and (at - c) % size == 0]
                return (starts[0] if starts else at), length
        return None

    def _read_trailer(self) -> None:
        if self._size < self.packets_start + MIN_TRAILER:
            raise self._fail("truncated (no trailer)")
        tail = self._read_at(self._size - TAIL.size, TAIL.size, "trailer")
        offset, crc, marker = TAIL.unpack(tail)
        if marker != END_MARKER:
            raise self._fail("truncated (no end marker: the file was cut short or damaged)")
        if not self.packets_start <= offset <= self._size - MIN_TRAILER:
            raise self._fail("damaged trailer (trailer offset out of range)")
        crc_at = self._size - TAIL.size + 8  # the CRC covers the trailer up to itself
        body = self._read_at(offset, crc_at - offset, "trailer")
        if zlib.crc32(body) != crc:
            raise self._fail("trailer CRC mismatch (file damaged)")
        terminator, count, interval, entries = TRAILER_HEAD.unpack_from(body)
        if terminator != 0 or len(body) != TRAILER_HEAD.size + 8 * entries + 8:
            raise self._fail("damaged trailer (inconsistent layout)")
        region = offset - self.packets_start
        if region != count * self.packet_size:
            held = (
                f"{region // self.packet_size} packets"
                if region % self.packet_size == 0
                else f"{region} bytes, not a whole number of {self.packet_size}-byte packets"
            )
            raise self._fail(f"count mismatch: trailer says {count} strands, file holds {held}")
        self.count = count
        self._check_index(body, interval, entries)

    def _check_index(self, body: bytes, interval: int, entries: int) -> None:
        expected_entries = -(-self.count // interval) if interval else 0
        if entries != expected_entries:
            raise self._fail(
                f"damaged index: {entries} entries for {self.count} packets every {interval}"
            )
        index = np.frombuffer(body, "<u8", entries, TRAILER_HEAD.size).astype(np.int64)
        expected = self.packets_start + np.arange(entries) * interval * self.packet_size
        if (index != expected).any():
            k = int(np.argmax(index != expected))
            raise self._fail(
                f"damaged index: entry {k} points to byte {index[k]}, not {expected[k]}"
            )
        self.index_interval = interval
        self.index = index

    # -- packets ---------------------------------------------------------------------

    def _decode(self, rec: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
        """Check a batch of packet records (first = index of rec[0]) and unpack it."""
        if self.salvage:
            good = np.concatenate(
                [
                    self._intact(rec[lo : lo + ROW_CHUNK], first + lo)
                    for lo in range(0, len(rec), ROW_CHUNK)
                ]
                or [np.zeros(0, dtype=bool)]
            )
            self.dropped += int((~good).sum())
            rec = rec[good]
        strands = np.empty((rec.shape[0], self.strand_length), dtype=np.uint8)
        for lo in range(0, rec.shape[0], ROW_CHUNK):
            hi = lo + ROW_CHUNK
            strands[lo:hi] = self._decode_block(rec[lo:hi], first + lo)
        return strands, rec[:, 2].copy()

    def _intact(self, rec: np.ndarray, first: int) -> np.ndarray:
        """Per packet: CRC, length and padding check out (raises unless salvaging)."""
        n, length = rec.shape[0], self.strand_length
        body = self.packet_size - PACKET_CRC
        stored = rec[:, body:].copy().view("<u4").reshape(n)
        crc_bad = crc32_rows(rec[:, :body]) != stored
        lengths = rec[:, 0].astype(np.int64) | (rec[:, 1].astype(np.int64) << 8)
        pad_bad = np.zeros(n, dtype=bool)
        if length % 4:
            pad_bad = (rec[:, body - 1] & ((1 << (2 * (4 - length % 4))) - 1)) != 0
        if not self.salvage:
            if crc_bad.any():
                k = int(np.argmax(crc_bad))
                raise self._fail(f"CRC mismatch in packet {first + k} (damaged data)")
            if (lengths != length).any():
                k = int(np.argmax(lengths != length))
                raise self._fail(
                    f"packet {first + k} has {lengths[k]} nt; the header says {length} for all"
                )
            if pad_bad.any():
                k = int(np.argmax(pad_bad))
                raise self._fail(f"packet {first + k} has nonzero padding bits")
        return ~crc_bad & (lengths == length) & ~pad_bad

    def _decode_block(self, rec: np.ndarray, first: int) -> np.ndarray:
        n, length = rec.shape[0], self.strand_length
        body = self.packet_size - PACKET_CRC
        if not self.salvage:
            self._intact(rec, first)
        nbytes = packed_bytes(length)
        bases = nucleotides.unpack(rec[:, PACKET_HEAD:body].tobytes(), n * nbytes * 4)
        return bases.reshape(n, nbytes * 4)[:, :length]

    def batches(
        self, batch: int = 65536, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (strands (m, L) uint8, tags (m,) uint8) for packets ``start:stop``."""
        if batch < 1:
            raise ValueError("batch must be >= 1")
        stop = self.count if stop is None else min(stop, self.count)
        for first in range(max(start, 0), stop, batch):
            m = min(batch, stop - first)
            offset = self.packets_start + first * self.packet_size
            data = self._read_at(offset, m * self.packet_size, f"packet {first}")
            yield self._decode(np.frombuffer(data, np.uint8).reshape(m, self.packet_size), first)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """All strands and tags, read with a single file read."""
        data = self._read_at(self.packets_start, self.count * self.packet_size, "packets")
        return self._decode(np.frombuffer(data, np.uint8).reshape(-1, self.packet_size), 0)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> DnapktReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _packet_starts(buf: bytes, n: int) -> np.ndarray:
    """Offsets below ``n`` in ``buf`` where a run of packets may start: the packet length
    there is nonzero and the next packet (``packet_size`` on) has the same length, or is the
    trailer's terminator (0); the CRC decides (this only keeps the scan from checking every
    offset)."""
    b = np.frombuffer(buf, np.uint8).astype(np.int64)
    if len(b) < 2 or n <= 0:
        return np.zeros(0, dtype=np.int64)
    v = b[:-1] | b[1:] << 8  # the u16 at every offset
    at = np.arange(min(n, len(v)))
    nxt = at + PACKET_HEAD + (v[at] + 3) // 4 + PACKET_CRC
    inside = nxt < len(v)
    follow = np.where(inside, v[np.minimum(nxt, len(v) - 1)], -1)
    return at[(v[at] > 0) & inside & ((follow == v[at]) | (follow == 0))]


def read_dnapkt(
    path: str | os.PathLike[str], salvage: bool = False
) -> tuple[dict[str, Any], np.ndarray]:
    """Header and all strands, an (n, strand_length) uint8 array; HelixError if damaged.
    ``salvage``: damaged packets are left out instead, their count in the returned header's
    ``"damaged_packets"`` (a decoder counts them as lost strands); a damaged header is read
    around, its damage in ``"damaged_header"`` (the header holds nothing else then but
    ``strand_length``, from the packets)."""
    with DnapktReader(path, salvage=salvage) as reader:
        strands, _ = reader.read()
        header = dict(reader.header)
        if reader.dropped or reader.damage:
            header["damaged_packets"] = reader.dropped
        if reader.header_damage:
            header["damaged_header"] = reader.header_damage
        return header, strands


def iter_dnapkt(path: str | os.PathLike[str], batch: int = 65536) -> Iterator[np.ndarray]:
    """Stream the strands in (<= batch, strand_length) arrays, checking each batch.

    The framing is checked at the call, so a bad file fails before any work starts.
    """
    if batch < 1:
        raise ValueError("batch must be >= 1")
    return _stream(DnapktReader(path), batch)


def _stream(reader: DnapktReader, batch: int) -> Iterator[np.ndarray]:
    with reader:
        for strands, _ in reader.batches(batch):
            yield strands
