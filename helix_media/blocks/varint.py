"""LEB128 varints: the length prefixes inside codec and audio packets."""

from __future__ import annotations


def put_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def get_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next position); ValueError if the data ends inside it or it is absurdly long."""
    n = shift = 0
    while True:
        if pos >= len(data) or shift > 56:
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            return n, pos
        shift += 7
