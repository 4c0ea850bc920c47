"""``helix verify``: the health of an archive, decoded down to its packets, nothing written.

What a curator needs before trusting (or re-sequencing) an archive: how many strands were read
and corrected, how many the outer code rebuilt, which units are lost, the *loss tolerance*
(the most strands each outer-code segment may lose and still be repaired: its parity strands)
and the *margin*: how many more strands each segment could lose before data is lost.
"""

from __future__ import annotations

from typing import Any

from helix_media.archive.decode import file_bytes
from helix_media.archive.parse import archive_notes, expected_data_strands, read_dna, recover_lost
from helix_media.archive.results import data_strands_missing
from helix_media.blocks import layout
from helix_media.blocks.metadata_schema import ARCHIVE_ID, POOL_FORMAT
from helix_media.blocks.outer_code import OuterCode
from helix_media.errors import HelixError


def verify(
    path: str,
    *,
    framer: str | None = None,
    reads2: str | None = None,
    archive: int | None = None,
) -> dict[str, Any]:
    """Decode ``path`` (``.dnapkt``, FASTA, FASTQ reads) to packets and report; ``complete``
    says whether everything stored came back. ``archive``: see :func:`.parse.read_dna`; where
    the strands hold several archives and none is named, ``complete`` is False while any of
    them is incomplete (the one wanted may be that one)."""
    _, meta, blocks, stats = read_dna(path, framer, reads2, archive)
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
    notes, other_lost = archive_notes(stats, path)
    complete = not (
        missing
        or any(lost_units.values())
        or any(damaged_units.values())
        or file_ok is False
        or other_lost
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
        "strands_found_wrong": int(stats.get("strands_wrong", 0)),
        "data_strands_missing": missing,
        "lost_units": lost_units,
        "damaged_units": damaged_units,
        "segments": segments,
        "margin": min((s["margin"] for s in segments), default=0),
        "loss_tolerance": loss_tolerance(meta),
        "archives": stats.get("archives", []),
        "notes": notes,
    }
    if other_lost:
        report["other_archive_lost"] = other_lost
    if file_ok is not None:
        report["file_sha256_ok"] = file_ok
    if "reads" in stats:
        report["reads"] = stats["reads"]
    for key in ("parity_strands", "parity_strands_found", "damaged_packets", "damaged_header"):
        if key in stats:
            report[key] = stats[key]
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
        f"  data strands: {r['data_strands_found'] - r.get('parity_strands_found', 0)} of "
        f"{r['data_strands'] - r.get('parity_strands', 0)} found, "
        f"{r['strands_rebuilt']} rebuilt by the outer code, {r['data_strands_missing']} missing"
        + (
            f"; parity strands: {r['parity_strands_found']} of {r['parity_strands']} found"
            if "parity_strands" in r
            else ""
        )
        + (
            f" ({r['strands_found_wrong']} read wrong, found by the parity checks)"
            if r["strands_found_wrong"]
            else ""
        ),
        "  units lost: "
        + ", ".join(f"{k} {v}" for k, v in r["lost_units"].items())
        + "; damaged: "
        + ", ".join(f"{k} {v}" for k, v in r["damaged_units"].items()),
        f"  {tolerance_text(r['loss_tolerance'])}",
        f"  margin: {_margin_text(r['margin'])} in the weakest of "
        f"{len(r['segments'])} outer-code segment(s)",
    ]
    if "file_sha256_ok" in r:
        lines.append(f"  file SHA-256: {'ok' if r['file_sha256_ok'] else 'MISMATCH'}")
    lines += [f"  note: {n}" for n in r.get("notes", [])]
    if r.get("damaged_header"):
        lines.append(f"  note: {r['damaged_header']}")
    if r.get("damaged_packets"):
        lines.append(f"  damaged packets: {r['damaged_packets']} left out (counted as lost)")
    if r.get("other_archive_lost"):
        lines.append(f"  data lost: {r['other_archive_lost']}")
    return "\n".join(lines)


