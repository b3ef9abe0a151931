"""A warning when a labelled set of the run shows the ``combined`` score below its best member.

A weighted mean of scorers is only worth reporting when it beats each of them: NLI + QA chosen on minimal pairs
once lowered NLI's ranking of different summaries on three of five held-out sets, and nobody saw it in the run.
Ranking is ROC-AUC where a set has one (pairs of different summaries), twin wins where it has only minimal pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["GUARDED_METRICS", "combined_warnings"]

GUARDED_METRICS = ("roc_auc", "twin_wins")
"""Per labelled set, the first of these the combined score has is the one compared."""


def combined_warnings(metrics: Mapping[str, Any], datasets: Sequence[Any], combined: str,
                      members: Sequence[str]) -> list[str]:
    """One line per labelled dataset (``role`` dev or test) where ``combined``'s ranking metric is below the best
    of ``members`` (the scorers it weights), with both values and the member's 95% interval where known."""
    out: list[str] = []
    for ds in datasets:
        if not getattr(ds, "labelled", 0) or getattr(ds, "role", "none") == "none":
            continue
        by_scorer = metrics.get(ds.name, {})
        mine = by_scorer.get(combined, {})
        metric = next((m for m in GUARDED_METRICS if mine.get(m) is not None), None)
        if metric is None:
            continue
        scored = [(by_scorer[m][metric], m) for m in members if by_scorer.get(m, {}).get(metric) is not None]
        if not scored:
            continue
        best, name = max(scored)
        if mine[metric] < best:
            out.append(f"{combined} is below its best member on {ds.role} set {ds.name}: {metric} "
                       f"{mine[metric]:.3f} < {name} {best:.3f}; consider {name} alone or other weights "
                       f"(configs/nli_qa.yaml says how its weights were chosen)")
    return out
