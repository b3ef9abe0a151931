"""Claim scores -> pair scores, labels and reasons.

Rule-based flags from the checks (fabricated quotes, off-topic runs, extrinsic references) override a
model's label: the claim is ``unsupported`` with the flag as its reason, and it counts as 0 in the pair
score, since a fluent fabricated quote is exactly what a model can rate as "entailed". Non-checkable
segments (navigation, meta text) get ``not_checkable`` and do not dilute the pair score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from harness.scorers.base import ClaimKey
from harness.types import CLAIM_LABELS, ClaimScore, PairScore, SegmentedPair

__all__ = ["FLAG_SCORE", "aggregate_pair", "claims_for_pair", "combine_pair_scores"]

FLAG_SCORE = 0.0


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


def aggregate_pair(pair_id: str, scorer_name: str, claims: Sequence[ClaimScore], how: str) -> PairScore:
    """Pair score = mean or min over checkable claims; label = worst claim label."""
    counts = Counter(c.label for c in claims)
    values = [c.score for c in claims if c.label != "not_checkable" and c.score is not None]
    score: float | None
    if not values:
        score = None
    elif how == "min":
        score = min(values)
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
        return PairScore(pair_id, name, None, "not_checkable", 0, 0)
    total = sum(w for _, w in usable)
    score = sum(p.score * w for p, w in usable) / total  # type: ignore[operator]
    first = parts[0][0]
    return PairScore(
        pair_id=pair_id, scorer=name, score=round(score, 6),
        label="supported" if score >= threshold else "unsupported",
        n_claims=first.n_claims, n_checkable=first.n_checkable,
    )
