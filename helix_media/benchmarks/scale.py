"""The read path and framing on a local Dask cluster, against one process.

    helix bench scale [--strands 20000] [--coverage 10] [--workers 1,2] [--part-reads 32768]

Frames random payloads into helix strands, simulates reads of them (substitutions, small
indels, 2 % junk) and writes them as FASTQ. Then it estimates the strands from that file in
one process and on local clusters of 1 and 2 worker processes (one thread each), and frames
the strands again in shards on each cluster. It prints reads/s, strands/s, the shuffle volume
(what the routing stage hands between tasks) and each worker's peak resident memory, and
checks that every run gives the single-process estimates. ``--workers 0`` only runs the
single-process row. The model of a 10^9-read run in ``docs/scale.md`` comes from this table.
"""

from __future__ import annotations

import contextlib
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from helix_media import distributed, plugins
from helix_media.channel.sequencing import Channel, simulate, write_reads
from helix_media.readpath import read_stream


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    process that started it)."""
    return _status_mb("VmHWM:")


def _rss_mb() -> float:
    return _status_mb("VmRSS:")


def _shuffle_bytes(fr, reads: list[np.ndarray], owners: int) -> int:
    """Bytes the routing stage hands to the consensus tasks (measured on the routed parts)."""
    from helix_media.readpath.parts import strong_keys
    from helix_media.readpath.reads import ReadProcessor

    rp, total = ReadProcessor(fr), 0
    for lo in range(0, len(reads), read_stream.PART_READS):
        part = rp.trim(reads[lo : lo + read_stream.PART_READS], lo)
        total += sum(b.nbytes for b in rp.route(part, strong_keys([]), owners))
    return total


@contextlib.contextmanager
def _parts_of(n: int):
    keep, read_stream.PART_READS = read_stream.PART_READS, n
    try:
        yield
    finally:
        read_stream.PART_READS = keep


def run(*, strands: int, coverage: float, workers: list[int], part_reads: int) -> int:
    """Print the table: one process, then a local cluster of each size in ``workers`` (sizes
    0 and below are skipped); 1 if any run's estimates differ from one process's."""
    with _parts_of(part_reads):  # restored after: the bench may run inside a process
        return _run(strands, coverage, [w for w in workers if w > 0], part_reads)


def _run(n: int, coverage: float, sizes: list[int], part_reads: int) -> int:
    from dask.distributed import get_task_stream

    from helix_media.readpath.reads import ReadProcessor
    from helix_media.strandio.fasta import read_reads

    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    rng = np.random.default_rng(0)
    payload = rng.integers(0, 2, (n, fr.payload_bits(coder))).astype(np.uint8)
    addresses = np.arange(n, dtype=np.int64)
    strands = fr.frame(addresses, payload, coder)
    channel = Channel(coverage=coverage, ins=0.0005, dele=0.0005, contaminants=0.02)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "reads.fastq")
        write_reads(path, simulate(strands, channel))
        t = time.perf_counter()  # the client's share of a cluster run: parse and pack the file
        m = sum(len(distributed.pack_reads(p)[1]) for p in read_stream.ReadParts(path))
        read_rate = m / (time.perf_counter() - t)
        t = time.perf_counter()  # from the file, as the cluster runs read it
        ref = ReadProcessor(fr).process(read_reads(path, allow_n=True)[1])
        dt = time.perf_counter() - t
        t = time.perf_counter()
        fr.frame(addresses, payload, coder)
        ft = time.perf_counter() - t
        rows.append(("1 process", m / dt, n / ft, dt / m * 1e6, None, _peak_rss_mb(), None, True))
        for w in sizes:
            with distributed.cluster(workers=w, quiet=True) as client:
                # imports and compiled kernels loaded in every worker before the clock starts
                warm = read_stream.ReadParts(path)
                warm.reads = warm.first[:4096]
                client.run(lambda: plugins.get_framer("helix"))
                with _parts_of(64):
                    distributed.estimate_strands(client, fr, warm)
                base = max(client.run(_rss_mb).values())
                with get_task_stream(client) as tasks:
                    t = time.perf_counter()
                    got = distributed.estimate_strands(client, fr, read_stream.ReadParts(path))
                    dt = time.perf_counter() - t
                busy = sum(s["stop"] - s["start"] for k in tasks.data for s in k["startstops"]
                           if s["action"] == "compute")  # fmt: skip
                same = bool((got.strands == ref.strands).all() and got.report == ref.report)
                t = time.perf_counter()
                framed = distributed.frame_strands(fr, addresses, payload, coder, {})
                ft = time.perf_counter() - t
                same &= bool((framed == strands).all())
                shuffle = _shuffle_bytes(fr, warm.first, distributed.owners(client))
                rss = max(client.run(_peak_rss_mb).values())
                per_read = shuffle / len(warm.first)
            rows.append((f"{w} workers", m / dt, n / ft, busy / m * 1e6, per_read, rss, base, same))
    print(f"{m} reads of {n} strands (coverage {coverage:g}), parts of {part_reads}")
    print(f"client: parses and sends {read_rate:.0f} reads/s (one core)")
    print(
        f"{'':<11} {'reads/s':>8} {'framed/s':>9} {'CPU s/Mread':>12} {'shuffle B/read':>15} "
        f"{'peak RSS MB':>12} {'after start':>12}  same as 1 process"
    )
    for name, rps, fps, cpu, sh, rss, base, same in rows:
        shuffle = "-" if sh is None else f"{sh:.0f}"
        start = "-" if base is None else f"{base:.0f}"
        print(
            f"{name:<11} {rps:>8.0f} {fps:>9.0f} {cpu:>12.1f} {shuffle:>15} {rss:>12.0f} "
            f"{start:>12}  {same}"
        )
    return 0 if all(r[-1] for r in rows) else 1
