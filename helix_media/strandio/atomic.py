"""Atomic file output: a user-visible file is either complete or untouched.

A crash, an exception or Ctrl-C half-way through writing must never leave a truncated
container or FASTA behind that looks like a valid result, nor clobber the previous one.
So everything is written to a temporary file in the destination's directory (same
filesystem, so the final rename is atomic), fsynced, and renamed over the target only when
the writing block finished without an exception.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from typing import IO, Any

from helix_media.errors import HelixError

_WRITE_MODES = {"w", "wt", "wb"}
# Errors a write() inside the block can only have got from the output file itself.
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _describe(err: OSError) -> str:
    return err.strerror or str(err)


def check_target(path: str | os.PathLike[str]) -> None:
    """Raise HelixError now if ``path`` clearly cannot be written, e.g. before a long encode.

    Catches the mistakes users actually make: a directory as output, a missing or
    unwritable directory. (Writing can still fail later, e.g. on a full disk.)
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise HelixError(f"cannot write {path}: it is a directory")
    directory = os.path.dirname(path) or "."
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


def _create_temp(path: str) -> tuple[str, int]:
    """Create a fresh temp file next to ``path``; permissions follow the umask like open()."""
    directory, name = os.path.split(path)
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
    """
    if mode not in _WRITE_MODES:
        raise ValueError(f"atomic_output mode must be one of {sorted(_WRITE_MODES)}, not {mode!r}")
    path = os.fspath(path)
    check_target(path)
    tmp, fd = _create_temp(path)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        if "b" in mode:
            f: IO[Any] = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding or "utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    try:
        try:
            with f:  # closing flushes again: a full disk can fail there too
                try:
                    yield f
                except OSError as err:
                    if err.errno in _FULL_ERRNOS:
                        raise HelixError(f"cannot write {path}: {_describe(err)}") from err
                    raise
                try:
                    f.flush()
                    os.fsync(f.fileno())
                except OSError as err:
                    raise HelixError(f"cannot write {path}: {_describe(err)}") from err
        except OSError as err:
            if err.errno in _FULL_ERRNOS:
                raise HelixError(f"cannot write {path}: {_describe(err)}") from err
            raise
        try:
            os.replace(tmp, path)
        except OSError as err:
            raise HelixError(f"cannot write {path}: {_describe(err)}") from err
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(os.path.dirname(path) or ".")
