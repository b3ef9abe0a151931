"""Progress for long stages: a rich bar on a terminal, plain lines in logs.

A bar redrawn in place means nothing in a file, so when the stream is not a terminal (stdout/stderr
redirected, CI, ``nohup``) a :class:`LineProgress` prints one line at most every ``every_seconds`` and
whenever another ``every_percent`` of the work is done (at most one line per ``min_seconds``), plus a
last line when the stage ends. Each line says the stage, done/total, the rate and the time left::

    [progress] nli: 1,200/5,000 (24%) 85.3/s, 44s left

Lines go to stderr by default (diagnostics, like tqdm), so ``> results.txt`` keeps a clean summary while
``> run.log 2>&1`` gets both. ``HARNESS_PROGRESS_SECONDS`` changes the time interval.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from harness.textsafe import visible

__all__ = ["LineProgress", "Reporter", "format_duration", "progress"]

Reporter = Callable[[int], None]
"""``advance(n)``: n more items are done."""


def format_duration(seconds: float) -> str:
    """``7s``, ``3m05s``, ``2h04m`` — short enough for a log line."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class LineProgress:
    """Plain progress lines for a stage of ``total`` items; ``clock`` is injectable for tests."""

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        stream: IO[str] | None = None,
        clock: Callable[[], float] | None = None,
        every_seconds: float = 10.0,
        every_percent: float = 10.0,
        min_seconds: float = 1.0,
    ) -> None:
        self.total = max(0, total)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock or time.monotonic
        self.every_seconds = every_seconds
        self.every_percent = every_percent
        self.min_seconds = min_seconds
        self.done = 0
        self.lines = 0
        self._start = self.clock()
        self._last_time = self._start
        self._last_bucket = 0

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        """Set the absolute count done; prints a line when one is due."""
        self.done = min(done, self.total) if self.total else done
        now = self.clock()
        since = now - self._last_time
        bucket = int(100 * self.done / self.total // self.every_percent) if self.total else 0
        due = since >= self.every_seconds or (bucket > self._last_bucket and since >= self.min_seconds)
        if due and self.done < self.total:
            self._emit(now)
            self._last_bucket = bucket

    def close(self) -> None:
        """The stage's last line (only when the stage was long enough to have printed, or to be worth it)."""
        now = self.clock()
        if self.lines or now - self._start >= self.min_seconds:
            self._emit(now, final=True)

    def line(self, now: float, final: bool = False) -> str:
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        if final:
            tail = f"done in {format_duration(elapsed)}"
        elif rate > 0 and self.total:
            tail = f"{format_duration((self.total - self.done) / rate)} left"
        else:
            tail = "time left unknown"
        desc = visible(self.desc, one_line=True)
        return f"[progress] {desc}: {self.done:,}/{self.total:,}{pct} {rate:,.1f}/s, {tail}"

    def _emit(self, now: float, final: bool = False) -> None:
        print(self.line(now, final), file=self.stream, flush=True)
        self.lines += 1
        self._last_time = now


_LIVE: Any = None
"""The rich Progress on screen, if any (rich allows one live display at a time)."""


def _interval() -> float:
    try:
        return max(0.1, float(os.environ.get("HARNESS_PROGRESS_SECONDS", "10")))
    except ValueError:
        return 10.0


@contextlib.contextmanager
def progress(total: int, desc: str, *, enabled: bool = True, stream: IO[str] | None = None) -> Iterator[Reporter]:
    """An ``advance(n)`` callable for a stage of ``total`` items: a transient rich bar when ``stream``
    (default stderr) is a terminal, :class:`LineProgress` lines otherwise, nothing when disabled."""
    if not enabled or total <= 0:
        yield lambda n: None
        return
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        global _LIVE
        if _LIVE is not None:  # a stage inside a stage (the engine inside the checks): one more bar, same display
            outer = _LIVE
            task = outer.add_task(visible(desc, one_line=True), total=total)
            try:
                yield lambda n: outer.advance(task, n)
            finally:
                outer.remove_task(task)
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(  # the description names scorers and models from the config: text, never markup
            TextColumn("{task.description}", style="progress.description", markup=False), BarColumn(),
            MofNCompleteColumn(), TimeRemainingColumn(),
            transient=True, console=Console(file=stream),
        ) as bar:
            _LIVE = bar
            try:
                task = bar.add_task(visible(desc, one_line=True), total=total)
                yield lambda n: bar.advance(task, n)
            finally:
                _LIVE = None
        return
    lines = LineProgress(total, desc, stream=stream, every_seconds=_interval())
    yield lines.advance
    lines.close()  # not on an exception: an interrupted stage is not "done"
