"""NLI label mapping, claim verdicts, aggregation and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.aggregate import aggregate_pair, claims_for_pair, combine_pair_scores
from harness.config import ConfigError, NLIScorerConfig, load_config
from harness.models.nli_labels import nli_label_index
from harness.scorers.nli import claim_verdict, closest_premises
from harness.types import ClaimScore, Pair, PairScore, Segment, SegmentedPair


def test_label_order_is_read_from_config_not_assumed() -> None:
    assert nli_label_index({0: "contradiction", 1: "neutral", 2: "entailment"}) == {
        "entailment": [2], "neutral": [1], "contradiction": [0]}
    assert nli_label_index({0: "entailment", 1: "not_entailment"})["neutral"] == [1]
    with pytest.raises(ValueError, match="id2label"):
        nli_label_index({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def _rows(*triples: tuple[float, float, float]) -> list[dict[str, float]]:
    return [{"entailment": e, "neutral": n, "contradiction": c} for e, n, c in triples]


def test_claim_verdicts() -> None:
    cfg = NLIScorerConfig(type="nli")
    score, label, reason, at, _ = claim_verdict(_rows((0.1, 0.8, 0.1), (0.7, 0.2, 0.1)), cfg)
    assert (score, label, reason, at) == (0.7, "supported", "entailed", 1)
    score, label, reason, at, probs = claim_verdict(_rows((0.2, 0.7, 0.1), (0.1, 0.1, 0.8)), cfg)
    assert (label, reason, at) == ("contradicted", "contradicted", 1) and probs["contradiction"] == 0.8
    assert score == 0.2
    _, label, reason, _, _ = claim_verdict(_rows((0.3, 0.6, 0.1)), cfg)
    assert (label, reason) == ("unsupported", "no_evidence")
    one_premise = NLIScorerConfig(type="nli", claim_score="max_entail_minus_contradict")
    score, *_ = claim_verdict(_rows((0.6, 0.0, 0.4), (0.5, 0.5, 0.0)), one_premise)
    assert score == pytest.approx(0.5)


def test_summac_zs_takes_two_independent_maxima() -> None:
    rows = _rows((0.6, 0.0, 0.4), (0.5, 0.5, 0.0), (0.1, 0.2, 0.7))
    zs = NLIScorerConfig(type="nli", claim_score="summac_zs")
    score, label, _, at, _ = claim_verdict(rows, zs)
    assert score == pytest.approx(0.6 - 0.7) and label == "supported" and at == 0
    one_premise = NLIScorerConfig(type="nli", claim_score="max_entail_minus_contradict")
    assert claim_verdict(rows, one_premise)[0] == pytest.approx(0.5)


def test_old_claim_score_name_is_refused_with_what_changed(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {type: jsonl, path: c.yaml}\nscorers: [{type: nli, claim_score: entail_minus_contradict}]\n")
    with pytest.raises(ConfigError, match=r"scorers\.0\.(nli\.)?claim_score.*renamed.*max_entail_minus_contradict"
                                          r".*summac_zs"):
        load_config(cfg)


def test_explicit_labels_map_generic_and_two_way_models() -> None:
    generic = {0: "0", 1: "1"}
    with pytest.raises(ValueError, match=r"model\.labels"):
        nli_label_index(generic)
    assert nli_label_index(generic, {"supported": 1, "unsupported": 0}) == {
        "entailment": [1], "neutral": [0], "contradiction": []}
    vitc = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert nli_label_index(vitc, {"entailment": 0, "contradiction": 1, "neutral": 2}) == {
        "entailment": [0], "neutral": [2], "contradiction": [1]}
    named = {0: "contradiction", 1: "neutral", 2: "entailment"}
    assert nli_label_index(named, {"entailment": 0, "neutral": 1, "contradiction": 2})["entailment"] == [0], (
        "an explicit map wins over id2label")
    with pytest.raises(ValueError, match="exactly once"):
        nli_label_index(vitc, {"entailment": 0, "contradiction": 1})
    with pytest.raises(ValueError, match="exactly once"):
        nli_label_index(generic, {"supported": 2, "unsupported": 0})


def test_labels_config_keys_are_checked() -> None:
    from pydantic import ValidationError

    from harness.config import ModelConfig

    assert ModelConfig(labels={"supported": 1, "unsupported": 0}).labels == {"supported": 1, "unsupported": 0}
    with pytest.raises(ValidationError, match="not a mix"):
        ModelConfig(labels={"supported": 1, "contradiction": 0})
    with pytest.raises(ValidationError, match="at most once"):
        ModelConfig(labels={"entailment": 0, "neutral": 0})


def _sp(flags: tuple[tuple[int, str], ...] = ()) -> SegmentedPair:
    text = "A. B. Skip."
    claims = (Segment(0, 0, 2, "A."), Segment(1, 3, 5, "B."),
              Segment(2, 6, 11, "Skip.", checkable=False, reason="boilerplate"))
    return SegmentedPair(Pair("p", "src", text), claims, (Segment(0, 0, 3, "src"),), flags=flags)


def _cs(idx: int, score: float, label: str = "supported") -> ClaimScore:
    return ClaimScore("p", "nli", idx, "x", 0, 1, score, label, "entailed")  # type: ignore[arg-type]


def test_not_checkable_do_not_dilute_and_flags_override() -> None:
    scored = {("p", 0): _cs(0, 0.9), ("p", 1): _cs(1, 0.7)}
    rows = claims_for_pair(_sp(), "nli", scored)
    assert [r.label for r in rows] == ["supported", "supported", "not_checkable"]
    ps = aggregate_pair("p", "nli", rows, "mean")
    assert ps.score == pytest.approx(0.8) and ps.n_checkable == 2 and ps.label == "supported"
    flagged = claims_for_pair(_sp(flags=((1, "fabricated_quote"),)), "nli", scored)
    assert flagged[1].label == "unsupported" and flagged[1].reason == "fabricated_quote"
    assert flagged[1].detail["model_score"] == 0.7
    ps = aggregate_pair("p", "nli", flagged, "min")
    assert ps.score == 0.0 and ps.label == "unsupported"


def test_combination_is_weighted_mean_skipping_missing() -> None:
    a = PairScore("p", "a", 0.8, "supported", 2, 2)
    b = PairScore("p", "b", 0.2, "unsupported", 2, 2)
    c = PairScore("p", "c", None, "not_checkable", 2, 0)
    out = combine_pair_scores("p", "combined", [(a, 3.0), (b, 1.0), (c, 1.0)], threshold=0.5)
    assert out.score == pytest.approx(0.65) and out.label == "supported"


def test_closest_premises_ranks_by_shared_content_words_and_keeps_source_order() -> None:
    premises = [{"weather", "sunny"}, {"council", "budget", "approved"}, {"budget", "taxes"}, {"dog"}]
    claim = "The council approved the budget and raised taxes."
    assert closest_premises(claim, premises, 2) == [1, 2]
    assert closest_premises(claim, premises, 1) == [1]
    assert closest_premises(claim, premises, None) == [0, 1, 2, 3]
    assert closest_premises(claim, premises, 10) == [0, 1, 2, 3]
    assert closest_premises("Nothing shared here.", premises, 2) == [0, 1], "ties go to the earlier premise"
