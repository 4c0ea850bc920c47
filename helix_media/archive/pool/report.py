"""What users read about a pool: its listing, and the cost of reading a range from it."""

from __future__ import annotations

import math
from typing import Any

from helix_media.archive.pool.catalogue import Catalogue, printable
from helix_media.archive.pool.get import frame_range, range_units
from helix_media.archive.pool.source import PoolSource, read_catalogue, read_item_metadata
from helix_media.errors import HelixError


# -- probing -----------------------------------------------------------------------------------
def range_cost(
    pool: str,
    name: str,
    start: float | None,
    duration: float | None,
    price: float,
    reads2: str | None = None,
) -> dict[str, Any]:
    """Strands (and USD) to read for one item or a time range of it, without decoding data.
    ``reads2``: see :class:`PoolSource`."""
    source = PoolSource(pool, reads2)
    item = read_catalogue(source).find(name)
    fr, meta = read_item_metadata(source, item)
    n_meta = item.metadata[1] * item.metadata[2]
    catalogue = source.touched.get("catalogue", 0)
    out: dict[str, Any] = {"item": name, "kind": item.kind, "item_strands": item.strands}
    if start is None and duration is None:
        data = item.data[1]
    else:
        if item.kind != "video":
            raise HelixError(f"{name!r} is a file; --start/--duration select part of a video")
        f0, f1 = frame_range(meta["video"], start or 0.0, duration or math.inf)
        units, idx = range_units(meta, f0, f1)
        data = len(idx)
        out.update(frames=[f0, f1], gops=[u[0] for u in units])
    total = catalogue + n_meta + data
    out.update(
        catalogue_strands=catalogue,
        metadata_strands=n_meta,
        data_strands=data,
        strands=total,
        cost_usd=round(total * price, 4),
        price_per_strand_usd=price,
    )
    return out


def format_range_cost(c: dict[str, Any]) -> str:
    what = (
        f"frames {c['frames'][0]}-{c['frames'][1] - 1} (GOPs {c['gops'][0]}-{c['gops'][-1]})"
        if "frames" in c
        else "the whole item"
    )
    return (
        f"{c['item']}: {what}: {c['strands']} strands to read ({c['catalogue_strands']} "
        f"catalogue + {c['metadata_strands']} metadata + {c['data_strands']} data, of the "
        f"item's {c['item_strands']}), ${c['cost_usd']:.2f} at ${c['price_per_strand_usd']}"
        " per strand"
    )


def format_list(cat: Catalogue, pool: str) -> str:
    lines = [
        f"{pool}: pool {cat.pool_id}, catalogue generation {cat.generation}, "
        f"{len(cat.items)} items",
        f"  {'name':<24}{'kind':<7}{'codec':<11}{'bytes':>10}{'duration':>10}"
        f"{'strands':>9}  data addresses   primers",
    ]
    for it in cat.items:
        dur = f"{it.duration_s:.2f} s" if it.duration_s is not None else "-"
        lines.append(
            f"  {printable(it.name):<24}{printable(it.kind):<7}{printable(it.codec):<11}"
            f"{it.size:>10}{dur:>10}{it.strands:>9}"
            f"  {it.data[0]}-{it.data[0] + it.data[1] - 1:<10} "
            f"{'own' if it.primers else 'pool'}"
        )
    return "\n".join(lines)
