"""Summary-faithfulness meta-evaluation as a Hugging Face ``evaluate`` module (works offline, by path).

    import evaluate
    m = evaluate.load("/path/to/harness/evaluation/metric/faithfulness.py")
    m.compute(predictions=[0.9, 0.2, 0.7], references=[1, 0, 1])

``predictions`` are faithfulness scores (higher = more faithful), ``references`` human labels (1 faithful,
0 not; graded values allowed). The metrics are ``harness.evaluation.metrics`` itself (so the harness
package must be importable): ROC-AUC (ties count half), balanced
accuracy at a threshold, optionally a threshold tuned on these same references (optimistic: tune on a dev
set and pass ``threshold=`` for a test set), Pearson/Spearman/Kendall for graded labels, and percentile
bootstrap intervals. Undefined metrics (one class only, constant input) are ``None`` with a note in
``notes`` -- never NaN.

With ``config_name="pairs"``, ``predictions`` are rewrites and ``references`` their sources (strings): the
harness scores them with its default NLI scorer and returns per-pair scores and labels (the first call
loads a model).
"""

import json
import os
import tempfile

import datasets
import evaluate
import numpy as np

_CITATION = ""

_DESCRIPTION = __doc__

_KWARGS_DESCRIPTION = """
Args:
    predictions: faithfulness scores (floats; higher = more faithful) -- or rewrites (config "pairs").
    references: gold labels (1 = faithful, 0 = not; graded floats allowed) -- or sources (config "pairs").
    threshold: score at or above which a prediction counts as faithful (default 0.5).
    tune_threshold: also report the threshold maximising balanced accuracy on this data (default False).
    n_boot: bootstrap resamples for 95 % intervals (default 0 = no intervals).
    seed: bootstrap seed (default 0).
    config (pairs only): a dict of harness RunConfig fields (default: one NLI scorer, embedded model).
Returns:
    roc_auc, balanced_accuracy (at ``threshold``), threshold, n, n_pos, n_neg, [tuned_threshold,
    balanced_accuracy_tuned], [pearson, spearman, kendall] for graded references, [*_ci] with n_boot > 0,
    and notes: {metric: why it is None}.
    Config "pairs": scores (one per pair, None = nothing checkable) and labels.
Examples:
    >>> m = evaluate.load("harness/evaluation/metric/faithfulness.py")
    >>> m.compute(predictions=[0.9, 0.4, 0.6, 0.1], references=[1, 1, 0, 0])["roc_auc"]
    0.75
"""


def score_table(predictions, references, threshold=0.5, tune_threshold=False, n_boot=0, seed=0):
    """The metrics as a plain dict (also usable without ``evaluate``)."""
    s = np.asarray(predictions, dtype=float)
    gold = np.asarray(references, dtype=float)
    if s.shape != gold.shape:
        raise ValueError(f"predictions ({len(s)}) and references ({len(gold)}) differ in length")
    ok = np.isfinite(s) & np.isfinite(gold)
    s, gold = s[ok], gold[ok]
    out: dict = {"n": len(s), "threshold": float(threshold)}
    notes = {}
    if (~ok).any():
        notes["n"] = f"{int((~ok).sum())} items with a missing (NaN/None) score or label were left out"
    if len(s) == 0:
        out.update(roc_auc=None, balanced_accuracy=None, notes={"roc_auc": "no items"})
        return out
    from harness.evaluation import metrics as M  # one implementation of every metric, shared with `run`

    graded = M.is_graded(gold)
    y = M.binarize(gold)
    out["n_pos"], out["n_neg"] = int(y.sum()), int(len(y) - y.sum())
    try:
        M.check_binary(y, "ROC-AUC and balanced accuracy")
        out["roc_auc"] = M.roc_auc(y, s)
        out["balanced_accuracy"] = M.balanced_accuracy(y, s, threshold)
        if n_boot:
            out["roc_auc_ci"] = M.bootstrap_ci(M.auc_rows(y, s), len(y), n_boot=n_boot, seed=seed)
            out["balanced_accuracy_ci"] = M.bootstrap_ci(M.balanced_accuracy_rows(y, s, threshold), len(y),
                                                         n_boot=n_boot, seed=seed)
        if tune_threshold:
            out["tuned_threshold"], out["balanced_accuracy_tuned"] = M.tune_threshold(y, s)
            notes["balanced_accuracy_tuned"] = "tuned on these references (optimistic)"
    except M.MetricUndefined as e:
        out["roc_auc"] = out["balanced_accuracy"] = None
        notes["roc_auc"] = notes["balanced_accuracy"] = str(e)
    if graded:
        notes["graded"] = "graded references: ROC-AUC/balanced accuracy count the maximum value as faithful"
        for kind in ("pearson", "spearman", "kendall"):
            try:
                out[kind] = M.correlation(kind, gold, s)
            except M.MetricUndefined as e:
                out[kind] = None
                notes[kind] = str(e)
    if notes:
        out["notes"] = notes
    return out


def score_pairs(sources, rewrites, config=None):
    """Score raw (source, rewrite) pairs with the harness pipeline (default: one NLI scorer)."""
    from harness.config import RunConfig
    from harness.pipeline import run

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pairs.jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            for i, (src, rew) in enumerate(zip(sources, rewrites, strict=True)):
                fh.write(json.dumps({"id": str(i), "source": src, "rewrite": rew}) + "\n")
        cfg = {"name": "evaluate", "data": [{"name": "pairs", "type": "jsonl", "path": path}],
               "scorers": [{"type": "nli"}], "runtime": {"cache": None, "progress": False},
               "output_dir": tmp}
        cfg.update(config or {})
        cfg["data"] = [{"name": "pairs", "type": "jsonl", "path": path}]
        result = run(RunConfig.model_validate(cfg), write=False)
    by_id = {p.pair_id: p for p in result.pairs}
    scores, labels = [], []
    for i in range(len(sources)):
        row = by_id[str(i)]
        name = "combined" if "combined" in row.scores else next(iter(row.scores))
        scores.append(row.scores[name].score)
        labels.append(row.scores[name].label)
    return {"scores": scores, "labels": labels}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Faithfulness(evaluate.Metric):
    def _info(self):
        kind = "string" if self.config_name == "pairs" else "float64"
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value(kind), "references": datasets.Value(kind)}),
            reference_urls=[],
        )

    def _compute(self, predictions, references, threshold=0.5, tune_threshold=False, n_boot=0, seed=0,
                 config=None):
        if self.config_name == "pairs":
            return score_pairs(references, predictions, config)
        return score_table(predictions, references, threshold=threshold, tune_threshold=tune_threshold,
                           n_boot=n_boot, seed=seed)
