"""The ``bitstream`` codec's packets and pictures: a GOP's codec packets in one
``Packet.data``, and the lossless padding / cropping of yuv420p pictures.

Both the encoder and the decoder use these; they are the archive's byte format (two varints,
display offset and length, before each codec packet), kept apart from either side.
"""

from __future__ import annotations

import av
import numpy as np

from helix_media.blocks.varint import get_varint, put_varint


def pack_gop(chunks: list[tuple[int, bytes]]) -> bytes:
    """(display offset, codec packet) pairs in decode order -> ``Packet.data``."""
    out = bytearray()
    for offset, payload in chunks:
        put_varint(out, offset)
        put_varint(out, len(payload))
        out += payload
    return bytes(out)


def unpack_gop(data: bytes) -> list[tuple[int, bytes]]:
    """Inverse of :func:`pack_gop`; a damaged tail is dropped, not raised."""
    chunks, pos = [], 0
    try:
        while pos < len(data):
            offset, pos = get_varint(data, pos)
            size, pos = get_varint(data, pos)
            if pos + size > len(data):
                break
            chunks.append((offset, data[pos : pos + size]))
            pos += size
    except ValueError:
        pass
    return chunks


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """Writable (height, width) views of a planar 8-bit frame's planes."""
    return [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]


def resize_canvas(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    """A new yuv420p frame of the new size: cropped, or padded by edge replication.

    Copies the Y, U and V planes as they are (no colour conversion, so no loss): every
    encoded frame goes through here, to shed the source's frame type and side data.
    """
    out = av.VideoFrame(width, height, "yuv420p")
    for src, dst in zip(_planes(frame), _planes(out), strict=True):
        h, w = min(src.shape[0], dst.shape[0]), min(src.shape[1], dst.shape[1])
        dst[:h, :w] = src[:h, :w]
        dst[h:, :w] = dst[h - 1 : h, :w]
        dst[:, w:] = dst[:, w - 1 : w]
    return out
