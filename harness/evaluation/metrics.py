"""Meta-evaluation metrics on arrays: ROC-AUC, balanced accuracy, threshold tuning, correlations,
minimal-pair wins, and (paired) bootstrap intervals.

Every statistic has a *row* form ``f(idx) -> array`` that evaluates it on many index resamples at once
(``idx`` has shape ``(B, n)``), so a 1000-fold bootstrap is a few vectorised numpy calls rather than a
Python loop over scikit-learn. Undefined values (one class only, constant input) are NaN inside the row
functions and are turned into :class:`MetricUndefined` (a clear message) at the public, scalar level:
callers store ``None`` plus the message, never NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from scipy import stats

__all__ = [
    "MetricUndefined",
    "RowStat",
    "auc_rows",
    "balanced_accuracy",
    "balanced_accuracy_rows",
    "binarize",
    "bootstrap_ci",
    "check_binary",
    "correlation",
    "is_graded",
    "paired_bootstrap",
    "pearson_rows",
    "roc_auc",
    "spearman_rows",
    "tune_threshold",
    "twin_rows",
    "twin_wins",
]

RowStat = Callable[[np.ndarray], np.ndarray]
"""A statistic evaluated on index resamples: ``idx`` of shape (B, n) -> values of shape (B,) (NaN = undefined)."""


class MetricUndefined(ValueError):
    """The metric has no value on this data (e.g. a single class); the message says why."""


# ---------------------------------------------------------------------------------------------- labels


def is_graded(gold: np.ndarray) -> bool:
    """True when labels are not all 0/1 (e.g. FRANK factuality fractions, Likert scores)."""
    return bool(np.any((gold != 0) & (gold != 1)))


def binarize(gold: np.ndarray) -> np.ndarray:
    """0/1 labels: binary labels as they are; graded labels -> 1 iff at the maximum observed value
    ("fully faithful"), the convention TRUE uses for graded benchmarks."""
    gold = np.asarray(gold, dtype=float)
    if not is_graded(gold):
        return gold.astype(int)
    return (gold >= gold.max()).astype(int)


def check_binary(y: np.ndarray, what: str = "ROC-AUC") -> None:
    """Raise :class:`MetricUndefined` unless both classes are present."""
    n1 = int(np.sum(y == 1))
    n0 = int(np.sum(y == 0))
    if len(y) == 0:
        raise MetricUndefined(f"{what} undefined: no labelled, scored pairs")
    if n1 == 0 or n0 == 0:
        only = "faithful (1)" if n0 == 0 else "unfaithful (0)"
        raise MetricUndefined(
            f"{what} undefined: all {len(y)} labelled pairs are {only}; it needs both classes"
        )


# ------------------------------------------------------------------------------------------ row forms


def auc_rows(y: np.ndarray, s: np.ndarray) -> RowStat:
    """ROC-AUC via the rank-sum (Mann-Whitney) identity; ties get average ranks, i.e. count half."""
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)

    def f(idx: np.ndarray) -> np.ndarray:
        yy = y[idx]
        ranks = stats.rankdata(s[idx], axis=1)
        n1 = yy.sum(axis=1).astype(float)
        n0 = yy.shape[1] - n1
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = ((ranks * yy).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)
        auc[(n1 == 0) | (n0 == 0)] = np.nan
        return auc

    return f


def balanced_accuracy_rows(y: np.ndarray, s: np.ndarray, threshold: float) -> RowStat:
    """Mean of the recalls of both classes when ``score >= threshold`` predicts faithful (1)."""
    y = np.asarray(y, dtype=int)
    pred = np.asarray(s, dtype=float) >= threshold

    def f(idx: np.ndarray) -> np.ndarray:
        yy = y[idx].astype(bool)
        pp = pred[idx]
        n1 = yy.sum(axis=1)
        n0 = (~yy).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tpr = (pp & yy).sum(axis=1) / n1
            tnr = (~pp & ~yy).sum(axis=1) / n0
        out = (tpr + tnr) / 2
        out[(n1 == 0) | (n0 == 0)] = np.nan
        return out

    return f


def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a * b).sum(axis=1) / den
    r[den <= 1e-15] = np.nan
    return r


def pearson_rows(gold: np.ndarray, s: np.ndarray) -> RowStat:
    gold = np.asarray(gold, dtype=float)
    s = np.asarray(s, dtype=float)
    return lambda idx: _row_pearson(gold[idx], s[idx])


def spearman_rows(gold: np.ndarray, s: np.ndarray) -> RowStat:
    """Spearman's rho = Pearson's r of average ranks (ties handled as scipy does)."""
    gold = np.asarray(gold, dtype=float)
    s = np.asarray(s, dtype=float)
    return lambda idx: _row_pearson(stats.rankdata(gold[idx], axis=1), stats.rankdata(s[idx], axis=1))


def _kendall_rows(gold: np.ndarray, s: np.ndarray) -> RowStat:
    gold = np.asarray(gold, dtype=float)
    s = np.asarray(s, dtype=float)

    def f(idx: np.ndarray) -> np.ndarray:
        out = np.full(idx.shape[0], np.nan)
        for i, row in enumerate(idx):
            g, x = gold[row], s[row]
            if np.ptp(g) > 0 and np.ptp(x) > 0:
                out[i] = stats.kendalltau(g, x).statistic  # tau-b: ties-corrected
        return out

    return f


def twin_rows(groups: Sequence[str | None], y: np.ndarray, s: np.ndarray) -> tuple[RowStat, int]:
    """Minimal-pair wins over *groups*: per group, the share of (faithful, unfaithful) twin pairings in
    which the faithful twin scores strictly higher (ties count half); averaged over groups.

    Returns the row statistic over group resamples and the number of usable groups (both classes present).
    """
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        if g is not None:
            by_group.setdefault(g, []).append(i)
    per_group: list[float] = []
    for members in by_group.values():
        pos = s[[i for i in members if y[i] == 1]]
        neg = s[[i for i in members if y[i] == 0]]
        if len(pos) and len(neg):
            diff = pos[:, None] - neg[None, :]
            per_group.append(float(np.mean((diff > 0) + 0.5 * (diff == 0))))
    wins = np.asarray(per_group)

    def f(idx: np.ndarray) -> np.ndarray:
        if len(wins) == 0:
            return np.full(idx.shape[0], np.nan)
        return np.asarray(wins[idx].mean(axis=1), dtype=float)

    return f, len(wins)


# ------------------------------------------------------------------------------------------- scalars


def _scalar(stat: RowStat, n: int, what: str) -> float:
    value = float(stat(np.arange(n)[None, :])[0])
    if not np.isfinite(value):
        raise MetricUndefined(f"{what} undefined on this data")
    return value


def roc_auc(y: Sequence[float] | np.ndarray, s: Sequence[float] | np.ndarray) -> float:
    """ROC-AUC of scores against 0/1 labels (1 = faithful, higher score = more faithful)."""
    y = np.asarray(y, dtype=int)
    check_binary(y)
    return _scalar(auc_rows(y, np.asarray(s, dtype=float)), len(y), "ROC-AUC")


def balanced_accuracy(
    y: Sequence[float] | np.ndarray, s: Sequence[float] | np.ndarray, threshold: float
) -> float:
    y = np.asarray(y, dtype=int)
    check_binary(y, "balanced accuracy")
    return _scalar(balanced_accuracy_rows(y, np.asarray(s, dtype=float), threshold), len(y), "balanced accuracy")


def tune_threshold(y: Sequence[float] | np.ndarray, s: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The threshold maximising balanced accuracy, and that accuracy.

    Candidates are the midpoints between consecutive distinct scores, plus one at the lowest score (all
    faithful) and one just above the highest (all unfaithful); midpoints keep a threshold off the tuning
    data's exact values. Among equally good candidates the one closest to 0.5 wins (deterministic and
    close to the untuned default).
    """
    y = np.asarray(y, dtype=int)
    s = np.asarray(s, dtype=float)
    check_binary(y, "threshold tuning")
    u = np.unique(s)
    cands = np.concatenate([[u[0]], (u[:-1] + u[1:]) / 2, [u[-1] + max(1e-6, abs(u[-1]) * 1e-6)]])
    pos = np.sort(s[y == 1])
    neg = np.sort(s[y == 0])
    tpr = (len(pos) - np.searchsorted(pos, cands, side="left")) / len(pos)
    tnr = np.searchsorted(neg, cands, side="left") / len(neg)
    ba = (tpr + tnr) / 2
    best = np.flatnonzero(np.isclose(ba, ba.max(), rtol=0, atol=1e-12))
    pick = best[np.argmin(np.abs(cands[best] - 0.5))]
    return float(cands[pick]), float(ba[pick])


