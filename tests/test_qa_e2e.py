"""End to end: `python -m harness run configs/nli_qa.yaml` on the seeds, models swapped for tiny local ones.

The config's QA scorer is the offline path (cloze questions, no generator); adding a generator by ``--set``
turns it into the generated-question path with the same config."""

from __future__ import annotations

from pathlib import Path

import pytest
from _tiny_qa import tiny_qa_dir, tiny_qg_dir

from harness.__main__ import main
from harness.results.schema import ClaimRow, PairRow, RunRecord

__all__ = ["tiny_qa_dir", "tiny_qg_dir"]  # fixtures re-exported for pytest

LANGS = "[en, de]"  # the seed pair is German -> English; tiny models "support" both so every claim is scored


def _run(tmp_path: Path, repo: Path, tiny_nli_dir: Path, tiny_qa_dir: Path, *extra: str,
         langs: str | None = LANGS) -> tuple[RunRecord, list[PairRow], list[ClaimRow]]:
    out = tmp_path / "results"
    args = [
        "run", str(repo / "configs" / "nli_qa.yaml"), "--output", str(out),
        "--set", f"scorers.0.model.id={tiny_nli_dir}", "--set", "scorers.0.model.max_length=128",
        "--set", f"scorers.1.models.question_answering.id={tiny_qa_dir}",
        "--set", "scorers.1.models.question_answering.max_length=128",
        "--set", "scorers.1.max_questions_per_claim=2", "--set", "scorers.1.doc_stride=32",
        "--set", "runtime.dtype=fp32", "--set", "runtime.cache=null", "--set", "runtime.progress=false",
        *extra,
    ]
    if langs:
        args += ["--set", f"scorers.0.model.languages={langs}",
                 "--set", f"scorers.1.models.question_answering.languages={langs}"]
    assert main(args) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    pairs = [PairRow.model_validate_json(x) for x in (folder / "pairs.jsonl").read_text().splitlines()]
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    return rec, pairs, claims


def _check(repo: Path, rec: RunRecord, pairs: list[PairRow], claims: list[ClaimRow], roles: list[str]) -> list[
        ClaimRow]:
    source = next((repo / "seeds").glob("000_*.txt")).read_text(encoding="utf-8")
    rewrite = next((repo / "seeds").glob("002_*.txt")).read_text(encoding="utf-8")
    by_scorer = {s: [c for c in claims if c.scorer == s] for s in ("nli", "qa")}
    assert set(by_scorer) == {c.scorer for c in claims}
    # the same claims, once per scorer
    assert [(c.claim_index, c.start, c.end) for c in by_scorer["nli"]] == \
        [(c.claim_index, c.start, c.end) for c in by_scorer["qa"]]
    qa_scored = [c for c in by_scorer["qa"] if c.score is not None]
    assert qa_scored, "the QA scorer scored no claim"
    for c in by_scorer["qa"]:
        assert rewrite[c.start:c.end] == c.text
        assert c.label in ("supported", "unsupported", "not_checkable")
    for c in qa_scored:
        assert c.reason in ("answers_match", "answer_mismatch", "unanswerable", "answers_absent") or \
            c.reason in c.detail.get("flags", [])
        qs = c.detail["questions"]
        if c.reason == "answers_absent":  # every candidate is missing from the source: nothing was asked
            assert all(q["absent_from_source"] for q in qs)
        if qs[c.detail["evidence_question"]].get("absent_from_source"):  # decided by a name the source lacks
            assert c.evidence is None
        else:
            assert c.evidence is not None and source[c.evidence.start:c.evidence.end] == c.evidence.text
        assert 1 <= len(qs) <= 2
        for q in qs:  # question, source answer with offsets, claim answer, match score
            assert rewrite[q["answer_start"]:q["answer_end"]] == q["answer"]
            assert q["question"]
            sa = q["source_answer"]
            if q.get("absent_from_source"):
                assert sa is None and q["windows_read"] == [0, 0] and q["score"] == 0.0
                continue
            assert 1 <= q["windows_read"][0] <= q["windows_read"][1]
            assert source[sa["start"]:sa["end"]] == sa["text"]
            assert 0.0 <= q["f1"] <= 1.0 and 0.0 <= q["score"] <= 1.0
            if q["claim_answer"]:
                assert rewrite[q["claim_answer"]["start"]:q["claim_answer"]["end"]] == q["claim_answer"]["text"]

    (pair,) = pairs
    assert set(pair.scores) == {"nli", "qa", "combined"}
    nli, qa, combined = (pair.scores[k].score for k in ("nli", "qa", "combined"))
    assert nli is not None and qa is not None and combined is not None
    w_nli, w_qa = (s["weight"] for s in rec.config["scorers"])
    assert combined == pytest.approx((w_nli * nli + w_qa * qa) / (w_nli + w_qa), abs=1e-4)
    models = {s.name: [m.role for m in s.models] for s in rec.scorers}
    assert models["qa"] == roles
    assert rec.reasons["qa"]
    return qa_scored


@pytest.mark.slow
def test_nli_and_cloze_qa_on_the_seeds(tmp_path: Path, repo: Path, tiny_nli_dir: Path, tiny_qa_dir: Path) -> None:
    """The shipped config as it is (no generator): cloze questions answered by the QA model."""
    rec, pairs, claims = _run(tmp_path, repo, tiny_nli_dir, tiny_qa_dir)
    scored = _check(repo, rec, pairs, claims, ["question_answering"])
    for c in scored:
        assert c.detail["questions_from"] == "cloze"
        for q in c.detail["questions"]:  # the claim itself, the answer masked
            assert q["question"].count("[MASK]") == 1
            assert q["question"].replace("[MASK]", q["answer"]) in " ".join(c.text.split())


@pytest.mark.slow
def test_nli_and_generated_qa_on_the_seeds(tmp_path: Path, repo: Path, tiny_nli_dir: Path, tiny_qg_dir: Path,
                                           tiny_qa_dir: Path) -> None:
    """The same config with a generator added: the hub-style QG + QA path."""
    rec, pairs, claims = _run(
        tmp_path, repo, tiny_nli_dir, tiny_qa_dir,
        "--set", f"scorers.1.models.question_generation.id={tiny_qg_dir}",
        "--set", f"scorers.1.models.question_generation.languages={LANGS}",
        "--set", "scorers.1.generation_max_new_tokens=6")
    scored = _check(repo, rec, pairs, claims, ["question_generation", "question_answering"])
    assert all(c.detail["questions_from"] == "generated" for c in scored)


@pytest.mark.slow
def test_english_only_qa_marks_the_german_seed_pair(tmp_path: Path, repo: Path, tiny_nli_dir: Path,
                                                    tiny_qa_dir: Path) -> None:
    """Declared English only (the default): the de->en pair is scored but marked, never rerouted."""
    rec, _, claims = _run(tmp_path, repo, tiny_nli_dir, tiny_qa_dir, langs=None)
    qa = [c for c in claims if c.scorer == "qa"]
    marked = [c for c in qa if c.reason == "cross_lingual_unscored"]
    assert marked and all(c.score is None and "unverified_score" in c.detail for c in marked)
    assert not any(c.detail.get("route") for c in qa)
    assert "cross_lingual_unscored" in rec.reasons["qa"]
