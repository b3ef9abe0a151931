"""Meta-evaluation of a run against human labels: per dataset, per scorer, and a macro average.

Thresholds are tuned on the dataset(s) with role ``dev`` (pooled) and applied everywhere, so a ``test``
dataset's ``balanced_accuracy@tuned`` is an honest held-out number. Without a dev dataset each dataset
is tuned on itself (optimistic, and ``threshold_from`` says so). Thresholds passed in (``--thresholds-from
RUN``) are applied as they are, never re-tuned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.evaluation import metrics as M
from harness.results.schema import ClaimRow, DatasetInfo, PairRow

__all__ = ["MACRO", "SCALAR_METRICS", "ScoredSet", "collect", "evaluate_run", "evaluate_set"]

MACRO = "macro"
SCALAR_METRICS = (
    "roc_auc",
    "balanced_accuracy@0.5",
    "balanced_accuracy@tuned",
    "pearson",
    "spearman",
    "kendall",
    "twin_wins",
)
"""Metrics that are single numbers (averaged in the macro row, compared by ``harness compare``)."""


@dataclass(frozen=True)
class ScoredSet:
    """Aligned arrays for one dataset and scorer: only pairs that have both a gold label and a score."""

    ids: tuple[str, ...]
    gold: np.ndarray
    scores: np.ndarray
    groups: tuple[str | None, ...]
    n_unscored: int = 0

    @property
    def y(self) -> np.ndarray:
        return M.binarize(self.gold)

    @property
    def graded(self) -> bool:
        return M.is_graded(self.gold)


def collect(pairs: Sequence[PairRow], scorer: str) -> ScoredSet:
    ids: list[str] = []
    gold: list[float] = []
    scores: list[float] = []
    groups: list[str | None] = []
    unscored = 0
    for p in pairs:
        if p.gold_label is None:
            continue
        row = p.scores.get(scorer)
        if row is None or row.score is None or not np.isfinite(row.score):
            unscored += 1
            continue
        ids.append(p.pair_id)
        gold.append(float(p.gold_label))
        scores.append(float(row.score))
        groups.append(p.group)
    return ScoredSet(tuple(ids), np.asarray(gold, dtype=float), np.asarray(scores, dtype=float),
                     tuple(groups), unscored)


def _try(out: dict[str, Any], notes: dict[str, str], key: str, fn: Any, *args: Any) -> Any:
    try:
        value = fn(*args)
    except M.MetricUndefined as e:
        out[key] = None
        notes[key] = str(e)
        return None
    out[key] = value
    return value


def evaluate_set(
    ss: ScoredSet,
    *,
    threshold: float | None,
    threshold_from: str | None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """All metrics for one scored set. ``threshold`` None = tune on this set itself."""
    out: dict[str, Any] = {"n": len(ss.ids)}
    notes: dict[str, str] = {}
    if ss.n_unscored:
        out["n_unscored"] = ss.n_unscored
        notes["n"] = f"{ss.n_unscored} labelled pairs have no score (no checkable claim) and are left out"
    y, s, n = ss.y, ss.scores, len(ss.ids)
    out["n_pos"] = int(np.sum(y == 1))
    out["n_neg"] = int(np.sum(y == 0))
    if ss.graded:
        out["graded"] = True
        notes["graded"] = "graded labels: ROC-AUC and balanced accuracy count gold == max as faithful"
    if _try(out, notes, "roc_auc", M.roc_auc, y, s) is not None:
        out["roc_auc_ci"] = M.bootstrap_ci(M.auc_rows(y, s), n, n_boot=n_boot, seed=seed)
    if _try(out, notes, "balanced_accuracy@0.5", M.balanced_accuracy, y, s, 0.5) is not None:
        out["balanced_accuracy@0.5_ci"] = M.bootstrap_ci(
            M.balanced_accuracy_rows(y, s, 0.5), n, n_boot=n_boot, seed=seed)
    if threshold is None:
        try:
            threshold, _ = M.tune_threshold(y, s)
            threshold_from = threshold_from or "self"
        except M.MetricUndefined as e:
            notes["threshold"] = str(e)
    out["threshold"] = threshold
    out["threshold_from"] = threshold_from if threshold is not None else None
    if threshold is not None:
        if _try(out, notes, "balanced_accuracy@tuned", M.balanced_accuracy, y, s, threshold) is not None:
            out["balanced_accuracy@tuned_ci"] = M.bootstrap_ci(
                M.balanced_accuracy_rows(y, s, threshold), n, n_boot=n_boot, seed=seed)
    else:
        out["balanced_accuracy@tuned"] = None
    if ss.graded:
        for kind in ("pearson", "spearman", "kendall"):
            if _try(out, notes, kind, M.correlation, kind, ss.gold, s) is not None:
                # Kendall's bootstrap is a Python loop: keep it to a few hundred resamples.
                nb = n_boot if kind != "kendall" else min(n_boot, 200)
                out[f"{kind}_ci"] = M.bootstrap_ci(M._corr_rows(kind, ss.gold, s), n, n_boot=nb, seed=seed)
    if any(g is not None for g in ss.groups):
        stat, n_groups = M.twin_rows(ss.groups, y, s)
        out["n_groups"] = n_groups
        if _try(out, notes, "twin_wins", M.twin_wins, ss.groups, y, s) is not None:
            out["twin_wins_ci"] = M.bootstrap_ci(stat, n_groups, n_boot=n_boot, seed=seed)
    if notes:
        out["notes"] = notes
    return out


def _scorer_names(pairs: Iterable[PairRow]) -> list[str]:
    names: dict[str, None] = {}
    for p in pairs:
        for k in p.scores:
            names.setdefault(k, None)
    return list(names)


def _pooled(by_ds: dict[str, list[PairRow]], names: Sequence[str], scorer: str) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels and scores of several datasets, each binarised on its own before pooling."""
    ys, ss = [], []
    for name in names:
        sset = collect(by_ds.get(name, []), scorer)
        if len(sset.ids):
            ys.append(sset.y)
            ss.append(sset.scores)
    if not ys:
        return np.zeros(0, dtype=int), np.zeros(0)
    return np.concatenate(ys), np.concatenate(ss)


