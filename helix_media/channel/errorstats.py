"""What reads' errors look like: align each read to its reference (edlib) and count.

Used to fit a channel profile to real reads (``scripts/fit_nanopore_profile.py``), to compare
simulated reads with real ones (``helix bench channel-fit``) and by the tests. Counts are per
reference base: a substitution or deletion sits at its reference position; an insertion sits
in the gap before reference position ``i`` (``i`` = L: after the last base), where edlib puts
it (at the end of a homopolymer run that it extends). A gap's homopolymer length is the longer
of its two neighbours' runs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from helix_media.channel.sequencing import Channel, simulate
from helix_media.dna.nucleotides import from_strings, reverse_complement, to_string

HP_CLASSES = 4  # homopolymer run length 1, 2, 3, 4+
INS_LENGTHS = 4  # insertion length 1, 2, 3, 4+
EDIT_HIST = 16  # edit distance 0, 1, ..., 14, 15+
OPS = ("sub", "ins", "del")
_CIGAR = re.compile(r"(\d+)([=XID])")
_BASE = {"A": 0, "C": 1, "G": 2, "T": 3}


def run_lengths(seq: np.ndarray) -> np.ndarray:
    """(..., L) bases -> the length of the homopolymer run each base is in, same shape."""
    seq = np.asarray(seq)
    length = seq.shape[-1]
    new = np.ones(seq.shape, bool)
    new[..., 1:] = seq[..., 1:] != seq[..., :-1]
    idx = np.broadcast_to(np.arange(length, dtype=np.int32), seq.shape)
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=-1)
    last = np.ones(seq.shape, bool)
    last[..., :-1] = new[..., 1:]
    end = np.minimum.accumulate(np.where(last, idx, length)[..., ::-1], axis=-1)[..., ::-1]
    return end - start + 1


def gap_runs(runs: np.ndarray) -> np.ndarray:
    """Run lengths (..., L) -> each gap's homopolymer length (..., L + 1): the gap before base
    ``i`` gets the longer run of bases ``i - 1`` and ``i``."""
    pad = np.zeros(runs.shape[:-1] + (1,), runs.dtype)
    return np.maximum(np.concatenate([pad, runs], -1), np.concatenate([runs, pad], -1))


@dataclass
class ErrorStats:
    """Error counts of reads aligned to their references (see the module docstring)."""

    bins: int = 10
    reads: int = 0
    ref_bases: int = 0
    read_bases: int = 0
    ops: np.ndarray = field(default_factory=lambda: np.zeros(3, np.int64))  # sub, ins, del bases
    ins_events: int = 0
    edit_hist: np.ndarray = field(default_factory=lambda: np.zeros(EDIT_HIST, np.int64))
    edit_sum: int = 0
    edit_sq: int = 0  # sum of squared edit distances
    pos_bases: np.ndarray | None = None  # (bins,) reference bases per position bin
    pos_ops: np.ndarray | None = None  # (3, bins) sub/ins/del bases per bin
    hp_bases: np.ndarray | None = None  # (3, HP_CLASSES): bases (sub, del) or gaps (ins)
    hp_ops: np.ndarray | None = None  # (3, HP_CLASSES)
    ins_len: np.ndarray = field(default_factory=lambda: np.zeros(INS_LENGTHS, np.int64))
    ins_copy: int = 0  # inserted bases equal to the reference base before the gap
    sub_matrix: np.ndarray = field(default_factory=lambda: np.zeros((4, 4), np.int64))

    def __post_init__(self) -> None:
        if self.pos_bases is None:
            self.pos_bases = np.zeros(self.bins, np.int64)
            self.pos_ops = np.zeros((3, self.bins), np.int64)
            self.hp_bases = np.zeros((3, HP_CLASSES), np.int64)
            self.hp_ops = np.zeros((3, HP_CLASSES), np.int64)

    # -- derived figures --------------------------------------------------------------------
    def rates(self) -> np.ndarray:
        """Substituted, inserted, deleted bases per reference base."""
        return self.ops / max(1, self.ref_bases)

    def mean_edit(self) -> float:
        return self.edit_sum / max(1, self.reads)

    def edit_var(self) -> float:
        return self.edit_sq / max(1, self.reads) - self.mean_edit() ** 2

    def edit_share(self) -> np.ndarray:
        return self.edit_hist / max(1, self.reads)

    def position_rates(self) -> np.ndarray:
        """(3, bins) per-base sub/ins/del rates along the reference."""
        return self.pos_ops / np.maximum(1, self.pos_bases)

    def homopolymer_rates(self) -> np.ndarray:
        """(3, HP_CLASSES) per-base sub/ins/del rates by homopolymer run length 1, 2, 3, 4+."""
        return self.hp_ops / np.maximum(1, self.hp_bases)

    def ins_length_share(self) -> np.ndarray:
        return self.ins_len / max(1, self.ins_len.sum())

    def ins_copy_share(self) -> float:
        return self.ins_copy / max(1, self.ops[1])

    def sub_share(self) -> np.ndarray:
        """Row = reference base ACGT, column = read base: share of that base's substitutions."""
        return self.sub_matrix / np.maximum(1, self.sub_matrix.sum(1, keepdims=True))

    # -- counting ---------------------------------------------------------------------------
    def add(self, read: str, ref: str) -> None:
        """Align one read to its reference (same orientation) and count its errors."""
        import edlib

        a = edlib.align(read, ref, task="path")
        length = len(ref)
        hp, gap_hp, posbin = _context(ref, self.bins)
        self.reads += 1
        self.ref_bases += length
        self.read_bases += len(read)
        ed = a["editDistance"]
        self.edit_sum += ed
        self.edit_sq += ed * ed
        self.edit_hist[min(ed, EDIT_HIST - 1)] += 1
        np.add.at(self.pos_bases, posbin, 1)
        np.add.at(self.hp_bases[0], hp, 1)
        np.add.at(self.hp_bases[2], hp, 1)
        np.add.at(self.hp_bases[1], gap_hp, 1)
        r = q = 0
        for n_text, op in _CIGAR.findall(a["cigar"]):
            n = int(n_text)
            if op == "=":
                r += n
                q += n
            elif op == "X":
                for j in range(n):
                    self._at(0, r + j, posbin, hp)
                    self.sub_matrix[_BASE[ref[r + j]], _BASE[read[q + j]]] += 1
                r += n
                q += n
            elif op == "D":
                for j in range(n):
                    self._at(2, r + j, posbin, hp)
                r += n
            else:  # insertion of n read bases in the gap before reference position r
                self.ins_events += 1
                self.ins_len[min(n, INS_LENGTHS) - 1] += 1
                self.ops[1] += n
                self.pos_ops[1, posbin[min(r, length - 1)]] += n
                self.hp_ops[1, gap_hp[r]] += n
                if r > 0:
                    self.ins_copy += read[q : q + n].count(ref[r - 1])
                q += n

    def _at(self, k: int, pos: int, posbin: np.ndarray, hp: np.ndarray) -> None:
        self.ops[k] += 1
        self.pos_ops[k, posbin[pos]] += 1
        self.hp_ops[k, hp[pos]] += 1


