"""Reusable test doubles: tiny real models (re-exported from :mod:`harness.engine.tiny`) and fake backends.

Other test modules may import from here. Running this file as a script is the kill-and-resume worker
used by ``tests/test_engine_cache.py`` (it needs the repository root on ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.engine.base import ModelInput, Output
from harness.engine.batching import padded_length
from harness.engine.tiny import WORDS, build_tiny_bert, build_tiny_tokenizer, tiny_pair_backend

__all__ = [
    "WORDS",
    "FakeBackend",
    "FakeEncoded",
    "build_tiny_bert",
    "build_tiny_tokenizer",
    "fake_output",
    "make_items",
    "tiny_pair_backend",
]


@dataclass(frozen=True, slots=True)
class FakeEncoded:
    item: ModelInput
    n: int

    def __len__(self) -> int:
        return self.n


def fake_output(item: ModelInput, salt: str = "") -> dict[str, float]:
    """Deterministic pseudo-probability for an item (so reruns and cache hits can be compared exactly)."""
    h = hashlib.sha256(json.dumps([salt, list(item)]).encode()).digest()
    p = int.from_bytes(h[:8], "big") / 2**64
    return {"entailment": p, "other": 1.0 - p}


class OOMError(RuntimeError):
    pass


@dataclass
class FakeBackend:
    """A Backend whose output depends only on the item; records every batch it runs.

    ``oom_above``: raise an out-of-memory error for batches whose padded cost exceeds it (tests the
    back-off). ``delay``: seconds per batch (makes a subprocess slow enough to kill midway).
    ``oom_kind``: "typed" raises ``torch.cuda.OutOfMemoryError``, "message" a RuntimeError saying so.
    """

    key: str = "fake/v1"
    delay: float = 0.0
    oom_above: int | None = None
    oom_kind: str = "message"
    pad_multiple: int = 8
    batches: list[list[ModelInput]] = field(default_factory=list)
    oom_count: int = 0

    @property
    def cache_key(self) -> str:
        return self.key

    def encode(self, item: ModelInput) -> FakeEncoded:
        return FakeEncoded(item, 2 + sum(len(f.split()) for f in item))

    def run_batch(self, batch: Sequence[FakeEncoded]) -> list[Output]:
        cost = len(batch) * padded_length(max(len(e) for e in batch), self.pad_multiple)
        if self.oom_above is not None and cost > self.oom_above:
            self.oom_count += 1
            if self.oom_kind == "typed":
                import torch

                raise torch.cuda.OutOfMemoryError(f"fake: tried to allocate {cost} tokens")
            raise OOMError(f"CUDA out of memory. Tried to allocate {cost} tokens (fake)")
        if self.delay:
            time.sleep(self.delay)
        self.batches.append([e.item for e in batch])
        return [fake_output(e.item, self.key) for e in batch]

    @property
    def computed(self) -> list[ModelInput]:
        return [it for b in self.batches for it in b]


def make_items(n: int, seed: int = 0, dup_every: int = 0) -> list[ModelInput]:
    """``n`` (premise, hypothesis) pairs of varied length; every ``dup_every``-th repeats an earlier one."""
    import random

    rng = random.Random(seed)
    items: list[ModelInput] = []
    for i in range(n):
        if dup_every and i and i % dup_every == 0:
            items.append(items[rng.randrange(len(items))])
            continue
        a = " ".join(rng.choice(WORDS) for _ in range(rng.choice((3, 8, 20, 40, 90))))
        b = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12)))
        items.append((a, b))
    return items


def _worker(argv: list[str]) -> int:
    """Run the engine with a slow fake backend and a persistent cache; print outputs as JSON at the end."""
    from harness.engine.cache import OutputCache
    from harness.engine.runner import Engine

    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--budget", type=int, default=64)
    args = ap.parse_args(argv)
    with OutputCache(args.cache) as cache:
        engine = Engine(args.budget, cache=cache, window=32)
        outs = engine.run(FakeBackend(delay=args.delay), make_items(args.n, seed=1, dup_every=7))
    json.dump(outs, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1:]))
