"""English evidence fusion: features see names and numbers the source never mentions, the head turns them and
the NLI verdict into P(supported), and ``fusion: true`` puts that in the NLI column with the NLI number kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.__main__ import main
from harness.results.schema import ClaimRow, RunRecord
from harness.scorers import fusion as F

SOURCE = ("The council of Springfield approved the budget on Monday. Mayor Alice Brown said taxes will not rise. "
          "Schools will get 4 million dollars more next year.")


def _head(weights: dict[str, float], intercept: float = 0.0) -> dict:
    return {"format": F.HEAD_FORMAT, "features": list(F.FEATURES), "mean": [0.0] * len(F.FEATURES),
            "scale": [1.0] * len(F.FEATURES), "coef": [weights.get(f, 0.0) for f in F.FEATURES],
            "intercept": intercept, "version": "test"}


def _features(claim: str, probs: dict[str, float] | None = None, evidence: str = SOURCE) -> dict[str, float]:
    row = F.claim_features(claim, probs or {"entailment": 0.9, "neutral": 0.05, "contradiction": 0.05}, evidence,
                           F.SourceFacts.of(SOURCE))
    return dict(zip(F.FEATURES, row, strict=True))


def test_features_count_names_and_numbers_missing_from_the_source() -> None:
    faithful = _features("Mayor Alice Brown said the schools get 4 million dollars.")
    assert faithful["names_missing"] == 0 and faithful["numbers_missing"] == 0 and faithful["overlap_source"] > 0.8
    extrinsic = _features("Mayor Bob Smith said the schools get 7 million dollars in March.")
    assert extrinsic["names_missing"] == 2 and extrinsic["share_names_missing"] == 1.0  # Bob, Smith (not "Mayor")
    assert extrinsic["numbers_missing"] == 2 and extrinsic["any_number_missing"] == 1  # 7 and March
    # normalised matching: a possessive or inflected name is found, an exact-only check would miss it
    inflected = _features("Springfield's council approved it.")
    assert inflected["names_missing"] == 0 and inflected["names_missing_exact"] == 0
    assert _features("Taxes will rise.", evidence="Mayor Alice Brown said taxes will not rise.")[
        "negation_mismatch"] == 1
    assert _features("x", {"entailment": 0.5})["logit_entail"] == pytest.approx(0.0)


def test_head_is_a_logistic_regression_over_standardised_features() -> None:
    spec = _head({"logit_entail": 1.0, "names_missing": -2.0}, intercept=0.5)
    spec["mean"][F.FEATURES.index("names_missing")] = 1.0
    head = F.FusionHead(spec)
    row = np.zeros(len(F.FEATURES))
    row[F.FEATURES.index("logit_entail")] = 2.0
    row[F.FEATURES.index("names_missing")] = 3.0
    assert head.predict([row])[0] == pytest.approx(1 / (1 + np.exp(-(2.0 - 2.0 * 2.0 + 0.5))))
    with pytest.raises(ValueError, match="other features"):
        F.FusionHead({**spec, "features": ["x"]})


def test_fusion_in_a_run_scores_claims_with_the_head(tmp_path: Path, tiny_nli_dir: Path) -> None:
    """The run's NLI column holds the head's P(supported) on the claim's recomputed features; the NLI score is in
    detail; a claim with a name the source lacks is ``extrinsic_name``; run.json records the head's hash."""
    head_path = tmp_path / "head.json"
    head_path.write_text(json.dumps(_head({"logit_entail": 0.5, "names_missing": -3.0}, intercept=1.0)))
    data = tmp_path / "d.jsonl"
    rewrite = "Mayor Alice Brown approved the budget on Monday. Mayor Bob Smith said taxes will rise."
    data.write_text(json.dumps({"id": "p1", "source": SOURCE, "rewrite": rewrite, "label": 0}) + "\n")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"""
name: fusion
data: {{type: jsonl, path: {data}}}
scorers:
  - type: nli
    model: {{id: "{tiny_nli_dir}", max_length: 128}}
    fusion: true
    fusion_head: {head_path}
runtime: {{dtype: fp32, cache: null, progress: false}}
checks: {{claim_worthiness: false, quotes: false, off_topic: false}}
""")
    out = tmp_path / "results"
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    scored = [c for c in claims if c.scorer == "nli" and c.score is not None]
    assert len(scored) == 2
    head = F.FusionHead(json.loads(head_path.read_text()))
    for c in scored:
        assert c.evidence is not None and 0 <= c.detail["nli_score"] <= 1
        feats = F.claim_features(c.text, c.probs, c.evidence.text, F.SourceFacts.of(SOURCE))
        assert c.score == pytest.approx(float(head.predict([feats])[0]), abs=1e-6)
    bob = next(c for c in scored if "Bob" in c.text)
    assert bob.detail["names_missing"] == 2 and bob.label == "unsupported" and bob.reason == "extrinsic_name"
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    roles = {m.role: m for m in rec.scorers[0].models}
    assert roles["fusion"].weight_sha256 == head.sha256


def test_missing_head_file_is_one_line(tmp_path: Path) -> None:
    F.load_fusion_head.cache_clear()
    with pytest.raises(FileNotFoundError, match=r"harness\.train\.fusion"):
        F.load_fusion_head(str(tmp_path / "none.json"))


def _roles_after_run(tmp_path: Path, model: str) -> tuple[dict, list[ClaimRow]]:
    tmp_path.mkdir(parents=True)
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p1", "source": SOURCE, "rewrite": "Mayor Bob Smith cut the budget."}) + "\n")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"""
data: {{type: jsonl, path: {data}}}
scorers: [{{type: nli, model: {{id: "{model}", max_length: 128}}}}]
runtime: {{dtype: fp32, cache: null, progress: false}}
checks: {{claim_worthiness: false, quotes: false, off_topic: false}}
""")
    out = tmp_path / "results"
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    return {m.role: m for m in rec.scorers[0].models}, claims


def test_fusion_is_on_by_default_only_for_the_model_its_head_was_fitted_on(tmp_path: Path, tiny_nli_dir: Path) -> None:
    roles, claims = _roles_after_run(tmp_path / "tiny", str(tiny_nli_dir))
    assert "fusion" not in roles and all("nli_score" not in c.detail for c in claims)
    roles, claims = _roles_after_run(tmp_path / "embedded", "embedded")
    assert roles["fusion"].weight_sha256 == F.load_fusion_head().sha256
    (claim,) = [c for c in claims if c.score is not None]
    assert claim.detail["names_missing"] == 2 and claim.reason in ("extrinsic_name", "entailed")


def test_shipped_head_reads_the_features_this_code_computes() -> None:
    F.load_fusion_head.cache_clear()
    head = F.load_fusion_head()
    used = head.spec["used"]
    assert set(used) <= set(F.FEATURES) and len(used) == 4
    unused = [i for i, f in enumerate(F.FEATURES) if f not in used]
    assert all(head.coef[i] == 0 for i in unused)
    # more entailment raises P(supported); a name the source lacks lowers it
    base = _features("Mayor Alice Brown said taxes will not rise.")
    row = [base[f] for f in F.FEATURES]
    worse = list(row)
    worse[F.FEATURES.index("names_missing")] += 1
    assert head.predict([worse])[0] < head.predict([row])[0]