def _macro(per_ds: dict[str, dict[str, dict[str, Any]]], scorers: Sequence[str]) -> dict[str, dict[str, Any]]:
    macro: dict[str, dict[str, Any]] = {}
    for sc in scorers:
        row: dict[str, Any] = {}
        for key in SCALAR_METRICS:
            vals = {ds: m[sc][key] for ds, m in per_ds.items() if m.get(sc, {}).get(key) is not None}
            if vals:
                row[key] = float(np.mean(list(vals.values())))
                row[f"{key}_datasets"] = sorted(vals)
        row["n"] = int(sum(m.get(sc, {}).get("n", 0) for m in per_ds.values()))
        macro[sc] = row
    return macro


def evaluate_claims(claims: Iterable[ClaimRow], *, n_boot: int = 1000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Claim-level metrics per dataset and scorer, from claims that carry a ``gold_label``."""
    bucket: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for c in claims:
        if c.gold_label is None or c.score is None or c.label == "not_checkable":
            continue
        g, s = bucket.setdefault((c.dataset, c.scorer), ([], []))
        g.append(float(c.gold_label))
        s.append(float(c.score))
    out: dict[str, dict[str, Any]] = {}
    for (ds, sc), (g, s) in bucket.items():
        ss = ScoredSet(tuple(str(i) for i in range(len(g))), np.asarray(g), np.asarray(s), (None,) * len(g))
        m = evaluate_set(ss, threshold=0.5, threshold_from="default", n_boot=n_boot, seed=seed)
        m.pop("balanced_accuracy@tuned", None)
        m.pop("balanced_accuracy@tuned_ci", None)
        m.pop("threshold", None)
        m.pop("threshold_from", None)
        out.setdefault(ds, {})[sc] = m
    return out


def evaluate_run(
    pairs: Sequence[PairRow],
    datasets: Sequence[DatasetInfo],
    *,
    thresholds: dict[str, Any] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    claims: Iterable[ClaimRow] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics per dataset and scorer plus a ``macro`` row, and the thresholds that were applied.

    ``thresholds`` ({scorer: {"value", "dataset", ...}}, e.g. read from another run) are applied as they
    are; otherwise each scorer's threshold is tuned for balanced accuracy on the pooled ``dev`` datasets.
    Without a dev dataset, every dataset is tuned on itself and the returned thresholds come from all
    labelled data pooled (with a note). Claim-level metrics appear as ``metrics[ds][scorer]["claim_level"]``
    when ``claims`` carry gold labels.
    """
    by_ds: dict[str, list[PairRow]] = {}
    for p in pairs:
        by_ds.setdefault(p.dataset, []).append(p)
    ds_names = [d.name for d in datasets] + [n for n in by_ds if n not in {d.name for d in datasets}]
    scorers = _scorer_names(pairs)
    dev = [d.name for d in datasets if d.role == "dev"]
    labelled = [n for n in ds_names if any(p.gold_label is not None for p in by_ds.get(n, []))]

    applied: dict[str, Any] = {}
    per_scorer_thr: dict[str, tuple[float, str] | None] = {}
    for sc in scorers:
        if thresholds is not None:
            t = thresholds.get(sc)
            if t is not None and t.get("value") is not None:
                applied[sc] = dict(t)
                per_scorer_thr[sc] = (float(t["value"]), str(t.get("dataset", "given")))
            else:
                per_scorer_thr[sc] = None  # not in the given thresholds: tune per dataset on itself
            continue
        pool = dev or labelled
        y, s = _pooled(by_ds, pool, sc)
        try:
            value, ba = M.tune_threshold(y, s)
        except M.MetricUndefined as e:
            applied[sc] = {"value": None, "dataset": "+".join(pool), "metric": "balanced_accuracy",
                           "note": str(e)}
            per_scorer_thr[sc] = None
            continue
        entry: dict[str, Any] = {"value": value, "dataset": "+".join(pool), "metric": "balanced_accuracy",
                                 "balanced_accuracy": ba, "n": len(y)}
        if not dev:
            entry["note"] = "no dataset has role dev: tuned on all labelled data pooled"
        applied[sc] = entry
        per_scorer_thr[sc] = (value, "+".join(dev)) if dev else None

    out: dict[str, Any] = {}
    for ds in ds_names:
        rows = by_ds.get(ds, [])
        out[ds] = {}
        for sc in scorers:
            if ds not in labelled:
                out[ds][sc] = {"n": 0, "notes": {"n": "no gold labels in this dataset"}}
                continue
            thr = per_scorer_thr.get(sc)
            m = evaluate_set(collect(rows, sc), threshold=thr[0] if thr else None,
                             threshold_from=thr[1] if thr else ds, n_boot=n_boot, seed=seed)
            if thr and ds in dev and thresholds is None:
                m.setdefault("notes", {})["balanced_accuracy@tuned"] = "tuned on this dataset (dev): optimistic"
            out[ds][sc] = m
    if claims is not None:
        for ds, per_sc in evaluate_claims(claims, n_boot=n_boot, seed=seed).items():
            for sc, m in per_sc.items():
                out.setdefault(ds, {}).setdefault(sc, {"n": 0})["claim_level"] = m
    out[MACRO] = _macro({k: v for k, v in out.items() if k in labelled}, scorers)
    return out, applied
