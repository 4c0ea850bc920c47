"""Can enhancement layers over the HELIX base layer compete with x265? A measurement.

Issue 19 asks for a quality ladder over HELIX's neural base layer (~0.03 bits/pixel). Before
training new networks (which needs a GPU), this script measures the two designs that need no
training, on the first frames of a clip, at equal strands (37 payload bytes per strand):

* ``dct``: the residual GOP - base decoding in an orthonormal colour basis, an 8x8x8 3-D DCT,
  successive-refinement quantizers (step halves per layer) and range coding (constriction)
  under per-class Laplace scales. Every GOP decodes on its own, as HELIX's do.
* ``x265``: the residual video (GOP - base + 128) coded by the bitstream codec (libx265, closed
  GOPs of 16), beside x265 coding the frames themselves at the same CRF.

Usage: ``python scripts/helix_enhancement_probe.py CLIP [--frames 48] [--design dct|x265]``
(the dct design needs ``pip install constriction``). Figures are in the issue-19 note.
"""

from __future__ import annotations

import argparse
import itertools
import struct
import sys
from pathlib import Path

import numpy as np
from scipy.fft import dctn, idctn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins"))

BLOCK = 8
BASE_STEP = 320.0  # layer 0's quantizer step (pixel units of the orthonormal transforms)
DEADZONE = 0.22  # rounding offset below 0.5: small coefficients go to zero (cheaper)
CLASSES = 3 * BLOCK - 2  # frequency classes t + v + u = 0..21
_SCALE_BITS = 6
_COLOUR = np.array(
    [
        [1 / np.sqrt(3), 1 / np.sqrt(3), 1 / np.sqrt(3)],
        [1 / np.sqrt(2), 0.0, -1 / np.sqrt(2)],
        [1 / np.sqrt(6), -2 / np.sqrt(6), 1 / np.sqrt(6)],
    ]
)
_FREQ_CLASS = np.add.outer(np.add.outer(np.arange(BLOCK), np.arange(BLOCK)), np.arange(BLOCK))


def step(layer: int) -> float:
    return BASE_STEP / 2**layer


