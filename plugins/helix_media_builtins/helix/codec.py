"""Codec "helix": the HELIX neural codec (tokenizer, token masking, context-model coding,
transformer fill-in), run by ONNX Runtime.

Per GOP of 8 frames: the encoder network gives discrete FSQ tokens (4 dims, levels 8/5/5/5,
2 x H/8 x W/8 per GOP) and a continuous stream (16 x H/32 x W/32, 16 levels). The checkerboard
mask (``mask``, default 0.6) drops that share of the tokens; the visible ones and the
continuous vectors are arithmetic-coded with integer context tables into strand-sized slices
(:mod:`token_strands`). Decoding: the transformer predicts every token not received (masked
or lost with its strand), the decoder network rebuilds the frames.

Quality levels (``quality`` 1..R): level 1 is that base layer alone. Above it, the
``enhancement`` adds strands of its own (stream ``video.1``, ...), so a decoder can stop at
the base (``--layers 1``, a preview; also what frames fall back to where enhancement strands
are lost):

* ``x265`` (default): the video coded again by the yardstick's libx265 at a CRF per level
  (:mod:`x265_layer`, which says why not a residual over the base), over a base coded at
  half resolution (:mod:`scaling`) and mask ``X265_BASE_MASK``: a preview and a fallback
  needs fewer strands at half size than masked harder at full size.
* ``learned``: the model set's enhancement layers (:mod:`layer_strands`): the layer networks
  code the residual as one latent, each level adding a layer that refines it at half the
  previous step. In model sets whose layers are ``masked``, the mask ratio drops latent
  positions as it drops tokens (the layer encoder knows which, and packs what matters into
  the rest), and each strand holds positions scattered over the GOP (a golden-ratio
  interleave), which the layer decoder fills from their neighbours when a strand is lost.

Frames of any size are padded to multiples of 32 by repeating edge pixels and cropped back;
tokens that cover only padding are not stored (the transformer fills them like masked ones). A
partial last GOP is padded by repeating its last frame. Options: ``mask``, ``layer_mask``,
``enhancement``, ``device`` (cpu/cuda); decoders also take ``fill`` ("transformer" or "naive":
nearest received token).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import (
    Codec,
    Packet,
    VideoDecoder,
    VideoEncoder,
    VideoInfo,
    layer_stream,
)
from helix_media_builtins.helix import layer_strands, token_strands, x265_layer
from helix_media_builtins.helix.masking import checkerboard_mask
from helix_media_builtins.helix.models import (
    FILES,
    HelixModels,
    LayerTables,
    load_models,
    set_with_file_ids,
)
from helix_media_builtins.helix.scaling import downscale2, half_size, upscale2
from helix_media_builtins.helix.tiling import tiles
from helix_media_builtins.helix.token_context import CONT_LEVELS, TOKEN_LEVELS, coding_order

GOP = 8
TOKEN_T, TOKEN_STRIDE, CONT_STRIDE = 2, 8, 32
DEFAULT_MASK = 0.6
#: the base under the x265 enhancement (a preview, a fallback): half size, mask 0.4. Against
#: full size at mask 0.8: 75 / 54 / 24 data strands for 18.0 / 20.0 / 18.7 dB on sample /
#: bigbuckbunny / carphone, not 149 / 96 / 48 for 18.1 / 20.7 / 19.5 (docs/helix-codec.md)
X265_BASE_MASK = 0.4
X265_BASE_SCALE = 2
#: enhancements over the base layer: x265 codes the video (:mod:`x265_layer`, the default:
#: a fifth of the learned layers' strands or less for the same PSNR), or the model set's
#: learned layers
ENHANCEMENTS = ("x265", "learned")
DEFAULT_ENHANCEMENT = "x265"
#: the level ``--quality`` defaults to, per enhancement. x265's: level 6, at libx265's own
#: default CRF 28 (34.2 / 32.7 / 32.6 dB on the bench clips, within 1 dB of x265 alone at
#: equal strands), an archive worth keeping; level 1, the base alone, is a 19-22 dB preview.
#: The learned ladder's: its base alone (its layers cost 3-13x x265's strands).
DEFAULT_QUALITY = {"x265": 6, "learned": 1}
BASE_REDUNDANCY = 0.1  # outer code on the base layer's strands at levels with layers
X265_REDUNDANCY = 0.1  # and on the x265 enhancement's (a lost strand ends its GOP's)
PARAMS_VERSION = 8
# 8: "base_scale", 2 where the base layer is coded at half size (absent: 1); 7: "x265", the x265
# enhancement's decoder parameters (stream video.1); 6: "layer_mask", the share of latent
# positions masked in the layers of masked sets; 5: "layers" enhancement layers, in streams
# video.1, video.2, ...; 4: tokens that cover only padding are not stored; 3: slices hold both
# kinds of items (token_strands layout 3); 2: one kind per slice, "models"
# is the model set's one id; 1: as 2, with a dict of per-file ids


def padded_size(width: int, height: int) -> tuple[int, int]:
    up = lambda n: -(-n // CONT_STRIDE) * CONT_STRIDE  # noqa: E731
    return up(width), up(height)


def padding_tokens(width: int, height: int) -> np.ndarray:
    """(2, h, w) bool: the tokens whose 8 x 8 pixels all lie in the padding."""
    pw, ph = padded_size(width, height)
    pad = np.zeros((TOKEN_T, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE), bool)
    pad[:, -(-height // TOKEN_STRIDE) :] = True
    pad[:, :, -(-width // TOKEN_STRIDE) :] = True
    return pad


def grid_sizes(
    width: int, height: int, mask: float, version: int
) -> tuple[np.ndarray, dict[str, int]]:
    """The GOP's token mask (2, h, w), True = not stored (masked, or from version 4 padding
    only), and how many items of each kind it stores."""
    pw, ph = padded_size(width, height)
    m = checkerboard_mask(mask, TOKEN_T, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE)
    if version >= 4:
        m |= padding_tokens(width, height)
    cont = (ph // CONT_STRIDE) * (pw // CONT_STRIDE) * token_strands.CONT_GROUPS
    return m, {"token": int((~m).sum()), "continuous": cont}


class Rung(NamedTuple):
    """One quality level: what it stores over the base layer, and its default masks."""

    layers: int  # learned enhancement layers
    mask: float | None  # the base's default mask (None: DEFAULT_MASK)
    layer_mask: float | None  # the learned layers' default mask (None: the base's)
    crf: int | None = None  # the x265 enhancement's CRF (None: no x265 enhancement)
    base_scale: int = 1  # the base layer is coded at 1 / base_scale of the video's size


def ladder(models: HelixModels, enhancement: str | None) -> list[Rung]:
    """The quality levels, lowest first: level 1 is the base layer alone; above it, x265
    enhancements at falling CRF, or the model set's learned layers."""
    enhancement = enhancement or DEFAULT_ENHANCEMENT
    if enhancement == "learned":
        return [Rung(*s) for s in models.rung_settings]
    if enhancement == "x265":
        over = [Rung(0, X265_BASE_MASK, None, c, X265_BASE_SCALE) for c in x265_layer.CRFS]
        return [Rung(0, None, None), *over]
    raise HelixError(f"helix --enhancement must be one of {', '.join(ENHANCEMENTS)}")


