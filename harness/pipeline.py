"""One run, end to end (kept for callers of ``harness.pipeline.run``).

The run is now stages over blocks of pairs (:mod:`harness.stages`) driven by an executor
(:mod:`harness.executors`: ``local`` or ``ray``, chosen by ``runtime.executor``).
"""

from __future__ import annotations

from harness.executors import RunResult, run

__all__ = ["RunResult", "run"]
