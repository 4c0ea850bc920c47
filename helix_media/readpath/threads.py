"""How many threads the read path's compiled kernels (which release the GIL) may use."""

from __future__ import annotations

import os
import sys


def threads() -> int:
    """Threads for the read path (indel clusters, pair tests): ``$HELIX_THREADS``, else
    one in a Dask task (Dask runs a task per core), else the cores this process may use."""
    env = os.environ.get("HELIX_THREADS", "")
    if env.isdigit():
        return max(1, int(env))
    if "distributed" in sys.modules:  # imported by every Dask worker
        try:
            sys.modules["distributed"].get_worker()
            return 1
        except ValueError:  # not in a worker's task
            pass
    return len(os.sched_getaffinity(0))
