"""The README's run command: the seed pair with the shipped embedded model, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.__main__ import main
from harness.models.crosslingual import load_head
from harness.results.schema import ClaimRow, RunRecord


@pytest.mark.slow
def test_seed_config_runs_offline_with_embedded_model(tmp_path: Path, repo: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    out = tmp_path / "results"
    assert main(["run", "configs/seed.yaml", "--output", str(out), "--no-cache", "--show-claims", "0"]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    nli = {c.claim_index: c for c in claims if c.scorer == "nli"}
    assert rec.scorers[0].models[0].id == "embedded" and rec.scorers[0].models[0].weight_sha256
    # German source, English page, English-only cross-encoder: the pair is routed to the cross-lingual judge,
    # so every checkable claim gets an entailment score offline, and the rows say which model judged them
    assert rec.routes["nli"] == {"crosslingual:crosslingual-head@" + _head_version(): 1}
    assert {m.role for m in rec.scorers[0].models} >= {"sentence_encoder", "crosslingual_head"}
    assert not [c for c in nli.values() if c.reason == "cross_lingual_unscored"]
    judged = [c for c in nli.values() if c.reason in ("entailed", "no_evidence", "contradicted")]
    assert len(judged) >= 14 and all(c.score is not None and c.detail["route"] == "crosslingual" for c in judged)
    assert all(c.evidence is not None and c.evidence.text for c in judged)
    # the lexical baseline cannot read across languages: its numbers stay unverified, loudly
    assert any(w.startswith("LANGUAGE: overlap") for w in rec.warnings)
    assert any(c.scorer == "overlap" and c.reason == "cross_lingual_unscored" for c in claims)
    # the rule-based findings stand regardless of the model
    reasons = {c.reason for c in nli.values()}
    assert {"fabricated_quote", "off_topic", "boilerplate", "meta", "extrinsic_reference"} <= reasons
    assert nli[0].text == "Skip to content" and nli[0].label == "not_checkable"


def _head_version() -> str:
    return load_head().version
