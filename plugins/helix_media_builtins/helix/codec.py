"""Codec "helix": the HELIX neural codec (tokenizer, token masking, context-model coding,
transformer fill-in), run by ONNX Runtime.

Per GOP of 8 frames: the encoder network gives discrete FSQ tokens (4 dims, levels 8/5/5/5,
2 x H/8 x W/8 per GOP) and a continuous stream (16 x H/32 x W/32, 16 levels). The checkerboard
mask (``mask``, default 0.6) drops that share of the tokens; the visible ones and the
continuous vectors are arithmetic-coded with integer context tables into strand-sized slices
(:mod:`token_strands`). Decoding: the transformer predicts every token not received (masked
or lost with its strand), the decoder network rebuilds the frames.

Frames of any size are padded to multiples of 32 by repeating edge pixels and cropped back;
tokens that cover only padding are not stored (the transformer fills them like masked ones). A
partial last GOP is padded by repeating its last frame. Options: ``mask``, ``device``
(cpu/cuda); decoders also take ``fill`` ("transformer" or "naive": nearest received token).
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Codec, Packet, VideoDecoder, VideoEncoder, VideoInfo
from helix_media_builtins.helix import token_strands
from helix_media_builtins.helix.masking import checkerboard_mask
from helix_media_builtins.helix.models import load_models, set_with_file_ids
from helix_media_builtins.helix.tiling import tiles
from helix_media_builtins.helix.token_context import CONT_LEVELS, TOKEN_LEVELS, coding_order

GOP = 8
TOKEN_T, TOKEN_STRIDE, CONT_STRIDE = 2, 8, 32
DEFAULT_MASK = 0.6
PARAMS_VERSION = 4
# 4: tokens that cover only padding are not stored; 3: slices hold both kinds of items
# (token_strands layout 3); 2: one kind per slice, "models" is the model set's one id; 1: as 2,
# with a dict of per-file ids


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


class HelixEncoder(VideoEncoder):
    def __init__(self, info: VideoInfo, mask: float, slice_bytes: int, device: str):
        if not 0 <= mask < 1:
            raise HelixError(f"--mask must be in [0, 1), got {mask}")
        self.info, self.mask_ratio, self.slice_bytes = info, float(mask), int(slice_bytes)
        self.models = load_models(device)
        self.mask, _ = grid_sizes(info.width, info.height, self.mask_ratio, PARAMS_VERSION)
        self.tables = self.models.coding_tables(self.mask_ratio)
        self.frames: list[np.ndarray] = []
        self.gop_index = 0
        self.next_pts = 0
        #: per GOP coded: (slices, slices holding tokens, slices holding continuous items)
        self.slice_kinds: list[tuple[int, int, int]] = []

    @property
    def params(self) -> dict[str, Any]:
        return {
            "version": PARAMS_VERSION,
            "gop": GOP,
            "mask": self.mask_ratio,
            "slice_bytes": self.slice_bytes,
            "models": self.models.id,
        }

    def encode(self, frame: av.VideoFrame | None) -> list[Packet]:
        if frame is not None:
            self.frames.append(frame.to_ndarray(format="rgb24"))
            if len(self.frames) < GOP:
                return []
        if not self.frames:
            return []
        n = len(self.frames)
        packet = Packet(
            self.encode_gop(np.stack(self.frames)),
            "video",
            self.gop_index,
            self.next_pts,
            n,
            slice_bytes=self.slice_bytes,
        )
        self.frames = []
        self.gop_index += 1
        self.next_pts += n
        return [packet]

    def tokens(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n <= 8, H, W, 3) uint8 -> token indices (4, 2, h, w), continuous (16, h', w')."""
        h, w = frames.shape[1:3]
        pw, ph = padded_size(w, h)
        x = np.concatenate([frames, np.repeat(frames[-1:], GOP - len(frames), 0)])
        x = np.pad(x, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
        x = (x.transpose(3, 0, 1, 2)[None].astype(np.float32) / 127.5) - 1.0
        tok, cont = self.models.run("encoder", frames=x)
        return tok[0], cont[0]

    def encode_gop(self, frames: np.ndarray) -> bytes:
        tok, cont = self.tokens(frames)
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


class HelixDecoder(VideoDecoder):
    def __init__(
        self, info: VideoInfo, params: dict[str, Any], device: str, fill: str, models=None
    ):
        if params.get("version") not in (1, 2, 3, PARAMS_VERSION):
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
        installed = self.models.ids if version == 1 else self.models.id
        if params["models"] != installed:
            raise HelixError(
                "these strands were made with other HELIX models "
                f"({params['models']}) than the installed ones ({installed})"
            )
        self.slice_bytes = int(params["slice_bytes"])
        self.mask, self.sizes = grid_sizes(info.width, info.height, float(params["mask"]), version)
        self.tables = self.models.coding_tables(float(params["mask"]))
        self.layout = 3 if version >= 3 else 2
        #: tokens received / tokens needed, per decoded GOP (for reports)
        self.received: list[float] = []

    def decode(self, packet: Packet | None) -> list[av.VideoFrame]:
        if packet is None:
            return []
        s = self.slice_bytes
        lost = set(packet.lost_slices)
        slices = [
            None
            if k in lost
            else np.unpackbits(np.frombuffer(packet.data[k * s : (k + 1) * s], np.uint8))
            for k in range(len(packet.data) // s)
        ]
        frames = self.decode_slices(slices)
        out = []
        for i in range(packet.duration):
            f = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            f.pts = packet.pts + i
            out.append(f)
        return out

    def decode_slices(self, slices: list[np.ndarray | None]) -> np.ndarray:
        """A GOP's slices (None = lost) -> (8, H, W, 3) uint8 frames."""
        got = token_strands.unpack(slices, self.sizes, self.tables, self.layout)
        t, h, w = self.mask.shape
        tok = np.zeros((len(TOKEN_LEVELS), t, h, w), np.int64)
        known = np.zeros((t, h, w), bool)
        vt, vy, vx = coding_order(self.mask)
        items, received = got["token"]
        tok[:, vt, vy, vx] = items.T
        known[vt[received], vy[received], vx[received]] = True
        self.received.append(float(known.mean()))
        ch, cw = h * TOKEN_STRIDE // CONT_STRIDE, w * TOKEN_STRIDE // CONT_STRIDE
        cvals, crec = (token_strands.continuous_from_items(a, ch, cw) for a in got["continuous"])
        cont = np.where(crec, cvals / (CONT_LEVELS - 1) * 2 - 1, 0.0)[None].astype(np.float32)
        return self.frames_from_tokens(tok, known, cont)

    def frames_from_tokens(
        self, tok: np.ndarray, known: np.ndarray, cont: np.ndarray
    ) -> np.ndarray:
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
        frames = np.clip((y[0].transpose(1, 2, 3, 0) + 1) * 127.5 + 0.5, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(frames[:, : self.info.height, : self.info.width])

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

    def encoder(
        self,
        info: VideoInfo,
        quality: int | None = None,
        *,
        mask: float = DEFAULT_MASK,
        slice_bytes: int = 37,
        device: str = "cpu",
        **options: Any,
    ) -> VideoEncoder:
        _no_unknown(options)
        if quality is not None:
            raise HelixError(
                "helix codec: --quality is not available yet (one operating point; the "
                "quality ladder needs new networks, see the README); use --mask"
            )
        return HelixEncoder(info, mask, slice_bytes, device)

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
        help="helix: share of discrete tokens left out and predicted on decoding (default 0.6)",
    )
    group.add_argument("--device", help="helix: where the networks run, cpu (default) or cuda")
    group.add_argument(
        "--fill",
        choices=("transformer", "naive"),
        help="helix decoding: how tokens not received are filled (default transformer)",
    )
    return {"mask": "encode", "device": "both", "fill": "decode"}
