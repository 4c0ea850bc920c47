"""The same jobs on a Dask cluster: the read path in parts, pool items side by side.

The embedded single-process path stays the default. ``with cluster(scheduler=..., workers=...)``
(the CLI's ``--scheduler ADDRESS`` / ``--workers N``) makes a :class:`dask.distributed.Client`
current, and the jobs that can use one do:

- **decoding reads**: the client streams the FASTA/FASTQ in parts of
  :data:`.read_stream.PART_READS` reads to the workers, which trim and key them (stage 1 of
  :mod:`.reads`); the key statistics are summed to find the strong clusters and their
  anchors; each part's loose reads and anchors become similarity signatures, shuffled by
  bucket; each bucket partition confirms its pairs, and one task labels the loose reads from
  all edges (:mod:`.readpath.cluster`); each part is rescued, labelled and split by owner
  (cluster key modulo the number of owners); each owner votes on its clusters. The client
  assembles the estimates in the order a single process gives them, so everything after
  (RS, blocks, outer code, codec) sees the same input and the decoded frames are identical.
- **pool add**: each item's codec job (the slow part) runs on a worker; the strands are then
  laid out in order on the client, so the pool is byte-identical to a single-process add.
- **framing and parsing** (every encode and decode): shards of :data:`SHARD_ROWS` strands are
  framed or parsed (constraint coder, RS) on the workers when the framer works strand by
  strand, and concatenated in order: the same strands and blocks as one process gives. In
  one process the shards bound memory.

Dask is an extra (``pip install 'helix-media[distributed]'``); without it, asking for a
cluster is a one-line error.

**Lost workers.** The scheduler recomputes what a lost worker held from the tasks that made
it, and reruns the tasks it was running elsewhere. Only the reads the client sent have no
task to recompute them from: they go straight to a worker (the scheduler holding them all
would not scale), so when a worker that held some is lost the client streams the reads again
and the read path starts over (:data:`READ_RESTARTS` times at most). What still fails (a task
that kills every worker it runs on, a lost scheduler, no workers left) is a
:class:`ClusterError`: one line that says what happened and what to do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import operator
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError  # dask's Future(s)CancelledError
from contextvars import ContextVar
from typing import Any

import numpy as np
from tqdm import tqdm

from helix_media.errors import HelixError

#: strands per framing or parsing job, here or on a cluster: bounds the framer's temporaries
#: (parsing takes ~8 kB a strand) and makes cluster tasks of ~0.1 s
SHARD_ROWS = 1 << 12
OWNERS_PER_THREAD = 2  # consensus tasks per worker thread: room to balance uneven clusters
_CLIENT: ContextVar[Any] = ContextVar("helix_dask_client", default=None)
_PROGRESS: ContextVar[bool] = ContextVar("helix_dask_progress", default=False)
_EXTRA = "pip install 'helix-media[distributed]'"
#: times the read path starts over after the cluster lost reads sent to it with a worker
READ_RESTARTS = 2
#: seconds before a restart: the scheduler drops a lost worker only once its comm has closed,
#: and reads sent again at once could go to it
RESTART_PAUSE_S = 1.0
#: seconds between checks, while waiting for tasks, that the cluster still has workers
POLL_S = 2.0
#: seconds a job waits for a cluster that has no workers left before it gives up
NO_WORKERS_S = 60.0
_WHAT_TO_DO = "rerun, or run without --scheduler/--workers"


class ClusterError(HelixError):
    """The Dask cluster, not the job, failed. ``lost``: what the cluster lost, when sending
    the work again can help (data or a comm lost with a worker, the scheduler still there)."""

    def __init__(self, message: str, lost: str | None = None) -> None:
        super().__init__(message)
        self.lost = lost


def _first_line(exc: BaseException, limit: int = 160) -> str:
    """``Type: first line`` of ``exc``, cut to ``limit`` (comm errors name whole sockets)."""
    line = (str(exc).strip().splitlines() or [""])[0]
    text = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def _guard(client: Any) -> Iterator[None]:
    """Around calls to the client (never around a task's own result, nor local file reads,
    whose OSErrors are the job's): what the cluster raised becomes a :class:`ClusterError`."""
    try:
        yield
    except ClusterError:
        raise
    except (CancelledError, OSError, TimeoutError) as exc:
        raise _lost(client, exc) from exc
    except Exception as exc:
        if client.status == "running":
            raise
        # the scheduler is lost: the client, reconnecting, fails in its own ways
        # (RuntimeError "ConnectionPool is closed", AttributeError on a None comm)
        raise _lost(client, exc) from exc


def _address(client: Any) -> str:
    return getattr(client.scheduler, "address", None) or "its address"


def _lost(client: Any, exc: BaseException) -> ClusterError:
    """The one line for a job cut short by ``exc`` (a cancelled future, a comm error)."""
    if client.status != "running":
        return ClusterError(
            f"lost the connection to the Dask scheduler at {_address(client)} (it "
            f"stopped, or the network failed) and the job could not finish; {_WHAT_TO_DO}"
        )
    groups = getattr(exc, "error_groups", None)  # FuturesCancelledError: several futures
    reason = getattr(groups[0] if groups else exc, "reason", None) or _first_line(exc)
    return ClusterError(
        f"the Dask cluster lost workers and the job could not finish ({reason}); {_WHAT_TO_DO}",
        lost=reason,
    )


def current() -> Any:
    """The Dask client jobs should use, or None (run in this process)."""
    return _CLIENT.get()


@contextlib.contextmanager
def cluster(
    scheduler: str | None = None, workers: int | None = None, *, quiet: bool = False
) -> Iterator[Any]:
    """Connect to the Dask scheduler at ``scheduler`` (``tcp://host:port``), or start a local
    cluster of ``workers`` processes, and make it current; with neither, yield None and
    change nothing."""
    if scheduler is None and workers is None:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise HelixError(f"--scheduler and --workers need Dask: {_EXTRA}") from exc
    if workers is not None and workers < 1:
        raise HelixError(f"--workers must be at least 1, not {workers}")
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_dask_logs())  # left last: closing logs a lost scheduler
        if scheduler is None:
            local = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                # a lost worker makes its peers log tracebacks: the job says what matters
                dashboard_address=":0", silence_logs=logging.CRITICAL,
            )  # fmt: skip
            stack.enter_context(local)
            scheduler = local.scheduler_address
        try:
            client = stack.enter_context(Client(scheduler, timeout="10s"))
        except OSError as exc:
            raise HelixError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        if not quiet:
            with _guard(client):
                info = client.scheduler_info()
            n = len(info["workers"])
            running = "dashboard" in info.get("services", {})  # bokeh installed there
            link = f", dashboard {client.dashboard_link}" if running else ""
            print(f"dask: {n} workers at {scheduler}{link}", file=sys.stderr)
        token, shown = _CLIENT.set(client), _PROGRESS.set(not quiet)
        try:
            yield client
        finally:
            _CLIENT.reset(token)
            _PROGRESS.reset(shown)


