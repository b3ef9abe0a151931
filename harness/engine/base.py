"""The contract between scorers and the inference engine.

A :class:`Backend` wraps one loaded model for one task (pair classification, span QA, generation).
It owns tokenisation and the forward pass; the engine owns everything about *which* inputs go
together (dedup, cache, length sort, token-budget batches, order restore). Scorers hand the engine
flat lists of :data:`ModelInput` and get one :data:`Output` per input back, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["Backend", "BulkEncoder", "Encoded", "ModelInput", "Output"]

ModelInput = tuple[str, ...]
"""One model call's text fields, e.g. (premise, hypothesis), (question, context) or (prompt,)."""

Output = Any
"""A JSON-serialisable result for one input (so that it can be cached): floats, lists, dicts, str."""


@runtime_checkable
class Encoded(Protocol):
    """A tokenised input; the engine only needs its length (in tokens) to sort and budget."""

    def __len__(self) -> int: ...


E = TypeVar("E", bound=Encoded)


@runtime_checkable
class Backend(Protocol[E]):
    """A model for one task: batch in, batch out. Never sees claims, pairs or scorers."""

    @property
    def cache_key(self) -> str:
        """Identity of everything that changes outputs: model id, revision/weight hash, dtype,
        max length, task and the backend's output-format version."""
        ...

    def encode(self, item: ModelInput) -> E:
        """Tokenise one input (truncated to the model window); ``len()`` is its token count."""
        ...

    def run_batch(self, batch: Sequence[E]) -> list[Output]:
        """Run one padded batch; one output per encoded input, in the same order."""
        ...


@runtime_checkable
class BulkEncoder(Protocol):
    """Optional extra a Backend may implement: tokenise many inputs in one call.

    The engine uses it when present (fast tokenizers batch in Rust, ~10x faster than a Python loop) and
    calls it from a background thread while ``run_batch`` runs on the main thread, so it must not share
    mutable tokenizer state with ``run_batch``."""

    def encode_many(self, items: Sequence[ModelInput]) -> list[Encoded]:
        """One encoding per item, in order (same result as ``[encode(x) for x in items]``)."""
        ...
