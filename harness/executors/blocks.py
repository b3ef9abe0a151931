"""Blocks of input pairs: the unit both executors score, the writer writes and a resumed run skips."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from harness.config import RunConfig
from harness.types import Pair, content_hash

__all__ = ["Block", "block_digest", "iter_blocks", "pair_from_json", "pair_to_json"]


def pair_to_json(p: Pair) -> dict[str, Any]:
    return {"id": p.id, "source": p.source, "rewrite": p.rewrite, "dataset": p.dataset, "label": p.label,
            "group": p.group, "meta": [list(kv) for kv in p.meta]}


def pair_from_json(d: dict[str, Any]) -> Pair:
    return Pair(id=d["id"], source=d["source"], rewrite=d["rewrite"], dataset=d["dataset"], label=d["label"],
                group=d["group"], meta=tuple(tuple(kv) for kv in d.get("meta", ())))


def block_digest(pairs: Sequence[Pair]) -> str:
    """Digest of everything about the pairs that reaches the results (ids, texts, labels, groups)."""
    return content_hash(*(json.dumps([p.id, p.dataset, p.content_hash, p.label, p.group], ensure_ascii=False)
                          for p in pairs))


@dataclass(frozen=True)
class Block:
    """``block_pairs`` consecutive pairs of the run's input order (datasets in config order)."""

    index: int
    pairs: Sequence[Pair]
    digest: str
    """:func:`block_digest` of the pairs: a finished block is reused only for the same input."""

    def without_pairs(self) -> Block:
        """The block's identity alone (what the driver keeps while the pairs are elsewhere)."""
        return Block(self.index, (), self.digest)


def iter_blocks(cfg: RunConfig) -> Iterator[Block]:
    """The run's pairs, read lazily, in blocks of ``runtime.block_pairs``."""
    from harness.data import iter_pairs

    size = cfg.runtime.block_pairs
    index, buf = 0, []
    for dcfg in cfg.data:
        pairs, _ = iter_pairs(dcfg)
        for p in pairs:
            buf.append(p)
            if len(buf) == size:
                yield Block(index, buf, block_digest(buf))
                index, buf = index + 1, []
    if buf:
        yield Block(index, buf, block_digest(buf))