def correlation(kind: str, gold: Sequence[float] | np.ndarray, s: Sequence[float] | np.ndarray) -> float:
    """Pearson / Spearman / Kendall (tau-b) correlation; constant input raises :class:`MetricUndefined`."""
    g = np.asarray(gold, dtype=float)
    x = np.asarray(s, dtype=float)
    if len(g) < 2:
        raise MetricUndefined(f"{kind} undefined: fewer than 2 labelled, scored pairs")
    if np.ptp(g) == 0:
        raise MetricUndefined(f"{kind} undefined: all {len(g)} gold labels are equal ({g[0]:g})")
    if np.ptp(x) == 0:
        raise MetricUndefined(f"{kind} undefined: all {len(x)} scores are equal ({x[0]:g})")
    return _scalar(_corr_rows(kind, g, x), len(g), kind)


def _corr_rows(kind: str, g: np.ndarray, x: np.ndarray) -> RowStat:
    if kind == "pearson":
        return pearson_rows(g, x)
    if kind == "spearman":
        return spearman_rows(g, x)
    if kind == "kendall":
        return _kendall_rows(g, x)
    raise ValueError(f"unknown correlation {kind!r} (pearson, spearman, kendall)")


def twin_wins(groups: Sequence[str | None], y: Sequence[float] | np.ndarray, s: Sequence[float] | np.ndarray) -> float:
    stat, n_groups = twin_rows(groups, np.asarray(y), np.asarray(s))
    if n_groups == 0:
        raise MetricUndefined("twin wins undefined: no group holds both a faithful and an unfaithful twin")
    return _scalar(stat, n_groups, "twin wins")


