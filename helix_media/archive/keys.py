"""An archive's identity, and the key that keyed framers mix into its data strands."""

from __future__ import annotations

from typing import Any

import numpy as np

from helix_media.blocks.metadata_schema import ARCHIVE_ID


def archive_id(meta: dict[str, Any], blocks: np.ndarray) -> int:
    """An archive's identity: 32 bits of SHA-256 over its metadata and data blocks (the same
    input and options give the same id; two different archives almost surely differ). Keyed
    framers key every data strand with it, so another archive's strands never decode into
    this one."""
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    h.update(np.packbits(blocks, axis=1).tobytes())
    return int.from_bytes(h.digest()[:4], "big") or 1


def framer_key(fr, meta: dict[str, Any]) -> dict[str, int]:
    """``key=`` for a keyed framer's frame/parse (nothing for others, for archives written
    before archive ids, or before their framer became keyed: ``keys_archive``)."""
    if not (fr.keyed and meta.get(ARCHIVE_ID)):
        return {}
    keys_archive = getattr(fr, "keys_archive", None)
    if keys_archive is not None and not keys_archive(meta.get("framer") or {}):
        return {}
    return {"key": int(meta[ARCHIVE_ID])}
