"""Throughput and density of the DNA layer: coder, RS parity, framer, both ways.

    helix bench dna-layer [--strands N] [--repeat R]

Prints strands/s (median of R runs, one core: numpy runs single-threaded here) for the
enumerative coder alone, the vectorized RS parity, the compiled RS decoder on damaged
strands, and the whole helix framer (address + payload coding + RS + fillers), and the bits/nt.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import reedsolo

from helix_media import plugins
from helix_media.dna import rs


def _rate(fn, n: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return n / statistics.median(times)


def run(*, strands: int, repeat: int) -> int:
    """Print the rates on ``strands`` strands, each the median of ``repeat`` runs."""
    n, r = strands, repeat
    rng = np.random.default_rng(0)
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    bits = rng.integers(0, 2, (n, coder.capacity(152))).astype(np.uint8)
    ctx = np.tile(fr.primer5, (n, 1))
    coder.encode(bits[:10], 152, ctx[:10])  # build the count tables outside the timing
    bases = coder.encode(bits, 152, ctx)
    msgs = rng.integers(0, 256, (n, 42)).astype(np.uint8)
    framed = fr.frame(np.arange(n), bits, coder)
    k = min(n, 2000)
    damaged = framed[:k].copy()
    damaged[:, [40, 90, 150]] = (damaged[:, [40, 90, 150]] + 1) % 4
    codec = reedsolo.RSCodec(6)
    words = [
        bytearray(m.tobytes() + p.tobytes())
        for m, p in zip(msgs[:k], rs.parity(msgs[:k], 6), strict=True)
    ]
    rows = [
        (
            "enumerative encode (152 nt, 300 bits)",
            _rate(lambda: coder.encode(bits, 152, ctx), n, r),
        ),
        ("enumerative decode", _rate(lambda: coder.decode(bases, ctx), n, r)),
        ("RS(48,42) parity, numpy", _rate(lambda: rs.parity(msgs, 6), n, r)),
        (
            "RS(48,42) parity, reedsolo per strand",
            _rate(lambda: [codec.encode(w[:42]) for w in words], k, r),
        ),
        (
            "RS decode of a clean strand (vector check)",
            _rate(lambda: rs.decode(msgs, rs.parity(msgs, 6), np.zeros((n, 48), bool)), n, r),
        ),
        (
            "helix framer: frame (address+payload+RS+fillers)",
            _rate(lambda: fr.frame(np.arange(n), bits, coder), n, r),
        ),
        ("helix framer: parse, clean strands", _rate(lambda: fr.parse(framed, coder), n, r)),
        (
            "helix framer: parse, 3 substitutions/strand (compiled RS)",
            _rate(lambda: fr.parse(damaged, coder), k, r),
        ),
    ]
    print(f"DNA layer throughput, {n} strands, median of {r} runs, 1 core")
    print(f"{'stage':<56} {'strands/s':>12}")
    for name, rate in rows:
        print(f"{name:<56} {rate:>12,.0f}")
    cap = coder.capacity(152)
    print()
    print(f"payload density: {cap} bits / 152 nt = {cap / 152:.4f} bits/nt (worst-case context)")
    print(
        f"strand density:  {cap} bits / {fr.strand_length} nt = {cap / fr.strand_length:.4f} "
        "bits/nt (primers, address and parity included)"
    )
    return 0
