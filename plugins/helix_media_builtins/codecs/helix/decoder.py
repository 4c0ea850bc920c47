"""The HELIX decoder: token slices (some lost) -> frames.

The transformer predicts every token not received (masked, or lost with its strand), the
decoder network rebuilds the frames, the x265 or learned enhancement refines them where its
strands arrived. Apart from the encoder (which runs one of these to see the base as it will
be decoded) and from the plugin class: the decoding side alone.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.media.codec import Packet, VideoDecoder, VideoInfo
from helix_media_builtins.codecs.helix import layer_strands, token_strands, x265_layer
from helix_media_builtins.codecs.helix.geometry import (
    CONT_STRIDE,
    TOKEN_STRIDE,
    base_size,
    check_size,
    grid_sizes,
    layer_positions,
    layer_tables,
    network_input,
    network_output,
)
from helix_media_builtins.codecs.helix.ladder import PARAMS_VERSION
from helix_media_builtins.codecs.helix.models import FILES, load_models, set_with_file_ids
from helix_media_builtins.codecs.helix.scaling import upscale2
from helix_media_builtins.codecs.helix.tiling import tiles
from helix_media_builtins.codecs.helix.token_context import CONT_LEVELS, TOKEN_LEVELS, coding_order


class HelixDecoder(VideoDecoder):
    def __init__(
        self, info: VideoInfo, params: dict[str, Any], device: str, fill: str, models=None
    ):
        if params.get("version") not in range(1, PARAMS_VERSION + 1):
            raise HelixError(f"helix codec parameters version {params.get('version')} unknown")
        if fill not in ("transformer", "naive"):
            raise HelixError(f"unknown fill {fill!r} (transformer or naive)")
        check_size(info)
        self.info, self.fill = info, fill
        version = params["version"]
        if models is None:  # the set the archive names, whichever is the default now
            wanted = params["models"] if version > 1 else set_with_file_ids(params["models"])
            if wanted is None:
                raise HelixError(
                    "these strands were made with HELIX model files "
                    f"{params['models']} that no installed model set has (other HELIX models)"
                )
            models = load_models(device, model_set=wanted)
        self.models = models
        # version 1 named the four base files, which layered sets share
        installed = {k: self.models.ids[k] for k in FILES} if version == 1 else self.models.id
        if params["models"] != installed:
            raise HelixError(
                "these strands were made with other HELIX models "
                f"({params['models']}) than the installed ones ({installed})"
            )
        self.slice_bytes = int(params["slice_bytes"])
        self.base_scale = int(params.get("base_scale", 1))
        if self.base_scale not in (1, 2):
            raise HelixError(f"helix base layer scale 1/{self.base_scale} unknown")
        self.base_width, self.base_height = base_size(info, self.base_scale)
        self.mask, self.sizes = grid_sizes(
            self.base_width, self.base_height, float(params["mask"]), version
        )
        self.tables = self.models.coding_tables(float(params["mask"]))
        self.layout = 3 if version >= 3 else 2
        self.layers = int(params.get("layers", 0))
        if self.layers:
            layer_mask = float(params.get("layer_mask", params["mask"]))
            self.keep, self.order = layer_positions(self.models.layers, info, layer_mask)
        self.x265 = x265_layer.X265LayerDecoder(info, params["x265"]) if "x265" in params else None

    def slices(self, packet: Packet) -> list[np.ndarray | None]:
        """A packet's slices as bits, None where lost."""
        s, lost = self.slice_bytes, set(packet.lost_slices)
        return [
            None
            if k in lost
            else np.unpackbits(np.frombuffer(packet.data[k * s : (k + 1) * s], np.uint8))
            for k in range(len(packet.data) // s)
        ]

    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        if packet is None:
            return []
        span = range(packet.pts, packet.pts + packet.duration)
        x265 = {}
        if self.x265 and packet.layers and packet.layers[0] is not None:
            x265 = self.x265.frames(packet.layers[0])
        if all(t in x265 for t in span):  # the enhancement has them all: no networks to run
            frames = [x265[t] for t in span]
        else:
            base = self.decode_slices(self.slices(packet), packet.layers)
            frames = [x265.get(t, base[t - packet.pts]) for t in span]
        out = []
        for t, a in zip(span, frames, strict=True):
            f = av.VideoFrame.from_ndarray(a, format="rgb24")
            f.pts = t
            out.append(f)
        return out

    def decode_slices(
        self, slices: list[np.ndarray | None], layers: list[Packet | None] = ()
    ) -> np.ndarray:
        """A GOP's base-layer slices (None = lost) and enhancement-layer packets ->
        (8, H, W, 3) uint8 frames."""
        got = token_strands.unpack(slices, self.sizes, self.tables, self.layout)
        t, h, w = self.mask.shape
        tok = np.zeros((len(TOKEN_LEVELS), t, h, w), np.int64)
        known = np.zeros((t, h, w), bool)
        vt, vy, vx = coding_order(self.mask)
        items, received = got["token"]
        tok[:, vt, vy, vx] = items.T
        known[vt[received], vy[received], vx[received]] = True
        ch, cw = h * TOKEN_STRIDE // CONT_STRIDE, w * TOKEN_STRIDE // CONT_STRIDE
        cvals, crec = (token_strands.continuous_from_items(a, ch, cw) for a in got["continuous"])
        cont = np.where(crec, cvals / (CONT_LEVELS - 1) * 2 - 1, 0.0)[None].astype(np.float32)
        return self.frames_from_tokens(tok, known, cont, layers)

    def frames_from_tokens(
        self, tok: np.ndarray, known: np.ndarray, cont: np.ndarray, layers=()
    ) -> np.ndarray:
        frames = self.padded_frames(tok, known, cont)
        if self.layers and layers and layers[0] is not None:  # refinements need layer 1
            frames = self.enhance(frames, layers[: self.layers])
        if self.base_scale == 2:
            small = frames[:, : self.base_height, : self.base_width]
            return upscale2(small, self.info.height, self.info.width)
        return np.ascontiguousarray(frames[:, : self.info.height, : self.info.width])

    def padded_frames(self, tok: np.ndarray, known: np.ndarray, cont: np.ndarray) -> np.ndarray:
        """The base layer: (8, H', W', 3) uint8 frames at the padded size."""
        values = token_values(tok)
        unknown = ~known
        if unknown.any():
            if self.fill == "transformer":
                filled = self.predict(tok, unknown, cont)
            else:
                filled = token_values(nearest_fill(tok, known))
            values = np.where(unknown[None], filled, values)
        y = self.models.run(
            "decoder",
            tokens=values[None].astype(np.float32),
            mask=unknown[None, None].astype(np.float32),
            continuous=cont,
        )[0]
        return network_output(y[0])

    def enhance(self, base: np.ndarray, layers: list[Packet | None]) -> np.ndarray:
        """Base frames (8, H', W', 3) + the enhancement layers received -> frames. Positions
        a layer's lost strand held keep the layers below; in masked sets the layer decoder
        fills positions lost from the first layer on (and masked ones) from their neighbours."""
        lt = self.models.layers
        n = len(self.order) * lt.channels
        y, have = np.zeros(n), np.ones(n, bool)
        for k, packet in enumerate(layers):
            if packet is None:
                break
            symbols, received = layer_strands.unpack(
                self.slices(packet), n, layer_tables(lt, k, n), lt.cum
            )
            have &= received
            if k == 0:  # positions with all of their first layer
                got = have.reshape(-1, lt.channels).all(1)
            y += np.where(have, (symbols - lt.max_symbol) * lt.steps[k], 0.0)
        y = y.reshape(-1, lt.channels)
        latent = np.zeros((self.keep.size, lt.channels), np.float32)
        latent[self.order] = y * got[:, None] if lt.masked else y
        latent = latent.T.reshape(1, lt.channels, *self.keep.shape)
        inputs = {"latent": latent, "base": network_input(base)}
        if lt.masked:
            received = np.zeros(self.keep.size, np.float32)
            received[self.order] = got
            inputs["keep"] = received.reshape(1, 1, *self.keep.shape)
        (out,) = self.models.run("layer_decoder", **inputs)
        return network_output(out[0])

    def predict(self, tok: np.ndarray, unknown: np.ndarray, cont: np.ndarray) -> np.ndarray:
        """Expected token values (4, 2, h, w) from the transformer, tile by tile."""
        levels = np.array(TOKEN_LEVELS).reshape(-1, 1, 1, 1)
        idx = np.where(unknown[None], levels, tok)
        out = np.zeros((len(TOKEN_LEVELS),) + unknown.shape, np.float32)
        c = CONT_STRIDE // TOKEN_STRIDE  # token rows per continuous row (h is a multiple)
        for (ry, rx), keep, (dy, dx) in tiles(*unknown.shape[1:], align=c):
            logits = self.models.run(
                "predictor",
                token_indices=idx[None, :, :, ry, rx],
                continuous=cont[:, :, ry.start // c : ry.stop // c, rx.start // c : rx.stop // c],
            )[0][0]
            out[:, :, dy, dx] = expected_values(logits)[(..., *keep)]
        return out


def token_values(idx: np.ndarray) -> np.ndarray:
    """Indices (4, ...) -> the decoder's values in [-1, 1]."""
    half = np.array([n // 2 for n in TOKEN_LEVELS], np.float32).reshape(
        (-1,) + (1,) * (idx.ndim - 1)
    )
    return (idx - half) / half


def expected_values(logits: np.ndarray) -> np.ndarray:
    """Logits (23, ...) -> each dimension's softmax mean, as values in [-1, 1]."""
    out, k = [], 0
    for n in TOKEN_LEVELS:
        lg = logits[k : k + n].astype(np.float64)
        p = np.exp(lg - lg.max(0))
        p /= p.sum(0)
        grid = ((np.arange(n) - n // 2) / (n // 2)).reshape((-1,) + (1,) * (lg.ndim - 1))
        out.append((p * grid).sum(0))
        k += n
    return np.stack(out).astype(np.float32)


def nearest_fill(tok: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Unknown tokens copied from the nearest known one (spreading out step by step: left,
    right, up, down, then the other time slice)."""
    tok, known = tok.copy(), known.copy()
    if not known.any():
        return tok
    while not known.all():
        for axis, shift in ((2, 1), (2, -1), (1, 1), (1, -1), (0, 1), (0, -1)):
            src_known = np.roll(known, shift, axis)
            take = ~known & src_known
            if axis != 0:  # no wrap-around at the borders
                edge = [slice(None)] * 3
                edge[axis] = slice(0, 1) if shift > 0 else slice(-1, None)
                take[tuple(edge)] = False
            tok[:, take] = np.roll(tok, shift, axis + 1)[:, take]
            known |= take
    return tok