def rung(models: HelixModels, quality: int | None, enhancement: str | None = None) -> Rung:
    """``--quality`` checked against the ladder (None: the default level)."""
    steps = ladder(models, enhancement)
    if quality is None:
        return steps[DEFAULT_QUALITY[enhancement or DEFAULT_ENHANCEMENT] - 1]
    if not 1 <= quality <= len(steps):
        raise HelixError(f"helix --quality must be 1 to {len(steps)}, got {quality}")
    return steps[quality - 1]


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


def base_size(info: VideoInfo, scale: int) -> tuple[int, int]:
    """(width, height) the base layer is coded at."""
    return (info.width, info.height) if scale == 1 else half_size(info.width, info.height)


def padded_gop(frames: np.ndarray) -> np.ndarray:
    """(n <= 8, H, W, 3) -> (8, H', W', 3): the last frame repeated, edges to multiples of 32."""
    h, w = frames.shape[1:3]
    pw, ph = padded_size(w, h)
    x = np.concatenate([frames, np.repeat(frames[-1:], GOP - len(frames), 0)])
    return np.pad(x, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")


def network_input(frames: np.ndarray) -> np.ndarray:
    """(8, H, W, 3) uint8 -> (1, 3, 8, H, W) float32 in [-1, 1]."""
    return (frames.transpose(3, 0, 1, 2)[None].astype(np.float32) / 127.5) - 1.0


def network_output(y: np.ndarray) -> np.ndarray:
    """(3, 8, H, W) in [-1, 1] -> (8, H, W, 3) uint8."""
    return np.clip((y.transpose(1, 2, 3, 0) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)


def continuous_values(cont: np.ndarray) -> np.ndarray:
    """Continuous-stream indices (16, h, w) -> the networks' values (1, 16, h, w)."""
    return (cont / (CONT_LEVELS - 1) * 2 - 1)[None].astype(np.float32)


def layer_positions(lt: LayerTables, info: VideoInfo, mask: float) -> tuple[np.ndarray, np.ndarray]:
    """(keep, order): the latent positions (T, h, w) a GOP's layers store, and their flat
    indices in coding order. Unmasked sets store every position in (t, row, column) order;
    masked ones drop the mask ratio's checkerboard and positions over padding only, and
    interleave the rest (position j of the order is the (j * a mod n)-th stored one, a coprime
    to n near n / golden ratio), so a lost strand costs scattered positions, not a patch."""
    pw, ph = padded_size(info.width, info.height)
    shape = (lt.latent_t, ph // TOKEN_STRIDE, pw // TOKEN_STRIDE)
    if not lt.masked:
        keep = np.ones(shape, bool)
        return keep, np.arange(keep.size)
    pad = padding_tokens(info.width, info.height)[:1]
    keep = ~(checkerboard_mask(mask, *shape) | pad)
    pos = np.flatnonzero(keep)
    n = len(pos)
    a = max(1, round(n * 0.6180339887498949))
    while math.gcd(a, n) > 1:
        a += 1
    return keep, pos[np.arange(n) * a % max(n, 1)]


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


def layer_tables(tables, layer: int, n: int) -> np.ndarray:
    """Each element's table: one per (layer, channel)."""
    return np.tile(np.arange(tables.channels), n // tables.channels) + layer * tables.channels


class HelixDecoder(VideoDecoder):
    def __init__(
        self, info: VideoInfo, params: dict[str, Any], device: str, fill: str, models=None
    ):
        if params.get("version") not in range(1, PARAMS_VERSION + 1):
            raise HelixError(f"helix codec parameters version {params.get('version')} unknown")
        if fill not in ("transformer", "naive"):
            raise HelixError(f"unknown fill {fill!r} (transformer or naive)")
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


class HelixCodec(Codec):
    name = "helix"
    slice_aligned = True

    def rungs(self, device: str = "cpu", enhancement: str | None = None) -> int:
        """Quality levels with the default model set: the base layer, then one per x265
        CRF or learned enhancement layer."""
        return len(ladder(load_models(device), enhancement))

    def describe(self, params: dict[str, Any]) -> str:
        """The level and what it stores, e.g. "level 6: x265 at CRF 28 over the learned base
        (half size, mask 0.4, model set ...)"."""
        models = params["models"] if isinstance(params["models"], str) else "of version 1"
        scale = "half size, " if params.get("base_scale", 1) == 2 else ""
        base = f"the learned base ({scale}mask {params['mask']:g}, model set {models})"
        if "x265" in params:
            crf, gop = params["x265"]["crf"], params["x265"]["gop"]
            level = f"level {x265_layer.CRFS.index(crf) + 2}: " if crf in x265_layer.CRFS else ""
            return f"{level}x265 at CRF {crf}, GOPs of {gop}, over {base}"
        if params.get("layers"):
            layers, mask = params["layers"], params.get("layer_mask", params["mask"])
            return f"{layers} learned enhancement layer(s) (mask {mask:g}) over {base}"
        return f"level 1: {base} alone"

    def stream_redundancy(
        self,
        quality: int | None = None,
        *,
        device: str = "cpu",
        enhancement: str | None = None,
        **options: Any,
    ) -> dict[str, float]:
        """Levels with enhancements protect the base layer's strands with an outer code of
        their own: a lost base strand costs every layer above it (learned layers, 5 % of the
        strands lost: -0.6 to -1.4 dB without, -0.12 to -0.33 dB with it, for 0.3 to 2.3 %
        more strands; helix bench helix). The x265 enhancement is protected too: a lost
        strand ends its 16-frame GOP's enhancement (5 % of the strands lost: -3 to -18 dB
        without, 0 dB with it, for 8-10 % more strands)."""
        r = rung(load_models(device), quality, enhancement)
        if r.crf is not None:
            return {"video": BASE_REDUNDANCY, layer_stream(1): X265_REDUNDANCY}
        return {"video": BASE_REDUNDANCY} if r.layers else {}

    def encoder(
        self,
        info: VideoInfo,
        quality: int | None = None,
        *,
        mask: float | None = None,
        layer_mask: float | None = None,
        enhancement: str | None = None,
        gop: int | None = None,
        slice_bytes: int = 37,
        device: str = "cpu",
        **options: Any,
    ) -> VideoEncoder:
        _no_unknown(options)
        return HelixEncoder(info, mask, slice_bytes, device, quality, layer_mask, enhancement, gop)

    def decoder(
        self,
        info: VideoInfo,
        params: dict[str, Any],
        *,
        device: str = "cpu",
        fill: str = "transformer",
        **options: Any,
    ) -> VideoDecoder:
        _no_unknown(options)
        return HelixDecoder(info, params, device, fill)


def _no_unknown(options: dict[str, Any]) -> None:
    """Unknown options are an error, as for every codec (a typo must not be ignored)."""
    if options:
        raise HelixError(f"helix codec: unknown option(s) {', '.join(sorted(options))}")


@hookimpl
def register_codecs(register):
    register("helix", HelixCodec)


@hookimpl
def add_codec_options(group):
    group.add_argument(
        "--mask",
        type=float,
        help="helix: share of discrete tokens left out and predicted on decoding (default: "
        "the quality level's own: 0.6 at level 1, 0.4 under the x265 enhancement, whose base "
        "is coded at half size)",
    )
    group.add_argument(
        "--layer-mask",
        type=float,
        help="helix: share of enhancement-layer positions left out and filled on decoding "
        "(default: the quality level's own, see helix-codec docs)",
    )
    group.add_argument(
        "--enhancement",
        choices=ENHANCEMENTS,
        help="helix: what quality levels above 1 store over the base layer: x265 (default), "
        "the video coded by libx265, or learned, the model set's enhancement layers",
    )
    group.add_argument("--device", help="helix: where the networks run, cpu (default) or cuda")
    group.add_argument(
        "--fill",
        choices=("transformer", "naive"),
        help="helix decoding: how tokens not received are filled (default transformer)",
    )
    return {
        "mask": "encode",
        "layer_mask": "encode",
        "enhancement": "encode",
        "device": "both",
        "fill": "decode",
    }
