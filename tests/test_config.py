"""Config validation: every problem is one line naming the file, the dotted field and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.__main__ import main
from harness.config import ConfigError, config_hash, load_config

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = f"""
name: t
data: {{type: seeds, path: {SEEDS}}}
scorers:
  - type: overlap
"""


def test_valid_config_loads_and_hash_ignores_name(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, BASE))
    assert cfg.data[0].type == "seeds" and cfg.scorers[0].type == "overlap"
    other = load_config(_write(tmp_path, BASE.replace("name: t", "name: other")))
    assert config_hash(cfg) == config_hash(other)
    changed = load_config(_write(tmp_path, BASE), ["segmentation.premises.size=3"])
    assert config_hash(changed) != config_hash(cfg)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        (BASE + "bogus: 1\n", "bogus: unknown key"),
        (BASE.replace("type: overlap", "type: overlapp"), "unknown scorer type 'overlapp'"),
        (BASE + "runtime: {token_budget: many}\n", "runtime.token_budget"),
        (BASE + "runtime: {dtype: fp64}\n", "runtime.dtype: must be one of"),
        (BASE.replace(str(SEEDS), "/nonexistent/folder"), "data.0.path: file not found"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, text: str, expect: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert expect in msg
    assert str(p) in msg
    assert "\n" not in msg


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, BASE)
    assert main(["validate", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE + "extra_key: true\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "extra_key: unknown key" in err[0]
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2


def test_overrides_parse_yaml_values(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, BASE), ["runtime.token_budget=1024", "runtime.cache=null", "data.0.limit=1"])
    assert cfg.runtime.token_budget == 1024 and cfg.runtime.cache is None and cfg.data[0].limit == 1


def test_shipped_configs_validate(repo: Path) -> None:
    for p in sorted((repo / "configs").glob("*.yaml")):
        if p.name.startswith("train"):
            continue
        text = p.read_text()
        if "shared/data" in text and not (repo.parent / "shared" / "data").is_dir():
            continue
        load_config(p)


def test_checker_scorer_configs_validate(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"source": "a", "rewrite": "b"}\n')

    def cfg(scorer: str) -> Path:
        p = tmp_path / "c.yaml"
        p.write_text(f"data: {{type: jsonl, path: {data}}}\nscorers: [{scorer}]\n")
        return p

    run = load_config(cfg("{type: summac_conv}"))
    conv = run.scorers[0]
    assert conv.pair_aggregation == "logit_mean" and conv.model.id == "tals/albert-xlarge-vitaminc-mnli"
    assert load_config(cfg("{type: minicheck, architecture: roberta}")).scorers[0].architecture == "roberta"
    with pytest.raises(ConfigError, match="use_ent or use_con"):
        load_config(cfg("{type: summac_zs, use_ent: false, use_con: false}"))
    with pytest.raises(ConfigError, match=r"unknown scorer type 'summac'.*summac_zs.*alignscore.*hhem"):
        load_config(cfg("{type: summac}"))
    with pytest.raises(ConfigError, match=r"scorers\.0\.(alignscore\.)?head"):
        load_config(cfg("{type: alignscore, head: reg}"))


def test_top_level_x_keys_hold_anchors_for_merge_keys(tmp_path: Path) -> None:
    """``x-defaults: &d`` holds an anchor that datasets merge with ``<<: *d`` (as in Compose files); other
    unknown top-level keys are still refused."""
    (tmp_path / "d.jsonl").write_text('{"id": "a", "source": "s", "rewrite": "r"}\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text("x-defaults: &d {type: jsonl, path: d.jsonl, role: dev}\n"
                   "data:\n  - {<<: *d, name: one}\n  - {<<: *d, name: two, role: test}\n"
                   "scorers: [{type: overlap}]\n")
    loaded = load_config(cfg)
    assert [(d.name, d.role) for d in loaded.data] == [("one", "dev"), ("two", "test")]
    cfg.write_text(cfg.read_text().replace("x-defaults", "defaults"))
    with pytest.raises(ConfigError, match="defaults"):
        load_config(cfg)
