"""A pool's catalogue: its items, where each one's strands live, and the address regions."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from helix_media import __version__
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import POOL_FORMAT, check_catalogue
from helix_media.errors import HelixError

CATALOGUE_CHUNKS = 64  # metadata chunks per catalogue generation (~2.4 kB compressed)


GENERATIONS = 16  # catalogue generations, i.e. `pool add` runs per pool


ITEM_CHUNK_BASE = CATALOGUE_CHUNKS * GENERATIONS


MAX_METADATA_CHUNK = 10_000  # the helix framer resolves ~330k metadata addresses (32 per chunk)


CATALOGUE_COPIES = 5


@dataclass
class Item:
    """One catalogue entry: where an item's strands live and what it is."""

    name: str
    kind: str  # "video" or "file"
    codec: str
    data: list[int]  # [first data address, data strands incl. outer parity]
    metadata: list[int]  # [first metadata chunk, chunks, copies]
    size: int  # file bytes, or bytes of packets for a video
    primers: list[str] | None = None  # [5', 3'] when the item has its own pair
    frames: int | None = None
    fps: list[int] | None = None

    @property
    def strands(self) -> int:
        return self.data[1] + self.metadata[1] * self.metadata[2]

    @property
    def duration_s(self) -> float | None:
        if self.frames is None or not self.fps:
            return None
        return self.frames / float(Fraction(*self.fps))

    def data_addresses(self, indices: np.ndarray | None = None) -> np.ndarray:
        idx = np.arange(self.data[1]) if indices is None else np.asarray(indices, dtype=np.int64)
        return self.data[0] + idx

    def metadata_addresses(self, address_bits: int) -> np.ndarray:
        first, chunks, copies = self.metadata
        chunk = np.repeat(np.arange(first, first + chunks, dtype=np.int64), copies)
        copy = np.tile(np.arange(copies, dtype=np.int64), chunks)
        return layout.metadata_address(address_bits, copy, chunk)


@dataclass
class Catalogue:
    generation: int = -1  # -1: an empty pool
    items: list[Item] = field(default_factory=list)
    #: newer generations whose strands are there but do not decode: this catalogue may lack
    #: the items they added
    unreadable_newer: list[int] = field(default_factory=list)
    #: the pool's identity (see :func:`.source.pool_id`) and the other pools the strands held
    pool_id: int = 0
    other_pools: list[int] = field(default_factory=list)

    def find(self, name: str) -> Item:
        for it in self.items:
            if it.name == name:
                return it
        known = ", ".join(printable(it.name) for it in self.items) or "none"
        newer = (
            f"; catalogue generation(s) {self.unreadable_newer} are unreadable, the item may "
            f"be listed there (this is generation {self.generation})"
            if self.unreadable_newer
            else ""
        )
        raise HelixError(f"no item {name!r} in the pool (items: {known}){newer}")

    def next_data(self) -> int:
        return max((it.data[0] + it.data[1] for it in self.items), default=0)

    def next_chunk(self) -> int:
        return max((it.metadata[0] + it.metadata[1] for it in self.items), default=ITEM_CHUNK_BASE)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": POOL_FORMAT,
            "version": 1,
            "writer": f"helix-media {__version__}",
            "generation": self.generation,
            "items": [asdict(it) for it in self.items],
        }


def printable(name: str) -> str:
    """An item name as it may go to a terminal: control characters (escape sequences that
    would move the cursor or recolour the screen) written as Python escapes."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in name)


def catalogue_from_json(blob: dict[str, Any], source: str) -> Catalogue:
    """A catalogue read from DNA -> :class:`Catalogue` (HelixError if it is malformed)."""
    check_catalogue(blob, source)
    return Catalogue(int(blob["generation"]), [Item(**it) for it in blob["items"]])
