"""The .dnapkt container: round trips, the byte format, and rejection of damaged files."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helix_media.errors import HelixError
from helix_media.strandio.atomic import atomic_output, check_target
from helix_media.strandio.container import SIGNATURE, DnapktWriter, crc32_rows, packet_size
from helix_media.strandio.container_reader import DnapktReader, iter_dnapkt, read_dnapkt


def random_strands(n: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, (n, length), dtype=np.uint8)


def write(path: Path, strands: np.ndarray, **header: object) -> bytes:
    with DnapktWriter(path, {"strand_length": strands.shape[1], **header}) as w:
        w.write(strands)
    return path.read_bytes()


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, bytes, np.ndarray]:
    """A small valid file: 5 strands of 13 nt (padding bits), an index every 2 packets."""
    strands = random_strands(5, 13, seed=1)
    path = tmp_path / "small.dnapkt"
    with DnapktWriter(path, {"strand_length": 13, "coder": "x"}, index_interval=2) as w:
        w.write(strands[:2])
        w.write(strands[2:])
    return path, path.read_bytes(), strands


def expect_error(path: Path, data: bytes, match: str | None = None) -> str:
    path.write_bytes(data)
    with pytest.raises(HelixError, match=match) as info:
        read_dnapkt(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


# -- round trips -------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    strands = random_strands(1000, 240)
    write(tmp_path / "a.dnapkt", strands, framer="helix", coder="enumerative")
    header, back = read_dnapkt(tmp_path / "a.dnapkt")
    assert back.dtype == np.uint8 and np.array_equal(back, strands)
    assert header == {"strand_length": 240, "framer": "helix", "coder": "enumerative"}


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 70),
    sizes=st.lists(st.integers(0, 40), max_size=5),
    interval=st.integers(0, 7),
    batch=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_property(
    length: int, sizes: list[int], interval: int, batch: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    chunks = [rng.integers(0, 4, (n, length), dtype=np.uint8) for n in sizes]
    tags = [rng.integers(0, 256, n, dtype=np.uint8) for n in sizes]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "p.dnapkt")
        with DnapktWriter(path, {"strand_length": length}, index_interval=interval) as w:
            for chunk, tag in zip(chunks, tags, strict=True):
                w.write(chunk, tags=tag)
        expected = np.concatenate([np.zeros((0, length), np.uint8), *chunks])
        _, back = read_dnapkt(path)
        assert back.shape == (sum(sizes), length) and np.array_equal(back, expected)
        streamed = list(iter_dnapkt(path, batch=batch))
        assert all(len(b) <= batch for b in streamed)
        assert np.array_equal(np.concatenate([back[:0], *streamed]), expected)
        with DnapktReader(path) as reader:
            assert reader.count == sum(sizes)
            _, back_tags = reader.read()
            assert np.array_equal(back_tags, np.concatenate([np.zeros(0, np.uint8), *tags]))
        assert os.listdir(d) == ["p.dnapkt"]


def test_several_writes_and_tags(tmp_path: Path) -> None:
    a, b = random_strands(3, 20, seed=2), random_strands(4, 20, seed=3)
    path = tmp_path / "t.dnapkt"
    with DnapktWriter(path, {"strand_length": 20}) as w:
        w.write(a)
        w.write(b, tags=np.array([0, 1, 128, 255]))
        w.write(np.zeros((0, 20), np.uint8))
        assert w.count == 7
    with DnapktReader(path) as reader:
        strands, tags = reader.read()
        assert reader.count == 7 and reader.version == (1, 0)
        middle = list(reader.batches(batch=2, start=2, stop=5))
    assert np.array_equal(strands, np.concatenate([a, b]))
    assert tags.tolist() == [0, 0, 0, 0, 1, 128, 255]
    assert np.array_equal(np.concatenate([s for s, _ in middle]), strands[2:5])


def test_header_fields_preserved(tmp_path: Path) -> None:
    header = {
        "strand_length": 12,
        "framer": "helix",
        "coder": "enumerative",
        "params": {"rs": [255, 223], "note": "ünïcode ✓"},
        "flag": True,
    }
    write(
        tmp_path / "h.dnapkt",
        random_strands(2, 12),
        **{k: v for k, v in header.items() if k != "strand_length"},
    )
    assert read_dnapkt(tmp_path / "h.dnapkt")[0] == header


def test_empty_container(tmp_path: Path) -> None:
    path = tmp_path / "e.dnapkt"
    with DnapktWriter(path, {"strand_length": 240}):
        pass
    header, strands = read_dnapkt(path)
    assert strands.shape == (0, 240) and header["strand_length"] == 240
    assert list(iter_dnapkt(path)) == []


def test_numpy_strand_length_and_int_dtypes(tmp_path: Path) -> None:
    strands = random_strands(3, 8).astype(np.int64)
    with DnapktWriter(tmp_path / "n.dnapkt", {"strand_length": np.int64(8)}) as w:
        w.write(strands)
    header, back = read_dnapkt(tmp_path / "n.dnapkt")
    assert header["strand_length"] == 8 and np.array_equal(back, strands)


def test_crc32_rows_matches_zlib() -> None:
    for width in (0, 1, 2, 37, 64):
        rows = np.random.default_rng(width).integers(0, 256, (50, width), dtype=np.uint8)
        assert crc32_rows(rows).tolist() == [zlib.crc32(r.tobytes()) for r in rows]


def test_file_size_matches_spec(tmp_path: Path) -> None:
    n, length = 2500, 240
    data = write(tmp_path / "s.dnapkt", random_strands(n, length))
    header_json = json.dumps({"strand_length": length}, separators=(",", ":")).encode()
    index_entries = -(-n // 1024)
    assert packet_size(length) == 67
    assert len(data) == 20 + len(header_json) + n * 67 + 38 + 8 * index_entries


# -- the byte format is fixed -------------------------------------------------------------

GOLDEN_SHA256 = "f85331af7bb89edc54354fd360795c15a505f64bd6d7e653c61a5a5fddbe412f"


def test_golden_bytes(tmp_path: Path) -> None:
    """A format change must be deliberate: bump the version, update docs/dnapkt.md and this."""
    path = tmp_path / "g.dnapkt"
    with DnapktWriter(path, {"strand_length": 10, "framer": "golden"}, index_interval=2) as w:
        w.write((np.arange(30) % 4).reshape(3, 10).astype(np.uint8))
        w.write(np.array([[3, 2, 1, 0, 0, 1, 2, 3, 3, 3]]), tags=200)
    data = path.read_bytes()
    assert data.startswith(SIGNATURE + b"\x01\x00\x00\x00")
    assert data[58:68] == bytes.fromhex("0a00 00 1b1b10") + struct.pack("<I", 0xB4AB15AA)
    assert data.endswith(b"DNAPKEND") and len(data) == 152
    assert hashlib.sha256(data).hexdigest() == GOLDEN_SHA256


# -- damaged files are rejected -----------------------------------------------------------


def test_flipped_byte_in_packet_names_the_packet(tmp_path: Path) -> None:
    strands = random_strands(100, 240)
    data = bytearray(write(tmp_path / "f.dnapkt", strands))
    packets_start = 20 + len(b'{"strand_length":240}')
    data[packets_start + 37 * 67 + 30] ^= 0x04
    expect_error(tmp_path / "f.dnapkt", bytes(data), "CRC mismatch in packet 37")


def test_every_single_byte_flip_is_caught(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    for offset in range(len(data)):
        for bits in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[offset] ^= bits
            expect_error(path, bytes(damaged))


def test_truncation_anywhere_is_caught(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    for end in range(len(data)):
        message = expect_error(path, data[:end])
        assert "truncated" in message or "empty" in message


def test_truncated_large_file(tmp_path: Path) -> None:
    data = write(tmp_path / "l.dnapkt", random_strands(3000, 240))
    for end in (30, 5000, len(data) // 2, len(data) - 100, len(data) - 1):
        expect_error(tmp_path / "l.dnapkt", data[:end], "truncated")


def test_trailing_garbage(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    expect_error(path, data + b"\n", "no end marker")


def test_wrong_magic(tmp_path: Path) -> None:
    expect_error(tmp_path / "x.dnapkt", b">seq1\nACGT\n", "not a .dnapkt file$")
    expect_error(tmp_path / "x.dnapkt", b"\x89PNG\r\n\x1a\n" + bytes(40), "not a .dnapkt file")


def test_line_ending_damage_is_named(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    expect_error(path, data.replace(b"\r\n", b"\n"), "text mode")
    expect_error(path, data.replace(b"\n", b"\r\n"), "text mode")


def test_empty_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "empty.dnapkt", b"", "empty")


def test_unsupported_version(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, strands = small
    expect_error(
        path, data[:8] + struct.pack("<H", 2) + data[10:], "unsupported .dnapkt version 2.0"
    )
    # A newer minor version of a known major is read (with a valid header CRC).
    header_end = 16 + struct.unpack_from("<I", data, 12)[0]
    newer = bytearray(data)
    newer[10:12] = struct.pack("<H", 7)
    newer[header_end : header_end + 4] = struct.pack("<I", zlib.crc32(newer[8:header_end]))
    path.write_bytes(bytes(newer))
    assert np.array_equal(read_dnapkt(path)[1], strands)


def rewrite_header(data: bytes, text: bytes) -> bytes:
    """The file with its header replaced (valid CRC), trailer offsets/index fixed up."""
    old_len = struct.unpack_from("<I", data, 12)[0]
    shift = len(text) - old_len
    block = data[8:12] + struct.pack("<I", len(text)) + text
    out = bytearray(data[:8] + block + struct.pack("<I", zlib.crc32(block)) + data[20 + old_len :])
    # Trailer: offsets after the fixed part and the trailer offset move by `shift`.
    end = len(out)
    t_off = struct.unpack_from("<Q", out, end - 20)[0] + shift
    entries = struct.unpack_from("<I", out, t_off + 14)[0]
    for k in range(entries):
        pos = t_off + 18 + 8 * k
        out[pos : pos + 8] = struct.pack("<Q", struct.unpack_from("<Q", out, pos)[0] + shift)
    out[end - 20 : end - 12] = struct.pack("<Q", t_off)
    out[end - 12 : end - 8] = struct.pack("<I", zlib.crc32(out[t_off : end - 12]))
    return bytes(out)


def test_rewrite_header_helper_is_faithful(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, strands = small
    path.write_bytes(rewrite_header(data, b'{"strand_length":13,"extra":"padding!"}'))
    assert np.array_equal(read_dnapkt(path)[1], strands)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"not json", "header is not valid JSON"),
        (b"[13]", "not a JSON object"),
        (b'{"framer":"x"}', "strand_length"),
        (b'{"strand_length":0}', "strand_length"),
        (b'{"strand_length":true}', "strand_length"),
    ],
)
def test_bad_header(small: tuple[Path, bytes, np.ndarray], text: bytes, match: str) -> None:
    path, data, _ = small
    expect_error(path, rewrite_header(data, text), match)


def test_header_length_mismatch_with_packets(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    expect_error(path, rewrite_header(data, b'{"strand_length":12}'), "count mismatch")


def test_count_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "c.dnapkt"
    with DnapktWriter(path, {"strand_length": 16}) as w:
        w.write(random_strands(10, 16))
        w.count = 11  # a buggy writer: the trailer claims one more packet than written
    expect_error(path, path.read_bytes(), "trailer says 11 strands, file holds 10 packets")


def fix_packet_crc(data: bytearray, start: int, size: int) -> None:
    body = data[start : start + size - 4]
    data[start + size - 4 : start + size] = struct.pack("<I", zlib.crc32(body))


def test_packet_length_field_checked(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    start, size = 20 + struct.unpack_from("<I", data, 12)[0], packet_size(13)
    damaged = bytearray(data)
    damaged[start + 2 * size] = 12  # packet 2 claims 12 nt, with a matching CRC
    fix_packet_crc(damaged, start + 2 * size, size)
    expect_error(path, bytes(damaged), "packet 2 has 12 nt; the header says 13")


def test_nonzero_padding_rejected(small: tuple[Path, bytes, np.ndarray]) -> None:
    path, data, _ = small
    start, size = 20 + struct.unpack_from("<I", data, 12)[0], packet_size(13)
    damaged = bytearray(data)
    damaged[start + 4 * size + size - 5] |= 0x01  # last base byte of packet 4: 13 nt = 3¼ bytes
    fix_packet_crc(damaged, start + 4 * size, size)
    expect_error(path, bytes(damaged), "packet 4 has nonzero padding bits")


def test_streaming_reader_yields_good_batches_before_a_bad_one(tmp_path: Path) -> None:
    strands = random_strands(10, 8)
    data = bytearray(write(tmp_path / "s.dnapkt", strands))
    data[20 + len(b'{"strand_length":8}') + 7 * packet_size(8) + 3] ^= 0xFF
    (tmp_path / "s.dnapkt").write_bytes(bytes(data))
    batches = iter_dnapkt(tmp_path / "s.dnapkt", batch=4)
    assert np.array_equal(next(batches), strands[:4])
    with pytest.raises(HelixError, match="CRC mismatch in packet 7"):
        next(batches)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(HelixError, match="no such file"):
        read_dnapkt(tmp_path / "missing.dnapkt")
    with pytest.raises(HelixError, match="no such file"):
        iter_dnapkt(tmp_path / "missing.dnapkt")  # checked at the call, before iterating
    with pytest.raises(HelixError, match="is a directory"):
        read_dnapkt(tmp_path)


# -- writing is atomic ----------------------------------------------------------------------


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.dnapkt"
    with pytest.raises(RuntimeError), DnapktWriter(path, {"strand_length": 8}) as w:
        w.write(random_strands(5, 8))
        raise RuntimeError("encoder crashed")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "f.dnapkt"
    old = write(path, random_strands(3, 8))
    with pytest.raises(ValueError), DnapktWriter(path, {"strand_length": 8}) as w:
        w.write(random_strands(5, 9))  # wrong width
    assert path.read_bytes() == old and list(tmp_path.iterdir()) == [path]


def test_writer_argument_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="strand_length"):
        DnapktWriter(tmp_path / "x.dnapkt", {"framer": "x"})
    with pytest.raises(ValueError, match="strand_length"):
        DnapktWriter(tmp_path / "x.dnapkt", {"strand_length": 70000})
    with pytest.raises(TypeError):
        DnapktWriter(tmp_path / "x.dnapkt", {"strand_length": 4, "bad": object()})
    with pytest.raises(RuntimeError):
        DnapktWriter(tmp_path / "x.dnapkt", {"strand_length": 4}).write(random_strands(1, 4))
    with DnapktWriter(tmp_path / "x.dnapkt", {"strand_length": 4}) as w:
        with pytest.raises(ValueError, match="0..3"):
            w.write(np.full((2, 4), 4))
        with pytest.raises(ValueError, match="tags"):
            w.write(random_strands(2, 4), tags=256)
    assert read_dnapkt(tmp_path / "x.dnapkt")[1].shape == (0, 4)


def test_output_errors(tmp_path: Path) -> None:
    with pytest.raises(HelixError, match="is a directory"):
        write(tmp_path, random_strands(1, 4))
    with pytest.raises(HelixError, match="does not exist"):
        write(tmp_path / "no" / "such.dnapkt", random_strands(1, 4))


def test_check_target(tmp_path: Path) -> None:
    check_target(tmp_path / "new.dnapkt")
    with pytest.raises(HelixError, match="it is a directory"):
        check_target(tmp_path)
    with pytest.raises(HelixError, match="does not exist"):
        check_target(tmp_path / "no" / "out.fa")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_text_mode_and_cleanup(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    with atomic_output(path, "w") as f:
        f.write("héllo\n")
        assert not path.exists() and len(list(tmp_path.iterdir())) == 1
    assert path.read_text(encoding="utf-8") == "héllo\n"
    with pytest.raises(KeyboardInterrupt), atomic_output(path, "w") as f:
        f.write("partial")
        raise KeyboardInterrupt
    assert path.read_text(encoding="utf-8") == "héllo\n" and list(tmp_path.iterdir()) == [path]
    with pytest.raises(ValueError):
        atomic_output(path, "a").__enter__()


def test_atomic_output_keeps_permissions(tmp_path: Path) -> None:
    path = tmp_path / "p.bin"
    path.write_bytes(b"old")
    path.chmod(0o640)
    with atomic_output(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o640