@contextlib.contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Dask's own stderr handlers (not the application's) at CRITICAL while a job runs: a
    lost worker or scheduler makes dask log errors and tracebacks, and the job says what
    matters in one line."""
    handlers = [
        h for h in logging.getLogger("distributed").handlers
        if isinstance(h, logging.StreamHandler)
    ]  # fmt: skip
    levels = [h.level for h in handlers]
    for h in handlers:
        h.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for h, level in zip(handlers, levels, strict=True):
            h.setLevel(level)


def owners(client: Any) -> int:
    """How many consensus tasks to split the clusters into."""
    with _guard(client):
        threads = sum(client.nthreads().values())
    return max(1, threads * OWNERS_PER_THREAD)


def pack_reads(reads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Reads -> (all bases, lengths): one buffer to send instead of a list of arrays."""
    lengths = np.fromiter((len(r) for r in reads), dtype=np.int64, count=len(reads))
    return (np.concatenate(reads) if reads else np.zeros(0, np.uint8)), lengths


def _processor(framer):
    from helix_media.readpath.reads import ReadProcessor

    return ReadProcessor(framer)


def _trim(framer, packed: tuple[np.ndarray, np.ndarray], first: int):
    bases, lengths = packed
    reads = np.split(bases, np.cumsum(lengths)[:-1]) if len(lengths) else []
    return _processor(framer).trim(reads, first)


