"""Concealment: a lost frame repeats the nearest good one, so a damaged archive still gives
every frame at its time."""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from helix_media.media.codec import VideoInfo


def conceal_gaps(
    decoded: Iterator[av.VideoFrame], start: int, stop: int, info: VideoInfo, concealed: list[int]
) -> Iterator[av.VideoFrame]:
    """Frames ``start..stop-1`` from decoded frames (ascending pts, any outside the range
    ignored): a missing frame repeats the last good one, or the next good one before any
    (black if none decoded at all); its number goes into ``concealed``."""
    last, pending = None, start
    for f in decoded:
        if not pending <= f.pts < stop:
            continue
        for i in range(pending, f.pts):
            concealed.append(i)
            yield _still(last if last is not None else f, i)
        yield f
        last, pending = f, f.pts + 1
    for i in range(pending, stop):
        concealed.append(i)
        yield _still(last if last is not None else _black(info), i)


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


def _black(info: VideoInfo) -> av.VideoFrame:
    black = np.zeros((info.height, info.width, 3), dtype=np.uint8)
    return av.VideoFrame.from_ndarray(black, format="rgb24")  # a new yuv420p frame is green
