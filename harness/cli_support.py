"""What ``compare`` and ``report`` share: usage errors as one line with exit 2, error lines that show data as
text, and output files checked before any work and written whole (a temp file beside them, then a rename).

Exit codes as everywhere: 2 for a usage error or an output location that cannot be written, 1 for a failure
of the tool itself. Every error is one line on stderr naming the option and the file.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from harness.textsafe import line

__all__ = ["OneLineParser", "OutputFileError", "UsageError", "at_least", "check_output_file", "fraction",
           "print_error", "write_output_file"]


class UsageError(ValueError):
    """A bad command line (missing argument, bad option value): one line, exit 2."""


class OutputFileError(UsageError):
    """An output file that cannot be written (a folder, a device, under a file, no permission): exit 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` (one line, pointing at ``--help``) instead of printing the
    usage block and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def at_least(minimum: int) -> type[int]:
    """An argparse ``type`` for an integer option that must be ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    parse.__name__ = "int"
    return parse  # type: ignore[return-value]


def fraction(text: str) -> float:
    """An argparse ``type`` for a number strictly between 0 and 1 (a significance level)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive); got {text}")
    return value


def print_error(prefix: str, message: object) -> None:
    """``prefix`` (fixed markup, e.g. ``[red]error:[/red]``) and the message, shown as text on one line."""
    Console(stderr=True).print(line(prefix + " {}", message, one_line=True), highlight=False, soft_wrap=True)


def check_output_file(path: Path, option: str) -> None:
    """Refuse, before any work and creating nothing, an output file that cannot be written as a file: an
    existing folder, something that is not a regular file (``/dev/full``, a FIFO), a path under a file, or
    a folder without write permission."""
    path = path.expanduser()
    if path.is_dir():
        raise OutputFileError(f"{option} {path}: is a folder; give a file path (e.g. {path / 'out'}…)")
    if path.exists() and not path.is_file():
        raise OutputFileError(f"{option} {path}: exists and is not a regular file")
    folder = path.absolute().parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputFileError(f"{option} {path}: {folder} is not a folder, so the file cannot be written there")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{option} {path}: folder {folder} is not writable")


def write_output_file(path: Path, text: str, option: str) -> None:
    """Write ``text`` whole: a temp file in the target folder, then a rename; nothing is left on failure.
    An I/O error (disk full, permission, a read-only place) is an :class:`OutputFileError`."""
    from harness.results.writer import atomic_write_text

    check_output_file(path, option)
    try:
        atomic_write_text(path.expanduser(), text)
    except OSError as e:
        raise OutputFileError(f"{option} {path}: cannot be written ({e.strerror or type(e).__name__})") from None
