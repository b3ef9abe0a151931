"""Per-scorer ROC curves and score histograms as inline SVG (matplotlib, Agg backend, no files)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # headless: never touch a display, whatever the environment says

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_curve

from harness.evaluation import metrics as M
from harness.evaluation.meta import collect
from harness.results.schema import PairRow

__all__ = ["ScorerPlot", "scorer_plots"]

_COLORS = ["#1f77b4", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f"]


@dataclass(frozen=True)
class ScorerPlot:
    scorer: str
    svg: str
    """An ``<svg>`` element (no XML prolog) ready to inline."""
    notes: tuple[str, ...] = ()


def _svg(fig: plt.Figure, salt: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    svg = text[start:]
    # Let CSS size the plot: keep the viewBox, drop the fixed pt width/height.
    return re.sub(r'(<svg[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)


def _plot_one(scorer: str, by_ds: dict[str, list[PairRow]], threshold: float | None, index: int) -> ScorerPlot:
    fig, (ax_roc, ax_hist) = plt.subplots(1, 2, figsize=(10, 3.8))
    notes: list[str] = []
    pos_all: list[np.ndarray] = []
    neg_all: list[np.ndarray] = []
    unlabelled: list[float] = []
    for i, (ds, pairs) in enumerate(by_ds.items()):
        ss = collect(pairs, scorer)
        unlabelled += [p.scores[scorer].score for p in pairs  # type: ignore[misc]
                       if p.gold_label is None and scorer in p.scores and p.scores[scorer].score is not None]
        if not len(ss.ids):
            continue
        y, s = ss.y, ss.scores
        pos_all.append(s[y == 1])
        neg_all.append(s[y == 0])
        try:
            auc = M.roc_auc(y, s)
        except M.MetricUndefined as e:
            notes.append(f"{ds}: {e}")
            continue
        fpr, tpr, _ = roc_curve(y, s)
        ax_roc.plot(fpr, tpr, color=_COLORS[i % len(_COLORS)], lw=1.8, label=f"{ds} (AUC {auc:.3f}, n={len(y)})")
    ax_roc.plot([0, 1], [0, 1], ls="--", color="#999", lw=1, label="chance")
    ax_roc.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate (unfaithful kept)",
               ylabel="true positive rate (faithful kept)", title=f"ROC — {scorer}")
    ax_roc.legend(loc="lower right", fontsize=8, frameon=False)
    ax_roc.grid(alpha=0.3)

    pos = np.concatenate(pos_all) if pos_all else np.zeros(0)
    neg = np.concatenate(neg_all) if neg_all else np.zeros(0)
    every = np.concatenate([pos, neg, np.asarray(unlabelled, dtype=float)])
    if len(every):
        lo, hi = float(min(0.0, every.min())), float(max(1.0, every.max()))
        bins = np.linspace(lo, hi, 26)
        if len(pos):
            ax_hist.hist(pos, bins=bins, histtype="stepfilled", alpha=0.45, color="#2ca02c",
                         label=f"gold faithful (n={len(pos)})")
        if len(neg):
            ax_hist.hist(neg, bins=bins, histtype="stepfilled", alpha=0.45, color="#d62728",
                         label=f"gold unfaithful (n={len(neg)})")
        if unlabelled:
            ax_hist.hist(unlabelled, bins=bins, histtype="step", color="#555",
                         label=f"unlabelled (n={len(unlabelled)})")
    if threshold is not None:
        ax_hist.axvline(threshold, color="black", ls="--", lw=1.2, label=f"tuned threshold {threshold:.3f}")
    ax_hist.set(xlabel="pair score", ylabel="pairs", title=f"score histogram — {scorer}")
    if ax_hist.get_legend_handles_labels()[0]:
        ax_hist.legend(loc="best", fontsize=8, framealpha=0.85)
    ax_hist.grid(alpha=0.3)
    fig.tight_layout()
    return ScorerPlot(scorer=scorer, svg=_svg(fig, f"s{index}"), notes=tuple(notes))


def scorer_plots(
    pairs: Sequence[PairRow], scorers: Sequence[str], thresholds: dict[str, float | None]
) -> list[ScorerPlot]:
    """One figure (ROC per dataset + histogram by gold label) per scorer."""
    by_ds: dict[str, list[PairRow]] = {}
    for p in pairs:
        by_ds.setdefault(p.dataset, []).append(p)
    # dataset and scorer names are data: ``usd_$5_to_$10`` is a name, not mathtext (nor LaTeX)
    with matplotlib.rc_context({"text.usetex": False, "text.parse_math": False}):
        return [_plot_one(sc, by_ds, thresholds.get(sc), i) for i, sc in enumerate(scorers)]