def _margin_text(margin: int) -> str:
    if margin >= 0:
        return f"{margin} more strands could be lost"
    return f"{-margin} strands short of what decoding needs"


# -- how much loss an archive can take -----------------------------------------------------------
def loss_tolerance(meta: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per stream: its outer-code segments and the fewest parity strands among them, i.e. the
    most strands (data or parity) any of its segments may lose and still be repaired; 0 for a
    stream without an outer code (any lost strand loses data)."""
    outer = OuterCode.from_json(meta["outer_code"]) if "outer_code" in meta else None
    segments = outer.segments() if outer is not None else []
    out = {}
    for name, st in meta["streams"].items():
        first, count = int(st["first_strand"]), int(st["strands"])
        mine = [
            seg
            for seg in segments
            if seg.data_start < first + count and first < seg.data_start + seg.data_count
        ]
        covered = sum(
            min(first + count, g.data_start + g.data_count) - max(first, g.data_start) for g in mine
        )
        protected = bool(mine) and covered == count and all(g.parity_count for g in mine)
        out[name] = {
            "segments": len(mine) if protected else 0,
            "parity_per_segment": min(g.parity_count for g in mine) if protected else 0,
            "data_strands": count,
        }
    return out


def tolerance_text(tolerance: dict[str, dict[str, int]]) -> str:
    """One line: how many lost strands each stream's outer-code segments repair."""
    items = [(k, v) for k, v in tolerance.items() if v["data_strands"]]
    values = {(v["segments"], v["parity_per_segment"]) for _, v in items}
    if len(values) == 1 and items:  # every stream alike (the plain code, or none at all)
        segments, parity = next(iter(values))
        if not parity:
            return "loss tolerance: none (no outer code): any lost data strand loses data"
        return (
            f"loss tolerance: up to {parity} lost strands per outer-code segment are rebuilt "
            f"({segments} segment{'s' if segments != 1 else ''})"
        )
    parts = [
        f"{k} {v['parity_per_segment']} per segment ({v['segments']})"
        if v["parity_per_segment"]
        else f"{k} none (no outer code)"
        for k, v in items
    ]
    return "loss tolerance (lost strands rebuilt per outer-code segment): " + ", ".join(parts)


def unprotected_warning(meta: dict[str, Any]) -> str | None:
    """A one-line warning for an archive with streams outside any outer code, saying what
    one lost strand costs there; None when every stream is protected."""
    bare = [k for k, v in loss_tolerance(meta).items() if v["data_strands"] and not v["segments"]]
    if not bare:
        return None
    costs = [_strand_cost(meta, k) for k in bare]
    if len(bare) == sum(1 for v in meta["streams"].values() if v["strands"]):
        return "no outer code (--redundancy 0): one lost strand loses " + "; ".join(costs)
    return f"no outer code for {', '.join(bare)}: one lost strand there loses " + "; ".join(costs)


def _strand_cost(meta: dict[str, Any], name: str) -> str:
    """What one lost strand of stream ``name`` costs, in its own terms."""
    st = meta["streams"][name]
    units = layout.expand_units(st["units"], st.get("slice_bytes", 0))
    biggest = max((u[4] for u in units), default=0)
    longest = max((u[2] for u in units), default=0)
    if meta.get("kind") == "file":
        size = meta["file"]["size"]
        return f"the whole file ({size} bytes: a file comes back whole or not at all)"
    if name == "audio":
        rate = int((st.get("params") or {}).get("sample_rate", 48_000))
        return f"audio: up to {longest / rate:.1f} s of sound ({biggest} bytes)"
    if st.get("slice_bytes"):
        return f"{name}: one slice of a GOP's frames (concealed)"
    fps = meta.get("video", {}).get("fps", [0, 1])
    seconds = f", {longest * fps[1] / fps[0]:.2f} s" if fps[0] else ""
    return f"{name}: its whole GOP (up to {longest} frames{seconds}, {biggest} bytes)"
