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
