"""The scorer extension point: a :class:`Scorer` turns segmented pairs into claim scores.

Scorers never batch: they flatten their work into model inputs and hand it to the engine in one call
per model, then map outputs back to claims. Register new scorer types with :func:`scorer`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from harness.engine import Engine
from harness.registry import Registry
from harness.results.schema import ModelInfo
from harness.types import ClaimScore, SegmentedPair

__all__ = ["SCORERS", "ClaimKey", "Scorer", "ScorerContext", "build_scorer", "scorer"]

ClaimKey = tuple[str, int]
"""(pair id, claim index)."""


@dataclass(frozen=True, slots=True)
class ScorerContext:
    """What a scorer factory gets besides its own config: where and how to run models."""

    device: str = "cpu"
    dtype: str = "fp32"
    """Resolved dtype name: fp32 | bf16 | fp16."""
    backend: str = "torch"
    """Resolved ``runtime.backend``: torch | onnx | onnx-int8 (pair classifiers only; ``auto`` is decided by
    :func:`harness.engine.device.resolve_backend` before scorers are built)."""
    export_dir: str | None = None
    """Folder that keeps exported ONNX graphs between runs (None: a temporary folder per process)."""


@runtime_checkable
class Scorer(Protocol):
    name: str
    type: str

    def languages(self) -> frozenset[str] | None:
        """Languages this scorer handles (ISO 639-1); None = any language."""
        ...

    def models(self) -> list[ModelInfo]:
        """Models used, with ids, revisions and weight hashes, for run.json."""
        ...

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        """Score every checkable claim of every pair; keys are (pair id, claim index)."""
        ...


ScorerFactory = Callable[[Any, ScorerContext], Scorer]
SCORERS: Registry[ScorerFactory] = Registry("scorer type")


def scorer(type_name: str) -> Callable[[ScorerFactory], ScorerFactory]:
    """Decorator: register a factory ``(config, context) -> Scorer`` under a config ``type``."""
    deco: Callable[[ScorerFactory], ScorerFactory] = SCORERS.register(type_name)
    return deco


SCORERS.register("nli", "harness.scorers.nli:build_nli_scorer")
SCORERS.register("overlap", "harness.scorers.overlap:build_overlap_scorer")
SCORERS.register("qa", "harness.scorers.qa:build_qa_scorer")
SCORERS.register("crosslingual", "harness.scorers.crosslingual:build_crosslingual_scorer")
SCORERS.register("summac_zs", "harness.scorers.summac:build_summac_zs_scorer")
SCORERS.register("summac_conv", "harness.scorers.summac:build_summac_conv_scorer")
SCORERS.register("minicheck", "harness.scorers.minicheck:build_minicheck_scorer")
SCORERS.register("alignscore", "harness.scorers.alignscore:build_alignscore_scorer")
SCORERS.register("hhem", "harness.scorers.hhem:build_hhem_scorer")


def build_scorer(config: Any, context: ScorerContext) -> Scorer:
    return SCORERS.get(config.type)(config, context)
