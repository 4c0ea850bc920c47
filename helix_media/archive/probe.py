"""``helix probe``: an ffprobe-style summary of a strand file."""

from __future__ import annotations

from typing import Any

import numpy as np

from helix_media.blocks.metadata_schema import POOL_FORMAT
from helix_media.strandio.strand_files import read_strands

DEFAULT_PRICE_PER_STRAND = 0.014  # USD per oligo of up to ~300 nt, as quoted by the HELIX paper


def probe(
    path: str,
    price_per_strand: float = DEFAULT_PRICE_PER_STRAND,
    reads2: str | None = None,
    archive: int | None = None,
) -> dict[str, Any]:
    """Summary of a strand file. ``reads2``: the R2 FASTQ of paired-end reads whose R1 FASTQ is
    ``path``; mates are merged first, as :func:`.pipeline.read_dna` does ("pairs": how many).
    ``archive``: the archive to summarize where the strands hold several (their identities
    are listed under "archives"; "notes": what else the strands held, and damage)."""
    from helix_media.archive.parse import archive_notes, parse_dna
    from helix_media.archive.verify import loss_tolerance

    pairs = None
    if reads2 is None:
        header, seqs = read_strands(path, salvage=True)
    else:
        from helix_media.readpath.paired import merge_files

        seqs, report = merge_files(path, reads2)
        header, pairs = {}, report.to_json()
    fr, meta, _, stats = parse_dna(header, seqs, path, None, archive)
    lengths = np.array([len(s) for s in seqs])
    full = np.stack([s for s in seqs if len(s) == fr.strand_length])
    report = fr.check(full)
    if meta.get("format") == POOL_FORMAT:  # a pool: its strands and catalogue
        return {
            "file": str(path),
            "strands": len(seqs),
            "strand_length": int(lengths.max()),
            "pool": True,
            "generation": meta["generation"],
            "items": [it["name"] for it in meta["items"]],
            "gc_min": float(report.gc.min()),
            "gc_max": float(report.gc.max()),
            "constraint_violations": int((~report.ok(fr.constraints)).sum()),
            "price_per_strand_usd": price_per_strand,
            "cost_usd": round(len(seqs) * price_per_strand, 4),
        }
    payload_bytes = sum(u[4] for s in meta["streams"].values() for u in s["units"])
    payload_nt = fr.payload_nt
    n = len(seqs)
    n_meta = stats["strands_ok"] - stats["data_strands_found"]  # metadata strands read
    nt_written = (stats["data_strands"] + n_meta) * fr.strand_length
    net = 8 * payload_bytes / max(1, int(lengths.sum()), nt_written)
    primers = len(fr.primer5) + len(fr.primer3)
    return {
        "file": str(path),
        "strands": n,
        "strand_length": int(lengths.max()) if n else 0,
        "codec": meta["codec"],
        "coder": meta["coder"],
        "framer": meta["framer"]["name"],
        "payload_bits_per_nt": meta["payload_bits"] / payload_nt,
        # over the strands the archive was written with, not the ones that happen to be here
        "net_bits_per_nt": net,
        # the same without the primers (what synthesis reads as the strand's own bases)
        "net_bits_per_nt_without_primers": net * fr.strand_length / (fr.strand_length - primers),
        "gc_min": float(report.gc.min()),
        "gc_max": float(report.gc.max()),
        "max_homopolymer": int(report.max_homopolymer.max()),
        "motif_hits": int(report.motif_hits.sum()),
        "constraint_violations": int((~report.ok(fr.constraints)).sum()),
        **_content(meta),
        "payload_bytes": payload_bytes,
        # per stream; a layered codec's layers are streams video, video.1, ... (its strands
        # alone: what sequencing only the first layers costs)
        "streams": {
            k: {
                "strands": v["strands"],
                "units": len(v["units"]),
                "cost_usd": round(v["strands"] * price_per_strand, 4),
            }
            for k, v in meta["streams"].items()
        },
        **_outer_code(meta),
        "loss_tolerance": loss_tolerance(meta),
        "data_strands": stats["data_strands"],
        "data_strands_found": stats["data_strands_found"],
        "foreign_strands": stats.get("foreign_strands", 0),
        "archive_id": meta.get("id"),
        "archives": stats.get("archives", []),
        "notes": [*archive_notes(stats, path)[0], *_damage(stats, path)],
        "strands_ok": stats["strands_ok"],
        "strands_failed": stats["strands_failed"],
        "symbols_corrected": stats["symbols_corrected"],
        "price_per_strand_usd": price_per_strand,
        "cost_usd": round(n * price_per_strand, 4),
        **({"pairs": pairs} if pairs is not None else {}),
    }


def _damage(stats: dict[str, Any], path: str) -> list[str]:
    """Notes on a damaged file: bad packets left out, data strands not found."""
    out = []
    if stats.get("damaged_packets"):
        out.append(
            f"{path} is damaged: {stats['damaged_packets']} bad packets were left out (they "
            "count as lost strands; helix verify says what is lost)"
        )
    missing = stats["data_strands"] - stats["data_strands_found"]
    if missing > 0:
        out.append(
            f"{path}: {missing} of {stats['data_strands']} data strands not found (helix "
            "verify says whether the outer code rebuilds them)"
        )
    return out