@lru_cache(maxsize=4096)
def _context(ref: str, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A reference's homopolymer class per base and per gap, and position bin per base."""
    runs = run_lengths(np.frombuffer(ref.encode(), np.uint8))
    hp = np.minimum(runs, HP_CLASSES) - 1
    return hp, np.minimum(gap_runs(runs), HP_CLASSES) - 1, np.arange(len(ref)) * bins // len(ref)


def measure(pairs: Iterable[tuple[str, str]], bins: int = 10) -> ErrorStats:
    """(read, reference) string pairs, same orientation -> their :class:`ErrorStats`."""
    stats = ErrorStats(bins=bins)
    for read, ref in pairs:
        stats.add(read, ref)
    return stats


# -- real reads (Microsoft's Clustered Nanopore Reads) and simulated reads like them ----------
def nanopore_data() -> Path | None:
    """The folder of the real nanopore reads (``$HELIX_NANOPORE_DATA``, else ``shared/data/
    nanopore-cnr`` beside or inside the checkout), or None where it is absent."""
    root = Path(__file__).resolve().parents[2]
    env = os.environ.get("HELIX_NANOPORE_DATA")
    candidates = [Path(env)] if env else []
    candidates += [root.parent / "shared/data/nanopore-cnr", root / "shared/data/nanopore-cnr"]
    return next((c for c in candidates if (c / "valid.json").is_file()), None)


def load_clusters(path: str | Path) -> list[tuple[str, list[str]]]:
    """A CNR JSON file (``{"<id>": {"ref": ..., "syn": [reads]}}``) -> (reference, reads) pairs
    in file order."""
    with open(path) as f:
        data = json.load(f)
    return [(c["ref"], list(c["syn"])) for c in data.values()]


def reads_like(
    refs: list[str],
    counts: list[int],
    channel: Channel,
    lengths: tuple[int, int] | None = None,
) -> list[list[str]]:
    """Simulate exactly ``counts[i]`` reads of reference ``i`` through ``channel`` and orient
    them as the reference (the real reads are given so). ``lengths``: keep only reads of
    lo..hi nt, as the real set was filtered, simulating more until each reference has its
    count (or five rounds have passed)."""
    strands = from_strings(refs)
    out: list[list[str]] = [[] for _ in refs]
    need = np.asarray(counts, np.int64)
    for round_ in range(5):
        if not need.any():
            break
        extra = 1.0 if lengths is None else 1.5
        ask = np.where(need > 0, np.ceil(need * extra).astype(np.int64) + (lengths is not None), 0)
        reads = simulate(strands, replace(channel, seed=channel.seed + round_), counts=ask)
        for i, read in enumerate(reads):
            src = int(reads.source[i])
            if src < 0 or len(out[src]) >= counts[src]:
                continue
            if lengths is not None and not lengths[0] <= len(read) <= lengths[1]:
                continue
            out[src].append(to_string(reverse_complement(read) if reads.reverse[i] else read))
        need = np.asarray(counts) - np.array([len(o) for o in out])
    return out
