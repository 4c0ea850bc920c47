"""Concealment: a lost frame repeats the nearest good one, so a damaged archive still gives
every frame at its time.

A concealed frame is a copy of a frame that decoded, so its picture size is one the strands
confirmed, not only the metadata's claim (forged metadata claiming 8192x8192 made black
8192x8192 frames from nothing: ~4 GB with the output encoder's lookahead). With no frame
decoded at all there is nothing to repeat (:class:`NothingDecoded`): the container decides
between black frames of the claimed size (every unit lost, a picture and a total no larger
than :data:`MAX_UNCONFIRMED_PIXELS`, :data:`MAX_UNCONFIRMED_TOTAL`) and an error.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from helix_media.errors import HelixError

#: Black frames no decoded frame confirms (every unit of a video lost): at most a Full HD
#: picture each, and at most 2^27 pixels in all (~200 MB of yuv420p frames, e.g. 64 Full HD
#: frames or 12 s of 640x360 at 24 fps). Larger claims are refused: only the metadata says
#: them, and forged metadata may say 8192x8192 x 600 frames.
MAX_UNCONFIRMED_PIXELS = 1920 * 1080
MAX_UNCONFIRMED_TOTAL = 1 << 27


class NothingDecoded(HelixError):
    """No frame of the frames asked for decoded: every unit covering them was lost or
    damaged (or the metadata's picture is not what its packets code)."""


def conceal_gaps(
    decoded: Iterator[av.VideoFrame], start: int, stop: int, concealed: list[int]
) -> Iterator[av.VideoFrame]:
    """Frames ``start..stop-1`` from decoded frames (ascending pts, any outside the range
    ignored): a missing frame repeats the last good one, or the next good one before any;
    its number goes into ``concealed``. :class:`NothingDecoded` if none of them decoded
    (raised once the decoded frames are all taken, before any frame is given)."""
    last, pending = None, start
    for f in decoded:
        if not pending <= f.pts < stop:
            continue
        for i in range(pending, f.pts):
            concealed.append(i)
            yield _still(last if last is not None else f, i)
        yield f
        last, pending = f, f.pts + 1
    if last is None and start < stop:
        concealed.extend(range(start, stop))
        raise NothingDecoded(f"none of frames {start}-{stop - 1} could be decoded")
    for i in range(pending, stop):
        concealed.append(i)
        yield _still(last, i)


def _still(frame: av.VideoFrame, pts: int) -> av.VideoFrame:
    """A copy of ``frame`` (same pixel format) shown at ``pts`` (concealment)."""
    try:
        out = av.VideoFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name)
    except (ValueError, TypeError):  # a format from_ndarray does not take
        out = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
    out.pts = pts
    if frame.time_base is not None:
        out.time_base = frame.time_base
    return out


def black_frames(width: int, height: int, start: int, stop: int) -> Iterator[av.VideoFrame]:
    """Black frames ``start..stop-1`` (RGB: a new yuv420p frame is green)."""
    black = np.zeros((height, width, 3), dtype=np.uint8)
    for i in range(start, stop):
        out = av.VideoFrame.from_ndarray(black, format="rgb24")
        out.pts = i
        yield out
