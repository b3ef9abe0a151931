"""The QA scorer: claim verdicts with oracle backends (known answers), and tiny real models by config."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from _tiny_qa import build_tiny_bert_tokenizer, tiny_qa_dir, tiny_qg_dir, tiny_roberta_qa_dir

from harness.config import QAScorerConfig, RunConfig
from harness.engine import Engine
from harness.engine.base import Backend, ModelInput, Output
from harness.models.qa_backends import ExtractiveQABackend
from harness.results.schema import ClaimRow, EvidenceRow
from harness.scorers.base import Scorer, ScorerContext, build_scorer
from harness.scorers.qa import QAScorer, highlight, qg_prompt
from harness.types import Pair, Segment, SegmentedPair

__all__ = ["tiny_qa_dir", "tiny_qg_dir", "tiny_roberta_qa_dir"]  # fixtures re-exported for pytest

FILLER = " ".join(f"The {w} report was published." for w in
                  ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"])
SOURCE = (f"{FILLER} Claudia Sheinbaum met Donald Trump in Paris on Monday. {FILLER} "
          "Later the army said 40 troops moved.")


# ------------------------------------------------------------------------------- oracle backends

class _Item(tuple[str, ...]):
    def __len__(self) -> int:
        return sum(len(f.split()) for f in self) + 2


class OracleQG:
    """'Generates' ``what about <answer>?`` from the highlighted answer in the prompt."""

    cache_key = "oracle-qg"

    def __init__(self) -> None:
        self.batches = 0

    def encode(self, item: ModelInput) -> _Item:
        return _Item(item)

    def run_batch(self, batch: Sequence[_Item]) -> list[Output]:
        self.batches += 1
        out = []
        for (prompt,) in batch:
            m = re.search(r"<hl> (.*?) <hl>", prompt)
            out.append(f"what about {m.group(1)}?" if m else "")
        return out


class OracleQA(ExtractiveQABackend):
    """Finds the asked-about answer in the context by string search (windows come from the real code).

    Found: that span, confidently. Not found: ``guess`` -> the context's first word, fairly confidently
    (a wrong answer, below a found one); otherwise abstain (no-answer wins).
    """

    def __init__(self, guess: bool = False) -> None:
        tok = build_tiny_bert_tokenizer()
        super().__init__(None, tok, model_key="oracle-qa", max_length=48)
        self.guess = guess
        self.batches = 0
        self.cache_key_ = f"oracle-qa-guess={guess}"

    @property
    def cache_key(self) -> str:
        return self.cache_key_

    def encode(self, item: ModelInput) -> Any:
        return _Item(item)

    def run_batch(self, batch: Sequence[Any]) -> list[Output]:
        self.batches += 1
        out: list[Output] = []
        for question, context in batch:
            target = question[len("what about "):-1]
            at = context.lower().find(target.lower())
            if at >= 0:
                out.append({"spans": [[at, at + len(target), -0.05]], "null": -6.0})
            else:
                first = re.search(r"\w+", context)
                s, e = (first.start(), first.end()) if first else (0, 0)
                out.append({"spans": [[s, e, -1.0 if self.guess else -6.0]], "null": -6.0 if self.guess else -0.05})
        return out


class RecordingEngine(Engine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, int]] = []

    def run(self, backend: Backend, inputs: Sequence[ModelInput], desc: str = "inference") -> list[Output]:
        self.calls.append((backend.cache_key, len(inputs)))
        return super().run(backend, inputs, desc)


class DictCache:
    def __init__(self) -> None:
        self.data: dict[tuple[str, ModelInput], Output] = {}

    def get_many(self, key: str, items: Sequence[ModelInput]) -> dict[ModelInput, Output]:
        return {i: self.data[(key, i)] for i in items if (key, i) in self.data}

    def put_many(self, key: str, outputs: dict[ModelInput, Output]) -> None:
        self.data.update({(key, i): json.loads(json.dumps(o)) for i, o in outputs.items()})


def segmented(pair_id: str, source: str, claims: list[str], *, checkable: Sequence[bool] | None = None,
              source_text: str | None = None) -> SegmentedPair:
    rewrite = " ".join(claims)
    segs, pos = [], 0
    for i, c in enumerate(claims):
        start = rewrite.index(c, pos)
        ok = True if checkable is None else checkable[i]
        segs.append(Segment(i, start, start + len(c), c, checkable=ok, reason=None if ok else "meta"))
        pos = start + len(c)
    premises, ppos = [], 0
    for j, sent in enumerate(re.findall(r"[^.]+\.", source)):
        s = source.index(sent.strip(), ppos)
        premises.append(Segment(j, s, s + len(sent.strip()), sent.strip(), kind="sentence"))
        ppos = s + len(sent.strip())
    return SegmentedPair(Pair(pair_id, source, rewrite), tuple(segs), tuple(premises))


def oracle_scorer(**cfg: Any) -> tuple[QAScorer, OracleQG, OracleQA]:
    qg, qa = OracleQG(), OracleQA(guess=cfg.pop("guess", False))
    # every window and every candidate asked (the reading before 0.5), unless a test says otherwise
    config = QAScorerConfig.model_validate({"type": "qa", "answer_extractor": "rules", "doc_stride": 8,
                                            "source_windows": None, "absent_answers": "ask", **cfg})
    return QAScorer(config, qg, qa), qg, qa  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- verdicts


def test_prompt_highlights_the_answer() -> None:
    from harness.scorers.answers import AnswerCandidate

    cand = AnswerCandidate("Donald Trump", 14, 26, "entity")
    claim = "Sheinbaum met Donald Trump in Paris."
    assert highlight(claim, 14, 26) == "Sheinbaum met <hl> Donald Trump <hl> in Paris."
    assert qg_prompt("generate question: {highlighted}", claim, cand) == \
        "generate question: Sheinbaum met <hl> Donald Trump <hl> in Paris."
    assert qg_prompt("{answer} \\n {claim}", claim, cand) == "Donald Trump \\n Sheinbaum met Donald Trump in Paris."


def test_supported_claim_with_evidence_in_a_late_window() -> None:
    scorer, _, qa = oracle_scorer()
    sp = segmented("p", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris."])
    assert len(qa.windows(SOURCE, 8)) > 2
    out = scorer.score([sp], Engine(token_budget=256))
    cs = out[("p", 0)]
    assert cs.label == "supported" and cs.reason == "answers_match"
    assert cs.score == pytest.approx(1.0, abs=0.01)
    assert cs.evidence is not None
    assert SOURCE[cs.evidence.start:cs.evidence.end] == cs.evidence.text
    assert cs.evidence.start > len(FILLER)  # found beyond the first window, offset into the full source
    assert cs.evidence.premise_index is not None
    assert sp.premises[cs.evidence.premise_index].text.startswith("Claudia Sheinbaum met")
    qs = cs.detail["questions"]
    assert [q["answer"] for q in qs] == ["Claudia Sheinbaum", "Donald Trump", "Paris"]
    for q in qs:
        assert sp.pair.rewrite[q["answer_start"]:q["answer_end"]] == q["answer"]
        assert q["question"] == f"what about {q['answer']}?"
        assert SOURCE[q["source_answer"]["start"]:q["source_answer"]["end"]] == q["source_answer"]["text"]
        assert sp.pair.rewrite[q["claim_answer"]["start"]:q["claim_answer"]["end"]] == q["claim_answer"]["text"]
        assert q["f1"] == 1.0 and q["kept"]


def test_unanswerable_claim_is_unsupported_with_the_failing_question_as_evidence() -> None:
    scorer, _, _ = oracle_scorer()
    sp = segmented("p", SOURCE, ["Angela Merkel met Donald Trump in Berlin."])
    cs = scorer.score([sp], Engine())[("p", 0)]
    assert cs.label == "unsupported" and cs.reason == "unanswerable"
    assert cs.score is not None and cs.score < 0.5
    assert cs.probs["p_no_answer"] > 0.5
    worst = cs.detail["questions"][cs.detail["evidence_question"]]
    assert worst["answer"] in ("Angela Merkel", "Berlin")
    assert worst["score"] == min(q["score"] for q in cs.detail["questions"])


def test_wrong_confident_answer_is_answer_mismatch() -> None:
    scorer, _, _ = oracle_scorer(guess=True)
    sp = segmented("p", SOURCE, ["Angela Merkel met Donald Trump in Berlin."])
    cs = scorer.score([sp], Engine())[("p", 0)]
    assert cs.label == "unsupported" and cs.reason == "answer_mismatch"
    assert cs.probs["answer_f1"] == pytest.approx(1 / 3, abs=0.01)


def test_answerability_off_scores_f1_only() -> None:
    scorer, _, _ = oracle_scorer(answerability=False)
    sp = segmented("p", SOURCE, ["Angela Merkel met Donald Trump in Berlin."])
    cs = scorer.score([sp], Engine())[("p", 0)]
    assert cs.probs["p_no_answer"] == 0.0
    assert cs.reason == "answer_mismatch"


def test_question_filter_drops_questions_that_miss_their_answer() -> None:
    class OffTopicQG(OracleQG):
        def run_batch(self, batch: Sequence[_Item]) -> list[Output]:
            return ["what about Paris?" if "<hl> Donald Trump <hl>" in p else q
                    for (p,), q in zip(batch, super().run_batch(batch), strict=True)]

    config = QAScorerConfig(type="qa", answer_extractor="rules", min_question_consistency=0.5)
    scorer = QAScorer(config, OffTopicQG(), OracleQA())  # type: ignore[arg-type]
    sp = segmented("p", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris."])
    qs = scorer.score([sp], Engine())[("p", 0)].detail["questions"]
    kept = {q["answer"]: q["kept"] for q in qs}
    assert kept == {"Claudia Sheinbaum": True, "Donald Trump": False, "Paris": True}


def test_claims_without_candidates_or_questions_are_not_checkable() -> None:
    class SilentQG(OracleQG):
        def run_batch(self, batch: Sequence[_Item]) -> list[Output]:
            return ["" for _ in batch]

    scorer, _, _ = oracle_scorer()
    sp = segmented("p", SOURCE, ["it was fine.", "Navigation menu.", "Donald Trump spoke."],
                   checkable=[True, False, True])
    out = scorer.score([sp], Engine())
    assert set(out) == {("p", 0), ("p", 2)}  # non-checkable claims are not the scorer's business
    assert out[("p", 0)].label == "not_checkable" and out[("p", 0)].score is None
    assert out[("p", 0)].reason == "no_answer_candidates"
    silent = QAScorer(scorer.cfg, SilentQG(), OracleQA())  # type: ignore[arg-type]
    cs = silent.score([sp], Engine())[("p", 2)]
    assert (cs.label, cs.reason, cs.detail["candidates"]) == ("not_checkable", "no_questions", ["Donald Trump"])


def test_max_questions_per_claim_caps_questions() -> None:
    scorer, _, _ = oracle_scorer(max_questions_per_claim=2)
    sp = segmented("p", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris on Monday with 40 troops."])
    assert len(scorer.score([sp], Engine())[("p", 0)].detail["questions"]) == 2


def test_languages_are_what_both_models_declare() -> None:
    from harness.results.schema import ModelInfo

    infos = [ModelInfo(role="question_generation", id="qg", languages=["en", "fr"]),
             ModelInfo(role="question_answering", id="qa", languages=["en", "de"])]
    scorer = QAScorer(QAScorerConfig(type="qa"), OracleQG(), OracleQA(), infos)  # type: ignore[arg-type]
    assert scorer.languages() == frozenset({"en"})
    assert QAScorer(QAScorerConfig(type="qa"), OracleQG(), OracleQA()).languages() is None  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- engine use


def test_three_engine_calls_for_the_whole_run_and_cache_reuse() -> None:
    scorer, qg, qa = oracle_scorer()
    pairs = [
        segmented("a", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris.", "The army said 40 troops moved."]),
        segmented("b", SOURCE, ["Angela Merkel met Donald Trump in Berlin."]),
        segmented("c", "Donald Trump spoke in Paris.", ["Donald Trump spoke in Paris."]),
    ]
    cache = DictCache()
    engine = RecordingEngine(token_budget=128, cache=cache)
    first = scorer.score(pairs, engine)
    assert [k for k, _ in engine.calls] == ["oracle-qg", qa.cache_key, qa.cache_key]
    assert engine.stats.unique < engine.stats.inputs  # "Donald Trump" asked on the same source: deduplicated
    assert qa.batches > 1  # the engine cut the work into token-budget batches
    qg_batches, qa_batches = qg.batches, qa.batches
    again = RecordingEngine(token_budget=128, cache=cache)
    second = scorer.score(pairs, again)
    assert second == first
    assert (qg.batches, qa.batches) == (qg_batches, qa_batches)  # everything came from the cache
    assert again.stats.cache_hits == again.stats.unique


# ------------------------------------------------------------------------------- tiny real models


def tiny_config(qg_dir: Path, qa_dir: Path, **extra: Any) -> QAScorerConfig:
    return QAScorerConfig.model_validate({
        "type": "qa", "name": "qa_tiny", "answer_extractor": "rules", "generation_max_new_tokens": 6,
        "doc_stride": 16,
        "models": {"question_generation": {"id": str(qg_dir), "revision": None},
                   "question_answering": {"id": str(qa_dir), "max_length": 64},
                   "question_answering_dtype": "fp32"},
        **extra,
    })


@pytest.mark.parametrize("qa_fixture", ["tiny_qa_dir", "tiny_roberta_qa_dir"])  # BERT- and RoBERTa-style QA
def test_tiny_models_by_config_produce_valid_claim_rows(tiny_qg_dir: Path, qa_fixture: str,
                                                        request: pytest.FixtureRequest) -> None:
    cfg = tiny_config(tiny_qg_dir, request.getfixturevalue(qa_fixture))
    scorer = build_scorer(cfg, ScorerContext(device="cpu", dtype="fp32"))
    assert isinstance(scorer, Scorer) and scorer.name == "qa_tiny" and scorer.type == "qa"
    assert [m.role for m in scorer.models()] == ["question_generation", "question_answering"]
    assert all(m.weight_sha256 for m in scorer.models())
    assert scorer.languages() == frozenset({"en"})
    sp = segmented("p", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris.", "it was fine.",
                                 "The army said 40 troops moved on Monday."])
    engine = RecordingEngine(token_budget=512)
    out = scorer.score([sp], engine)
    assert len(engine.calls) == 3
    assert set(out) == {("p", 0), ("p", 1), ("p", 2)}
    for (_, idx), cs in out.items():
        row = ClaimRow(dataset="d", **{k: getattr(cs, k) for k in (
            "pair_id", "scorer", "claim_index", "text", "start", "end", "score", "label", "reason", "probs",
            "detail")}, evidence=None if cs.evidence is None else EvidenceRow(**vars_of(cs.evidence)))
        json.dumps(row.model_dump())
        assert cs.scorer == "qa_tiny" and sp.pair.rewrite[cs.start:cs.end] == cs.text
        if idx == 1:
            assert cs.label == "not_checkable"
            continue
        assert cs.label in ("supported", "unsupported") and cs.score is not None and 0.0 <= cs.score <= 1.0
        assert cs.evidence is not None and SOURCE[cs.evidence.start:cs.evidence.end] == cs.evidence.text
        for q in cs.detail["questions"]:
            assert q["question"]
            assert 0.0 <= q["source_answer"]["p_no_answer"] <= 1.0


def test_tiny_qa_model_alone_scores_cloze_questions(tiny_qa_dir: Path) -> None:
    """No generator configured: only the QA model loads, and the run makes one engine call."""
    cfg = QAScorerConfig.model_validate({
        "type": "qa", "answer_extractor": "rules", "doc_stride": 16,
        "models": {"question_answering": {"id": str(tiny_qa_dir), "max_length": 64},
                   "question_answering_dtype": "fp32"}})
    scorer = build_scorer(cfg, ScorerContext(device="cpu", dtype="fp32"))
    assert isinstance(scorer, QAScorer) and scorer.questions == "cloze"
    assert [m.role for m in scorer.models()] == ["question_answering"] and scorer.languages() == frozenset({"en"})
    sp = segmented("p", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris.", "The army said 40 troops moved."])
    engine = RecordingEngine(token_budget=512)
    out = scorer.score([sp], engine)
    assert len(engine.calls) == 1  # the sources only: a cloze question's reference is its own candidate
    for cs in out.values():
        assert cs.label in ("supported", "unsupported") and cs.score is not None
        assert all("[MASK]" in q["question"] for q in cs.detail["questions"])


def vars_of(ev: Any) -> dict[str, Any]:
    return {"text": ev.text, "start": ev.start, "end": ev.end, "premise_index": ev.premise_index}


def test_missing_hub_model_fails_fast_with_one_line(monkeypatch: pytest.MonkeyPatch, tiny_qg_dir: Path) -> None:
    from harness.models.loading import ModelUnavailableError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = tiny_config(tiny_qg_dir, Path("/nonexistent/qa-model"))
    with pytest.raises(ModelUnavailableError) as err:
        build_scorer(cfg, ScorerContext())
    assert "\n" not in str(err.value)


def test_run_config_accepts_qa_scorer_blocks() -> None:
    cfg = RunConfig.model_validate({
        "data": [{"type": "jsonl", "path": "x.jsonl"}],
        "scorers": [{"type": "nli"}, {"type": "qa", "weight": 0.5,
                                      "models": {"question_generation": {"id": "lmqg/t5-base-squad-qg",
                                                                         "revision": "abc"}}}],
    })
    qa = cfg.scorers[1]
    assert isinstance(qa, QAScorerConfig)
    assert qa.models.question_generation is not None and qa.models.question_generation.revision == "abc"
    assert qa.models.question_answering.id == "embedded-qa"
    assert qa.question_source == "generated"  # a generator given: it writes the questions
    with pytest.raises(ValueError, match="qg_format"):
        QAScorerConfig(type="qa", qg_format="question: {context}")


def test_default_qa_config_is_the_offline_cloze_path() -> None:
    cfg = QAScorerConfig(type="qa")
    assert cfg.models.question_generation is None and cfg.models.question_answering.id == "embedded-qa"
    assert cfg.question_source == "cloze" and cfg.answer_matching == "values"
    with pytest.raises(ValueError, match=r"needs models\.question_generation"):
        QAScorerConfig(type="qa", questions="generated")
    with pytest.raises(ValueError, match="uses no generator"):
        QAScorerConfig.model_validate({"type": "qa", "questions": "cloze",
                                       "models": {"question_generation": {"id": "lmqg/t5-base-squad-qg"}}})


# ------------------------------------------------------------------------------- cloze questions


class OracleClozeQA(OracleQA):
    """Reads a cloze question like a model would: the words next to ``[MASK]`` locate the answer in the
    context (both neighbours: what lies between them; only the right one: the capitalised run before it; only
    the left one: what follows it up to the sentence end or an "on ..." phrase)."""

    def run_batch(self, batch: Sequence[Any]) -> list[Output]:
        self.batches += 1
        out: list[Output] = []
        for question, context in batch:
            left_text, _, right_text = question.partition("[MASK]")
            left = left_text.split()[-1:] if left_text.strip() else []
            right = [w.strip(".,") for w in right_text.split()[:1] if w.strip(".,")]
            if left and right:
                rx = rf"{re.escape(left[0])}\s+(?P<a>.+?)\s+{re.escape(right[0])}"
            elif right:
                rx = rf"(?P<a>[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*)\s+{re.escape(right[0])}"
            else:
                rx = rf"{re.escape(left[0])}\s+(?P<a>[^.]+?)(?=\s+on\b|\.|$)"
            m = re.search(rx, context)
            if m:
                out.append({"spans": [[m.start("a"), m.end("a"), -0.05]], "null": -6.0})
            else:
                out.append({"spans": [[0, 1, -6.0]], "null": -0.05})
        return out


def test_cloze_questions_need_no_generator_and_score_like_generated_ones() -> None:
    config = QAScorerConfig(type="qa", answer_extractor="rules", doc_stride=8, absent_answers="ask")
    qa = OracleClozeQA()
    scorer = QAScorer(config, None, qa)
    assert scorer.questions == "cloze"
    pairs = [segmented("a", SOURCE, ["Claudia Sheinbaum met Donald Trump in Paris."]),
             segmented("b", SOURCE, ["Angela Merkel met Donald Trump in Berlin."])]
    engine = RecordingEngine(token_budget=256)
    out = scorer.score(pairs, engine)
    assert [k for k, _ in engine.calls] == [qa.cache_key]  # the sources (best window) only: no generation
    good, bad = out[("a", 0)], out[("b", 0)]
    assert good.label == "supported" and good.score == pytest.approx(1.0, abs=0.01)
    assert good.detail["questions_from"] == "cloze" and good.detail["answer_matching"] == "values"
    qs = good.detail["questions"]
    assert [q["question"] for q in qs] == ["[MASK] met Donald Trump in Paris.",
                                           "Claudia Sheinbaum met [MASK] in Paris.",
                                           "Claudia Sheinbaum met Donald Trump in [MASK]."]
    for q in qs:  # claim rows carry the question, both answers with offsets, and the match score
        assert SOURCE[q["source_answer"]["start"]:q["source_answer"]["end"]] == q["source_answer"]["text"] == \
            q["answer"]
        assert q["claim_answer"]["text"] == q["answer"]
        assert q["f1"] == 1.0 and q["score"] == pytest.approx(1.0, abs=0.01)
    assert bad.label == "unsupported" and bad.reason == "answer_mismatch"
    by_answer = {q["answer"]: q for q in bad.detail["questions"]}
    assert by_answer["Angela Merkel"]["source_answer"]["text"] == "Claudia Sheinbaum"
    assert by_answer["Berlin"]["source_answer"]["text"] == "Paris" and by_answer["Berlin"]["f1"] == 0.0


def test_values_matching_compares_numbers_written_differently() -> None:
    source = "The army said forty troops moved on 3 March 2020."
    claims = ["The army said 40 troops moved on March 3, 2020."]
    plain = QAScorer(QAScorerConfig(type="qa", answer_extractor="rules", answer_matching="token_f1"), None,
                     OracleClozeQA())
    values = QAScorer(QAScorerConfig(type="qa", answer_extractor="rules"), None,
                      OracleClozeQA())
    sp = segmented("p", source, claims)
    assert values.score([sp], Engine())[("p", 0)].score == pytest.approx(1.0, abs=0.01)
    low = plain.score([sp], Engine())[("p", 0)].score
    assert low is not None and low < 0.5
