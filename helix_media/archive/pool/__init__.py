"""Pools: many videos and files in one oligo pool, read back by item and by time range.

Address space (helix framer, 25-bit addresses):

* **data**: item ``i`` owns the contiguous data addresses ``[first, first + count)`` (its
  data strands, then its outer-code parity); inside its own metadata, strand indices stay
  0-based and ``address_offset`` says where they start, so the whole decoder is unchanged.
* **metadata**: the metadata address ``chunk << 5 | copy`` (see :mod:`layout`) is split into
  regions: catalogue generation ``g`` owns chunks ``[64 g, 64 g + 64)`` for ``g < 16``; items'
  own metadata follow from chunk 1024 on, each a contiguous run of chunks.

The **catalogue** (item names, kinds, address and chunk ranges, primers) is a metadata blob
like an archive's (magic, length, CRC, zlib JSON), stored ``copies`` times with the pool's
primers. ``pool add`` only *adds* strands: the new items and a new catalogue generation; a
reader takes the newest generation it can read, so an already synthesized pool is extended by
synthesizing the new strands alone.

**Random access.** Reads or strands are picked by address *before* decoding: the framer's
``address_keys`` turns an address range into cluster keys, and only strands (or read
clusters) with those keys are decoded. A time range needs the catalogue, the item's metadata,
and the data strands of the GOPs that overlap it (from the packet table: unit byte ranges ->
strand indices); nothing else is touched, and the counts are reported. Optionally an item gets
its own primer pair (``own_primers``), which is how a lab reads one item physically (PCR with
its primers); other items' reads then fail primer trimming.
"""

from helix_media.archive.pool.add import add_items
from helix_media.archive.pool.catalogue import Catalogue, Item
from helix_media.archive.pool.get import ItemResult, decode_item, get_item, range_units
from helix_media.archive.pool.report import format_list, format_range_cost, range_cost
from helix_media.archive.pool.source import PoolSource, read_catalogue

__all__ = [
    "Catalogue",
    "Item",
    "ItemResult",
    "PoolSource",
    "add_items",
    "decode_item",
    "format_list",
    "format_range_cost",
    "get_item",
    "range_cost",
    "range_units",
    "read_catalogue",
]
