"""Trace reconstruction on real nanopore reads: exact strands, edit distance, reads/s.

    helix bench traces [PATH.json] [--n 2,4,6,10] [--seed 7] [--limit K] [--method NAME]
    helix bench traces --synthetic 240 [--n 10] [--limit K]

PATH.json holds clusters of reads, ``{"<id>": {"ref": "<strand>", "syn": [reads...]}}``: the
Microsoft Clustered Nanopore Reads split of ``shared/data/nanopore-cnr`` (default: its
``valid.json``; ``$HELIX_NANOPORE_DATA`` names another folder). Tune on valid.json, report
on test.json. For each N, every cluster with at least N reads gives N reads drawn without
replacement by ``numpy.random.default_rng([seed, id])`` (one generator per cluster, so a
cluster's draw does not depend on --limit or on the other clusters); "all" gives every read.
Each method gets the same reads and the strand's length.

Methods: ``pair-hmm`` (:func:`helix_media.readpath.reconstruct.reconstruct`) and
``abpoa-vote``, the read path's consensus before it (``ReadProcessor._align``: abPOA over
the first 15 reads, then a vote per non-gap column; a result of the wrong length is a
failure, its edit distance is still counted). Exact = the whole strand right; edit = mean
edit distance to the reference; reads/s = reads over the CPU time of the reconstructions
alone, one thread. The published rates are those quoted in the data's README (other splits
of the same data: compare within a few percent).

``--synthetic L``: instead of a file, 200 random strands of L nt (or --limit), reads drawn
from the fitted nanopore channel itself (seeded): a speed check at the read path's strand
length (the real strands are 110 nt).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from helix_media.readpath import trace_channel as tc
from helix_media.readpath.reconstruct import encode, reconstruct

# exact-reconstruction rates (%) quoted in shared/data/nanopore-cnr/README.md
PUBLISHED = {
    2: "TReconLM 10.9  DNAformer 3.0  ITR 4.9  MUSCLE 0.8",
    4: "TReconLM 76.8  DNAformer 65.9  ITR 57.8  MUSCLE 26.1",
    6: "TReconLM 91.2  DNAformer 88.3  ITR 78.1  MUSCLE 46.8",
    10: "TReconLM 98.6  DNAformer 95.7  ITR 89.0  MUSCLE 72.1",
    0: "CPL 94.9  BBS 94.8  ITR 87.6  MUSCLE 84.7",
}
ABPOA_READS = 15  # reads.py's MSA_READS: reads given to abPOA per cluster
_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


def default_path() -> Path:
    """valid.json of the nanopore reads: ``$HELIX_NANOPORE_DATA`` or ``shared/data/
    nanopore-cnr`` beside (or inside) the checkout."""
    env = os.environ.get("HELIX_NANOPORE_DATA")
    root = Path(__file__).resolve().parents[2]
    folders = [Path(env)] if env else []
    folders += [root.parent / "shared/data/nanopore-cnr", root / "shared/data/nanopore-cnr"]
    return next((f / "valid.json" for f in folders if (f / "valid.json").is_file()), folders[-1])


def abpoa_vote(reads: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, bool]:
    """The read path's previous consensus: abPOA multiple alignment of the first
    ``ABPOA_READS`` reads, majority per column where most reads have a base. -> (consensus,
    whether it has the strand's length; the read path drops it otherwise)."""
    import pyabpoa

    texts = [_LETTERS[np.minimum(r, 4)].tobytes().decode() for r in reads[:ABPOA_READS]]
    if len(texts) == 1:
        return np.minimum(reads[0], 3), len(reads[0]) == length
    result = pyabpoa.msa_aligner().msa(texts, out_cons=False, out_msa=True)
    rows = np.frombuffer("".join(result.msa_seq[: len(texts)]).encode(), dtype=np.uint8)
    codes = np.full(256, 5, dtype=np.uint8)  # 5 = gap
    codes[_LETTERS] = np.arange(5)
    msa = codes[rows.reshape(len(texts), -1)]
    counts = np.stack([(msa == b).sum(axis=0) for b in range(6)], axis=1)
    keep = counts[:, :4].sum(axis=1) > counts[:, 5]
    consensus = counts[keep, :4].argmax(axis=1).astype(np.uint8)
    return consensus, len(consensus) == length


def _pair_hmm(reads: Sequence[np.ndarray], length: int) -> tuple[np.ndarray, bool]:
    return reconstruct(reads, length).bases, True


METHODS: dict[str, Callable[[Sequence[np.ndarray], int], tuple[np.ndarray, bool]]] = {
    "pair-hmm": _pair_hmm,
    "abpoa-vote": abpoa_vote,
}


def load(path: Path) -> list[tuple[int, np.ndarray, list[np.ndarray]]]:
    """(cluster id, reference, reads) in file order, as codes."""
    data = json.loads(Path(path).read_text())
    return [(int(k), encode(v["ref"]), [encode(r) for r in v["syn"]]) for k, v in data.items()]


def synthetic(length: int, clusters: int, reads: int, seed: int) -> list:
    """Random strands and reads drawn from the fitted nanopore channel (per gap an insertion
    run, per base a deletion or a read base, by the same classes as the polisher's)."""
    rng = np.random.default_rng(seed)
    dele, iq, em = tc.fitted().tables
    ins = iq[:, :4] / np.maximum(iq[:, 4:], 1e-12)
    reads_as = em[:, :4] / em[:, :4].sum(axis=1, keepdims=True)
    out = []
    for c in range(clusters):
        t = rng.integers(0, 4, length).astype(np.uint8)
        dc, ic, sc = tc.contexts(t)[:3]
        rs = []
        for _ in range(reads):
            r = []
            for i in range(length + 1):
                while rng.random() < iq[ic[i], 4]:
                    r.append(rng.choice(4, p=ins[ic[i]]))
                if i == length:
                    break
                if rng.random() >= dele[dc[i]]:
                    r.append(rng.choice(4, p=reads_as[sc[i]]))
            rs.append(np.array(r, dtype=np.uint8))
        out.append((c, t, rs))
    return out


def _draw(cid: int, reads: list[np.ndarray], n: int, seed: int) -> list[np.ndarray]:
    if n == 0:
        return reads
    rng = np.random.default_rng([seed, cid])
    return [reads[i] for i in np.sort(rng.choice(len(reads), n, replace=False))]


def _edit_distance(a: np.ndarray, b: np.ndarray) -> int:
    import edlib

    if not len(a) or not len(b):
        return max(len(a), len(b))
    return int(edlib.align(a, b)["editDistance"])


def measure(clusters, n: int, seed: int, method: str) -> dict:
    """One row: clusters used, exact %, mean edit distance, reads/s (CPU)."""
    fn = METHODS[method]
    used = [c for c in clusters if n == 0 or len(c[2]) >= n]
    exact = edits = reads = 0
    cpu = 0.0
    for cid, ref, rs in used:
        drawn = _draw(cid, rs, n, seed)
        t0 = time.process_time()
        got, ok = fn(drawn, len(ref))
        cpu += time.process_time() - t0
        d = _edit_distance(got, ref)
        exact += ok and d == 0
        edits += d
        reads += len(drawn)
    k = max(len(used), 1)
    return {
        "clusters": len(used),
        "exact": 100.0 * exact / k,
        "edit": edits / k,
        "reads_s": reads / cpu if cpu > 0 else float("inf"),
    }


def _warm() -> None:
    """Load the compiled kernels before timing."""
    reconstruct([np.zeros(8, dtype=np.uint8)] * 2, 8)


def run(
    *,
    path: str | Path | None,
    n: Sequence[int],
    seed: int,
    limit: int | None = None,
    methods: Sequence[str] | None = None,
    synthetic_length: int | None = None,
    all_reads_row: bool = True,
) -> int:
    """Print the table: a row per reads-per-cluster ``n`` (and one with every read, unless
    ``all_reads_row`` is off or the strands are synthetic), a column per method (default: all).
    ``path`` None: :func:`default_path`; a missing file is skipped (exit 0)."""
    methods = list(methods or METHODS)
    if synthetic_length:
        clusters = synthetic(synthetic_length, limit or 200, max(n), seed)
        source = f"synthetic: {len(clusters)} strands of {synthetic_length} nt, fitted channel"
    else:
        path = Path(path) if path else default_path()
        if not path.is_file():
            print(
                f"skipped: {path} not found (the nanopore-cnr reads: shared/data/nanopore-cnr,"
                " or $HELIX_NANOPORE_DATA)",
                file=sys.stderr,
            )
            return 0
        clusters = load(path)[:limit]
        source = f"{path.name}: {len(clusters)} clusters"
    _warm()
    rows = list(n) + ([] if not all_reads_row or synthetic_length else [0])
    print(f"{source}, seed {seed}")
    head = "reads  clusters" + "".join(f" | {m:>10}: exact %  edit  reads/s" for m in methods)
    print(head + " | published exact %")
    for k in rows:
        line = f"{'all' if k == 0 else k:>5}  "
        got = [measure(clusters, k, seed, m) for m in methods]
        line += f"{got[0]['clusters']:>8}"
        for m, g in zip(methods, got, strict=True):
            line += f" | {'':>{len(m)}}  {g['exact']:7.1f} {g['edit']:5.2f} {g['reads_s']:8,.0f}"
        print(line + " | " + ("" if synthetic_length else PUBLISHED.get(k, "")), flush=True)
    return 0