def _blocks(height: int, width: int) -> tuple[int, int]:
    return -(-height // BLOCK), -(-width // BLOCK)


def transform(residual: np.ndarray) -> np.ndarray:
    """(8, H, W, 3) float residual -> (3, by, bx, 8, 8, 8) coefficients (t, v, u last)."""
    t, h, w, _ = residual.shape
    by, bx = _blocks(h, w)
    x = np.pad(residual, ((0, 0), (0, by * BLOCK - h), (0, bx * BLOCK - w), (0, 0)), mode="edge")
    x = x @ _COLOUR.T  # orthonormal colour basis
    x = x.reshape(t, by, BLOCK, bx, BLOCK, 3).transpose(5, 1, 3, 0, 2, 4)
    return dctn(x, type=2, norm="ortho", axes=(3, 4, 5))


def inverse(coeffs: np.ndarray, height: int, width: int) -> np.ndarray:
    """:func:`transform` undone: (3, by, bx, 8, 8, 8) -> (8, H, W, 3) float."""
    c, by, bx, t = coeffs.shape[:4]
    x = idctn(coeffs, type=2, norm="ortho", axes=(3, 4, 5))
    x = x.transpose(3, 1, 4, 2, 5, 0).reshape(t, by * BLOCK, bx * BLOCK, c) @ _COLOUR
    return x[:, :height, :width]


def quantize(coeffs: np.ndarray, layer: int) -> np.ndarray:
    q = np.abs(coeffs) / step(layer) + (0.5 - DEADZONE)
    return (np.sign(coeffs) * np.floor(q)).astype(np.int32)


def _scale_index(q: np.ndarray) -> np.ndarray:
    """(3, ..., 8, 8, 8) symbols -> (3, CLASSES) scale indices: 0 = all zero, else the mean
    absolute value on a log grid (quarter octaves)."""
    out = np.zeros((3, CLASSES), np.int64)
    a = np.abs(q).reshape(3, -1, BLOCK**3).astype(np.float64)
    cls = _FREQ_CLASS.reshape(-1)
    for k in range(CLASSES):
        m = a[:, :, cls == k].mean(axis=(1, 2))
        idx = np.round(4 * (np.log2(np.maximum(m, 1e-9)) + 7)).astype(np.int64)
        out[:, k] = np.where(m > 0, np.clip(idx, 1, 2**_SCALE_BITS - 1), 0)
    return out


def _scales(index: np.ndarray) -> np.ndarray:
    """Scale indices -> Laplace scales (mean absolute value of a Laplace = its scale)."""
    return np.where(index > 0, 2.0 ** (index / 4 - 7), 0.0)


def encode_layer(q: np.ndarray) -> bytes:
    """Quantized coefficients (3, by, bx, 8, 8, 8) -> bytes: header, scales, range code."""
    index = _scale_index(q)
    scales = _scales(index)
    cls = np.broadcast_to(_FREQ_CLASS, q.shape)
    per_symbol = scales[np.arange(3).reshape(3, 1, 1, 1, 1, 1), cls]
    coded = per_symbol > 0
    bound = int(np.abs(q).max()) if q.size else 0
    import constriction

    enc = constriction.stream.queue.RangeEncoder()
    if coded.any():
        model = constriction.stream.model.QuantizedLaplace(-bound - 1, bound + 1)
        s = per_symbol[coded]
        enc.encode(q[coded].astype(np.int32), model, np.zeros_like(s), s)
    scale_bits = np.unpackbits(index.astype(np.uint8)[..., None], axis=-1)[..., -_SCALE_BITS:]
    words = enc.get_compressed().astype("<u4").tobytes()
    return struct.pack("<H", bound) + np.packbits(scale_bits).tobytes() + words


def decode_layer(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`encode_layer` undone, for coefficients of ``shape``."""
    n_scale = -(-3 * CLASSES * _SCALE_BITS // 8)
    if len(data) < 2 + n_scale:
        raise ValueError("truncated enhancement packet")
    (bound,) = struct.unpack("<H", data[:2])
    bits = np.unpackbits(np.frombuffer(data[2 : 2 + n_scale], np.uint8))[: 3 * CLASSES * 6]
    index = (bits.reshape(3, CLASSES, _SCALE_BITS) << np.arange(_SCALE_BITS)[::-1]).sum(-1)
    scales = _scales(index)
    per_symbol = scales[np.arange(3).reshape(3, 1, 1, 1, 1, 1), np.broadcast_to(_FREQ_CLASS, shape)]
    coded = per_symbol > 0
    import constriction

    q = np.zeros(shape, np.int32)
    if coded.any():
        words = np.frombuffer(data[2 + n_scale :], dtype="<u4").astype(np.uint32)
        dec = constriction.stream.queue.RangeDecoder(words)
        model = constriction.stream.model.QuantizedLaplace(-bound - 1, bound + 1)
        s = per_symbol[coded]
        q[coded] = dec.decode(model, np.zeros_like(s), s)
    return q


def encode_layers(frames: np.ndarray, base: np.ndarray, layers: int) -> list[bytes]:
    """(8, H, W, 3) uint8 GOP and its base decoding -> one packet per enhancement layer."""
    coeffs = transform(frames.astype(np.float64) - base)
    out = []
    for k in range(layers):
        q = quantize(coeffs, k)
        coeffs = coeffs - q * step(k)
        out.append(encode_layer(q))
    return out


def apply_layers(base: np.ndarray, layers: list[bytes]) -> np.ndarray:
    """Base decoding (8, H, W, 3) uint8 + the first received layers -> frames, uint8."""
    if not layers:
        return base
    t, h, w, _ = base.shape
    by, bx = _blocks(h, w)
    shape = (3, by, bx, BLOCK, BLOCK, BLOCK)
    coeffs = np.zeros(shape)
    for k, data in enumerate(layers):
        coeffs += decode_layer(data, shape) * step(k)
    out = base + inverse(coeffs, h, w)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def base_layer(frames: list[np.ndarray], info) -> tuple[np.ndarray, int]:
    """HELIX base layer at mask 0.6: (decoded frames, bytes stored)."""
    from helix_media_builtins.codecs.helix import codec as hc

    enc = hc.HelixEncoder(info, 0.6, 37, "cpu", 1)
    dec = hc.HelixDecoder(info, enc.params, "cpu", "transformer", models=enc.models)
    out, nbytes = [], 0
    for g in range(0, len(frames), 8):
        x = np.stack(frames[g : g + 8])
        data = enc.encode_gop(x)
        nbytes += len(data)
        s = enc.slice_bytes
        slices = [
            np.unpackbits(np.frombuffer(data[k * s : (k + 1) * s], np.uint8))
            for k in range(len(data) // s)
        ]
        out.append(dec.decode_slices(slices)[: len(x)])
    return np.concatenate(out), nbytes


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(float) - b) ** 2)))


def probe_dct(frames: np.ndarray, base: np.ndarray, base_bytes: int) -> None:
    total = base_bytes
    gops = [(frames[g : g + 8], base[g : g + 8]) for g in range(0, len(frames), 8)]
    packets = [encode_layers(x, b.astype(np.float64), 4) for x, b in gops]
    for k in range(4):
        total += sum(len(p[k]) for p in packets)
        rec = [apply_layers(b, p[: k + 1]) for (_, b), p in zip(gops, packets, strict=True)]
        psnr = _psnr(np.concatenate(rec), frames)
        print(
            f"base + {k + 1} layer(s) (step {step(k):g}): {total / 37:.0f} strands, {psnr:.2f} dB"
        )


def probe_x265(frames: np.ndarray, base: np.ndarray, base_bytes: int, info) -> None:
    import av
    from helix_media_builtins.codecs.bitstream import BitstreamCodec

    def run(inputs: np.ndarray, crf: int) -> tuple[int, np.ndarray]:
        codec = BitstreamCodec()
        enc = codec.encoder(info, quality=crf, gop=16)
        packets = []
        for f in inputs:
            packets += enc.encode(av.VideoFrame.from_ndarray(f, format="rgb24"))
        packets += enc.encode(None)
        dec = codec.decoder(info, enc.params)
        out = [f.to_ndarray(format="rgb24") for p in [*packets, None] for f in dec.decode(p)]
        return sum(len(p.data) for p in packets), np.stack(out).astype(float)

    residual = np.clip(frames.astype(float) - base + 128, 0, 255).astype(np.uint8)
    for crf in (24, 30, 36, 42):
        n1, y1 = run(frames, crf)
        n2, y2 = run(residual, crf)
        y2 = np.clip(y2 + base - 128, 0, 255)
        print(
            f"crf {crf}: x265 {n1 / 37:.0f} strands {_psnr(y1, frames):.2f} dB | base + x265 "
            f"residual {(n2 + base_bytes) / 37:.0f} strands {_psnr(y2, frames):.2f} dB"
        )


def main() -> None:
    from helix_media.media.video_io import open_video

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--design", choices=("dct", "x265"), default="x265")
    args = ap.parse_args()
    source = open_video(args.clip)
    info = source.info
    first = itertools.islice(source.frames(), args.frames)
    frames = np.stack([f.to_ndarray(format="rgb24") for f in first])
    info.frames = len(frames)
    base, base_bytes = base_layer(list(frames), info)
    print(f"base layer: {base_bytes / 37:.0f} strands, {_psnr(base, frames):.2f} dB")
    if args.design == "dct":
        probe_dct(frames, base, base_bytes)
    else:
        probe_x265(frames, base, base_bytes, info)


if __name__ == "__main__":
    main()
