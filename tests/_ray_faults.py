"""Fault injection for the Ray executor tests, installed in every Ray worker by ``worker_process_setup_hook``.

The first worker to score a block containing the pair ``kill-actor-once`` creates a marker file and dies
with ``os._exit`` (as a node or OOM kill would); Ray must restart the actor and retry the block. A block with
the pair ``kill-actor-always`` kills every actor that scores it (a block that crashes its worker every time).
"""

from __future__ import annotations

import os
from pathlib import Path


def install() -> None:
    import harness.stages as stages

    real = stages.score_block
    marker = Path(os.environ["HARNESS_TEST_KILL_MARKER"])

    def score_block(ctx, pairs):  # type: ignore[no-untyped-def]
        if any(p.id == "kill-actor-always" for p in pairs):
            os._exit(1)
        if any(p.id == "kill-actor-once" for p in pairs):
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return real(ctx, pairs)
            os.close(fd)
            os._exit(1)
        return real(ctx, pairs)

    stages.score_block = score_block
