"""Overlapping tiles for running the predictor on token grids of any size.

The predictor is trained on small crops; on a large grid its attention would spread over far
more tokens than it ever saw (and cost grows with the square of the grid). So large grids are
predicted tile by tile, each tile with a halo of context around it that is run but not kept.
Used alike by the runtime (ONNX) and by the PyTorch evaluation, so both see the same windows.
"""

from __future__ import annotations

from collections.abc import Iterator

#: token rows/columns kept per tile, and the context halo around each: run windows of up to
#: 16 x 16 tokens, the crops the committed predictor was last trained on (128 px). Measured
#: with ``python -m helix_media_builtins.codecs.helix.train eval``:
#: 8/4 beats 16/4 and 24/4 by 0.01-0.1 dB at mask 0.6.
TILE = 8
HALO = 4


Window = tuple[slice, slice]  # (rows, columns)


def tiles(
    h: int, w: int, align: int, tile: int = TILE, halo: int = HALO
) -> Iterator[tuple[Window, Window, Window]]:
    """Tiles of an (h, w) grid as (window run, part of its output kept, where that part goes
    in the grid). Run windows start and end on multiples of ``align`` (the continuous grid's
    step in tokens; h and w are multiples of it) and hold the tile plus up to ``halo`` on
    every side."""
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            ya, xa = max(0, y0 - halo) // align * align, max(0, x0 - halo) // align * align
            yb = min(h, -(-(y0 + tile + halo) // align) * align)
            xb = min(w, -(-(x0 + tile + halo) // align) * align)
            ky, kx = min(tile, h - y0), min(tile, w - x0)
            yield (
                (slice(ya, yb), slice(xa, xb)),
                (slice(y0 - ya, y0 - ya + ky), slice(x0 - xa, x0 - xa + kx)),
                (slice(y0, y0 + ky), slice(x0, x0 + kx)),
            )
