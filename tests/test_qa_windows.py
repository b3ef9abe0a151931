"""QA reads only the source windows that can answer: ranking, widening, the candidate as reference, and the
guard that warns when ``combined`` ranks below its best member."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from test_qa_scorer import SOURCE, OracleClozeQA, OracleQA, RecordingEngine, oracle_scorer, segmented

from harness.config import QAScorerConfig
from harness.evaluation.guard import combined_warnings
from harness.scorers.qa import QAScorer
from harness.scorers.qa_windows import rank_windows


def test_the_window_holding_the_candidate_ranks_first() -> None:
    windows = ["The mayor spoke on Monday about roads.", "Paris hosted the summit on Monday.",
               "The summit ended with roads and trains."]
    assert rank_windows("The summit was held in [MASK] on Monday.".replace("[MASK]", " "), "Paris", windows)[0] == 1
    # without the candidate, the rarer shared words decide: "roads" is in two windows, "mayor" in one
    assert rank_windows("the mayor and roads", "", windows)[0] == 0


def test_words_in_every_window_do_not_rank_and_ties_keep_source_order() -> None:
    windows = ["Monday was cold.", "Monday was warm.", "Monday was dry."]
    assert rank_windows("What happened on Monday?", "", windows) == [0, 1, 2]
    assert rank_windows("anything", "", ["only one"]) == [0]
    assert rank_windows("anything", "", []) == []


def _qa_source_items(engine: RecordingEngine, qa: OracleQA) -> int:
    return sum(n for key, n in engine.calls if key == qa.cache_key)


def test_one_window_per_question_finds_an_answer_in_a_late_window() -> None:
    pairs = [segmented("a", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris."]),
             segmented("b", SOURCE, ["The army said 40 troops moved."])]
    every, _, qa_every = oracle_scorer(claim_answers="model")
    few, _, qa_few = oracle_scorer(source_windows=1, claim_answers="model")
    e_every, e_few = RecordingEngine(token_budget=256), RecordingEngine(token_budget=256)
    out_every, out_few = every.score(pairs, e_every), few.score(pairs, e_few)
    for key, row in out_every.items():  # the same verdicts and evidence from far fewer source inputs
        assert (out_few[key].label, out_few[key].score, out_few[key].evidence) == (row.label, row.score, row.evidence)
    questions = [q for row in out_few.values() for q in row.detail["questions"]]
    assert all(q["windows_read"][0] == 1 < q["windows_read"][1] for q in questions)
    windows_total = sum(q["windows_read"][1] for q in questions)
    claim_items = len(questions)  # one claim-side answer per question
    assert _qa_source_items(e_every, qa_every) == windows_total + claim_items
    assert _qa_source_items(e_few, qa_few) == len(questions) + claim_items
    assert out_few[("a", 0)].evidence is not None and out_few[("a", 0)].evidence.start > len(SOURCE) // 3


def test_weak_answers_widen_to_every_window_and_only_they_do() -> None:
    pairs = [segmented("a", SOURCE, ["Angela Merkel met Donald Trump in Paris."])]
    scorer, _, qa = oracle_scorer(source_windows=1, widen_below=0.5, claim_answers="model")
    engine = RecordingEngine(token_budget=256)
    row = scorer.score(pairs, engine)[("a", 0)]
    read = {q["answer"]: q["windows_read"] for q in row.detail["questions"]}
    assert read["Donald Trump"][0] == 1 and read["Paris"][0] == 1  # found in the best window: no more read
    assert read["Angela Merkel"][0] == read["Angela Merkel"][1] > 1  # not found anywhere: read every window
    assert [key for key, _ in engine.calls].count(qa.cache_key) == 3  # claims, best windows, the widened rest
    never, _, _ = oracle_scorer(source_windows=1, claim_answers="model")
    narrow = never.score(pairs, RecordingEngine(token_budget=256))[("a", 0)]
    assert {q["answer"]: q["windows_read"][0] for q in narrow.detail["questions"]}["Angela Merkel"] == 1


def test_cloze_questions_take_the_candidate_as_reference_without_a_model_input() -> None:
    cfg = QAScorerConfig(type="qa", answer_extractor="rules", doc_stride=8)
    qa = OracleClozeQA()
    assert QAScorer(cfg, None, qa).claim_reference == "candidate"
    assert oracle_scorer()[0].claim_reference == "model"  # generated questions: the model answers on the claim
    pairs = [segmented("a", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris."]),
             segmented("b", SOURCE, ["Angela Merkel met Donald Trump in Berlin."])]
    by_candidate = QAScorer(cfg, None, qa).score(pairs, engine := RecordingEngine(token_budget=256))
    assert [key for key, _ in engine.calls] == [qa.cache_key]  # sources only
    by_model = QAScorer(cfg.model_copy(update={"claim_answers": "model"}), None, qa).score(
        pairs, RecordingEngine(token_budget=256))
    for key, row in by_model.items():
        assert (by_candidate[key].label, by_candidate[key].score) == (row.label, row.score)
        assert by_candidate[key].detail["claim_answers"] == "candidate"
        assert all(q["claim_answer"]["text"] == q["answer"] for q in by_candidate[key].detail["questions"])


def _metrics(**aucs: Any) -> dict[str, Any]:
    return {"dev": {name: {"roc_auc": v} for name, v in aucs.items()},
            "pairs": {name: {"twin_wins": v} for name, v in aucs.items()}}


DATASETS = [SimpleNamespace(name="dev", role="dev", labelled=10), SimpleNamespace(name="pairs", role="test",
                                                                                 labelled=10),
            SimpleNamespace(name="unlabelled", role="none", labelled=0)]


def test_guard_warns_only_where_combined_is_below_its_best_member() -> None:
    lines = combined_warnings(_metrics(nli=0.80, qa=0.70, combined=0.78), DATASETS, "combined", ["nli", "qa"])
    assert len(lines) == 2
    assert "dev set dev: roc_auc 0.780 < nli 0.800" in lines[0] and "test set pairs: twin_wins" in lines[1]
    assert combined_warnings(_metrics(nli=0.80, qa=0.70, combined=0.81), DATASETS, "combined", ["nli", "qa"]) == []
    # a scorer with weight 0 is not a member; a set without the metric is skipped
    assert combined_warnings(_metrics(nli=0.80, overlap=0.9, combined=0.81), DATASETS, "combined", ["nli"]) == []
    assert combined_warnings({"dev": {"combined": {"n": 3}}}, DATASETS, "combined", ["nli"]) == []


@pytest.mark.parametrize("widen_below", [-0.1, 1.5])
def test_widen_below_is_a_score(widen_below: float) -> None:
    with pytest.raises(ValueError, match="widen_below"):
        QAScorerConfig.model_validate({"type": "qa", "widen_below": widen_below})


def test_absent_candidates_are_unsupported_without_a_question() -> None:
    pairs = [segmented("a", SOURCE, ["Angela Merkel met Donald Trump in Paris."]),
             segmented("b", SOURCE, ["Angela Merkel spoke in Berlin."]),
             segmented("c", SOURCE, ["The army said forty troops moved."])]
    asking, _, _ = oracle_scorer(claim_answers="model")
    cheap, _, qa = oracle_scorer(claim_answers="model", absent_answers="unsupported")
    engine = RecordingEngine(token_budget=256)
    out, before = cheap.score(pairs, engine), asking.score(pairs, RecordingEngine(token_budget=256))
    merkel = {q["answer"]: q for q in out[("a", 0)].detail["questions"]}
    assert list(merkel) == ["Angela Merkel", "Donald Trump", "Paris"]  # candidate order kept
    assert merkel["Angela Merkel"]["absent_from_source"] and merkel["Angela Merkel"]["score"] == 0.0
    assert merkel["Angela Merkel"]["windows_read"] == [0, 0] and merkel["Angela Merkel"]["source_answer"] is None
    assert "absent_from_source" not in merkel["Paris"]
    assert out[("a", 0)].score == pytest.approx(before[("a", 0)].score, abs=0.02)
    assert (out[("b", 0)].label, out[("b", 0)].reason, out[("b", 0)].score) == ("unsupported", "answers_absent", 0.0)
    # "forty" is the source's "40": present, so asked
    assert not any(q.get("absent_from_source") for q in out[("c", 0)].detail["questions"])
    asked = [q for row in out.values() for q in row.detail["questions"] if not q.get("absent_from_source")]
    assert sum(n for key, n in engine.calls if key == qa.cache_key) == sum(q["windows_read"][1] + 1 for q in asked)
