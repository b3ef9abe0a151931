"""The engine: the one place where model inputs are deduplicated, cached, sorted and batched.

Pipeline for one :meth:`Engine.run` call::

    dedup -> cache lookup -> pre-sort by character length -> windows of ``window`` items
    -> [background thread] tokenise window k+1 while the device runs window k
    -> per window: exact length sort + token-budget batches -> run_batch -> commit to cache per batch
    -> restore input order

Tokenising in a background thread overlaps with inference because fast tokenizers and torch kernels both
release the GIL. On an out-of-memory error the failing batch is split in two, the budget is halved for
everything that has not run yet, and no item is ever dropped or run twice.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from harness.engine.base import Backend, Encoded, ModelInput, Output
from harness.engine.batching import dedup, padded_length, plan_batches

__all__ = ["Engine", "EngineStats", "encode_all"]


class EngineStats:
    """Counters for one engine over its lifetime (reported in run.json and by the benchmark)."""

    def __init__(self) -> None:
        self.inputs = 0
        self.unique = 0
        self.cache_hits = 0
        self.computed = 0
        self.forward_calls = 0
        self.real_tokens = 0
        self.padded_tokens = 0
        self.oom_retries = 0
        self.effective_budget = 0
        self.encode_seconds = 0.0
        self.forward_seconds = 0.0
        self.wait_seconds = 0.0

    @property
    def useful_fraction(self) -> float:
        """Real tokens / padded tokens over every forward call that succeeded."""
        return self.real_tokens / self.padded_tokens if self.padded_tokens else 1.0

    def as_dict(self) -> dict[str, Any]:
        d = dict(vars(self))
        d["useful_fraction"] = self.useful_fraction
        return d


def encode_all(backend: Backend, items: Sequence[ModelInput]) -> list[Encoded]:
    """Tokenise many inputs, in one bulk call when the backend offers ``encode_many`` (fast tokenizers
    batch in Rust across cores; a Python loop over ``encode`` is ~10x slower)."""
    bulk = getattr(backend, "encode_many", None)
    if bulk is not None:
        encoded = list(bulk(items))
        if len(encoded) != len(items):
            raise RuntimeError(f"encode_many returned {len(encoded)} encodings for {len(items)} inputs")
        return encoded
    return [backend.encode(it) for it in items]


def _char_length(item: ModelInput) -> int:
    return sum(len(field) for field in item)


class Engine:
    """Runs a :class:`Backend` over a flat list of inputs with dedup, cache, length sort and token budget.

    ``cache`` is any object with ``get_many(key, items) -> dict[item, output]`` and
    ``put_many(key, dict[item, output])`` (see :mod:`harness.engine.cache`); ``None`` disables caching.
    ``token_budget`` bounds ``rows * padded_length`` per forward call; ``window`` is how many unique inputs
    are tokenised and length-sorted together (bigger = tighter padding, later first batch);
    ``prefetch`` tokenises the next window in a background thread; ``min_fill`` keeps every batch at
    least that fraction real tokens (see :func:`~harness.engine.batching.plan_batches`).

    Outputs are always returned as their JSON round-trip (lists, not tuples), so a cached and a freshly
    computed output are indistinguishable.
    """

    def __init__(
        self,
        token_budget: int = 8192,
        *,
        cache: Any | None = None,
        progress: bool = False,
        max_batch_size: int | None = None,
        pad_multiple: int = 8,
        window: int = 4096,
        prefetch: bool = True,
        min_fill: float = 0.9,
    ) -> None:
        if token_budget < 1 or window < 1 or pad_multiple < 1:
            raise ValueError("token_budget, window and pad_multiple must be positive")
        self.token_budget = token_budget
        self.cache = cache
        self.progress = progress
        self.max_batch_size = max_batch_size
        self.pad_multiple = pad_multiple
        self.window = window
        self.prefetch = prefetch
        self.min_fill = min_fill
        self.stats = EngineStats()
        self._budget = token_budget
        self.stats.effective_budget = token_budget

    @property
    def effective_budget(self) -> int:
        """The token budget after any out-of-memory back-off (it never grows back within an engine)."""
        return self._budget

    def run(self, backend: Backend, inputs: Sequence[ModelInput], desc: str = "inference") -> list[Output]:
        """One output per input, in input order; each distinct input is computed at most once."""
        uniques, index = dedup(list(inputs))
        self.stats.inputs += len(inputs)
        self.stats.unique += len(uniques)
        results: dict[ModelInput, Output] = {}
        key = backend.cache_key
        cached: dict[ModelInput, Output] = {}
        if self.cache is not None and uniques:
            cached = self.cache.get_many(key, uniques)
        if len(cached) < len(uniques):
            # Windows and batches are planned over *all* unique inputs, cached or not, so that a resumed
            # run computes exactly the batches a fresh run would (same shapes -> bit-identical floats);
            # fully cached windows are not even tokenised.
            # Longest first: an OOM shows up on the first batch, not after an hour.
            ordered = sorted(uniques, key=_char_length, reverse=True)
            windows = [ordered[i : i + self.window] for i in range(0, len(ordered), self.window)]
            windows = [w for w in windows if any(u not in cached for u in w)]
            with self._progress(len(uniques) - len(cached), desc) as advance, self._pool(len(windows)) as pool:
                pending: Future[list[Encoded]] | None = None
                for k, window in enumerate(windows):
                    if pending is None:
                        encoded = self._encode(backend, window)
                    else:
                        t0 = time.perf_counter()
                        encoded = pending.result()
                        self.stats.wait_seconds += time.perf_counter() - t0
                    pending = None
                    if pool is not None and k + 1 < len(windows):
                        pending = pool.submit(self._encode, backend, windows[k + 1])
                    self._run_window(backend, key, window, encoded, results, advance, cached)
        for item, out in cached.items():
            results.setdefault(item, out)
        self.stats.cache_hits += len(cached)
        self.stats.computed += len(uniques) - len(cached)
        return [results[uniques[k]] for k in index]

    def _encode(self, backend: Backend, items: Sequence[ModelInput]) -> list[Encoded]:
        t0 = time.perf_counter()
        encoded = encode_all(backend, items)
        self.stats.encode_seconds += time.perf_counter() - t0
        return encoded

    def _plan(self, lengths: Sequence[int], positions: Sequence[int]) -> list[tuple[int, ...]]:
        plan = plan_batches(
            [lengths[p] for p in positions], self._budget, multiple=self.pad_multiple,
            max_batch_size=self.max_batch_size, min_fill=self.min_fill,
        )
        return [tuple(positions[i] for i in batch) for batch in plan.batches]

    def _run_window(
        self,
        backend: Backend,
        key: str,
        items: Sequence[ModelInput],
        encoded: Sequence[Encoded],
        results: dict[ModelInput, Output],
        advance: Callable[[int], None],
        cached: Mapping[ModelInput, Output] | None = None,
    ) -> None:
        """Run the planned batches of one window, each without its cached items. The plan covers cached
        items too, so a resumed run (whose cache holds whole batches) runs exactly a fresh run's batches."""
        lengths = [len(e) for e in encoded]
        queue = deque(self._plan(lengths, range(len(items))))
        cached = cached or {}
        while queue:
            batch = tuple(i for i in queue.popleft() if items[i] not in cached)
            if not batch:
                continue
            t0 = time.perf_counter()
            try:
                outs = backend.run_batch([encoded[i] for i in batch])
            except Exception as exc:
                from harness.engine.device import is_oom_error

                if not is_oom_error(exc) or len(batch) == 1:
                    raise
                self._back_off()
                rest = [i for b in queue for i in b]
                half = len(batch) // 2
                queue = deque([batch[:half], batch[half:], *self._plan(lengths, rest)])
                continue
            finally:
                self.stats.forward_seconds += time.perf_counter() - t0
            if len(outs) != len(batch):
                raise RuntimeError(f"backend returned {len(outs)} outputs for {len(batch)} inputs")
            outs = json.loads(json.dumps(list(outs), allow_nan=True))
            self.stats.forward_calls += 1
            n_real = sum(lengths[i] for i in batch)
            self.stats.real_tokens += n_real
            self.stats.padded_tokens += len(batch) * padded_length(max(lengths[i] for i in batch),
                                                                   self.pad_multiple)
            fresh = {items[i]: o for i, o in zip(batch, outs, strict=True)}
            results.update(fresh)
            if self.cache is not None:
                self.cache.put_many(key, fresh)
            advance(len(batch))

    def _back_off(self) -> None:
        """Halve the budget and release cached device blocks so the retry has room."""
        self._budget = max(self.pad_multiple, self._budget // 2)
        self.stats.effective_budget = self._budget
        self.stats.oom_retries += 1
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover - torch is a dependency, but the engine itself is pure
            pass

    @contextlib.contextmanager
    def _pool(self, n_windows: int) -> Iterator[ThreadPoolExecutor | None]:
        if not self.prefetch or n_windows < 2:
            yield None
            return
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-tokenise")
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    @contextlib.contextmanager
    def _progress(self, total: int, desc: str) -> Iterator[Callable[[int], None]]:
        """A bar on a terminal, plain lines in logs (see :mod:`harness.engine.progress`)."""
        from harness.engine.progress import progress

        with progress(total, desc, enabled=self.progress) as advance:
            yield advance
