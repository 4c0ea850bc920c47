"""The HELIX codec's quality ladder and its settings: what each ``--quality`` level stores.

Level 1 is the base layer alone; above it the ``enhancement`` (x265, the default, or the model
set's learned layers) adds strands of its own. Here too are the defaults (masks, redundancy)
and :data:`PARAMS_VERSION`, the version of the parameters archives carry: the encoder,
the decoder and the plugin's ``describe`` / ``stream_redundancy`` all read them, so they live
apart from each.
"""

from __future__ import annotations

from typing import NamedTuple

from helix_media.errors import HelixError
from helix_media_builtins.codecs.helix import x265_layer
from helix_media_builtins.codecs.helix.models import HelixModels

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
