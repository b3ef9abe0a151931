"""Checks made before any model work: can the run's outputs (run folder, output cache) be written?

A run that computes for an hour and then fails on ``NotADirectoryError`` wastes the hour; these checks
take microseconds and create nothing, so a failed check leaves the disk as it was.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.results.reader import RunError

__all__ = [
    "OutputLocationError",
    "UnsafeWriteError",
    "check_cache_file",
    "check_output_locations",
    "check_writable_folder",
    "link_error",
    "refuse_link",
]


class OutputLocationError(ValueError):
    """An output path that cannot be written; the message is one line naming the path and the setting."""


class UnsafeWriteError(OutputLocationError, RunError):
    """A name harness writes is a symbolic link (or not a regular file/folder): one line naming it. Both an
    :class:`OutputLocationError` (``run``: exit 2) and a :class:`RunError` (``report``, ``history``: exit 2)."""


def link_error(path: Path, what: str) -> UnsafeWriteError:
    return UnsafeWriteError(f"{path}: is a symbolic link where harness writes {what}; harness never writes "
                            "through a link: remove it, or write somewhere else")


def refuse_link(path: Path, what: str = "a file") -> None:
    """Raise :class:`UnsafeWriteError` if ``path`` is a symbolic link (dangling or not)."""
    if path.is_symlink():
        raise link_error(path, what)


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and not p.is_symlink():
        if p.parent == p:
            break
        p = p.parent
    return p


def check_writable_folder(folder: Path, setting: str) -> None:
    """``folder`` exists as a writable folder, or can be created (its nearest existing ancestor is a
    writable folder). Raises :class:`OutputLocationError` otherwise; creates nothing."""
    folder = folder.expanduser()
    existing = _nearest_existing(folder.absolute())
    if existing.is_symlink() and not existing.exists():
        raise OutputLocationError(f"{setting}: {existing} is a broken symbolic link (output folder {folder})")
    if not existing.is_dir():
        what = "is a file" if existing.is_file() else "is not a folder"
        where = "" if existing == folder.absolute() else f" (needed for {folder})"
        raise OutputLocationError(f"{setting}: {existing} {what}, so no folder can be made there{where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputLocationError(f"{setting}: folder {existing} is not writable (needed for {folder})")


def check_output_locations(output_dir: str | None, cache: str | None) -> None:
    """Both places a run writes: the results folder and the sqlite output cache (None = not written)."""
    if output_dir is not None:
        check_writable_folder(Path(output_dir), "output_dir")
    if cache is not None:
        check_cache_file(Path(cache).expanduser())


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISFIFO, "a pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_cache_file(path: Path) -> None:
    """``runtime.cache`` names a regular file, or nothing yet in a writable folder: not a folder, a device
    (``/dev/null``), a pipe or a symbolic link (sqlite would write through it, and its ``-wal``/``-shm``
    files beside it). Raises :class:`OutputLocationError` with one line; creates nothing."""
    for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        refuse_link(p, "the output cache (runtime.cache)")
    if path.is_dir():
        raise OutputLocationError(f"runtime.cache: {path} is a folder; give a file path such as "
                                  f"{path / 'cache.sqlite'}")
    if path.exists():
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise OutputLocationError(f"runtime.cache: {path} is {_kind(mode)}; the output cache is an sqlite "
                                      "file: give a file path such as results/cache.sqlite (or --no-cache)")
        if not os.access(path, os.R_OK | os.W_OK):
            raise OutputLocationError(f"runtime.cache: {path} is not readable and writable")
    check_writable_folder(path.parent, "runtime.cache")
