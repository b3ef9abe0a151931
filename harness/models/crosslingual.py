"""The shipped cross-lingual entailment judge: a small trained head over encoder and evidence features.

For one (source passage, claim) it gives P(entailment), P(neutral), P(contradiction). Inputs are the
multilingual encoder's cosine between passage and claim (and how that passage ranks in the document)
plus language-independent evidence from :mod:`harness.scorers.evidence`: numbers, dates and names of
the claim missing from the passage or from the whole document, and negation present on one side only.
Similarity finds the right passage; the evidence features see what changed in it.

The head is multinomial logistic regression on standardised features, stored as JSON in
``harness/models/crosslingual/head.json`` (see the model card beside it) and trained with
``python -m harness train configs/train_crosslingual.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.scorers.evidence import SourceIndex, has_negation, name_tokens, number_mentions, order_discordance

__all__ = [
    "CLASSES",
    "FEATURES",
    "HEAD_PATH",
    "ClaimEvidence",
    "CrossLingualHead",
    "claim_evidence",
    "features",
    "load_head",
]

CLASSES = ("entailment", "neutral", "contradiction")
FEATURES = (
    "cos", "cos_gap", "cos_best", "cos_second_gap",
    "n_numbers", "numbers_missing_passage", "numbers_missing_document", "any_number_missing_passage",
    "n_names", "names_missing_passage", "names_missing_document", "share_names_missing_passage",
    "negation_claim", "negation_passage", "negation_mismatch",
    "log_claim_words", "log_length_ratio",
    "order_discordance", "log_ordered_pairs",
)
HEAD_PATH = Path(__file__).parent / "crosslingual" / "head.json"
HEAD_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ClaimEvidence:
    """What the features need from a claim, computed once per claim (not once per passage)."""

    names: tuple[str, ...]
    numbers: tuple[Any, ...]
    anchors: tuple[str, ...]
    """Distinct names in claim order (for the word-order feature)."""
    negation: bool
    words: int


def claim_evidence(claim: str) -> ClaimEvidence:
    names = tuple(name_tokens(claim))
    numbers = tuple(number_mentions(claim))
    anchors = tuple(dict.fromkeys(names))  # names only: where a date goes in a sentence differs by language
    return ClaimEvidence(names, numbers, anchors, has_negation(claim), max(1, len(claim.split())))


def features(
    ev: ClaimEvidence,
    passage: str,
    passage_index: SourceIndex,
    document_index: SourceIndex,
    *,
    cos: float,
    cos_best: float,
    cos_second: float,
) -> list[float]:
    """One feature row (order: :data:`FEATURES`) for a (passage, claim)."""
    n_num = len(ev.numbers)
    num_miss_p = sum(not passage_index.has_number(n) for n in ev.numbers)
    num_miss_d = sum(not document_index.has_number(n) for n in ev.numbers)
    n_names = len(ev.names)
    names_miss_p = sum(not passage_index.has_name(n) for n in ev.names)
    names_miss_d = sum(not document_index.has_name(n) for n in ev.names)
    neg_p = has_negation(passage)
    discordance, ordered = order_discordance(ev.anchors, passage)
    p_words = max(1, len(passage.split()))
    return [
        cos, cos_best - cos, cos_best, cos_best - cos_second,
        float(n_num), float(num_miss_p), float(num_miss_d), float(num_miss_p > 0),
        float(n_names), float(names_miss_p), float(names_miss_d), names_miss_p / n_names if n_names else 0.0,
        float(ev.negation), float(neg_p), float(ev.negation != neg_p),
        math.log(ev.words), math.log(ev.words / p_words),
        discordance, math.log1p(ordered),
    ]


class CrossLingualHead:
    """Multinomial logistic regression: standardised features -> (P(e), P(n), P(c))."""

    def __init__(self, spec: dict[str, Any]) -> None:
        if spec.get("format") != HEAD_FORMAT:
            raise ValueError(f"cross-lingual head format {spec.get('format')!r} unknown (expected {HEAD_FORMAT})")
        if tuple(spec["features"]) != FEATURES or tuple(spec["classes"]) != CLASSES:
            raise ValueError("cross-lingual head was trained on other features or classes than this code computes")
        self.spec = spec
        self.mean = np.asarray(spec["mean"], dtype=np.float64)
        self.scale = np.asarray(spec["scale"], dtype=np.float64)
        self.coef = np.asarray(spec["coef"], dtype=np.float64)
        self.intercept = np.asarray(spec["intercept"], dtype=np.float64)
        self.version: str = spec.get("version", "unversioned")
        self.languages: tuple[str, ...] = tuple(spec.get("languages", ()))
        self.sha256 = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def predict_proba(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        x = (np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES)) - self.mean) / self.scale
        z = x @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.spec, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def load_head(path: str | None = None) -> CrossLingualHead:
    """The shipped head (or one at ``path``)."""
    p = Path(path) if path else HEAD_PATH
    if not p.exists():
        raise FileNotFoundError(f"cross-lingual head not found: {p} (train it: python -m harness train "
                                f"configs/train_crosslingual.yaml)")
    return CrossLingualHead(json.loads(p.read_text(encoding="utf-8")))
