"""Damaged copies of archives, as a sequencing run that missed some strands would give."""

from __future__ import annotations

import numpy as np

from helix_media.archive.decode import decode_media
from helix_media.archive.parse import expected_data_strands
from helix_media.strandio.strand_files import read_strands, write_strands


def without_streams(out, dst, names, count: int | None = None, skip: int = 0) -> None:
    """A copy of archive ``out`` without the data strands of streams ``names`` (or only
    ``count`` of them, after the first ``skip``)."""
    header, seqs = read_strands(str(out))
    meta = decode_media(str(out)).result.metadata
    streams = meta["streams"]
    gone = sorted(
        i
        for name in names
        for i in range(
            streams[name]["first_strand"], streams[name]["first_strand"] + streams[name]["strands"]
        )
    )
    gone = set(gone[skip : None if count is None else skip + count])
    # a .dnapkt holds the metadata strands, then data strand 0, 1, ... (outer parity last)
    n_meta = len(seqs) - expected_data_strands(meta)
    kept = [s for i, s in enumerate(seqs) if i < n_meta or i - n_meta not in gone]
    assert len(kept) == len(seqs) - len(gone) and gone
    write_strands(str(dst), np.stack(kept), header)
