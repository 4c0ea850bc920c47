"""The seed papers' figures, measured on our implementations, beside the published ones.

    helix bench seeds [--blocks K] [--trials T] [--substitutions S] [--seconds S]
                      [--max-length N] [--part all|framers|eors]

1. ``fountain`` (DNA Fountain) and ``hidden-address`` (Wang et al. 2022) framers: density in
   bits/nt (nominal and measured on K random blocks, everything counted), decode success
   against strand dropout 0-20 % (T trials, S substitutions in every surviving strand),
   all-zero / repetitive / random round trips, every strand's constraints; and the hidden
   addressing paper's local GC measure (variance of GC per 23-nt fragment; 19 nt for plain
   fountain, as the paper measured it).
2. The EORS code-set table (Li & Guo 2021, Table 1) for N = 4..10, D = 3..N: our local search
   with a time budget per entry, beside the paper's EORS and Altruistic sizes.
"""

from __future__ import annotations

import time

import numpy as np

from helix_media import plugins
from helix_media.channel.damage import damage
from helix_media.design import codesets
from helix_media.dna.nucleotides import GC_BASE

DNA_FOUNTAIN_BITS_PER_NT = 1.57  # Erlich & Zielinski 2017, on the 152 nt between primers
PAPER_GC_VARIANCE = {"hidden-address": 0.004, "fountain": 0.011}
DROPOUTS = (0.0, 0.05, 0.10, 0.15, 0.20)
#: (label, framer, parameters): our defaults, and each paper's own setting
CONFIGS = (
    ("fountain", "fountain", {}),
    ("fountain, DNA Fountain's setting", "fountain", {"overhead": 0.07, "nsym": 2, "body_nt": 152}),
    ("hidden-address", "hidden-address", {}),
    ("hidden-address, paper's setting", "hidden-address", {"group_blocks": 1, "overhead": 0.0}),
)


