"""End to end: `python -m harness run configs/nli_qa.yaml` on the seeds, models swapped for tiny local ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from _tiny_qa import tiny_qa_dir, tiny_qg_dir

from harness.__main__ import main
from harness.results.schema import ClaimRow, PairRow, RunRecord

__all__ = ["tiny_qa_dir", "tiny_qg_dir"]  # fixtures re-exported for pytest


@pytest.mark.slow
def test_nli_and_qa_on_the_seeds(tmp_path: Path, repo: Path, tiny_nli_dir: Path, tiny_qg_dir: Path,
                                 tiny_qa_dir: Path) -> None:
    out = tmp_path / "results"
    langs = "[en, de]"  # the seed pair is German -> English; tiny models "support" both so every claim is scored
    args = [
        "run", str(repo / "configs" / "nli_qa.yaml"), "--output", str(out),
        "--set", f"scorers.0.model.id={tiny_nli_dir}", "--set", "scorers.0.model.max_length=128",
        "--set", f"scorers.0.model.languages={langs}",
        "--set", f"scorers.1.models.question_generation.id={tiny_qg_dir}",
        "--set", f"scorers.1.models.question_generation.languages={langs}",
        "--set", f"scorers.1.models.question_answering.id={tiny_qa_dir}",
        "--set", "scorers.1.models.question_answering.max_length=128",
        "--set", f"scorers.1.models.question_answering.languages={langs}",
        "--set", "scorers.1.generation_max_new_tokens=6", "--set", "scorers.1.max_questions_per_claim=2",
        "--set", "scorers.1.doc_stride=32",
        "--set", "runtime.dtype=fp32", "--set", "runtime.cache=null", "--set", "runtime.progress=false",
    ]
    assert main(args) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    pairs = [PairRow.model_validate_json(x) for x in (folder / "pairs.jsonl").read_text().splitlines()]
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
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
        assert c.reason in ("answers_match", "answer_mismatch", "unanswerable") or c.reason in c.detail.get(
            "flags", [])
        assert c.evidence is not None and source[c.evidence.start:c.evidence.end] == c.evidence.text
        qs = c.detail["questions"]
        assert 1 <= len(qs) <= 2
        for q in qs:
            assert rewrite[q["answer_start"]:q["answer_end"]] == q["answer"]
            assert q["question"]
            sa = q["source_answer"]
            assert source[sa["start"]:sa["end"]] == sa["text"]

    (pair,) = pairs
    assert set(pair.scores) == {"nli", "qa", "combined"}
    nli, qa, combined = (pair.scores[k].score for k in ("nli", "qa", "combined"))
    assert nli is not None and qa is not None and combined is not None
    assert combined == pytest.approx(0.5 * nli + 0.5 * qa, abs=1e-4)
    models = {s.name: [m.role for m in s.models] for s in rec.scorers}
    assert models["qa"] == ["question_generation", "question_answering"]
    assert rec.reasons["qa"]
