"""Strand estimates -> one block per address: a failed estimate's alternatives tried (list
decoding), and among the strands that decode to one address the block most of them give."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from helix_media.distributed import parse_strands
from helix_media.readpath import alternatives


def with_alternatives(fr, parsed, alts, coder, key: dict[str, int]):
    """``parsed`` with each failed estimate replaced by the first of its alternatives that
    parses (:mod:`helix_media.readpath.alternatives`), with a parity symbol kept for
    detection as for every estimate from reads. (A framer that parses strands into other
    rows, such as a fountain's blocks, gets none.)"""
    if alts is None or alts[0] is None or not len(alts[1]) or not fr.strand_by_strand:
        return parsed
    strands, of = alts
    need = np.flatnonzero(~parsed.ok[of])
    if not len(need):
        return parsed
    tried = parse_strands(
        fr, strands[need], coder, None, np.zeros(strands[need].shape, dtype=bool), key
    )
    return alternatives.adopt(parsed, tried, of[need])


def select_blocks(
    addresses: np.ndarray, blocks: np.ndarray, corrected: np.ndarray
) -> dict[int, np.ndarray]:
    """One block per address among the strands that decoded to it: the most common, and
    among equally common ones the one RS had to correct least (a strand that needed many
    corrections is the likeliest to be a miscorrected stranger)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, a in enumerate(addresses.tolist()):
        groups[a].append(i)
    out = {}
    for a, rows in groups.items():
        if len(rows) == 1:
            out[a] = blocks[rows[0]]
            continue
        votes = Counter(blocks[r].tobytes() for r in rows)
        fewest = {}
        for r in rows:
            key = blocks[r].tobytes()
            fewest[key] = min(fewest.get(key, 99), int(corrected[r]))
        best = max(votes, key=lambda k: (votes[k], -fewest[k]))
        out[a] = np.frombuffer(best, dtype=np.uint8)
    return out
