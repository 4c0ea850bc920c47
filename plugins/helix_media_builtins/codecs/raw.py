"""Codec "raw": any file, stored losslessly (no frames, no PyAV).

The file is cut into chunks of ``CHUNK`` bytes, one :class:`Packet` each, so the layout's
per-unit CRC tells which part a lost strand damaged and the unit table maps byte ranges to
strands. ``quality`` is a zlib level: 0 (default) stores the bytes as they are, which keeps
bits per nucleotide comparable with peers that do not compress; 1-9 deflate each chunk on its
own (a chunk is kept stored when deflating does not shrink it), so chunks stay independent.
Registered through the ``helix_media`` entry point, like every built-in.
"""

from __future__ import annotations

import zlib
from typing import Any

from helix_media.errors import HelixError
from helix_media.hookspecs import hookimpl
from helix_media.media.codec import FileCodec, Packet

CHUNK = 1 << 16  # bytes per packet: small unit tables, and a lost unit is never worth less
PARAMS_VERSION = 1


class RawCodec(FileCodec):
    name = "raw"
    qualities, default_quality, quality_meaning = (0, 9), 0, "zlib level"

    def pack(self, data: bytes, quality: int | None = None) -> tuple[list[Packet], dict[str, Any]]:
        level = 0 if quality is None else int(quality)
        if not 0 <= level <= 9:
            raise HelixError(f"raw codec: --quality is a zlib level 0-9, got {level}")
        packets, deflated = [], []
        for i, start in enumerate(range(0, len(data), CHUNK)):
            chunk = data[start : start + CHUNK]
            packed = zlib.compress(chunk, level) if level else chunk
            use = bool(level) and len(packed) < len(chunk)
            deflated.append(int(use))
            packets.append(Packet(packed if use else chunk, "file", i, start, len(chunk)))
        params = {"version": PARAMS_VERSION, "chunk": CHUNK, "level": level, "deflated": deflated}
        return packets, params

    def unpack(self, packets: list[Packet], params: dict[str, Any]) -> bytes:
        if params.get("version") != PARAMS_VERSION:
            raise HelixError(f"raw codec: unknown params version {params.get('version')!r}")
        deflated = params.get("deflated", [])
        if not isinstance(deflated, list):  # metadata from DNA is checked, not trusted
            raise HelixError(f"raw codec: damaged parameters (deflated is {deflated!r})")
        out = []
        for p in sorted(packets, key=lambda p: p.index):
            if p.index < len(deflated) and deflated[p.index]:
                try:
                    out.append(zlib.decompress(p.data))
                except zlib.error as exc:
                    raise HelixError(f"raw codec: chunk {p.index} is damaged ({exc})") from exc
            else:
                out.append(p.data)
        return b"".join(out)


@hookimpl
def register_codecs(register):
    register("raw", RawCodec)
