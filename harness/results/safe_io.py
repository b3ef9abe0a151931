"""Writes that never follow a symbolic link: every file harness creates in an output folder goes through here.

In a shared results folder another user can plant a link at a name harness is about to write (the work
folder's ``lock``, a block's temp file, ``report.html.tmp``); written through, the link would empty or
overwrite whatever it points at. So:

* new files are created exclusively (``O_CREAT|O_EXCL|O_NOFOLLOW``): :func:`open_new`;
* files that replace others are written to a temp file made by :func:`tempfile.mkstemp` in the target's own
  folder (random name, exclusive, no link followed) and renamed over the target (``os.replace`` replaces a
  link, it never writes through one): :func:`atomic_file`, :func:`atomic_write_bytes`, :func:`atomic_write_text`;
* the lock file is opened without ``O_TRUNC`` and with ``O_NOFOLLOW``: :func:`open_lock` (a log to append to
  likewise: :func:`open_append`);
* folders harness owns are made with ``mkdir`` and must be real folders: :func:`ensure_dir`.

An existing link at a name harness owns is an error naming it (:class:`UnsafeWriteError`, exit 2), never
silently replaced: it is either a mistake or an attack, and both deserve a look.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from harness.results.preflight import UnsafeWriteError, link_error, refuse_link

__all__ = ["UnsafeWriteError", "atomic_file", "atomic_write_bytes", "atomic_write_text", "ensure_dir",
           "open_append", "open_lock", "open_new", "refuse_link", "shared_mode"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def ensure_dir(path: Path, what: str = "a folder") -> Path:
    """``path`` as a real folder: made if absent (its parent must exist); a link or a file there is an error."""
    try:
        os.mkdir(path)
    except FileExistsError:
        refuse_link(path, what)
        if not path.is_dir():
            raise UnsafeWriteError(f"{path}: is not a folder, but harness keeps {what} there; move it away") from None
    return path


def open_new(path: Path, what: str = "a file") -> BinaryIO:
    """A new file opened for binary writing; fails if anything (file, link, folder) already has the name."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666)
    except FileExistsError:
        refuse_link(path, what)
        raise
    return os.fdopen(fd, "wb")


def open_lock(path: Path) -> BinaryIO:
    """The lock file at ``path``, created if absent, never truncated and never reached through a link."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC, 0o666)
    except OSError as e:
        if path.is_symlink():
            raise link_error(path, "its lock file") from None
        raise UnsafeWriteError(f"{path}: cannot open the lock file ({e.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeWriteError(f"{path}: is not a regular file, but harness keeps its lock file there; remove it")
    return os.fdopen(fd, "r+b", buffering=0)


def open_append(path: Path, what: str = "a log") -> BinaryIO:
    """``path`` opened for appending (created private if absent), never through a link, only a regular file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | _NOFOLLOW | _CLOEXEC, 0o600)
    except OSError as e:
        if path.is_symlink():
            raise link_error(path, what) from None
        raise UnsafeWriteError(f"{path}: cannot open {what} ({e.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeWriteError(f"{path}: is not a regular file, but harness writes {what} there; remove it")
    return os.fdopen(fd, "ab")


def _umask() -> int:
    """The process umask (read by setting it and putting it back: there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shared_mode(fd_or_path: int | Path, folder: bool = False) -> None:
    """Give a file or folder made by ``mkstemp``/``mkdtemp`` (private, 0600/0700) the mode a plain create would
    have had under the umask, so run folders and reports in a shared results folder stay readable by others."""
    mode = (0o777 if folder else 0o666) & ~_umask()
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, mode)
    else:
        os.chmod(fd_or_path, mode, follow_symlinks=False)


@contextlib.contextmanager
def atomic_file(path: Path, what: str = "a file") -> Iterator[BinaryIO]:
    """Write ``path`` all at once: yields a temp file beside it (``mkstemp``), synced and renamed over ``path``
    when the block ends; on an error the temp file is removed and ``path`` is untouched."""
    refuse_link(path, what)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        shared_mode(fd)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes, what: str = "a file") -> None:
    with atomic_file(path, what) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str, what: str = "a file") -> None:
    """``text`` as UTF-8 at ``path`` (its folder is made if missing), atomically and through no link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"), what)
