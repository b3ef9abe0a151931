"""The contract between scorers and the inference engine.

A :class:`Backend` wraps one loaded model for one task (pair classification, span QA, generation).
It owns tokenisation and the forward pass; the engine owns everything about *which* inputs go
together (dedup, cache, length sort, token-budget batches, order restore). Scorers hand the engine
flat lists of :data:`ModelInput` and get one :data:`Output` per input back, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["Backend", "Encoded", "ModelInput", "Output"]

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
