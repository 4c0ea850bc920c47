"""Atomic file output: a user-visible file is either complete or untouched.

A crash, an exception or Ctrl-C half-way through writing must never leave a truncated
container or FASTA behind that looks like a valid result, nor clobber the previous one.
So everything is written to a temporary file in the destination's directory (same
filesystem, so the final rename is atomic), fsynced, and renamed over the target only when
the writing block finished without an exception.

Two kinds of output are not replaced, because replacing them would destroy what the user
named: a symlink is written through (its target is the file replaced; the link stays), and a
FIFO or a device (``/dev/null``, a pipe into a player) is opened and written to as it is,
streamed, since renaming a regular file over it would replace the node itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from helix_media.errors import HelixError

_WRITE_MODES = {"w", "wt", "wb"}
# Errors a write() inside the block can only have got from the output file itself.
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
# ... and, writing to a FIFO, the reader going away (EPIPE; never a silent exit 0)
_STREAM_ERRNOS = _FULL_ERRNOS | {errno.EPIPE}


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def is_stream_target(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is (or links to) a FIFO or a device: an output written to as it is,
    never renamed over (that would replace the node, e.g. the system's /dev/null)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def real_target(path: str | os.PathLike[str]) -> str:
    """The file that writing ``path`` replaces: a symlink's target (the link stays a link,
    as with ``>``), else ``path`` itself."""
    path = os.fspath(path)
    return os.path.realpath(path) if os.path.islink(path) else path


def check_target(path: str | os.PathLike[str]) -> None:
    """Raise HelixError now if ``path`` clearly cannot be written, e.g. before a long encode.

    Catches the mistakes users actually make: a directory as output, a missing or
    unwritable directory. (Writing can still fail later, e.g. on a full disk.) A FIFO or a
    device is written in place, so it is the node, not its directory, that must be writable.
    """
    path = os.fspath(path)
    if is_stream_target(path):
        if not os.access(path, os.W_OK):
            raise HelixError(f"cannot write {path}: Permission denied")
        return
    if os.path.isdir(path):
        raise HelixError(f"cannot write {path}: it is a directory")
    directory = os.path.dirname(real_target(path)) or "."
    if not os.path.isdir(directory):
        raise HelixError(f"cannot write {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise HelixError(f"cannot write {path}: Permission denied (directory {directory})")


def check_not_input(output: str | os.PathLike[str], *inputs: str | os.PathLike[str] | None) -> None:
    """Raise HelixError if ``output`` is one of ``inputs`` (the same file under any name):
    writing it would replace what the user gave us."""
    for inp in inputs:
        if inp is None:
            continue
        try:
            same = os.path.samefile(output, inp)
        except OSError:  # one of them does not exist (yet)
            same = os.path.abspath(output) == os.path.abspath(inp)
        if same:
            raise HelixError(f"{output}: is also an input; writing it would overwrite {inp}")


def _create_temp(target: str, path: str) -> tuple[str, int]:
    """Create a fresh temp file next to ``target`` (``path``'s real file, named in errors);
    permissions follow the umask like open()."""
    directory, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as err:
            raise HelixError(f"cannot write {path}: {_describe(err)}") from err


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable; not every platform/filesystem supports this."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _wrap(fd: int, mode: str, encoding: str | None, newline: str | None) -> IO[Any]:
    if "b" in mode:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that it appears only if the ``with`` block succeeds.

    ``mode`` is ``"wb"`` (default) or ``"w"``/``"wt"`` (text; UTF-8 unless ``encoding``).
    Raises :class:`HelixError` ("cannot write PATH: ...") for a missing or unwritable
    directory, or a path that is a directory. An existing file keeps its permission bits.
    Through a symlink, the link's target is replaced. A FIFO or a device is written to as
    it is (streamed, so not atomic: a failure leaves what was written so far).
    """
    if mode not in _WRITE_MODES:
        raise ValueError(f"atomic_output mode must be one of {sorted(_WRITE_MODES)}, not {mode!r}")
    path = os.fspath(path)
    check_target(path)
    writer = _streamed_output if is_stream_target(path) else _replaced_output
    with writer(path, mode, encoding, newline) as f:
        yield f


@contextlib.contextmanager
def _replaced_output(
    path: str, mode: str, encoding: str | None, newline: str | None
) -> Iterator[IO[Any]]:
    """A temp file renamed over ``path``'s real target when the block succeeds."""
    target = real_target(path)
    tmp, fd = _create_temp(target, path)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        f = _wrap(fd, mode, encoding, newline)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        with _written(f, path, _FULL_ERRNOS, sync=True):  # a full disk can fail on close too
            yield f
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise HelixError(f"cannot write {path}: {_describe(err)}") from err
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(os.path.dirname(target) or ".")


@contextlib.contextmanager
def _streamed_output(
    path: str, mode: str, encoding: str | None, newline: str | None
) -> Iterator[IO[Any]]:
    """``path`` itself (a FIFO or a device), opened for writing: no temp file, no rename,
    no O_CREAT (if the node vanished, nothing is created in its place)."""
    try:
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise HelixError(f"cannot write {path}: {_describe(err)}") from err
    try:
        f = _wrap(fd, mode, encoding, newline)
    except BaseException:
        os.close(fd)
        raise
    # the reader may go away at any write, or by the closing flush; only a block device syncs
    with _written(f, path, _STREAM_ERRNOS, sync=stat.S_ISBLK(os.fstat(fd).st_mode)):
        yield f


@contextlib.contextmanager
def _written(f: IO[Any], path: str, errnos: set[int], sync: bool) -> Iterator[None]:
    """Close ``f`` after the block, flushed (and fsynced if ``sync``): an OSError with one of
    ``errnos`` in the block, or any in the flush, becomes "cannot write PATH: ..."."""
    try:
        with f:  # closing flushes again, so it can fail too
            try:
                yield
            except OSError as err:
                if err.errno in errnos:
                    raise HelixError(f"cannot write {path}: {_describe(err)}") from err
                raise
            try:
                f.flush()
                if sync:
                    os.fsync(f.fileno())
            except OSError as err:
                raise HelixError(f"cannot write {path}: {_describe(err)}") from err
    except OSError as err:
        if err.errno in errnos:
            raise HelixError(f"cannot write {path}: {_describe(err)}") from err
        raise


@contextlib.contextmanager
def staged_output(path: str | os.PathLike[str]) -> Iterator[str]:
    """The path to give a writer that makes and renames its own temp file (the video
    muxer): a symlink's target; for a FIFO or a device, a file in a private temp directory
    whose bytes are streamed to ``path`` once the writer finished (a muxer may seek, and
    its rename would replace the node)."""
    path = os.fspath(path)
    if not is_stream_target(path):
        yield real_target(path)
        return
    with tempfile.TemporaryDirectory(prefix="helix-") as tmp:
        staged = os.path.join(tmp, os.path.basename(path))
        try:
            yield staged
        except HelixError as err:  # name what the user named, not the staging file
            raise HelixError(str(err).replace(staged, path)) from err
        with open(staged, "rb") as src, atomic_output(path) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