def _payload(kind: str, n: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "all-zero":
        return np.zeros((n, bits), dtype=np.uint8)
    if kind == "repetitive":
        return np.tile(rng.integers(0, 2, (1, bits), dtype=np.uint8), (n, 1))
    return rng.integers(0, 2, (n, bits), dtype=np.uint8)


def _recovered(fr, strands: np.ndarray, payload: np.ndarray) -> int:
    """How many blocks come back exactly (a wrong block counts as lost)."""
    p = fr.parse(strands, fr.metadata_coder)
    got = {int(a): row for a, row in zip(p.addresses[p.ok], p.payload[p.ok], strict=True)}
    return sum(1 for i, row in enumerate(payload) if i in got and (got[i] == row).all())


def _gc_variance(strands: np.ndarray, start: int, window: int, count: int) -> float:
    s = strands[:, start : start + window * count].reshape(len(strands), count, window)
    return float((GC_BASE[s].sum(axis=2) / window).var())


def framers_part(blocks: int, trials: int, subs: int) -> None:
    rng = np.random.default_rng(0)
    rows, success, gc_rows = [], {}, []
    for label, name, params in CONFIGS:
        fr = plugins.get_framer(name, **params)
        bits = fr.payload_bits(fr.metadata_coder)
        roundtrip = []
        for kind in ("all-zero", "repetitive", "random"):
            payload = _payload(kind, blocks, bits, rng)
            t = time.perf_counter()
            strands = fr.frame(np.arange(blocks), payload, fr.metadata_coder)
            t_frame = time.perf_counter() - t
            valid = bool(fr.check(strands).ok(fr.constraints).all())
            t = time.perf_counter()
            ok = _recovered(fr, strands, payload) == blocks
            t_parse = time.perf_counter() - t
            roundtrip.append(f"{kind} {'ok' if ok and valid else 'FAILED'}")
        nom = fr.density()
        body = fr.strand_length - len(fr.primer5) - len(fr.primer3)
        total_nt = strands.size
        rows.append(
            (
                label,
                f"{bits} bits / {fr.strand_length} nt",
                f"{nom['overhead']:.2f}",
                f"{len(strands) / blocks - 1:.3f}",
                f"{blocks * bits / total_nt:.3f}",
                f"{blocks * bits / (len(strands) * body):.3f}",
                f"{blocks * bits / (blocks * body):.3f}",
                f"{t_frame:.1f} / {t_parse:.2f}",
                ", ".join(roundtrip),
            )
        )
        res = []
        for p in DROPOUTS:
            full, frac = 0, 0.0
            for trial in range(trials):
                damaged, _ = damage(strands, dropout=p, substitutions=subs, seed=100 * trial + 1)
                got = _recovered(fr, damaged, payload)
                full += got == blocks
                frac += got / blocks
            res.append(f"{full}/{trials} ({100 * frac / trials:.1f} %)")
        success[label] = res
        if params:
            continue
        if name == "hidden-address":
            gc_rows.append((name, "23-nt fragments", _gc_variance(strands, 20, 23, 8)))
        else:
            gc_rows.append((name, "19 nt x 8 (152 nt)", _gc_variance(strands, 20, 19, 8)))
            gc_rows.append((name, "23 nt x 8 (184 nt)", _gc_variance(strands, 20, 23, 8)))

    print(f"## Fountain framers: {blocks} random blocks, measured on this machine")
    print()
    print(
        "| framer | strand | overhead (set) | overhead (measured) | bits/nt whole strand "
        "| bits/nt without primers | without primers, no overhead | frame / parse s | round trips |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print(
        f"| DNA Fountain (published) | 32 B + 4 B seed + 2 B RS / 152 nt + primers | 0.07 | - "
        f"| - | {DNA_FOUNTAIN_BITS_PER_NT} | 1.684 | - | all-zero input fails (no whitening) |"
    )
    print()
    print(
        f"Decode success against dropout ({trials} trials each; {subs} substitution(s) in every "
        "surviving strand; full decodes, and mean share of blocks back):"
    )
    print()
    print("| framer | " + " | ".join(f"{int(p * 100)} %" for p in DROPOUTS) + " |")
    print("|---|" + "---|" * len(DROPOUTS))
    for name, res in success.items():
        print(f"| {name} | " + " | ".join(res) + " |")
    print()
    print("Local GC (the hidden-addressing paper's measure): variance of GC per fragment")
    print()
    print("| framer | fragments | GC variance (measured) | paper |")
    print("|---|---|---|---|")
    for name, frag, var in gc_rows:
        print(f"| {name} | {frag} | {var:.4f} | {PAPER_GC_VARIANCE[name]} |")
    print()


def eors_part(seconds: float, seed: int, max_length: int = 10) -> None:
    print(
        f"## EORS code sets (Li & Guo 2021, Table 1): GC = floor(N/2), no equal neighbours, "
        f"distance >= D; our search {seconds:g} s per entry, seed {seed}"
    )
    print()
    print("| N | D | ours | EORS | Altruistic | upper bound | ours >= EORS | s |")
    print("|---|---|---|---|---|---|---|---|")
    worse = []
    for n in range(4, max_length + 1):
        for d in range(3, n + 1):
            t = time.perf_counter()
            words = codesets.build_code_set(n, d, seconds, seed)
            dt = time.perf_counter() - t
            assert codesets.min_distance(words) >= d
            ub = codesets.upper_bound(n, d)
            alt, eors = codesets.PAPER_TABLE1.get((n, d), (None, None))
            if eors is None:
                verdict = "(not in the paper)"
            elif len(words) >= eors:
                verdict = "yes"
            elif eors > ub:
                verdict = f"infeasible: paper's {eors} > bound {ub}"
            else:
                verdict = "NO"
                worse.append((n, d))
            print(
                f"| {n} | {d} | {len(words)} | {eors if eors is not None else '-'} "
                f"| {alt if alt is not None else '-'} | {ub} | {verdict} | {dt:.1f} |"
            )
    print()
    print(
        "Bound: Singleton (distinct run-free prefixes of N-D+1 bases); for D = N odd at most 3 "
        "(four words differing everywhere hold 2N G+C together, four words of floor(N/2) G+C "
        "hold 2N-2)."
    )
    if worse:
        print(f"below the paper's EORS size: {worse}")
    print()


def run(
    *,
    blocks: int,
    trials: int,
    substitutions: int,
    seconds: float,
    seed: int,
    max_length: int,
    part: str = "all",
) -> int:
    """Print the parts asked for (``part``: all, framers or eors) and the total time."""
    t = time.perf_counter()
    if part in ("all", "framers"):
        framers_part(blocks, trials, substitutions)
    if part in ("all", "eors"):
        eors_part(seconds, seed, max_length)
    print(f"total {time.perf_counter() - t:.0f} s")
    return 0
