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

The codec is split by job: :mod:`ladder` (quality levels, defaults, parameter version),
:mod:`geometry` (token grids and tensor layout), :mod:`encoder`, :mod:`decoder`; this module
is the plugin that registers them (and re-exports their names, for older imports).
"""

from __future__ import annotations

from typing import Any

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import Codec, VideoDecoder, VideoEncoder, VideoInfo, layer_stream
from helix_media_builtins.codecs.helix import x265_layer
from helix_media_builtins.codecs.helix.decoder import (
    HelixDecoder,
    expected_values,
    nearest_fill,
    token_values,
)
from helix_media_builtins.codecs.helix.encoder import HelixEncoder, layer_symbols
from helix_media_builtins.codecs.helix.geometry import (
    CONT_STRIDE,
    GOP,
    TOKEN_STRIDE,
    TOKEN_T,
    base_size,
    continuous_values,
    grid_sizes,
    layer_positions,
    layer_tables,
    network_input,
    network_output,
    padded_gop,
    padded_size,
    padding_tokens,
)
from helix_media_builtins.codecs.helix.ladder import (
    BASE_REDUNDANCY,
    DEFAULT_ENHANCEMENT,
    DEFAULT_MASK,
    DEFAULT_QUALITY,
    ENHANCEMENTS,
    PARAMS_VERSION,
    X265_BASE_MASK,
    X265_BASE_SCALE,
    X265_REDUNDANCY,
    Rung,
    ladder,
    rung,
)
from helix_media_builtins.codecs.helix.models import load_models

__all__ = [
    "BASE_REDUNDANCY",
    "CONT_STRIDE",
    "DEFAULT_ENHANCEMENT",
    "DEFAULT_MASK",
    "DEFAULT_QUALITY",
    "ENHANCEMENTS",
    "GOP",
    "PARAMS_VERSION",
    "TOKEN_STRIDE",
    "TOKEN_T",
    "X265_BASE_MASK",
    "X265_BASE_SCALE",
    "X265_REDUNDANCY",
    "HelixCodec",
    "HelixDecoder",
    "HelixEncoder",
    "Rung",
    "add_codec_options",
    "base_size",
    "continuous_values",
    "expected_values",
    "grid_sizes",
    "ladder",
    "layer_positions",
    "layer_symbols",
    "layer_tables",
    "nearest_fill",
    "network_input",
    "network_output",
    "padded_gop",
    "padded_size",
    "padding_tokens",
    "register_codecs",
    "rung",
    "token_values",
]


class HelixCodec(Codec):
    name = "helix"
    slice_aligned = True
    #: the levels of the default (x265) ladder: the base, then one per CRF
    qualities = (1, 1 + len(x265_layer.CRFS))
    default_quality = DEFAULT_QUALITY[DEFAULT_ENHANCEMENT]
    quality_meaning = "level, higher is better"

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
