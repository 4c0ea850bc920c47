"""``container.streams`` of :func:`helix_media.open`'s containers, as PyAV's.

Both the reader (:mod:`dna_av_input`) and the writer (:mod:`dna_av_output`) list their streams
this way; it lives apart so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Streams:
    """``container.streams``, as PyAV's: ``.video``, ``.audio`` lists."""

    video: list = field(default_factory=list)
    audio: list = field(default_factory=list)

    def __iter__(self):
        return iter([*self.video, *self.audio])
