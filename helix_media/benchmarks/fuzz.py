"""Fuzzing: every parser of user input, fed mutated files; crashes and hangs must be zero.

    helix bench fuzz [--inputs N] [--target NAME ...] [--seed S] [--crashes DIR]

Targets (see :mod:`helix_media.benchmarks._fuzzing`): the ``.dnapkt`` container (strict and
salvaging), FASTA and FASTQ reading, pool-catalogue decoding (structural JSON mutations behind
a valid CRC), paired-end merging, the whole read path (FASTQ -> blocks), and (see
:mod:`._fuzz_targets`) ``pool`` (damaged pools and forged catalogues through ``pool list`` and
``pool get``), ``metadata`` (an item's metadata crafted, re-encoded as strands, then read by
``pool get``) and ``header`` (forged ``.dnapkt`` headers). A crash is any exception but the
project's own error; a hang is an input taking over 5 s (kept in ``--crashes`` as well).
Memory is the process's peak RSS (``ru_maxrss``: interpreter and libraries included) and the
most one input raised it. Exit status 1 if any target had a crash or a hang.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from helix_media.benchmarks._fuzzing import HANG_SECONDS, TARGETS, fuzz


def run(*, inputs: int, targets: Sequence[str] | None, seed: int, crashes: Path | None) -> int:
    """Fuzz each target (default: all) with ``inputs`` inputs and print a row per target;
    crashing inputs are kept in ``crashes`` when given. 1 if any target crashed or hung."""
    if crashes:
        crashes.mkdir(parents=True, exist_ok=True)
    print(f"| target | inputs | clear errors | accepted | crashes | hangs (> {HANG_SECONDS} s) "
          "| max ms | peak RSS MB | max rise MB | inputs/s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for name in targets or TARGETS:
        r = fuzz(name, inputs, seed, crashes)
        bad += len(r.crashes) + r.hangs
        print(
            f"| {name} | {r.inputs} | {r.rejected} | {r.accepted} | {len(r.crashes)} | "
            f"{r.hangs} | {r.max_ms:.0f} | {r.peak_rss_mb:.0f} | {r.max_rss_rise_mb:.0f} | "
            f"{r.inputs / max(r.seconds, 1e-9):.0f} |",
            flush=True,
        )
        for line in sorted(set(r.crashes))[:5]:
            print(f"    crash: {line}")
    return 1 if bad else 0
