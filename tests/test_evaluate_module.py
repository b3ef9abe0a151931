"""The ``evaluate`` module loads by path, offline, and agrees with harness.evaluation."""

from __future__ import annotations

import pytest

from harness.evaluation import metric_path
from harness.evaluation import metrics as M

evaluate = pytest.importorskip("evaluate")


@pytest.fixture(autouse=True)
def _offline(monkeypatch) -> None:
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE"):
        monkeypatch.setenv(var, "1")


@pytest.mark.parametrize("which", ["script", "folder"])
def test_loads_by_path_offline_and_matches_harness(which) -> None:
    path = metric_path() if which == "script" else metric_path().parent
    m = evaluate.load(str(path))
    preds, refs = [0.9, 0.4, 0.6, 0.1, 0.5, 0.5], [1, 1, 0, 0, 1, 0]
    out = m.compute(predictions=preds, references=refs, tune_threshold=True, n_boot=100)
    assert out["roc_auc"] == pytest.approx(M.roc_auc(refs, preds))
    assert out["balanced_accuracy"] == pytest.approx(M.balanced_accuracy(refs, preds, 0.5))
    t, ba = M.tune_threshold(refs, preds)
    assert (out["tuned_threshold"], out["balanced_accuracy_tuned"]) == (pytest.approx(t), pytest.approx(ba))
    lo, hi = out["roc_auc_ci"]
    assert lo <= out["roc_auc"] <= hi


def test_single_class_and_graded_references() -> None:
    m = evaluate.load(str(metric_path()))
    one = m.compute(predictions=[0.2, 0.9], references=[1, 1])
    assert one["roc_auc"] is None and "both classes" in one["notes"]["roc_auc"]
    graded = m.compute(predictions=[0.1, 0.3, 0.2, 0.8], references=[0.0, 0.5, 0.25, 1.0])
    assert graded["spearman"] == pytest.approx(1.0) and graded["roc_auc"] == 1.0
