"""Meta-evaluation metrics against hand-computed values (see tests/_tiny_runs.py for the scores)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _tiny_runs import SCORES, build_rows, datasets_for, write_run
from scipy import stats
from sklearn.metrics import roc_auc_score

from harness.evaluation import MetricUndefined, evaluate_run, thresholds_from
from harness.evaluation import metrics as M
from harness.results.reader import RunError
from harness.results.schema import DatasetInfo, PairRow, PairScoreRow


def test_roc_auc_counts_ties_half() -> None:
    # pos {0.8, 0.5}, neg {0.5, 0.2}: 0.8 beats both (2), 0.5 ties 0.5 (0.5) and beats 0.2 (1) -> 3.5/4
    y, s = [1, 1, 0, 0], [0.8, 0.5, 0.5, 0.2]
    assert M.roc_auc(y, s) == pytest.approx(0.875)
    assert M.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_balanced_accuracy_at_threshold_by_hand() -> None:
    # >= 0.5 predicts faithful: TPR 2/2, TNR 1/2 (0.5 is a false positive) -> 0.75
    assert M.balanced_accuracy([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.2], 0.5) == pytest.approx(0.75)
    assert M.balanced_accuracy([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.2], 0.51) == pytest.approx(0.75)  # TPR 1/2, TNR 1


def test_tune_threshold_picks_midpoint_closest_to_half() -> None:
    t, ba = M.tune_threshold([1, 1, 0, 0], [0.9, 0.7, 0.3, 0.1])
    assert (t, ba) == (pytest.approx(0.5), 1.0)  # midpoint of 0.3 and 0.7
    t, ba = M.tune_threshold([1, 1, 1, 1, 0, 0, 0, 0], list(SCORES["good"].values())[:8])
    assert t == pytest.approx(0.35) and ba == pytest.approx(0.875)


def test_single_class_is_a_clear_message_not_nan() -> None:
    with pytest.raises(MetricUndefined, match="all 3 labelled pairs are faithful"):
        M.roc_auc([1, 1, 1], [0.1, 0.5, 0.9])
    rows = [PairRow(pair_id=str(i), dataset="d", content_hash=str(i), gold_label=1.0,
                    scores={"nli": PairScoreRow(score=s, label="supported", n_claims=1, n_checkable=1)})
            for i, s in enumerate([0.2, 0.6, 0.9])]
    ds = [DatasetInfo(name="d", source="x", n_pairs=3, labelled=3, inputs_hash="h")]
    metrics, thresholds = evaluate_run(rows, ds, n_boot=50)
    m = metrics["d"]["nli"]
    assert m["roc_auc"] is None and "both classes" in m["notes"]["roc_auc"]
    assert m["balanced_accuracy@tuned"] is None
    assert thresholds["nli"]["value"] is None and thresholds["nli"]["note"]
    assert "NaN" not in json.dumps(metrics)  # never NaN anywhere (json.dumps writes NaN for float nan)


def test_graded_labels_give_correlations_matching_scipy() -> None:
    gold = np.array([0.0, 0.25, 0.5, 0.5, 1.0, 1.0])
    s = np.array([0.1, 0.3, 0.2, 0.6, 0.6, 0.9])
    assert M.correlation("pearson", gold, s) == pytest.approx(stats.pearsonr(gold, s).statistic)
    assert M.correlation("spearman", gold, s) == pytest.approx(stats.spearmanr(gold, s).statistic)
    assert M.correlation("kendall", gold, s) == pytest.approx(stats.kendalltau(gold, s).statistic)
    with pytest.raises(MetricUndefined, match="scores are equal"):
        M.correlation("pearson", gold, np.full(6, 0.5))


def test_twin_wins_ties_count_half() -> None:
    groups = ["a", "a", "b", "b", "c", "c", None]
    y = [1, 0, 1, 0, 1, 0, 1]
    s = [0.9, 0.1, 0.5, 0.5, 0.2, 0.8, 0.99]
    assert M.twin_wins(groups, y, s) == pytest.approx((1 + 0.5 + 0) / 3)


def test_bootstrap_ci_brackets_the_estimate_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = y * 0.3 + rng.random(200)
    ci = M.bootstrap_ci(M.auc_rows(y, s), 200, n_boot=300, seed=0)
    assert ci is not None and ci[0] < M.roc_auc(y, s) < ci[1]
    assert ci == M.bootstrap_ci(M.auc_rows(y, s), 200, n_boot=300, seed=0)


def test_threshold_tuned_on_dev_is_applied_to_test() -> None:
    pairs, _ = build_rows(SCORES["good"])
    metrics, thresholds = evaluate_run(pairs, datasets_for(pairs), n_boot=50)
    assert thresholds["nli"]["value"] == pytest.approx(0.35)
    assert thresholds["nli"]["dataset"] == "frank"
    bump = metrics["bump"]["nli"]
    assert bump["threshold"] == pytest.approx(0.35) and bump["threshold_from"] == "frank"
    # at 0.35 two unfaithful bump twins (0.4, 0.5) pass: TPR 1, TNR 1/2; tuning on bump itself would give 1.0
    assert bump["balanced_accuracy@tuned"] == pytest.approx(0.75)
    assert bump["balanced_accuracy@0.5"] == pytest.approx(0.875)
    assert bump["roc_auc"] == 1.0 and bump["twin_wins"] == 1.0
    assert metrics["frank"]["nli"]["roc_auc"] == pytest.approx(15 / 16)
    assert metrics["macro"]["nli"]["roc_auc"] == pytest.approx((15 / 16 + 1) / 2)
    lo, hi = metrics["frank"]["nli"]["roc_auc_ci"]
    assert lo <= 15 / 16 <= hi


def test_given_thresholds_are_applied_not_retuned() -> None:
    pairs, _ = build_rows(SCORES["good"])
    given = {"nli": {"value": 0.55, "dataset": "frank", "metric": "balanced_accuracy", "run": "old"}}
    metrics, thresholds = evaluate_run(pairs, datasets_for(pairs), thresholds=given, n_boot=0)
    assert thresholds == given
    assert metrics["bump"]["nli"]["threshold"] == 0.55
    assert metrics["bump"]["nli"]["balanced_accuracy@tuned"] == pytest.approx(1.0)  # 0.55 splits bump perfectly


def test_without_dev_each_dataset_is_tuned_on_itself() -> None:
    pairs, _ = build_rows(SCORES["good"])
    ds = [d.model_copy(update={"role": "none"}) for d in datasets_for(pairs)]
    metrics, thresholds = evaluate_run(pairs, ds, n_boot=0)
    assert metrics["bump"]["nli"]["threshold_from"] == "bump"
    assert metrics["bump"]["nli"]["balanced_accuracy@tuned"] == 1.0
    assert "no dataset has role dev" in thresholds["nli"]["note"]


def test_claim_level_metrics_when_claims_have_gold() -> None:
    pairs, claims = build_rows(SCORES["good"])
    gold = {p.pair_id: p.gold_label for p in pairs}
    labelled = [c.model_copy(update={"gold_label": gold[c.pair_id] if c.claim_index == 1 else 1.0}) for c in claims]
    metrics, _ = evaluate_run(pairs, datasets_for(pairs), claims=labelled, n_boot=0)
    cl = metrics["bump"]["nli"]["claim_level"]
    assert cl["n"] == 16 and cl["roc_auc"] is not None and not math.isnan(cl["roc_auc"])


def test_thresholds_from_another_run(tmp_path) -> None:
    write_run(tmp_path, "r1", "good")
    t = thresholds_from("r1", tmp_path)
    assert t["nli"]["value"] == pytest.approx(0.35) and t["nli"]["run"] == "r1"
    with pytest.raises(RunError, match="no run folder"):
        thresholds_from("nope", tmp_path)
