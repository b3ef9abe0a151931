"""``python -m harness history``: the runs under ``results/`` and how a metric moved (see
:mod:`harness.results.index`, which keeps the sqlite index)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results.index import history_main

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    return history_main(argv)
