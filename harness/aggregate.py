"""Claim scores -> pair scores, labels and reasons.

Rule-based flags from the checks (fabricated quotes, off-topic runs, extrinsic references) override a
model's label: the claim is ``unsupported`` with the flag as its reason, and it counts as 0 in the pair
score, since a fluent fabricated quote is exactly what a model can rate as "entailed". Non-checkable
segments (navigation, meta text) get ``not_checkable`` and do not dilute the pair score.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping, Sequence

from harness.scorers.base import ClaimKey
from harness.types import CLAIM_LABELS, ClaimLabel, ClaimScore, PairScore, SegmentedPair

__all__ = ["FLAG_SCORE", "LANGUAGE_REASONS", "aggregate_pair", "claims_for_pair", "combine_pair_scores",
           "mark_unverified"]

FLAG_SCORE = 0.0
LANGUAGE_REASONS = frozenset({"cross_lingual_unscored", "language_unscored"})
"""A scorer that does not declare a pair's languages keeps its numbers out of labels and pair scores."""


def claims_for_pair(
    sp: SegmentedPair, scorer_name: str, scored: Mapping[ClaimKey, ClaimScore]
) -> list[ClaimScore]:
    """Every claim of the pair for one scorer: model verdicts, overridden by flags; non-checkable rows."""
    flags: dict[int, list[str]] = {}
    for idx, reason in sp.flags:
        flags.setdefault(idx, []).append(reason)
    rows: list[ClaimScore] = []
    for claim in sp.claims:
        if not claim.checkable:
            rows.append(ClaimScore(
                pair_id=sp.pair.id, scorer=scorer_name, claim_index=claim.index, text=claim.text,
                start=claim.start, end=claim.end, score=None, label="not_checkable",
                reason=claim.reason or "not_checkable",
            ))
            continue
        base = scored.get((sp.pair.id, claim.index))
        reasons = flags.get(claim.index)
        if base is None:
            rows.append(ClaimScore(
                pair_id=sp.pair.id, scorer=scorer_name, claim_index=claim.index, text=claim.text,
                start=claim.start, end=claim.end, score=FLAG_SCORE if reasons else None,
                label="unsupported" if reasons else "not_checkable",
                reason=reasons[0] if reasons else "not_scored",
                detail={"flags": reasons} if reasons else {},
            ))
            continue
        if reasons:
            detail = dict(base.detail)
            detail.update({"flags": reasons, "model_score": base.score, "model_label": base.label,
                           "model_reason": base.reason})
            rows.append(ClaimScore(
                pair_id=base.pair_id, scorer=base.scorer, claim_index=base.claim_index, text=base.text,
                start=base.start, end=base.end, score=FLAG_SCORE, label="unsupported", reason=reasons[0],
                probs=base.probs, evidence=base.evidence, detail=detail,
            ))
        else:
            rows.append(base)
    return rows


def mark_unverified(rows: Sequence[ClaimScore], reason: str) -> list[ClaimScore]:
    """Rows of a pair the scorer does not support: model verdicts become ``not_checkable`` with the
    language reason; the number moves to ``detail["unverified_score"]`` so it is visible but never
    counted. Rule-based flags (fabricated quotes, off-topic) stand, since they need no model. A claim no model
    was asked about (``not_scored``: a pair in a language no judge declares) takes the language reason."""
    out = []
    for r in rows:
        if r.label == "not_checkable" and r.reason == "not_scored":
            out.append(dataclasses.replace(r, reason=reason))
            continue
        if r.label == "not_checkable" or r.detail.get("flags"):
            out.append(r)
            continue
        detail = dict(r.detail)
        detail.update({"unverified_score": r.score, "unverified_label": r.label, "unverified_reason": r.reason})
        out.append(ClaimScore(
            pair_id=r.pair_id, scorer=r.scorer, claim_index=r.claim_index, text=r.text, start=r.start, end=r.end,
            score=None, label="not_checkable", reason=reason, probs=r.probs, evidence=r.evidence, detail=detail,
        ))
    return out


def _logit(p: float, eps: float = 1e-7) -> float:
    p = min(max(p, eps), 1 - eps)
    return math.log(p / (1 - p))


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def aggregate_pair(pair_id: str, scorer_name: str, claims: Sequence[ClaimScore], how: str) -> PairScore:
    """Pair score = mean, min or ``logit_mean`` (sigmoid of the mean logit) over checkable claims; label = worst
    claim label."""
    counts = Counter(c.label for c in claims)
    values = [c.score for c in claims if c.label != "not_checkable" and c.score is not None]
    partial = any(c.reason in LANGUAGE_REASONS for c in claims)
    score: float | None
    if not values or partial:  # a score over the few rule-flagged claims would look like a verdict
        score = None
    elif how == "min":
        score = min(values)
    elif how == "logit_mean":
        score = _sigmoid(sum(_logit(v) for v in values) / len(values))
    else:
        score = sum(values) / len(values)
    if counts.get("contradicted"):
        label = "contradicted"
    elif counts.get("unsupported"):
        label = "unsupported"
    elif counts.get("supported"):
        label = "supported"
    else:
        label = "not_checkable"
    return PairScore(
        pair_id=pair_id, scorer=scorer_name, score=None if score is None else round(score, 6),
        label=label,  # type: ignore[arg-type]
        n_claims=len(claims), n_checkable=sum(c.label != "not_checkable" for c in claims),
        counts={k: counts[k] for k in CLAIM_LABELS if counts.get(k)},
    )


def combine_pair_scores(
    pair_id: str, name: str, parts: Sequence[tuple[PairScore, float]], threshold: float
) -> PairScore:
    """Weighted mean of the scorers' pair scores (scorers with no score are left out)."""
    usable = [(p, w) for p, w in parts if p.score is not None and w > 0]
    if not usable:
        order: tuple[ClaimLabel, ...] = ("contradicted", "unsupported", "supported", "not_checkable")
        worst: ClaimLabel = min((p.label for p, _ in parts), key=order.index, default="not_checkable")
        first_part = parts[0][0] if parts else None
        return PairScore(pair_id, name, None, worst, first_part.n_claims if first_part else 0,
                         first_part.n_checkable if first_part else 0)
    total = sum(w for _, w in usable)
    score = sum((p.score or 0.0) * w for p, w in usable) / total
    first = parts[0][0]
    return PairScore(
        pair_id=pair_id, scorer=name, score=round(score, 6),
        label="supported" if score >= threshold else "unsupported",
        n_claims=first.n_claims, n_checkable=first.n_checkable,
    )
