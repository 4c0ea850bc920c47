"""Mutation fuzzing of every parser that reads what users hand us.

Each target takes bytes (a mutated file) and runs one parser on it. The project's own
:class:`HelixError` is the right answer to bad input; any other exception is a crash, and an
input that takes longer than :data:`HANG_SECONDS` is a hang. Seeds are valid inputs made
here; mutations flip bits, overwrite, cut, insert, repeat and splice bytes.
``helix bench fuzz`` runs many inputs per target; the tests run a short pass.
"""

from __future__ import annotations

import json
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from helix_media.benchmarks import _fuzz_targets as fuzz_targets
from helix_media.benchmarks._fuzz_mutations import metadata_round, mutate, mutate_json
from helix_media.errors import HelixError

HANG_SECONDS = 5
LARGE_INPUT = 1 << 20  # the memory bound is promised for inputs up to 1 MB
_MATES = b"\n--R2--\n"  # joins the R1 and R2 files of the paired target's inputs


class _Hang(Exception):
    pass


@dataclass
class FuzzReport:
    target: str
    inputs: int = 0
    rejected: int = 0  # HelixError: a clear error, as it should be
    accepted: int = 0
    crashes: list[str] = field(default_factory=list)
    hangs: int = 0
    seconds: float = 0.0
    max_ms: float = 0.0  # the slowest input
    #: the process's peak resident memory (``ru_maxrss``) after the run, and the most one
    #: input raised it: an input's own peak is at most the former
    peak_rss_mb: float = 0.0
    max_rss_rise_mb: float = 0.0
    #: the largest input, and how many were larger than :data:`LARGE_INPUT` (run all the same)
    max_input_bytes: int = 0
    large_inputs: int = 0


# -- seeds ---------------------------------------------------------------------------------
def _strands(n_bytes: int = 600) -> tuple[np.ndarray, dict, dict]:
    """Strands of a small file archive, their .dnapkt header and the archive's metadata."""
    from helix_media.archive.sources import file_packets
    from helix_media.archive.strands import encode_packets

    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "payload.bin"
        src.write_bytes(np.random.default_rng(0).integers(0, 256, n_bytes, np.uint8).tobytes())
        packets, fields = file_packets(str(src))
    r = encode_packets(packets, fields, redundancy=0.2)
    header = {"framer": "helix", "coder": r.metadata["coder"], "codec": r.metadata["codec"],
              "strand_length": int(r.strands.shape[1])}  # fmt: skip
    return r.strands, header, r.metadata


def seeds(workdir: Path) -> dict[str, bytes]:
    """Valid inputs for every target."""
    from helix_media.channel.sequencing import Channel, simulate, simulate_pairs, write_reads
    from helix_media.strandio.strand_files import write_strands

    strands, header, metadata = _strands()
    write_strands(workdir / "seed.dnapkt", strands, header)
    write_strands(workdir / "seed.fasta", strands, header)
    reads = simulate(strands, Channel(coverage=3, seed=1))
    write_reads(str(workdir / "seed.fastq"), reads)
    r1, r2 = simulate_pairs(strands, Channel(coverage=2, seed=2), 150)
    write_reads(str(workdir / "r1.fastq"), r1, "/1")
    write_reads(str(workdir / "r2.fastq"), r2, "/2")
    pair = (workdir / "r1.fastq").read_bytes() + _MATES + (workdir / "r2.fastq").read_bytes()
    catalogue = {"format": "helix-pool", "version": 1, "generation": 0, "items": [
        {"name": "a.mp4", "kind": "video", "codec": "helix", "data": [0, 10],
         "metadata": [1024, 4, 3], "size": 100, "primers": None, "frames": 8,
         "fps": [24, 1]}]}  # fmt: skip
    return {
        "dnapkt": (workdir / "seed.dnapkt").read_bytes(),
        "fasta": (workdir / "seed.fasta").read_bytes(),
        "fastq": (workdir / "seed.fastq").read_bytes(),
        "metadata": json.dumps(metadata).encode(),
        "catalogue": json.dumps(catalogue).encode(),
        "paired": pair,
        "reads": (workdir / "seed.fastq").read_bytes(),
    }


# -- targets -------------------------------------------------------------------------------
def _file(workdir: Path, name: str, data: bytes) -> Path:
    path = workdir / name
    path.write_bytes(data)
    return path