def _key_stats(part):
    """(key statistics, the part's report): all the client needs of a trimmed part."""
    from helix_media.readpath.reads import ReadProcessor

    return ReadProcessor.key_stats(part), part.report


def _rescue(framer, part, strong):
    return _processor(framer).rescue(part, strong)


def _buckets(framer, part, strong, n_buckets: int):
    return _processor(framer).buckets(part, strong, n_buckets)


def _confirm(*entries):
    from helix_media.readpath.cluster import confirm

    return confirm(entries)


def _labels(strong, *edges):
    from helix_media.readpath.cluster import labels

    return labels(edges, strong)


def _route(framer, part, strong, n_owners: int, select, labels):
    return _processor(framer).route(part, strong, n_owners, select, labels)


def _consensus(framer, select, *routed):
    return _processor(framer).consensus(routed, select)


def estimate_strands(
    client: Any,
    framer,
    parts: Iterable[list[np.ndarray]],
    select: np.ndarray | None = None,
):
    """:meth:`.reads.ReadProcessor.process` over ``parts`` of the reads on the cluster:
    the same :class:`.reads.StrandEstimates`, in the same order. ``parts`` is iterated again
    (the reads sent again) when the cluster lost some with a worker."""
    for restart in range(READ_RESTARTS + 1):
        try:
            return _estimate_strands(client, framer, parts, select)
        except ClusterError as exc:
            if exc.lost is None or restart == READ_RESTARTS or client.status != "running":
                raise
            if _PROGRESS.get():
                print(
                    f"dask: the cluster lost a worker and reads sent to it ({exc.lost}); "
                    f"sending the reads again (restart {restart + 1} of {READ_RESTARTS})",
                    file=sys.stderr,
                )
            time.sleep(RESTART_PAUSE_S)
    raise AssertionError("unreachable")  # pragma: no cover


def _estimate_strands(client: Any, framer, parts: Iterable[list[np.ndarray]], select):
    from helix_media.readpath.parts import strong_keys
    from helix_media.readpath.reads import ReadProcessor

    progress = _PROGRESS.get()
    # the framer itself, not its name: a pool item's framer has primers of its own
    with _guard(client):
        fr = client.scatter(framer, broadcast=True, hash=False)
    trimmed, first = [], 0
    with tqdm(desc="reads", unit="read", unit_scale=True, disable=not progress) as bar:
        for reads in parts:  # read outside the guard: an unreadable file is the job's error
            # scattered, not embedded in the task: the bases go to a worker, not via the
            # scheduler (which would hold them all: nothing to recompute them from otherwise)
            with _guard(client):
                packed = client.scatter(pack_reads(reads), hash=False)
            trimmed.append(client.submit(_trim, fr, packed, first, pure=False))
            first += len(reads)
            bar.update(len(reads))
    stats = _gather(client, client.map(_key_stats, trimmed), "", False)
    reports = [s[1] for s in stats]
    with _guard(client):
        strong = client.scatter(strong_keys([s[0] for s in stats]), broadcast=True)
        n = owners(client)
    # keys rescued; similarity clusters of the loose reads: signatures by bucket, edges, labels
    trimmed = [client.submit(_rescue, fr, t, strong, pure=False) for t in trimmed]
    signed = [client.submit(_buckets, fr, t, strong, n, pure=False) for t in trimmed]
    entries = [[client.submit(operator.getitem, s, b) for s in signed] for b in range(n)]
    del signed
    edges = [client.submit(_confirm, *e, pure=False) for e in entries]
    del entries
    labels = client.submit(_labels, strong, *edges, pure=False)
    del edges
    routed = [client.submit(_route, fr, t, strong, n, select, labels, pure=False) for t in trimmed]
    del trimmed  # each trimmed part is freed once routed
    buckets = [[client.submit(operator.getitem, r, o) for r in routed] for o in range(n)]
    del routed
    estimates = [client.submit(_consensus, fr, select, *b, pure=False) for b in buckets]
    del buckets
    done = _gather(client, estimates, "consensus", progress)
    return ReadProcessor(framer).assemble(done, reports)


