"""Frozen value objects that flow through the pipeline.

data -> :class:`Pair`; segmentation -> :class:`Segment` (claims of the rewrite, premises of the source);
scorers -> :class:`ClaimScore`; aggregation -> :class:`PairScore`. Offsets are character offsets into
the pair's ``source`` (premises, evidence) or ``rewrite`` (claims), with ``text == doc[start:end]``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CLAIM_LABELS",
    "ClaimLabel",
    "ClaimScore",
    "Evidence",
    "Pair",
    "PairScore",
    "Segment",
    "SegmentedPair",
    "content_hash",
]

ClaimLabel = Literal["supported", "contradicted", "unsupported", "not_checkable"]
CLAIM_LABELS: tuple[ClaimLabel, ...] = ("supported", "contradicted", "unsupported", "not_checkable")


def content_hash(*parts: str) -> str:
    """A short, stable hash of text parts (NUL-joined) used to prove two runs saw the same inputs."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Pair:
    """One (source, rewrite) pair as loaded from a dataset."""

    id: str
    source: str
    rewrite: str
    dataset: str = "default"
    label: float | None = None
    """Gold faithfulness label when the data has one: 1 = faithful, 0 = not (graded values allowed)."""
    group: str | None = None
    """Links minimal-pair twins (e.g. BUMP ``pair_id``); ``None`` when the data has no grouping."""
    meta: tuple[tuple[str, Any], ...] = ()
    """Extra fields from the input row, kept for reporting (a tuple of items so the object stays hashable)."""

    @property
    def content_hash(self) -> str:
        return content_hash(self.source, self.rewrite)


@dataclass(frozen=True, slots=True)
class Segment:
    """A unit of text with exact offsets: ``doc[start:end] == text``."""

    index: int
    start: int
    end: int
    text: str
    kind: str = "sentence"
    """What the unit is: sentence, heading, list_item, quote, reference, window, chunk, document, ..."""
    checkable: bool = True
    """False for rewrite segments that make no checkable claim (navigation, meta text, ...)."""
    reason: str | None = None
    """Why a segment is not checkable or is flagged before scoring (boilerplate, meta, off_topic, ...)."""


@dataclass(frozen=True, slots=True)
class SegmentedPair:
    """A pair split into the claims of its rewrite and the premise units of its source."""

    pair: Pair
    claims: tuple[Segment, ...]
    premises: tuple[Segment, ...]
    source_lang: str = "und"
    rewrite_lang: str = "und"
    coverage: float = 1.0
    """Fraction of the source's non-space characters that lie inside at least one premise unit."""
    flags: tuple[tuple[int, str], ...] = ()
    """Pre-scoring flags from rule-based checks: (claim index, reason), e.g. (3, "fabricated_quote")."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """The source span that best supports (or contradicts) a claim."""

    text: str
    start: int
    end: int
    premise_index: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimScore:
    """One scorer's verdict on one claim."""

    pair_id: str
    scorer: str
    claim_index: int
    text: str
    start: int
    end: int
    score: float | None
    """Higher = more faithful, in [0, 1] (or [-1, 1] for entail-minus-contradict); None if not scored."""
    label: ClaimLabel
    reason: str
    """Why the label: entailed, contradicted, no_evidence, fabricated_quote, off_topic, boilerplate, meta, ..."""
    probs: dict[str, float] = field(default_factory=dict)
    """Scorer-specific probabilities, e.g. entailment/neutral/contradiction of the evidence premise."""
    evidence: Evidence | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    """Free-form per-claim detail (e.g. the QA scorer's questions and answers)."""


@dataclass(frozen=True, slots=True)
class PairScore:
    """One scorer's aggregate for one pair."""

    pair_id: str
    scorer: str
    score: float | None
    label: ClaimLabel
    n_claims: int
    n_checkable: int
    counts: dict[str, int] = field(default_factory=dict)
    """Number of claims per label."""
