"""SummaC-ZS / SummaC-Conv parity with the reference (summac 0.0.4) on a tiny random ALBERT.

The goldens in tests/fixtures/summac/ come from ``tests/reference/summac_goldens.py`` run in a separate
environment with the reference package (see its docstring); the tiny model they used is committed next to
them. Tolerance: 1e-5 absolute on every image cell and score (fp32 on CPU; the engine pads to a multiple of
8 and batches differently, which only moves float rounding).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.aggregate import aggregate_pair, claims_for_pair
from harness.config import ModelConfig, SegmentationConfig, SummaCConvScorerConfig, SummaCZSScorerConfig
from harness.engine import Engine
from harness.scorers.base import ScorerContext, build_scorer
from harness.scorers.summac import conv_row_score, histogram, load_conv_weights, summac_units
from harness.scorers.summac_weights import CONV_VITC_SENT_PERC_E, PERCENTILE_EDGES
from harness.segment import segment_pair
from harness.types import Pair

FIXTURES = Path(__file__).parent / "fixtures" / "summac"
GOLDEN = json.loads((FIXTURES / "golden.json").read_text(encoding="utf-8"))
CASES = {c["id"]: c for c in GOLDEN["cases"]}
TOL = 1e-5

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model() -> ModelConfig:
    return ModelConfig(id=str(FIXTURES / "tiny-albert"), max_length=500)


GRANULARITIES = ["sentence", "paragraph", "2sents-sentence"]
"""SummaC granularity strings of the golden cases: ``doc`` or ``doc-claims`` (claims = the run's claim units)."""


def _pair_scores(sc: Any, cfg: Any, granularity: str) -> dict[str, tuple[float | None, Any]]:
    seg = SegmentationConfig(claims="paragraph" if granularity == "paragraph" else "sentence")
    out = {}
    cases = [c for c in GOLDEN["cases"] if c["granularity"] == granularity]
    sps = [segment_pair(Pair(c["id"], c["doc"], c["summary"]), seg) for c in cases]
    scored = sc.score(sps, Engine(cache=None))
    for sp in sps:
        rows = claims_for_pair(sp, sc.name, scored)
        out[sp.pair.id] = (aggregate_pair(sp.pair.id, sc.name, rows, cfg.pair_aggregation).score, rows)
    return out


@pytest.fixture(scope="module")
def zs() -> Any:
    cfg = SummaCZSScorerConfig(type="summac_zs", model=_model())
    return cfg, build_scorer(cfg, ScorerContext())


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_units_match_the_reference(granularity: str) -> None:
    seg = SegmentationConfig(claims="paragraph" if granularity == "paragraph" else "sentence")
    cases = [c for c in GOLDEN["cases"] if c["granularity"] == granularity]
    assert cases
    for c in cases:
        units = summac_units(c["doc"], granularity.split("-")[0], 10, 100)
        assert [u.text for u in units] == c["doc_units"], c["id"]
        # offsets locate each unit (a 2-sentence unit's text is its sentences joined by one space)
        assert all(" ".join(c["doc"][u.start:u.end].split()) == " ".join(u.text.split()) for u in units)
        claims = [x.text for x in segment_pair(Pair("p", c["doc"], c["summary"]), seg).claims if len(x.text) > 10]
        assert claims == c["claim_units"], c["id"]


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_summac_zs_matches_reference_images_and_scores(zs: Any, granularity: str) -> None:
    cfg, sc = zs
    if granularity != "sentence":
        cfg = SummaCZSScorerConfig(type="summac_zs", model=_model(), granularity=granularity.split("-")[0])  # type: ignore[arg-type]
        sc = build_scorer(cfg, ScorerContext())
    got = _pair_scores(sc, cfg, granularity)
    assert got
    for pid, (score, rows) in got.items():
        ref = CASES[pid]
        assert score == pytest.approx(ref["zs"], abs=TOL), pid
        scored = [r for r in rows if r.score is not None]
        if ref["doc_units"]:
            ent_max = [max(col) for col in zip(*ref["image"][0], strict=True)]
            con_max = [max(col) for col in zip(*ref["image"][1], strict=True)]
            assert [r.probs["entailment"] for r in scored] == pytest.approx(ent_max, abs=TOL)
            assert [r.probs["contradiction"] for r in scored] == pytest.approx(con_max, abs=TOL)
            for r in scored:  # evidence = the unit that gave max P(entail) (or max P(contradict))
                assert r.evidence is not None and ref["doc"][r.evidence.start:r.evidence.end] == r.evidence.text
        else:
            assert all(r.score == 0.0 and r.evidence is None for r in scored)
    if granularity == "sentence":
        assert [r.reason for r in got["short-units"][1] if r.score is None] == ["too_short"]


def test_summac_zs_variants_match_reference() -> None:
    for key, extra in (("zs_op1_mean", {"op1": "mean"}), ("zs_no_con", {"use_con": False}),
                       ("zs_no_ent", {"use_ent": False})):
        cfg = SummaCZSScorerConfig(type="summac_zs", model=_model(), **extra)
        got = _pair_scores(build_scorer(cfg, ScorerContext()), cfg, "sentence")
        for pid, (score, _) in got.items():
            assert score == pytest.approx(CASES[pid][key], abs=TOL), (key, pid)


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_summac_conv_matches_reference(granularity: str) -> None:
    cfg = SummaCConvScorerConfig(type="summac_conv", model=_model(),
                                 granularity=granularity.split("-")[0])  # type: ignore[arg-type]
    got = _pair_scores(build_scorer(cfg, ScorerContext()), cfg, granularity)
    for pid, (score, _rows) in got.items():
        assert score == pytest.approx(CASES[pid]["conv"], abs=TOL), pid
    if granularity == "sentence":
        rows = got["twelve-claims"][1]
        assert [r.reason for r in rows[10:]] == ["beyond_max_claims"] * 2
        assert all(r.score is not None for r in rows[:10])


def test_conv_head_is_logistic_in_the_mean_row_score() -> None:
    """The identity the claim-level Conv score rests on: head([m, m, m]) = sigmoid(mean of claim logits)."""
    import math

    import torch

    w = {k: torch.tensor(v) for k, v in CONV_VITC_SENT_PERC_E.items()}
    rows = [histogram(v) for v in ([0.95, 0.2, 0.99], [0.5], [0.0, 1.0, 0.37, 0.9])]
    r = [conv_row_score(h, CONV_VITC_SENT_PERC_E) for h in rows]
    m = sum(x for x, _ in r) / len(r)
    logits = w["layer_final.weight"] @ torch.tensor([m, m, m]) + w["layer_final.bias"]
    expected = torch.softmax(logits, -1)[1].item()
    mean_z = sum(z for _, z in r) / len(r)
    assert 1 / (1 + math.exp(-mean_z)) == pytest.approx(expected, abs=1e-6)


def test_histogram_matches_numpy_edges() -> None:
    np = pytest.importorskip("numpy")
    vals = [0.0, 0.005, 0.01, 0.37, 0.899999, 0.9, 0.955, 0.995, 0.9999, 1.0, 0.5, 0.13]
    assert histogram(vals) == np.histogram(vals, bins=list(PERCENTILE_EDGES))[0].tolist()


def test_conv_weights_file_loads_tensor_only(tmp_path: Path) -> None:
    import pickle

    import torch

    good = tmp_path / "w.bin"
    torch.save({k: torch.tensor(v) for k, v in CONV_VITC_SENT_PERC_E.items()}, good)
    assert load_conv_weights(str(good))["mlp.bias"] == pytest.approx([0.63175881])

    marker = tmp_path / "pickled-code-ran"

    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.bin"
    evil.write_bytes(pickle.dumps({"mlp.weight": Boom()}, protocol=2))
    from harness.models.loading import ModelUnavailableError

    with pytest.raises(ModelUnavailableError, match="tensor-only"):
        load_conv_weights(str(evil))
    assert not marker.exists()