def _gather(client: Any, futures: list, what: str, progress: bool) -> list:
    """Results in the order of ``futures``, with a bar as they finish. A task's own exception
    is raised as it is; the cluster's failures (lost data or scheduler, a task that killed
    every worker it ran on, no workers left for :data:`NO_WORKERS_S`) as a
    :class:`ClusterError`."""
    from dask.utils import key_split
    from distributed import wait
    from distributed.scheduler import KilledWorker

    pending, idle_since = set(futures), None
    with tqdm(total=len(futures), desc=what, unit="task", disable=not progress) as bar:
        while pending:
            with _guard(client):
                try:
                    done = wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED").done
                except TimeoutError:
                    done = set()
                    if client.status != "running" or client.nthreads():
                        idle_since = None  # (a lost scheduler cancels the futures)
                    elif idle_since is None:
                        idle_since = time.monotonic()
                    elif time.monotonic() - idle_since > NO_WORKERS_S:
                        raise ClusterError(
                            f"the Dask cluster at {_address(client)} has had no "
                            f"workers for {NO_WORKERS_S:.0f} s and the job could not finish; "
                            f"start workers (dask worker ADDRESS) and rerun, or run without "
                            "--scheduler/--workers"
                        ) from None
            for f in done:
                if f.status == "cancelled":
                    with _guard(client):
                        f.result()  # FutureCancelledError -> ClusterError
                if f.status == "error":
                    exc = f.exception()
                    if isinstance(exc, KilledWorker):
                        raise ClusterError(
                            f"a {key_split(exc.task)} task of the job killed "
                            f"{exc.allowed_failures + 1} Dask workers in a row (out of memory? "
                            "see the worker logs); rerun with more memory per worker, or run "
                            "without --scheduler/--workers"
                        ) from exc
                    f.result()  # the task's own exception, as a single process raises it
            pending -= done
            bar.update(len(done))
    with _guard(client):
        return client.gather(futures)


def _frame(fr, addresses: np.ndarray, payload: np.ndarray, coder, key: dict[str, int]):
    return fr.frame(addresses, payload, coder, **key)


def _shards(n: int) -> list[slice]:
    return [slice(lo, lo + SHARD_ROWS) for lo in range(0, n, SHARD_ROWS)]


def frame_strands(fr, addresses: np.ndarray, payload: np.ndarray, coder, key: dict[str, int]):
    """``fr.frame(addresses, payload, coder, **key)`` in shards of :data:`SHARD_ROWS` rows
    when the framer works strand by strand (the same strands), on the cluster if there is
    one."""
    if not fr.strand_by_strand or len(addresses) <= SHARD_ROWS:
        return _frame(fr, addresses, payload, coder, key)
    jobs = [(fr, addresses[s], payload[s], coder, key) for s in _shards(len(addresses))]
    return np.concatenate(map_jobs(_frame, jobs, "frame"))


def _parse(fr, strands, coder, metadata_coder, erasures, key: dict[str, int]):
    return fr.parse(strands, coder, metadata_coder, erasures, **key)


def parse_strands(
    fr,
    strands: np.ndarray,
    coder,
    metadata_coder=None,
    erasures: np.ndarray | None = None,
    key: dict[str, int] | None = None,
):
    """``fr.parse(...)`` (constraint decoding, RS) in shards of :data:`SHARD_ROWS` strands
    when the framer works strand by strand, on the cluster if there is one: the same
    :class:`.dna.framer.ParsedStrands`, in bounded memory."""
    from helix_media.dna.framer import ParsedStrands

    key = key or {}
    if not fr.strand_by_strand or len(strands) <= SHARD_ROWS:
        return _parse(fr, strands, coder, metadata_coder, erasures, key)
    jobs = [
        (fr, strands[s], coder, metadata_coder, None if erasures is None else erasures[s], key)
        for s in _shards(len(strands))
    ]
    parts = map_jobs(_parse, jobs, "parse")
    columns = [f.name for f in dataclasses.fields(ParsedStrands)]
    return ParsedStrands(*(np.concatenate([getattr(p, c) for p in parts]) for c in columns))


def map_jobs(fn: Callable[..., Any], jobs: Sequence[tuple], what: str) -> list:
    """``[fn(*job) for job in jobs]``, on the current cluster if there is one."""
    client = current()
    if client is None:
        return [fn(*job) for job in jobs]
    futures = [client.submit(fn, *job, pure=False) for job in jobs]
    return _gather(client, futures, what, _PROGRESS.get())
