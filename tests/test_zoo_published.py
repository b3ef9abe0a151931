"""The checkers' own README fixtures, on the real published weights. Runs only where those weights are in the
local Hugging Face cache (or the hub is reachable); offline without them every test skips with the reason.

* SummaC README (vitc, sentence, CPU): summary 1 -> ZS 0.582, Conv 0.536; summary 2 -> ZS 0.877, Conv 0.709.
  Tolerance 0.006: the README prints 3 decimals and an older README printed 0.587 for ZS summary 1 (same code,
  older transformers); our sentences come from the harness splitter, identical to punkt on these texts.
* MiniCheck README (Flan-T5-Large): claim 1 -> 0.98059, claim 2 -> 0.00712. Tolerance 0.002 (printed to 5
  decimals, produced with older transformers/torch).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.aggregate import aggregate_pair, claims_for_pair
from harness.config import (
    MiniCheckScorerConfig,
    ModelConfig,
    SegmentationConfig,
    SummaCConvScorerConfig,
    SummaCZSScorerConfig,
)
from harness.engine import Engine
from harness.models.loading import ModelUnavailableError
from harness.scorers.base import ScorerContext, build_scorer
from harness.segment import segment_pair
from harness.types import Pair

MARS = """Scientists are studying Mars to learn about the Red Planet and find landing sites for future missions.
One possible site, known as Arcadia Planitia, is covered instrange sinuous features.
The shapes could be signs that the area is actually made of glaciers, which are large masses of slow-moving ice.
Arcadia Planitia is in Mars' northern lowlands."""
SUMMARY_1 = ("There are strange shape patterns on Arcadia Planitia. The shapes could indicate the area might be made "
             "of glaciers. This makes Arcadia Planitia ideal for future missions.")
SUMMARY_2 = ("There are strange shape patterns on Arcadia Planitia. The shapes could indicate the area might be made "
             "of glaciers.")
STUDENTS = "A group of students gather in the school library to study for their upcoming final exams."


def _build(cfg: Any) -> Any:
    try:
        return build_scorer(cfg, ScorerContext())
    except ModelUnavailableError as e:
        pytest.skip(f"published weights not available here: {e}")


def _pair_scores(sc: Any, cfg: Any, pairs: list[Pair], claims: str = "sentence") -> list[float | None]:
    sps = [segment_pair(p, SegmentationConfig(claims=claims)) for p in pairs]  # type: ignore[arg-type]
    scored = sc.score(sps, Engine(cache=None))
    return [aggregate_pair(sp.pair.id, sc.name, claims_for_pair(sp, sc.name, scored), cfg.pair_aggregation).score
            for sp in sps]


@pytest.mark.parametrize(("cls", "expected"), [(SummaCZSScorerConfig, (0.582, 0.877)),
                                               (SummaCConvScorerConfig, (0.536, 0.709))])
def test_summac_readme_fixture(cls: Any, expected: tuple[float, float]) -> None:
    kind = "summac_zs" if cls is SummaCZSScorerConfig else "summac_conv"
    cfg = cls(type=kind, model=ModelConfig(id="tals/albert-xlarge-vitaminc-mnli", max_length=500))
    sc = _build(cfg)
    got = _pair_scores(sc, cfg, [Pair("s1", MARS, SUMMARY_1), Pair("s2", MARS, SUMMARY_2)])
    assert got == pytest.approx(list(expected), abs=0.006)


def test_minicheck_flan_t5_readme_fixture() -> None:
    cfg = MiniCheckScorerConfig(type="minicheck", model=ModelConfig(id="lytang/MiniCheck-Flan-T5-Large"))
    sc = _build(cfg)
    got = _pair_scores(sc, cfg, [Pair("c1", STUDENTS, "The students are preparing for an examination."),
                                 Pair("c2", STUDENTS, "The students are on vacation.")], claims="whole")
    assert got == pytest.approx([0.98059, 0.00712], abs=0.002)
