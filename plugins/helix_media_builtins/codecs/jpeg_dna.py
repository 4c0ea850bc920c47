"""Codec ``jpeg-dna``: Dimopoulou, Gil San Antonio & Antonini, EUSIPCO 2021 (seed 002).

JPEG's workflow with its binary VLC replaced by a quaternary one, so a frame comes out as DNA:
YCbCr 4:2:0 planes (the video's own, no extra colour conversion), 8x8 DCT, quantization by the
JPEG tables scaled by ``quality`` (IJG's 1-100 rule), zigzag, DC differences, AC run/category
symbols with ZRL and EOB. Then, as in the paper's section III:

* run/category of AC and category of DC: a ternary Huffman code (``goldman.ternary_huffman``,
  optimized per frame as JPEG's optimized tables are), each trit written as one of the three
  bases that differ from the previous base (``goldman.trits_to_bases``'s rotating rule);
* values: PAIRCODE words (``paircode.encode_values``) whose length in nt is the category of
  Table I (category 1 omitted: +-1..5 -> 2 nt, +-6..25 -> 3 nt, ... +-2776..7775 -> 8 nt).

A packet is one frame (intra only, so a lost packet costs one frame): the four code tables
(DC/AC x luma/chroma, canonical code lengths written in trits, like JPEG's DHT) then the Y,
Cb, Cr scans one after the other, padded with trits to a whole number of bytes. The bases are
packed 2 bits each (A=00, C=01, G=10, T=11), four per byte, so the ``verbatim`` coder puts
them into strands unchanged (``Codec.coder`` names it; the pipeline then skips whitening).
No base repeats inside a Huffman code, a PAIRCODE word repeats a base at most once at a pair
boundary, and a Huffman trit follows every value: the stream has no run longer than 2.

Like JPEG without restart markers, the code is variable-length: an error desynchronizes the
rest of the frame, which is why the DNA layer's Reed-Solomon code and the packet CRC matter.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Packet, VideoDecoder, VideoInfo
from helix_media_builtins.codecs.intra import IntraCodec, IntraEncoder
from helix_media_builtins.codecs.jpeg_dna_image import (
    decode_bases,
    encode_bases,
    quant_tables,
    reconstruct,
)

PARAMS_VERSION = 1


DEFAULT_QUALITY = 75


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """Writable (height, width) views of a planar 8-bit frame's planes."""
    return [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]


def _plane_shapes(width: int, height: int) -> list[tuple[int, int]]:
    return [(height, width)] + [((height + 1) // 2, (width + 1) // 2)] * 2


def pack_bases(bases: np.ndarray) -> bytes:
    b = np.asarray(bases, np.uint8).reshape(-1, 4)
    return ((b[:, 0] << 6) | (b[:, 1] << 4) | (b[:, 2] << 2) | b[:, 3]).astype(np.uint8).tobytes()


def unpack_bases(data: bytes) -> np.ndarray:
    x = np.frombuffer(data, np.uint8)
    return np.stack([(x >> s) & 3 for s in (6, 4, 2, 0)], axis=1).reshape(-1)


class JpegDnaEncoder(IntraEncoder):
    """One packet per frame, emitted at once (intra only)."""

    codec_name = "jpeg-dna"

    def __init__(self, info: VideoInfo, quality: int) -> None:
        super().__init__(info)
        self.quality = quality
        self.qtables = quant_tables(quality)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "version": PARAMS_VERSION,
            "quality": self.quality,
            "width": self.info.width,
            "height": self.info.height,
        }

    def _frame_bytes(self, frame: av.VideoFrame) -> bytes:
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        return pack_bases(encode_bases(_planes(frame), self.qtables))


class JpegDnaDecoder(VideoDecoder):
    def __init__(self, info: VideoInfo, params: dict[str, Any]) -> None:
        try:
            quality = int(params["quality"])
            self.size = (int(params["width"]), int(params["height"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise HelixError(f"jpeg-dna codec parameters are damaged: {exc!r}") from exc
        if not 1 <= quality <= 100 or min(self.size) < 1:
            raise HelixError(f"jpeg-dna codec parameters are damaged: {params!r}")
        self.qtables = quant_tables(quality)
        self._time_base = 1 / Fraction(info.fps)
        #: whether the last packet decoded to its end (False: damage, the rest is grey)
        self.last_ok = True

    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        if packet is None:
            return []
        shapes = _plane_shapes(*self.size)
        zz, self.last_ok = decode_bases(unpack_bases(packet.data), shapes)
        frame = av.VideoFrame(self.size[0], self.size[1], "yuv420p")
        for ci, (dst, shape) in enumerate(zip(_planes(frame), shapes, strict=True)):
            dst[:] = reconstruct(zz[ci], self.qtables[min(ci, 1)], shape)
        frame.pts = packet.pts
        frame.time_base = self._time_base
        return [frame]


class JpegDnaCodec(IntraCodec):
    """Factory of JPEG-DNA encoders and decoders; ``quality`` 1-100 as IJG JPEG's."""

    name = "jpeg-dna"
    #: the coder that carries this codec's bases into strands as they are (no whitening)
    coder = "verbatim"
    default_quality = DEFAULT_QUALITY
    qualities = (1, 100)
    quality_meaning = "IJG JPEG quality, higher is better"

    def encoder(
        self, info: VideoInfo, quality: int | None = None, **options: Any
    ) -> JpegDnaEncoder:
        return JpegDnaEncoder(info, self._quality(info, quality, options))

    def decoder(self, info: VideoInfo, params: dict[str, Any]) -> JpegDnaDecoder:
        return JpegDnaDecoder(info, params)


@hookimpl
def register_codecs(register):
    register("jpeg-dna", JpegDnaCodec)