def _target_catalogue(workdir: Path, data: bytes) -> None:
    from helix_media.archive.pool import format_list
    from helix_media.archive.pool.catalogue import catalogue_from_json

    for blob in metadata_round(data):
        format_list(catalogue_from_json(blob, "fuzz"), "fuzz")


def _target_dnapkt(workdir: Path, data: bytes) -> None:
    """The container, strict and salvaging (decoding what it holds is the reads target's)."""
    from helix_media.strandio.container_reader import read_dnapkt

    path = _file(workdir, "x.dnapkt", data)
    try:
        read_dnapkt(path)
    except HelixError:
        read_dnapkt(path, salvage=True)


def _target_fasta(workdir: Path, data: bytes) -> None:
    from helix_media.strandio.strand_files import read_strands

    read_strands(_file(workdir, "x.fasta", data), allow_n=True)


def _target_fastq(workdir: Path, data: bytes) -> None:
    from helix_media.strandio.strand_files import read_strands

    read_strands(_file(workdir, "x.fastq", data), allow_n=True)


def _target_paired(workdir: Path, data: bytes) -> None:
    from helix_media.readpath.paired import merge_files

    r1, _, r2 = data.partition(_MATES)
    merge_files(_file(workdir, "r1.fastq", r1), _file(workdir, "r2.fastq", r2))


def _target_reads(workdir: Path, data: bytes) -> None:
    from helix_media.archive.parse import read_dna

    read_dna(str(_file(workdir, "reads.fastq", data)))


TARGETS: dict[str, Callable[[Path, bytes], None]] = {
    "dnapkt": _target_dnapkt,
    "fasta": _target_fasta,
    "fastq": _target_fastq,
    "metadata": fuzz_targets.target_metadata,
    "catalogue": _target_catalogue,
    "paired": _target_paired,
    "reads": _target_reads,
    "pool": fuzz_targets.target_pool,
    "header": fuzz_targets.target_header,
}
#: how each target's inputs are made from its seed (byte edits unless named here)
MUTATORS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "catalogue": mutate_json,
    "metadata": fuzz_targets.mutate_metadata,
    "pool": fuzz_targets.mutate_pool,
    "header": fuzz_targets.mutate_header,
}


def _alarm(signum, frame):  # noqa: ARG001 - signal handler signature
    raise _Hang


def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def fuzz(target: str, inputs: int, seed: int = 0, workdir: Path | None = None) -> FuzzReport:
    """Run ``inputs`` mutated inputs through ``target``; crashes keep their traceback's last
    line and the input is saved under ``workdir`` as ``crash-<target>-<n>``."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seed_bytes = seeds(work).get(target, b"")
        run, edit = TARGETS[target], MUTATORS.get(target, mutate)
        rng = np.random.default_rng(seed)
        report = FuzzReport(target)
        previous = signal.signal(signal.SIGALRM, _alarm)
        start = time.perf_counter()
        try:
            for _ in range(inputs):
                data = edit(seed_bytes, rng)
                report.inputs += 1
                report.max_input_bytes = max(report.max_input_bytes, len(data))
                report.large_inputs += len(data) > LARGE_INPUT
                rss, t0 = _rss_mb(), time.perf_counter()
                signal.alarm(HANG_SECONDS)
                try:
                    run(work, data)
                    report.accepted += 1
                except HelixError:
                    report.rejected += 1
                except _Hang:
                    report.hangs += 1
                    _keep(workdir, f"hang-{target}-{report.hangs}", data)
                except Exception:  # noqa: BLE001 - that is what a fuzzer looks for
                    line = traceback.format_exc().strip().splitlines()[-1]
                    report.crashes.append(line)
                    _keep(workdir, f"crash-{target}-{len(report.crashes)}", data)
                finally:
                    signal.alarm(0)
                ms = (time.perf_counter() - t0) * 1000
                report.max_ms = max(report.max_ms, ms)
                report.max_rss_rise_mb = max(report.max_rss_rise_mb, _rss_mb() - rss)
        finally:
            signal.signal(signal.SIGALRM, previous)
        report.seconds = time.perf_counter() - start
        report.peak_rss_mb = _rss_mb()
        return report


def _keep(workdir: Path | None, name: str, data: bytes) -> None:
    if workdir is not None:
        (workdir / name).write_bytes(data)
