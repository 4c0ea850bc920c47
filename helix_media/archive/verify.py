"""``helix verify``: the health of an archive, decoded down to its packets, nothing written.

What a curator needs before trusting (or re-sequencing) an archive: how many strands were read
and corrected, how many the outer code rebuilt, which units are lost, and the *margin*: how
many more strands each outer-code segment could lose before data is lost.
"""

from __future__ import annotations

from typing import Any

from helix_media.archive.decode import file_bytes
from helix_media.archive.parse import expected_data_strands, read_dna, recover_lost
from helix_media.archive.results import data_strands_missing
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import ARCHIVE_ID, POOL_FORMAT
from helix_media.blocks.outer_code import OuterCode
from helix_media.errors import HelixError


def verify(path: str, *, framer: str | None = None, reads2: str | None = None) -> dict[str, Any]:
    """Decode ``path`` (``.dnapkt``, FASTA, FASTQ reads) to packets and report; ``complete``
    says whether everything stored came back."""
    _, meta, blocks, stats = read_dna(path, framer, reads2)
    if meta.get("format") == POOL_FORMAT:
        raise HelixError(f"{path}: a pool; verify its items with helix pool get")
    segments = _margins(meta, blocks)
    recover_lost(meta, blocks, stats)
    block_bits = int(meta["payload_bits"])
    lost_units: dict[str, int] = {}
    damaged_units: dict[str, int] = {}
    for name, params in meta["streams"].items():
        stream = layout.StreamLayout(**params)
        packets, lost = layout.unpack_stream(stream, name, blocks, block_bits)
        lost_units[name] = len(lost)
        damaged_units[name] = sum(bool(p.lost_slices) for p in packets)
    file_ok = None
    if meta.get("kind") == "file":
        try:
            file_bytes(meta, blocks, path)
            file_ok = True
        except HelixError:
            file_ok = False
    missing = data_strands_missing(stats)
    complete = not (
        missing or any(lost_units.values()) or any(damaged_units.values()) or file_ok is False
    )
    report = {
        "file": str(path),
        "complete": complete,
        "archive_id": meta.get(ARCHIVE_ID),
        "strands_read": stats["strands_read"],
        "strands_ok": stats["strands_ok"],
        "symbols_corrected": stats["symbols_corrected"],
        "foreign_strands": stats.get("foreign_strands", 0),
        "data_strands": stats["data_strands"],
        "data_strands_found": stats["data_strands_found"],
        "strands_rebuilt": int(stats.get("strands_recovered", 0)),
        "data_strands_missing": missing,
        "lost_units": lost_units,
        "damaged_units": damaged_units,
        "segments": segments,
        "margin": min((s["margin"] for s in segments), default=0),
    }
    if file_ok is not None:
        report["file_sha256_ok"] = file_ok
    if "reads" in stats:
        report["reads"] = stats["reads"]
    if "damaged_packets" in stats:
        report["damaged_packets"] = stats["damaged_packets"]
    return report


def _margins(meta: dict[str, Any], blocks: dict[int, Any]) -> list[dict[str, int]]:
    """Per outer-code segment: strands present and how many more it could lose (negative: data
    already lost). Without an outer code, one segment of margin 0 at best: any loss is data;
    so are the strands an outer code of ranges leaves out (one segment of their own)."""
    offset = int(meta.get("address_offset", 0))
    if "outer_code" not in meta:
        n = expected_data_strands(meta)
        present = sum(offset <= a < offset + n for a in blocks)
        return [{"data": n, "parity": 0, "present": present, "margin": present - n}]
    out = []
    outer = OuterCode.from_json(meta["outer_code"])
    if bare := outer.unprotected():
        present = sum(offset + i in blocks for i in bare)
        out.append(
            {"data": len(bare), "parity": 0, "present": present, "margin": present - len(bare)}
        )
    for seg in outer.segments():
        rows = [*range(seg.data_start, seg.data_start + seg.data_count)]
        rows += range(seg.parity_start, seg.parity_start + seg.parity_count)
        present = sum(offset + r in blocks for r in rows)
        out.append(
            {
                "data": seg.data_count,
                "parity": seg.parity_count,
                "present": present,
                "margin": present - seg.data_count,
            }
        )
    return out


def format_verify(r: dict[str, Any]) -> str:
    state = "complete" if r["complete"] else "DATA LOST"
    lines = [
        f"{r['file']}: {state} (archive {r['archive_id']})",
        f"  strands: {r['strands_read']} read, {r['strands_ok']} ok, "
        f"{r['symbols_corrected']} symbols corrected"
        + (f", {r['foreign_strands']} of other archives" if r["foreign_strands"] else ""),
        f"  data strands: {r['data_strands_found']} of {r['data_strands']} found, "
        f"{r['strands_rebuilt']} rebuilt by the outer code, {r['data_strands_missing']} missing",
        "  units lost: "
        + ", ".join(f"{k} {v}" for k, v in r["lost_units"].items())
        + "; damaged: "
        + ", ".join(f"{k} {v}" for k, v in r["damaged_units"].items()),
        f"  margin: {_margin_text(r['margin'])} in the weakest of "
        f"{len(r['segments'])} outer-code segment(s)",
    ]
    if "file_sha256_ok" in r:
        lines.append(f"  file SHA-256: {'ok' if r['file_sha256_ok'] else 'MISMATCH'}")
    return "\n".join(lines)


def _margin_text(margin: int) -> str:
    if margin >= 0:
        return f"{margin} more strands could be lost"
    return f"{-margin} strands short of what decoding needs"
