"""How often does the read path hand the inner code an estimate with a residual indel?

    python scripts/residual_indels.py nanopore-r9 --reads 3,4,5,6
    python scripts/residual_indels.py uniform --reads 5,10   # 1+1+1, 2+2+2, 3+3+4 % errors

Every strand of a 1,500-strand random file (default framer) gets exactly k reads; each
strand's estimate (the one nearest it among those with its address key) is classed as exact,
substitutions only (RS corrects up to 3 symbols), shifted by an indel (edit distance below
the Hamming distance: a base missing at one place and extra at another, which shifts every
symbol between them), or missing. The shares are of all strands, before the inner code and
its alternatives.
"""

from __future__ import annotations

import argparse
import collections
from dataclasses import replace

import edlib
import numpy as np

from helix_media.benchmarks.read_plan import _archive
from helix_media.channel.profiles import PROFILES, profile_channel
from helix_media.channel.sequencing import Channel, simulate
from helix_media.readpath.reads import ReadProcessor


def classify(strands: np.ndarray, fr, channel: Channel, k: int) -> collections.Counter:
    a, b = len(fr.primer5), fr.cluster_span
    truth_keys = fr.cluster_keys(strands[:, a:b])
    reads = simulate(strands, channel, counts=np.full(len(strands), k))
    est = ReadProcessor(fr).process(list(reads)).strands
    by_key = collections.defaultdict(list)
    for i, key in enumerate(fr.cluster_keys(est[:, a:b]).tolist()):
        by_key[key].append(i)
    out = collections.Counter()
    for s, key in zip(strands, truth_keys.tolist(), strict=True):
        near = [(edlib.align(est[i], s)["editDistance"], int((est[i] != s).sum())) for i in
                by_key.get(key, [])]  # fmt: skip
        if not near:
            out["no estimate"] += 1
            continue
        edit, hamming = min(near)
        if hamming == 0:
            out["exact"] += 1
        elif edit == hamming:
            out["substitutions only"] += 1
        else:
            out["indel: one base moved" if edit <= 2 else "indel: more"] += 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", choices=[*PROFILES, "uniform"])
    ap.add_argument("--reads", default="3,4,5,6", help="reads per strand, comma-separated")
    args = ap.parse_args()
    made, fr, _, _ = _archive(1500, 1)
    strands = np.asarray(made, dtype=np.uint8)
    if args.profile == "uniform":
        rates = ((1, 1, 1), (2, 2, 2), (3, 3, 4))
        channels = [(f"{s}+{i}+{d} %", Channel(sub=s / 100, ins=i / 100, dele=d / 100,
                     synthesis_error=0.0)) for s, i, d in rates]  # fmt: skip
    else:
        channels = [(args.profile, profile_channel(args.profile))]
    kinds = ("exact", "substitutions only", "indel: one base moved", "indel: more", "no estimate")
    print(f"{'reads':<14}{'k':>3}" + "".join(f"{x:>23}" for x in kinds))
    for name, channel in channels:
        for k in (int(x) for x in args.reads.split(",")):
            got = classify(strands, fr, replace(channel, seed=1 + k), k)
            cells = "".join(f"{100 * got[x] / len(strands):22.1f}%" for x in kinds)
            print(f"{name:<14}{k:>3}" + cells, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
