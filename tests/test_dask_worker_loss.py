"""A Dask job outlives a lost worker with the single-process result; a cluster that dies
entirely is one ``error:`` line, not a traceback (issue 38, item 12)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("dask.distributed")

from helix_media import distributed, plugins  # noqa: E402
from helix_media.channel.sequencing import Channel, simulate, write_reads  # noqa: E402
from helix_media.readpath import read_stream  # noqa: E402
from helix_media.readpath.reads import ReadProcessor  # noqa: E402
from helix_media.strandio.fasta import read_reads  # noqa: E402


@pytest.fixture(scope="module")
def framed():
    """400 helix strands of random payload: (framer, coder, addresses, payload, strands)."""
    fr = plugins.get_framer("helix")
    coder = plugins.get_coder("enumerative", constraints=fr.constraints)
    payload = np.random.default_rng(1).integers(0, 2, (400, fr.payload_bits(coder)))
    payload = payload.astype(np.uint8)
    return fr, coder, np.arange(400), payload, fr.frame(np.arange(400), payload, coder)


@pytest.fixture(scope="module")
def reads(framed, tmp_path_factory):
    """Noisy reads of the strands: (path, reads, the single-process estimates)."""
    fr, strands = framed[0], framed[-1]
    path = tmp_path_factory.mktemp("loss") / "reads.fastq"
    channel = Channel(coverage=10, sub=0.005, ins=0.002, dele=0.002, contaminants=0.02, seed=5)
    write_reads(str(path), simulate(strands, channel))
    seqs = read_reads(str(path), allow_n=True)[1]
    return path, seqs, ReadProcessor(fr).process(seqs)


@pytest.fixture(scope="module")
def dask_cluster():
    """Two worker processes under nannies: a killed one is started again."""
    with distributed.cluster(workers=2, quiet=True) as client:
        yield client


@contextlib.contextmanager
def _killing_a_worker_running(client, prefix: str) -> Iterator[list[int]]:
    """kill -9 the process of the first worker given a ``prefix`` task, from a thread; yields
    the pids killed (one, or none if no such task was seen)."""
    client.wait_for_workers(2, timeout=30)  # the one killed before is back
    pids = client.run(os.getpid)  # worker address -> its process (under a nanny)
    killed: list[int] = []

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            for worker, keys in client.processing().items():
                if worker in pids and any(str(k).startswith(prefix) for k in keys):
                    os.kill(pids[worker], signal.SIGKILL)
                    killed.append(pids[worker])
                    return
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield killed
    thread.join()
    assert killed, f"no {prefix} task was seen on a worker"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)  # that worker process is gone


@pytest.mark.slow
def test_the_read_path_outlives_a_killed_worker(reads, framed, dask_cluster, monkeypatch):
    """The worker trimming a part dies with the reads sent to it: they are sent again, and the
    estimates are those of one process."""
    _, seqs, whole = reads
    monkeypatch.setattr(read_stream, "PART_READS", 400)  # ~10 parts: work on both workers
    runs = []
    estimate = distributed._estimate_strands
    monkeypatch.setattr(distributed, "_estimate_strands", lambda *a: runs.append(1) or estimate(*a))
    with _killing_a_worker_running(dask_cluster, "_trim"):
        parts = read_stream.ReadParts("", seqs)
        spread = distributed.estimate_strands(dask_cluster, framed[0], parts)
    # restarted: the reads the killed worker held have no task to recompute them (a second
    # restart where the first raced the scheduler's noticing the loss)
    assert 2 <= len(runs) <= 1 + distributed.READ_RESTARTS
    assert (spread.strands == whole.strands).all()
    assert (spread.erasures == whole.erasures).all()
    assert spread.report == whole.report


def test_framing_outlives_a_killed_worker(framed, dask_cluster, monkeypatch):
    """Framing shards carry their data: the scheduler reruns the killed worker's shards."""
    fr, coder, addresses, payload, strands = framed
    monkeypatch.setattr(distributed, "SHARD_ROWS", 20)  # 20 shards
    address = dask_cluster.scheduler.address
    with (
        distributed.cluster(address, quiet=True),
        _killing_a_worker_running(dask_cluster, "_frame"),
    ):
        spread = distributed.frame_strands(fr, addresses, payload, coder, {})
    assert np.array_equal(spread, strands)


TRANSCODE = "import sys; from helix_media.cli import transcode_main; sys.exit(transcode_main())"


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.slow
def test_a_cluster_that_dies_is_one_error_line(reads, tmp_path):
    """Scheduler and worker killed once the CLI's decode is on them: exit 1, one ``error:``
    line that names Dask and what to do, no traceback, no output file."""
    path = reads[0]
    address_file = tmp_path / "scheduler.json"
    scheduler = _start(
        "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
        "--dashboard-address", ":0", "--scheduler-file", str(address_file),
    )  # fmt: skip
    worker = cli = None
    try:
        deadline = time.monotonic() + 30
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text())["address"]
        worker = _start(
            "distributed.cli.dask_worker", address, "--no-nanny", "--nthreads", "1",
            "--dashboard-address", ":0",
        )  # fmt: skip
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("HELIX_DEBUG", None)
        cli = subprocess.Popen(
            [sys.executable, "-c", TRANSCODE, str(path), str(tmp_path / "out.bin")]
            + ["--scheduler", address],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        first = cli.stderr.readline()  # "dask: 1 workers at ...": the job is on the cluster
        assert first.startswith("dask: "), first
        worker.kill()
        scheduler.kill()
        err = cli.stderr.read()
        assert cli.wait(timeout=60) == 1
    finally:
        for p in (cli, worker, scheduler):
            if p is not None:
                p.kill()
                p.wait()
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, err
    assert "Dask" in errors[0] and "without --scheduler" in errors[0]
    assert "Traceback" not in err and not (tmp_path / "out.bin").exists()
    # nothing else but progress bars
    assert all(ln.startswith(("error:", "reads:", "consensus:", "parse:")) for ln in lines), err
