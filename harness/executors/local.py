"""The local executor: blocks scored one after another in this process, with the output cache."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness import stages
from harness.config import RunConfig
from harness.executors.blocks import Block

__all__ = ["check_available", "run_blocks"]


def check_available(cfg: RunConfig) -> None:
    """Nothing to check: the local executor needs no extra package."""


def run_blocks(
    cfg: RunConfig, blocks: Iterable[Block], info: dict[str, Any]
) -> Iterator[tuple[Block, stages.BlockOutput]]:
    """Score ``blocks`` in order; models are loaded when the first block arrives (not at all on a resume
    that finds every block done). ``info`` receives ``load_models`` seconds."""
    ctx: stages.StageContext | None = None
    cache = None
    try:
        for block in blocks:
            if ctx is None:
                if cfg.runtime.cache:
                    from harness.engine.cache import OutputCache

                    cache = OutputCache(Path(cfg.runtime.cache))
                ctx = stages.build_context(cfg, cache=cache)
                info["load_models"] = ctx.load_seconds
            yield block, stages.score_block(ctx, block.pairs)
    finally:
        if cache is not None:
            cache.close()
