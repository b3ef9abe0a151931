"""Evidence fusion for English claims: the NLI verdict plus what a small model is blind to, in one probability.

Why: the 22M NLI model rarely notices a name, number or date that the source never mentions (extrinsic
hallucination, most of XSum's errors), while a plain lexical check does; on held-out data the plain mean of NLI
and word overlap already beat NLI alone. This learns that combination per claim instead of fixing it: a
logistic regression over the NLI probabilities at the chosen evidence, word overlap with the evidence and the
whole source, the claim's names and numbers (and dates: months and weekdays are number mentions) missing from
the source, exact and normalised (:mod:`harness.scorers.evidence`), negation on one side only, and claim length.

The head is JSON (``harness/models/fusion/head.json``), trained on claim-level labels from ``train/`` by
``python -m harness.train.fusion`` and chosen on dev; the scorer applies it with ``fusion: true``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.scorers.evidence import SourceIndex, has_negation, name_tokens, number_mentions
from harness.scorers.overlap import content_words

__all__ = ["FEATURES", "HEAD_PATH", "FusionHead", "SourceFacts", "claim_features", "load_fusion_head"]

FEATURES = (
    "logit_entail", "p_contradiction", "p_neutral",
    "overlap_source", "overlap_evidence",
    "n_numbers", "numbers_missing", "any_number_missing",
    "n_names", "names_missing", "share_names_missing", "names_missing_exact",
    "negation_mismatch", "log_claim_words",
)
HEAD_PATH = Path(__file__).resolve().parents[1] / "models" / "fusion" / "head.json"
HEAD_FORMAT = 1
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What the features need from one source document, computed once per pair."""

    index: SourceIndex
    words: frozenset[str]
    """Lower-cased content words (for overlap) of the whole source."""
    exact: frozenset[str]
    """The source's word tokens as written (for the exact name match)."""

    @classmethod
    def of(cls, source: str) -> SourceFacts:
        return cls(SourceIndex([source]), frozenset(content_words(source)), frozenset(_WORD.findall(source)))


def _overlap(claim_words: list[str], vocabulary: frozenset[str] | set[str]) -> float:
    return sum(w in vocabulary for w in claim_words) / len(claim_words) if claim_words else 1.0


def claim_features(claim: str, probs: dict[str, float], evidence: str, source: SourceFacts) -> list[float]:
    """One row (order: :data:`FEATURES`) for a claim, the NLI probabilities at its evidence unit, and the source."""
    p_e = min(max(float(probs.get("entailment", 0.0)), 1e-4), 1 - 1e-4)
    words = content_words(claim)
    numbers = number_mentions(claim)
    names = name_tokens(claim)
    num_missing = sum(not source.index.has_number(n) for n in numbers)
    names_missing = sum(not source.index.has_name(n) for n in names)
    names_missing_exact = sum(n not in source.exact for n in names)
    return [
        math.log(p_e / (1 - p_e)), float(probs.get("contradiction", 0.0)), float(probs.get("neutral", 0.0)),
        _overlap(words, source.words), _overlap(words, set(content_words(evidence))),
        float(len(numbers)), float(num_missing), float(num_missing > 0),
        float(len(names)), float(names_missing), names_missing / len(names) if names else 0.0,
        float(names_missing_exact),
        float(has_negation(claim) != has_negation(evidence)), math.log(max(1, len(claim.split()))),
    ]


class FusionHead:
    """Binary logistic regression on standardised features -> P(the claim is supported)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if spec.get("format") != HEAD_FORMAT:
            raise ValueError(f"fusion head format {spec.get('format')!r} unknown (expected {HEAD_FORMAT})")
        if tuple(spec["features"]) != FEATURES:
            raise ValueError("the fusion head was trained on other features than this code computes; retrain it: "
                             "python -m harness.train.fusion")
        self.spec = spec
        self.mean = np.asarray(spec["mean"], dtype=np.float64)
        self.scale = np.asarray(spec["scale"], dtype=np.float64)
        self.coef = np.asarray(spec["coef"], dtype=np.float64)
        self.intercept = float(spec["intercept"])
        self.version: str = spec.get("version", "unversioned")
        self.sha256 = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def predict(self, rows: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        x = (np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES)) - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.spec, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_fusion_head(path: str | None = None) -> FusionHead:
    """The shipped head (or the one at ``path``)."""
    p = Path(path) if path else HEAD_PATH
    if not p.is_file():
        raise FileNotFoundError(f"fusion head not found: {p} (train it: python -m harness.train.fusion)")
    return FusionHead(json.loads(p.read_text(encoding="utf-8")))
