"""HELIX's x265 enhancement layer: the frames themselves, coded by the yardstick's libx265.

HELIX's learned base layer is a cheap preview (about 0.03 bits per pixel, 18-22 dB): what an
archivist sequences first to see what a pool holds, and what every frame falls back to when
enhancement strands are lost. Above it, quality levels 2.. store the video again in strands of
their own (stream ``video.1``), coded by :mod:`helix_media_builtins.codecs.bitstream` with its own
settings (libx265, closed GOPs of 16 frames = 2 HELIX GOPs, or ``--gop``), at a CRF per
level.

Why simulcast, not a residual over the base (the design of scalable coders such as SHVC):
measured on the bench clips, x265 coding ``frames - base + 128`` needs 1.1-2.3x the bytes of
x265 coding the frames for a PSNR 0.4-2 dB lower at the same CRF (the base's blur and grain
are harder to predict across frames than the picture itself), and the learned enhancement
layers (``--enhancement learned``), which predict nothing across frames, need several times
more again. So the base is not a predictor; the enhancement costs what the yardstick costs,
plus the base. A motion-compensated learned layer that beats this is future (GPU) work.

Each bitstream GOP packet becomes one packet of whole strand slices (a varint length, the
data, zero padding). A lost slice truncates the GOP there: the frames decoded from the slices
before it (in decode order) keep the enhancement, the rest of the GOP shows the base layer,
and no other GOP is touched.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from helix_media.blocks.varint import get_varint, put_varint
from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoInfo, layer_stream
from helix_media_builtins.codecs.bitstream import DEFAULT_GOP, BitstreamCodec, BitstreamDecoder

#: libx265 CRF of quality levels 2, 3, ... (level 1 is the base layer alone): about 2 dB and
#: 1.4x the strands per level on the bench clips
CRFS = (44, 40, 36, 32, 28, 24)
VIDEO_CODEC = "libx265"
#: frames per enhancement GOP: the yardstick's own (``bitstream``'s default), 2 HELIX GOPs.
#: ``--gop`` takes any multiple of the HELIX GOP: 32 stores 7-17 % fewer strands for about the
#: same PSNR (scripts/helix_gop_probe.py), and a GOP the outer code cannot repair costs 32
#: frames of enhancement
GOP = DEFAULT_GOP


class X265LayerEncoder:
    """The bitstream codec's encoder, its GOP packets cut into strand slices."""

    def __init__(self, info: VideoInfo, crf: int, slice_bytes: int, gop: int = GOP) -> None:
        self.encoder = BitstreamCodec().encoder(info, quality=crf, gop=gop, video_codec=VIDEO_CODEC)
        self.slice_bytes = slice_bytes

    @property
    def params(self) -> dict[str, Any]:
        """The bitstream decoder's parameters (less its frame count: the archive has it)."""
        return {k: v for k, v in self.encoder.params.items() if k != "frames"}

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        """A frame (None: flush) -> the enhancement packets of the GOPs it completes."""
        out = []
        for p in self.encoder.encode(frame):
            data = bytearray()
            put_varint(data, len(p.data))
            data += p.data
            data += bytes(-len(data) % self.slice_bytes)
            out.append(
                Packet(
                    bytes(data),
                    layer_stream(1),
                    p.index,
                    p.pts,
                    p.duration,
                    slice_bytes=self.slice_bytes,
                )
            )
        return out


class X265LayerDecoder:
    """An enhancement packet -> the frames its surviving slices decode, by pts."""

    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        if params.get("video_codec") != VIDEO_CODEC:
            raise HelixError("helix x265 enhancement parameters are damaged")
        self.decoder = BitstreamDecoder(info, params)
        self._last: tuple[Packet | None, dict[int, np.ndarray]] = (None, {})

    def frames(self, packet: Packet) -> dict[int, np.ndarray]:
        """(H, W, 3) uint8 RGB frames by pts; the two HELIX GOPs of one enhancement GOP
        share its packet, which is decoded once."""
        if self._last[0] is packet:
            return self._last[1]
        data = packet.data
        if packet.lost_slices:
            data = data[: min(packet.lost_slices) * packet.slice_bytes]
        try:
            size, pos = get_varint(data, 0)
        except ValueError:
            size, pos = 0, 0
        gop = Packet(data[pos : pos + size], pts=packet.pts, duration=packet.duration)
        out = {f.pts: f.to_ndarray(format="rgb24") for f in self.decoder.decode(gop)}
        self._last = (packet, out)
        return out
