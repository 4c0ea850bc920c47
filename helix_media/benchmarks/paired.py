"""Paired-end merging: how fast and how well R1/R2 mates are joined into whole strands.

    helix bench paired [--pairs N] [--read-length L] [--sub RATE] [--seed S]

Strands: helix-framed random payload; reads: ``helix simulate --paired-end L`` at the paper's
rates (synthesis errors 1/7500, substitutions 0.109 % per read), 30x. Times are wall clock
on this machine: reading both FASTQ.gz files, then merging (numpy, one core).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace

import numpy as np

from helix_media import plugins
from helix_media.benchmarks.channel import CLEAN
from helix_media.channel.sequencing import simulate_pairs, write_reads
from helix_media.dna.nucleotides import reverse_complement
from helix_media.readpath.paired import merge_pairs
from helix_media.strandio.fasta import read_pairs


def run(*, pairs: int, read_length: int, sub: float, seed: int) -> int:
    """Simulate about ``pairs`` read pairs of ``read_length`` nt each, merge them; print the
    share merged and whole, and the times."""
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    n = int(np.ceil(pairs / CLEAN.coverage))
    rng = np.random.default_rng(seed)
    strands = fr.frame(np.arange(n), rng.integers(0, 2, (n, fr.payload_bits(coder))), coder)
    channel = replace(CLEAN, sub=sub, seed=seed)
    r1, r2 = simulate_pairs(strands, channel, read_length)
    with tempfile.TemporaryDirectory() as tmp:
        paths = f"{tmp}/r_R1.fastq.gz", f"{tmp}/r_R2.fastq.gz"
        write_reads(paths[0], r1, "/1")
        write_reads(paths[1], r2, "/2")
        t0 = time.perf_counter()
        m1, m2 = read_pairs(*paths)
        t1 = time.perf_counter()
        reads, report = merge_pairs(m1.bases, m2.bases, m1.qualities, m2.qualities)
        t2 = time.perf_counter()
    known = {s.tobytes() for s in strands} | {s.tobytes() for s in reverse_complement(strands)}
    exact = sum(read.tobytes() in known for read in reads)
    print(f"{report.pairs:,} pairs 2x{read_length} over {n} strands of {strands.shape[1]} nt")
    print(f"merged         {report.merged:>9,} ({100 * report.merged / report.pairs:.2f} %)")
    print(f"= a strand     {exact:>9,} ({100 * exact / report.pairs:.2f} %; synthesis errors stay)")
    print(f"read FASTQ.gz  {t1 - t0:>9.2f} s")
    print(f"merge          {t2 - t1:>9.2f} s = {report.pairs / (t2 - t1):,.0f} pairs/s")
    return 0
