"""configs/zoo.yaml names every checker; offline, hub-only checkers fail fast with one line; all checker types
run end to end through ``harness run`` on tiny local models and land in one leaderboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from _tiny_checkers import save_tiny_alignscore, save_tiny_hhem, save_tiny_minicheck_t5, save_tiny_roberta_2way
from _tiny_checkers import text as tiny_text

from harness.__main__ import main
from harness.config import RunConfig
from harness.models.loading import ModelUnavailableError
from harness.scorers.base import SCORERS, ScorerContext, build_scorer

ZOO = Path(__file__).resolve().parents[1] / "configs" / "zoo.yaml"
FIXTURES = Path(__file__).parent / "fixtures" / "summac"


def _zoo() -> RunConfig:
    return RunConfig.model_validate(yaml.safe_load(ZOO.read_text(encoding="utf-8")))


def test_zoo_config_names_every_checker() -> None:
    cfg = _zoo()
    types = {s.type for s in cfg.scorers}
    assert {"summac_zs", "summac_conv", "alignscore", "minicheck", "hhem", "nli", "overlap"} <= types
    assert types <= set(SCORERS.names())
    assert [d.name for d in cfg.data] == ["frank_valid", "bump"] and not cfg.combine.enabled


@pytest.mark.parametrize("index", range(1, 9))
def test_zoo_hub_checkers_fail_fast_offline(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    sc = _zoo().scorers[index]
    from huggingface_hub import try_to_load_from_cache

    model = getattr(sc, "model", None) or getattr(sc, "base_model", None)
    if model is not None and isinstance(try_to_load_from_cache(model.id, "config.json"), str):
        pytest.skip(f"{model.id} is in the local hub cache")
    with pytest.raises(ModelUnavailableError) as err:
        build_scorer(sc, ScorerContext())
    msg = str(err.value)
    assert "\n" not in msg and any(m in msg for m in ("roberta", "vitaminc", "MiniCheck", "hallucination",
                                                      "AlignScore", "flan-t5"))


def test_every_checker_runs_end_to_end_into_one_leaderboard(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    mc = save_tiny_roberta_2way(tmp_path / "mc")
    t5 = save_tiny_minicheck_t5(tmp_path / "t5")
    al = save_tiny_alignscore(tmp_path / "al")
    hh = save_tiny_hhem(tmp_path / "hh")
    rows = []
    for i in range(8):
        src = tiny_text(100 + i, 6)
        faithful = i % 2 == 0
        summary = " ".join(src.split(". ")[:2]) + "." if faithful else tiny_text(200 + i, 2)
        rows.append({"id": f"p{i}", "source": src, "summary": summary, "label": int(faithful)})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    albert = str(FIXTURES / "tiny-albert")
    scorers: list[dict[str, Any]] = [
        {"type": "summac_zs", "model": {"id": albert, "max_length": 500}},
        {"type": "summac_conv", "model": {"id": albert, "max_length": 500}},
        {"type": "minicheck", "name": "minicheck_roberta", "model": {"id": str(mc)}},
        {"type": "minicheck", "name": "minicheck_t5", "model": {"id": str(t5)}},
        {"type": "alignscore", "checkpoint": {"id": str(al)}, "checkpoint_file": "AlignScore-tiny.ckpt",
         "base_model": {"id": str(al)}},
        {"type": "hhem", "model": {"id": str(hh)}, "foundation": {"id": str(hh)}},
        {"type": "overlap"},
    ]
    cfg = tmp_path / "zoo.yaml"
    cfg.write_text(yaml.safe_dump({
        "name": "tiny-zoo", "data": [{"name": "toy", "type": "jsonl", "path": str(data),
                                      "fields": {"rewrite": "summary"}, "role": "dev"}],
        "checks": {"claim_worthiness": False, "quotes": False, "off_topic": False},
        "scorers": scorers, "combine": {"enabled": False}, "runtime": {"cache": None, "progress": False},
    }))
    out = tmp_path / "res"
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    claims = [json.loads(line) for line in (folder / "claims.jsonl").read_text().splitlines()]
    names = {c["scorer"] for c in claims}
    assert names == {"summac_zs", "summac_conv", "minicheck_roberta", "minicheck_t5", "alignscore", "hhem",
                     "overlap"}
    for c in claims:
        if c["scorer"] != "overlap" and c["score"] is not None:
            ev = c["evidence"]
            src = rows[int(c["pair_id"][1:])]["source"]
            assert ev is not None and src[ev["start"]:ev["end"]] == ev["text"], c["scorer"]
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    assert main(["compare", folder.name, "--results", str(out), "--n-boot", "50"]) == 0
    table = capsys.readouterr().out
    assert all(n in table for n in names) and "toy" in table