# ----------------------------------------------------------------------------------------- bootstrap


_RESAMPLE_CELLS = 2_000_000
"""Resampled indices held at once (16 MB of int64), so bootstrap memory does not grow with n."""


def _resample_chunks(n: int, n_boot: int, seed: int, chunk: int = 200) -> Iterator[np.ndarray]:
    """The ``(n_boot, n)`` resample indices, drawn and yielded a few rows at a time: the same numbers as one
    ``integers(0, n, size=(n_boot, n))`` call (numpy's generator fills rows in order), but a bounded
    amount of memory for 10^5+ pairs."""
    rng = np.random.default_rng(seed)
    rows = max(1, min(chunk, _RESAMPLE_CELLS // max(n, 1)))
    for start in range(0, n_boot, rows):
        yield rng.integers(0, n, size=(min(rows, n_boot - start), n))


def _percentile(values: np.ndarray, alpha: float) -> list[float] | None:
    ok = values[np.isfinite(values)]
    if len(ok) < max(10, len(values) // 2):
        return None
    lo, hi = np.quantile(ok, [alpha / 2, 1 - alpha / 2])
    return [float(lo), float(hi)]


def bootstrap_ci(
    stat: RowStat, n: int, *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05, chunk: int = 200
) -> list[float] | None:
    """Percentile bootstrap interval of ``stat`` over ``n`` units; None when too few resamples are defined
    (e.g. a near-single-class sample) or ``n_boot`` is 0."""
    if n_boot <= 0 or n < 2:
        return None
    vals = np.concatenate([stat(idx) for idx in _resample_chunks(n, n_boot, seed, chunk)])
    return _percentile(vals, alpha)


def paired_bootstrap(
    stat_a: RowStat, stat_b: RowStat, n: int, *, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05
) -> tuple[float | None, list[float] | None]:
    """Two-sided paired-bootstrap p-value for ``stat_b - stat_a`` != 0 and the interval of the difference.

    Both statistics are evaluated on the *same* resampled units (the pairs both runs scored), so the
    correlation between runs is kept. p = 2 * min(P(d* <= 0), P(d* >= 0)) with add-one smoothing.
    """
    if n_boot <= 0 or n < 2:
        return None, None
    d = np.concatenate([stat_b(idx) - stat_a(idx) for idx in _resample_chunks(n, n_boot, seed)])
    d = d[np.isfinite(d)]
    if len(d) < max(10, n_boot // 2):
        return None, None
    p = 2 * min((np.sum(d <= 0) + 1) / (len(d) + 1), (np.sum(d >= 0) + 1) / (len(d) + 1))
    return float(min(1.0, p)), _percentile(d, alpha)
