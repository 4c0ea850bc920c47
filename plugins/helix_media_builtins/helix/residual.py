"""HELIX's x265 enhancement layer: what the decoded base layer lacks, coded by libx265.

Why a classical coder over the neural base: measured on the bench clips (``helix bench helix``),
the learned enhancement layers code a GOP's residual about as well as a 3-D DCT does, because
they predict nothing across frames; x265 codes the same residual with motion compensation and
needs a third to a quarter of their strands for the same PSNR. Until a motion-compensated
learned layer is trained (a GPU job), this is the better ladder (the design of scalable coders
such as SHVC and LCEVC: a base layer, then an enhancement that codes what it lacks).

Per HELIX GOP (8 frames), the residual ``frames - base + 128`` (clipped to 8 bits) goes through
a fresh closed-GOP libx265 encoder (:mod:`helix_media_builtins.bitstream`, the yardstick's own
settings), so each GOP's enhancement decodes on its own. Its packet is cut into whole strand
slices behind a varint length. A lost slice truncates the GOP's enhancement there: frames
decoded from the slices before it (in decode order) keep their enhancement, the rest of the
GOP shows the base layer, so damage never reaches another GOP.
"""

from __future__ import annotations

import base64
from typing import Any

import av
import numpy as np

from helix_media.blocks.varint import get_varint, put_varint
from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoInfo
from helix_media_builtins.bitstream import BitstreamCodec, BitstreamDecoder

#: libx265 CRF of quality levels 2, 3, ... (level 1 is the base layer alone): about 2 dB and
#: 1.4x the strands per level on the bench clips
CRFS = (44, 40, 36, 32, 28, 24)
VIDEO_CODEC = "libx265"
OFFSET = 128  # a residual of 0 is mid-grey


class ResidualEncoder:
    """Codes each GOP's residual over the base layer with a fresh libx265 encoder."""

    def __init__(self, info: VideoInfo, crf: int, gop: int, slice_bytes: int) -> None:
        self.info, self.crf, self.gop, self.slice_bytes = info, int(crf), gop, slice_bytes
        probe = self._encoder()
        probe.encode(None)
        #: the bitstream decoder's parameters (the codec headers are the same for every GOP)
        self.params = {
            k: v
            for k, v in probe.params.items()
            if k not in ("frames", "version")  # per run, and the bitstream codec's own
        }

    def _encoder(self):
        return BitstreamCodec().encoder(
            self.info, quality=self.crf, gop=self.gop, video_codec=VIDEO_CODEC
        )

    def encode_gop(self, frames: np.ndarray, base: np.ndarray) -> bytes:
        """(n, H, W, 3) uint8 frames and their base-layer decoding -> whole slices."""
        residual = np.clip(frames.astype(np.int16) - base + OFFSET, 0, 255).astype(np.uint8)
        enc = self._encoder()
        packets = []
        for r in residual:
            packets += enc.encode(av.VideoFrame.from_ndarray(r, format="rgb24"))
        packets += enc.encode(None)
        if len(packets) != 1 or enc.params["extradata"] != self.params["extradata"]:
            raise RuntimeError("libx265 did not code the GOP as one closed GOP of fixed headers")
        out = bytearray()
        put_varint(out, len(packets[0].data))
        out += packets[0].data
        out += bytes(-len(out) % self.slice_bytes)
        return bytes(out)


class ResidualDecoder:
    """Adds each GOP's decoded residual to its base-layer frames."""

    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        try:
            base64.b64decode(params["extradata"], validate=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"helix x265 enhancement parameters are damaged: {exc!r}") from exc
        self.decoder = BitstreamDecoder(info, {**params, "video_codec": VIDEO_CODEC})

    def apply(self, base: np.ndarray, packet: Packet) -> np.ndarray:
        """Base frames (n, H, W, 3) uint8 + the GOP's enhancement packet -> frames. Frames
        the packet's surviving slices do not decode keep the base."""
        data = packet.data
        if packet.lost_slices:
            data = data[: min(packet.lost_slices) * packet.slice_bytes]
        try:
            size, pos = get_varint(data, 0)
        except ValueError:
            return base
        gop = Packet(data[pos : pos + size], pts=0, duration=len(base))
        out = base.copy()
        for f in self.decoder.decode(gop):
            residual = f.to_ndarray(format="rgb24").astype(np.int16) - OFFSET
            out[f.pts] = np.clip(base[f.pts] + residual, 0, 255)
        return out
