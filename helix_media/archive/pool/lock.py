"""One lock per pool, whatever name the pool is reached by.

A pool is rewritten whole (new strands appended, then an atomic rename), so two writers at
once would fork it: each would rename its own version over the other's. Every writer takes
the pool's lock first, and the lock must not depend on the name used: a symlink resolves to
its target (whose lock file is shared, and whose file is the one replaced, so the link stays
a link), and the pool file itself is locked too, which a hard link's other names share.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from helix_media.errors import HelixError


def is_pool(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an existing pool: a ``.dnapkt`` whose header says so, or (no such
    header: strands that went through FASTA, a damaged header) whose strands hold a pool
    catalogue. FIFOs and devices are never opened (reading one could block or consume)."""
    import numpy as np

    from helix_media.archive.pool.source import (
        _rows_with_keys,
        catalogue_keys,
        holds_pool,
        pool_framer,
    )
    from helix_media.strandio.container_reader import DnapktReader

    if not os.path.isfile(path):
        return False
    try:
        with DnapktReader(path, salvage=True) as reader:
            if reader.header.get("pool"):
                return True
            fr = pool_framer(None)
            if reader.strand_length != fr.strand_length:
                return False
            keys = catalogue_keys(fr)
            # the catalogue's strands only, batch by batch: memory bounded by them
            picked = [s[_rows_with_keys(fr, s, keys)] for s, _ in reader.batches()]
        return holds_pool(np.concatenate(picked) if picked else None, fr)
    except HelixError:
        return False


def other_links(path: str | os.PathLike[str]) -> int:
    """How many other hard links share ``path``'s file (0 if none, or no file): an atomic
    rewrite replaces this name only, and the others keep the file as it was."""
    try:
        return max(0, os.stat(path).st_nlink - 1)
    except OSError:
        return 0


def _flock(fd: int, pool: str) -> None:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        raise HelixError(f"{pool}: pool is in use (another helix pool add); try again") from exc


@contextlib.contextmanager
def pool_lock(pool: str | os.PathLike[str]) -> Iterator[str]:
    """Hold ``pool``'s exclusive lock for the block; yields the file to write (a symlink's
    target). Fails at once with "pool is in use" if another writer holds it, under any name.

    Two locks: ``.NAME.lock`` next to the real file (it exists before the pool does, and is
    what older versions took), and the pool file itself (shared by its hard links). The
    pool file is replaced by a rename, so after locking it we check that the name still
    points to the file we locked."""
    from helix_media.strandio.atomic import check_target

    pool = os.fspath(pool)
    check_target(pool)
    target = os.path.realpath(pool)
    if os.path.exists(target) and not os.path.isfile(target):
        raise HelixError(f"{pool}: not a regular file; a pool is a .dnapkt file")
    directory, name = os.path.split(target)
    try:
        lock = open(os.path.join(directory, f".{name}.lock"), "a")  # noqa: SIM115
    except OSError as exc:
        raise HelixError(f"cannot lock {pool}: {exc.strerror or exc}") from exc
    with lock, contextlib.ExitStack() as held:
        _flock(lock.fileno(), pool)
        fd = _open_existing(target, pool)
        if fd is not None:  # (a new pool: the lock file is all there is to lock)
            held.callback(os.close, fd)
            _flock(fd, pool)
            if not _still_named(fd, target):
                raise HelixError(f"{pool}: pool is in use (replaced while locking); try again")
        yield target


def _open_existing(target: str, pool: str) -> int | None:
    """A read-only descriptor of the pool file to lock, None if there is no pool yet."""
    try:
        return os.open(target, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HelixError(f"cannot read {pool}: {exc.strerror or exc}") from exc


def _still_named(fd: int, target: str) -> bool:
    """Whether ``target`` still names the file open as ``fd``."""
    locked = os.fstat(fd)
    try:
        now = os.stat(target)
    except OSError:
        return False
    return (locked.st_dev, locked.st_ino) == (now.st_dev, now.st_ino)
