"""Reading and writing strand files by suffix: ``.dnapkt``, FASTA (``.fa``/``.fasta``, ``.gz``),
FASTQ reads (``.fq``/``.fastq``), and ``.csv`` order sheets (write only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from helix_media.errors import HelixError

FASTQ_SUFFIXES = (".fq", ".fastq")
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", *FASTQ_SUFFIXES)
STRAND_SUFFIXES = (".dnapkt", *FASTA_SUFFIXES)


def _suffix(path: str | Path) -> str:
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def is_strand_file(path: str | Path) -> bool:
    return _suffix(path) in STRAND_SUFFIXES


def is_sequence_file(path: str | Path) -> bool:
    """FASTA or FASTQ (reads or exported strands), by suffix."""
    return _suffix(path) in FASTA_SUFFIXES


def is_fastq_file(path: str | Path) -> bool:
    return _suffix(path) in FASTQ_SUFFIXES


def write_strands(path: str | Path, strands: np.ndarray, header: dict[str, Any]) -> None:
    """Write strands to ``path`` in the format its suffix names (atomically)."""
    suffix = _suffix(path)
    if suffix == ".dnapkt":
        from helix_media.strandio.container import DnapktWriter

        with DnapktWriter(path, header) as writer:
            writer.write(strands)
    elif suffix in (".fa", ".fasta", ".fna"):
        from helix_media.strandio.fasta import write_fasta

        write_fasta(path, strands, record_names(header, len(strands)))
    elif suffix == ".csv":
        from helix_media.strandio.fasta import write_csv

        write_csv(path, strands, record_names(header, len(strands)))
    else:
        raise HelixError(f"cannot write strands to {path}: use .dnapkt, .fasta, .fa or .csv")


def record_names(header: dict[str, Any], n: int) -> list[str] | None:
    """FASTA / order-sheet names that say which framer made the strands (``fountain_000012``);
    None (the default ``helix_…`` names) when the header does not say."""
    framer = header.get("framer")
    return [f"{framer}_{i:06d}" for i in range(n)] if framer else None


#: what a salvaged ``.dnapkt`` header says of its damage (and nothing else, where the header
#: itself was damaged)
DAMAGE_KEYS = ("damaged_header", "damaged_packets")


def read_strands(
    path: str | Path, allow_n: bool = False, salvage: bool = False
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """(container header or {}, list of per-sequence base arrays) from any strand file.
    With ``allow_n``, reads may contain N (coded 4). ``salvage`` (decoders): a ``.dnapkt``'s
    damaged packets are left out, counted in the header's ``"damaged_packets"``; a ``.dnapkt``
    whose header is damaged gives its packets' strands with a header of nothing but the damage
    (:data:`DAMAGE_KEYS`), parsed as FASTA is (the framer and layout it named are detected
    from the strands instead)."""
    if not Path(path).exists():
        raise HelixError(f"{path}: no such file")
    suffix = _suffix(path)
    if suffix == ".dnapkt":
        from helix_media.strandio.container_reader import read_dnapkt

        header, strands = read_dnapkt(path, salvage=salvage)
        if "damaged_header" in header:  # the damage only: parsed as FASTA is, then noted
            header = {k: header[k] for k in DAMAGE_KEYS if k in header}
        return header, list(strands)
    if suffix in FASTA_SUFFIXES:
        from helix_media.strandio.fasta import read_reads

        _, seqs = read_reads(path, allow_n=allow_n)
        return {}, seqs
    raise HelixError(f"{path}: not a strand file (.dnapkt, .fasta, .fa, .fastq, optionally .gz)")
