"""Fit the nanopore channel of trace reconstruction (``helix_media.readpath.trace_channel``).

Baum-Welch on the reads of ``valid.json`` against their references (never ``test.json``):
starting from a context-free channel, each round runs the pair-HMM's forward/backward of every
read against its reference and re-estimates each class's probabilities from the expected
counts (the classes of ``trace_channel.contexts``): deleting a base by (base, homopolymer run
length 1..8+), and the first and last three bases on their own; inserting each base by the
two bases around the gap, and the first and last three gaps on their own; reading a base by
(base, the bases before and after it). Rare classes lean on a broader one (``PSEUDO`` prior
counts: a run on the next shorter run, a substitution context on the base's overall row).
Expected counts rather than one alignment per read, because a gap's place in a homopolymer
run is arbitrary in an alignment and not in the model. Prints the module
``trace_channel_tables.py``; 6 rounds take about 10 s on one core.

Usage: ``python scripts/fit_trace_channel.py [PATH/valid.json] [--rounds 6] [--limit K]
[--skip K] > helix_media/readpath/trace_channel_tables.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from helix_media.readpath import trace_channel as tc
from helix_media.readpath.pair_hmm import posterior_counts
from helix_media.readpath.reconstruct import band_for, encode

DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nanopore-cnr"
PSEUDO = 200.0  # prior counts for rare classes: substitutions lean on the base's row, deletions
# in long runs on the next shorter run


def em_round(clusters, ch: tc.Channel) -> tuple[tc.Channel, float]:
    """One Baum-Welch round -> the re-estimated channel and the log-likelihood before it."""
    dele_t, iq, em = ch.tables
    dele = np.zeros((tc.DEL_CLASSES, 3))  # expected deletions, crossings, sum of P(leave)
    ins = np.zeros((tc.INS_CLASSES, 5))  # expected insertions of each base, visits that leave
    sub = np.zeros((tc.SUB_CLASSES, 5))
    total = 0.0
    for ref, reads in clusters:
        dc, ic, sc = tc.contexts(ref)[:3]
        band = band_for(len(ref))
        cross = np.zeros((len(ref), 6))
        gaps = np.zeros((len(ref) + 1, 5))
        for r in reads:
            total += posterior_counts(ref, r, band, dele_t, iq, em, cross, gaps)
        np.add.at(dele[:, 0], dc, cross[:, 5])
        np.add.at(dele[:, 1], dc, len(reads))
        np.add.at(dele[:, 2], dc, len(reads) * (1 - iq[ic[:-1], 4]))
        np.add.at(ins[:, :4], ic, gaps[:, :4])
        np.add.at(ins[:, 4], ic, len(reads))
        np.add.at(sub, sc, cross[:, :5])
    total_ins = ins[:, :4].sum(axis=1, keepdims=True)
    p_ins = ins[:, :4] / np.maximum(total_ins + ins[:, 4:], 1.0)
    p_del = dele[:, 0] / np.maximum(dele[:, 1], 1) * (dele[:, 2] / np.maximum(dele[:, 1], 1))
    for b in range(4):  # long runs are rare: lean on the next shorter run (PSEUDO counts)
        for run in range(1, tc.RUNS):
            c = b * tc.RUNS + run
            leave = dele[c, 2] / dele[c, 1] if dele[c, 1] else 1 - p_ins.sum(axis=1).mean()
            p_del[c] = (dele[c, 0] * leave + PSEUDO * p_del[c - 1]) / (dele[c, 1] + PSEUDO)
    base = np.arange(tc.SUB_CLASSES) // 25
    by_base = np.zeros((4, 4))
    np.add.at(by_base, base, sub[:, :4])
    by_base /= by_base.sum(axis=1, keepdims=True)
    s = sub[:, :4] + PSEUDO * by_base[base]
    s /= s.sum(axis=1, keepdims=True)
    return tc.Channel(p_del, p_ins, s), total


def _table(name: str, a: np.ndarray) -> str:
    """``name = np.array(...)``, one row (or 8 values) a line."""
    if a.ndim == 1:
        rows = [a[i : i + 8] for i in range(0, len(a), 8)]
        body = "\n".join("        " + ", ".join(f"{x:.6f}" for x in r) + "," for r in rows)
    else:
        body = "\n".join("        [" + ", ".join(f"{x:.6f}" for x in r) + "]," for r in a)
    return f"{name} = np.array(\n    [\n{body}\n    ]\n)\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT / "valid.json"))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--limit", type=int, default=None, help="clusters (all)")
    ap.add_argument("--skip", type=int, default=0, help="leave out the first K clusters (0)")
    args = ap.parse_args(argv)
    if "test" in Path(args.path).name:
        sys.exit("fit on valid.json only: test.json is for reporting")
    data = json.loads(Path(args.path).read_text())
    clusters = [
        (encode(v["ref"]), [encode(r) for r in v["syn"]])
        for v in list(data.values())[args.skip :][: args.limit]
    ]
    ch = tc.flat_channel()
    for k in range(args.rounds):
        ch, ll = em_round(clusters, ch)
        print(f"round {k + 1}: log-likelihood {ll:,.0f}", file=sys.stderr)
    reads = sum(len(r) for _, r in clusters)
    print(
        f'"""Channel tables fitted by scripts/fit_trace_channel.py --rounds {args.rounds} on '
        f"{len(clusters)} clusters\n({reads:,} reads) of valid.json; "
        'see trace_channel.py for the classes."""\n\nimport numpy as np\n\n# fmt: off'
    )
    print(
        "\n\n".join(_table(k, v) for k, v in (("DELE", ch.dele), ("INS", ch.ins), ("SUB", ch.sub))),
        end="",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
