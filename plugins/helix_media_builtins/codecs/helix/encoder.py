"""The HELIX encoder: frames -> the base layer's token slices, then the enhancement's.

Per GOP of 8 frames the encoder network gives the tokens; the masked ones are dropped, the
rest arithmetic-coded into strand-sized slices (:mod:`token_strands`); the x265 or learned
enhancement is coded over the base as the decoder will rebuild it (the encoder runs a
:class:`~helix_media_builtins.codecs.helix.decoder.HelixDecoder` for that). Apart from the decoder
and the plugin class: the encoding side alone.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoEncoder, VideoInfo, layer_stream
from helix_media_builtins.codecs.helix import layer_strands, token_strands, x265_layer
from helix_media_builtins.codecs.helix.decoder import HelixDecoder
from helix_media_builtins.codecs.helix.geometry import (
    GOP,
    base_size,
    check_size,
    continuous_values,
    grid_sizes,
    layer_positions,
    layer_tables,
    network_input,
    padded_gop,
)
from helix_media_builtins.codecs.helix.ladder import DEFAULT_MASK, PARAMS_VERSION, rung
from helix_media_builtins.codecs.helix.models import load_models
from helix_media_builtins.codecs.helix.scaling import downscale2
from helix_media_builtins.codecs.helix.token_context import coding_order


class HelixEncoder(VideoEncoder):
    def __init__(
        self,
        info: VideoInfo,
        mask: float | None,
        slice_bytes: int,
        device: str,
        quality: int | None,
        layer_mask: float | None = None,
        enhancement: str | None = None,
        gop: int | None = None,
    ):
        for name, value in (("mask", mask), ("layer-mask", layer_mask)):
            if value is not None and not 0 <= value < 1:
                raise HelixError(f"--{name} must be in [0, 1), got {value}")
        check_size(info)
        self.info, self.slice_bytes = info, int(slice_bytes)
        self.models = load_models(device)
        #: learned enhancement layers coded over the base; the shares of tokens and of layer
        #: positions masked (given, or the quality level's defaults); the x265 enhancement
        self.layers, rung_mask, rung_layer_mask, crf, self.base_scale = rung(
            self.models, quality, enhancement
        )
        if gop is not None:
            if crf is None:
                raise HelixError("helix codec: --gop is the x265 enhancement's (levels 2 and up)")
            if not isinstance(gop, int) or not GOP <= gop <= 1000 or gop % GOP:
                raise HelixError(
                    f"helix codec: --gop must be a multiple of the HELIX GOP ({GOP} frames) "
                    f"up to 1000, not {gop!r}"
                )
        self.x265 = None
        if crf is not None:
            self.x265 = x265_layer.X265LayerEncoder(info, crf, slice_bytes, gop or x265_layer.GOP)
        self.mask_ratio = float(next(m for m in (mask, rung_mask, DEFAULT_MASK) if m is not None))
        self.layer_mask = float(
            next(m for m in (layer_mask, rung_layer_mask, self.mask_ratio) if m is not None)
        )
        self.mask, _ = grid_sizes(
            *base_size(info, self.base_scale), self.mask_ratio, PARAMS_VERSION
        )
        self.tables = self.models.coding_tables(self.mask_ratio)
        if self.layers:
            self.keep, self.order = layer_positions(self.models.layers, info, self.layer_mask)
        # the decoder's own base layer, to code what it lacks
        self.base = HelixDecoder(info, self.params, device, "transformer", models=self.models)
        self.frames: list[np.ndarray] = []
        self.gop_index = 0
        self.next_pts = 0
        #: per GOP coded: (slices, slices holding tokens, slices holding continuous items)
        self.slice_kinds: list[tuple[int, int, int]] = []

    @property
    def params(self) -> dict[str, Any]:
        return (
            {
                "version": PARAMS_VERSION,
                "gop": GOP,
                "mask": self.mask_ratio,
                "slice_bytes": self.slice_bytes,
                "models": self.models.id,
                "layers": self.layers,
                "layer_mask": self.layer_mask,
            }
            | ({"x265": self.x265.params} if self.x265 else {})
            # only where scaled: level 1's metadata stays a strand shorter
            | ({"base_scale": self.base_scale} if self.base_scale != 1 else {})
        )

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        packets = self.x265.encode(frame) if self.x265 else []
        if frame is not None:
            self.frames.append(frame.to_ndarray(format="rgb24"))
            if len(self.frames) < GOP:
                return packets
        if not self.frames:
            return packets
        n = len(self.frames)
        gop = np.stack(self.frames)
        tok, cont = self.tokens(gop)
        data = [self.code_base(tok, cont)]
        if self.layers:
            data += self.code_layers(gop, tok, cont)
        packets += [
            Packet(
                d, layer_stream(k), self.gop_index, self.next_pts, n, slice_bytes=self.slice_bytes
            )
            for k, d in enumerate(data)
        ]
        self.frames = []
        self.gop_index += 1
        self.next_pts += n
        return packets

    def tokens(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n <= 8, H, W, 3) uint8 -> token indices (4, 2, h, w), continuous (16, h', w'), of
        the base layer's size."""
        if self.base_scale == 2:
            frames = downscale2(frames)
        tok, cont = self.models.run("encoder", frames=network_input(padded_gop(frames)))
        return tok[0], cont[0]

    def encode_gop(self, frames: np.ndarray) -> bytes:
        """A GOP's base layer."""
        return self.code_base(*self.tokens(frames))

    def code_base(self, tok: np.ndarray, cont: np.ndarray) -> bytes:
        t, y, x = coding_order(self.mask)
        items = {"token": tok[:, t, y, x].T, "continuous": token_strands.continuous_items(cont)}
        slices = token_strands.pack(items, self.tables, self.slice_bytes * 8)
        n_tok, n = len(items["token"]), len(items["token"]) + len(items["continuous"])
        spans = [token_strands.header(s.tolist(), n) for s in slices]
        self.slice_kinds.append(
            (
                len(slices),
                sum(start < n_tok for start, _ in spans),
                sum(start + count > n_tok for start, count in spans),
            )
        )
        return b"".join(np.packbits(s).tobytes() for s in slices)

    def code_layers(self, frames: np.ndarray, tok: np.ndarray, cont: np.ndarray) -> list[bytes]:
        """The learned enhancement layers of a GOP, over the base as the decoder will see it."""
        base = self.base.padded_frames(tok, ~self.mask, continuous_values(cont))
        x = network_input(padded_gop(frames))
        lt = self.models.layers
        inputs = {"frames": x, "base": network_input(base)}
        if lt.masked:
            inputs["keep"] = self.keep[None, None].astype(np.float32)
        (y,) = self.models.run("layer_encoder", **inputs)
        values = y[0].reshape(lt.channels, -1).T[self.order].reshape(-1)
        out = []
        for k, symbols in enumerate(layer_symbols(values, lt.steps[: self.layers], lt.max_symbol)):
            slices = layer_strands.pack(
                symbols + lt.max_symbol,
                layer_tables(lt, k, len(symbols)),
                lt.cum,
                self.slice_bytes * 8,
            )
            out.append(np.packbits(slices, axis=-1).tobytes())
        return out


def layer_symbols(values: np.ndarray, steps, max_symbol: int) -> list[np.ndarray]:
    """Latent values (in coding order: position by position, channels innermost) -> each
    layer's integers: successive refinement, layer k rounding what the layers before left at
    step ``steps[k]`` (integers clipped to ``max_symbol``)."""
    flat = values.astype(np.float64)
    q, out = np.zeros_like(flat), []
    for step in steps:
        s = np.clip(np.round((flat - q) / step), -max_symbol, max_symbol)
        out.append(s.astype(np.int64))
        q += s * step
    return out