def _outer_code(meta: dict[str, Any]) -> dict[str, Any]:
    """The outer code's parity strands and each stream's redundancy (unequal protection shows
    as different values), if the archive has one."""
    if "outer_code" not in meta:
        return {}
    from helix_media.blocks.outer_code import OuterCode

    outer = OuterCode.from_json(meta["outer_code"])
    starts = {first: r for first, _, r in outer.ranges}
    return {
        "parity_strands": outer.parity_strands,
        "redundancy": {
            k: (outer.redundancy or starts.get(v["first_strand"], 0.0)) if v["strands"] else 0.0
            for k, v in meta["streams"].items()
        },
    }


def _content(meta: dict[str, Any]) -> dict[str, Any]:
    """What the strands hold: a video's size and timing, or an archived file's name and size."""
    if "video" not in meta:
        return {"archived_file": meta["file"]["name"], "archived_size": meta["file"]["size"]}
    from helix_media.media.codec import VideoInfo

    video = meta["video"]
    fps = video["fps"][0] / video["fps"][1]
    duration = video["frames"] / fps if fps else None
    stamps = VideoInfo.from_json(video).timestamps()
    if stamps:  # a variable frame rate: first to last frame, and the last one's step
        pts, tb = stamps
        step = video["timing"]["deltas"][-1][0] if video["timing"]["deltas"] else 0
        duration = float((pts[-1] - pts[0] + step) * tb)
    return {
        "codec_settings": _codec_settings(meta),
        "width": video["width"],
        "height": video["height"],
        "frames": video["frames"],
        "fps": fps,
        "duration_s": duration,
        "variable_frame_rate": bool(stamps),
    }


def _codec_settings(meta: dict[str, Any]) -> str | None:
    """The video codec's own line on its settings (None where it has none or is not
    installed: the rest of the summary needs no codec)."""
    from helix_media import plugins
    from helix_media.errors import HelixError

    try:
        return plugins.get_codec(meta["codec"]).describe(meta["codec_params"])
    except (HelixError, KeyError, TypeError, ValueError):
        return None


def format_probe(p: dict[str, Any]) -> str:
    from helix_media.archive.verify import tolerance_text

    if p.get("pool"):
        return (
            f"{p['file']}: a pool of {len(p['items'])} items in {p['strands']} strands x "
            f"{p['strand_length']} nt (catalogue generation {p['generation']}; "
            f"helix pool list for the items, helix probe --item NAME for one)\n"
            f"  constraints: GC {100 * p['gc_min']:.1f}-{100 * p['gc_max']:.1f} %, "
            f"{p['constraint_violations']} strands violate\n"
            f"  cost: ${p['cost_usd']:.2f} at ${p['price_per_strand_usd']} per strand"
        )
    if "archived_file" in p:
        content = f"  file: {p['archived_file']}, {p['archived_size']} bytes"
    else:
        content = (
            f"  video: {p['width']}x{p['height']}, {p['frames']} frames at {p['fps']:.3f} fps"
            f" ({p['duration_s']:.2f} s)"
        )
        if p["codec_settings"]:
            content = f"  codec: {p['codec_settings']}\n{content}"
    others = [str(a["archive_id"]) for a in p.get("archives", [])]
    others = [a for a in others if a != str(p.get("archive_id"))]
    ids = f"; also here: {', '.join(others)} (choose with --archive ID)" if others else ""
    lines = [
        f"{p['file']}: {p['strands']} strands x {p['strand_length']} nt "
        f"({p['framer']} framer, {p['coder']} coder, {p['codec']} codec)",
        f"  archive: {p.get('archive_id')}{ids}",
        f"{content}, {p['payload_bytes']} bytes of packets",
        "  streams: "
        + ", ".join(
            f"{k} {v['strands']} strands / {v['units']} units (${v['cost_usd']:.2f})"
            for k, v in p["streams"].items()
        ),
        *(
            [
                f"  outer code: {p['parity_strands']} parity strands (redundancy "
                + ", ".join(f"{k} {r:g}" for k, r in p["redundancy"].items())
                + ")"
            ]
            if "parity_strands" in p
            else []
        ),
        f"  {tolerance_text(p['loss_tolerance'])}",
        f"  density: {p['payload_bits_per_nt']:.3f} bits/nt of payload, "
        f"{p['net_bits_per_nt']:.3f} bits/nt net (whole strands, metadata, outer code and "
        f"padding; {p['net_bits_per_nt_without_primers']:.3f} without primers)",
        f"  constraints: GC {100 * p['gc_min']:.1f}-{100 * p['gc_max']:.1f} %, "
        f"max homopolymer {p['max_homopolymer']}, motif hits {p['motif_hits']}, "
        f"{p['constraint_violations']} strands violate",
        f"  decoding: {p['strands_ok']} strands ok, {p['strands_failed']} failed, "
        f"{p['symbols_corrected']} symbols corrected; data strands: "
        f"{p['data_strands_found']} of {p['data_strands']} found"
        + (f"; {p['foreign_strands']} strands of other archives" if p["foreign_strands"] else ""),
        f"  cost: ${p['cost_usd']:.2f} at ${p['price_per_strand_usd']} per strand",
    ]
    pairs = p.get("pairs")
    if pairs:  # before decoding: merging came first
        lines.insert(
            -2,
            f"  pairs: {pairs['pairs']} read pairs, {pairs['merged']} merged, "
            f"{pairs['unmerged']} unmerged (R1 and R2 kept as single reads)",
        )
    return "\n".join(lines)
