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
"""

from __future__ import annotations

import contextlib
import dataclasses
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        if scheduler is None:
            local = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=40,
            )  # fmt: skip
            stack.enter_context(local)
            scheduler = local.scheduler_address
        try:
            client = stack.enter_context(Client(scheduler, timeout="10s"))
        except OSError as exc:
            raise HelixError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        if not quiet:
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


def owners(client: Any) -> int:
    """How many consensus tasks to split the clusters into."""
    threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
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
    the same :class:`.reads.StrandEstimates`, in the same order."""
    from helix_media.readpath.parts import strong_keys
    from helix_media.readpath.reads import ReadProcessor

    # the framer itself, not its name: a pool item's framer has primers of its own
    fr, progress = client.scatter(framer, broadcast=True, hash=False), _PROGRESS.get()
    trimmed, first = [], 0
    bar = tqdm(desc="reads", unit="read", unit_scale=True, disable=not progress)
    for reads in parts:
        # scattered, not embedded in the task: the bases go to a worker, not via the scheduler
        packed = client.scatter(pack_reads(reads), hash=False)
        trimmed.append(client.submit(_trim, fr, packed, first, pure=False))
        first += len(reads)
        bar.update(len(reads))
    bar.close()
    stats = client.gather(client.map(_key_stats, trimmed))
    reports = [s[1] for s in stats]
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
    """Results in the order of ``futures``, with a bar as they finish."""
    from dask.distributed import as_completed

    with tqdm(total=len(futures), desc=what, unit="task", disable=not progress) as bar:
        for _ in as_completed(futures):
            bar.update(1)
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
