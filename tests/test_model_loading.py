"""Model loading by hub id (from a pre-populated HF cache, offline), revision pinning, and clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.config import ModelConfig
from harness.models.loading import ModelUnavailableError, load_model

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _fake_hub_cache(cache: Path, repo_id: str, model_dir: Path, commit: str = COMMIT) -> None:
    """Lay out files the way huggingface_hub stores a download: models--org--name/{refs,snapshots}."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    for f in model_dir.iterdir():
        shutil.copy(f, snap / f.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


@pytest.fixture()
def hub_cache(tmp_path: Path, tiny_nli_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    _fake_hub_cache(cache, "acme/tiny-nli", tiny_nli_dir)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    return cache


def test_hub_id_loads_from_cache_offline_with_pinned_revision(hub_cache: Path) -> None:
    loaded = load_model(ModelConfig(id="acme/tiny-nli", revision=COMMIT), "classification")
    assert loaded.info.id == "acme/tiny-nli" and loaded.info.revision == COMMIT
    assert loaded.info.weight_sha256 and len(loaded.info.weight_sha256) == 64
    assert loaded.info.labels == {"0": "entailment", "1": "neutral", "2": "contradiction"}
    main = load_model(ModelConfig(id="acme/tiny-nli", revision="main"), "classification")
    assert main.info.weight_sha256 == loaded.info.weight_sha256


def test_unknown_revision_or_id_is_one_clear_line(hub_cache: Path) -> None:
    with pytest.raises(ModelUnavailableError) as err:
        load_model(ModelConfig(id="acme/tiny-nli", revision="f" * 40), "classification")
    assert "acme/tiny-nli@" + "f" * 40 in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ModelUnavailableError, match="acme/other"):
        load_model(ModelConfig(id="acme/other"), "classification")


def test_local_folder_without_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match=r"no config\.json"):
        load_model(ModelConfig(id=str(tmp_path / "empty")), "classification")
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_model(ModelConfig(id="./no/such/dir"), "classification")


def test_generic_labels_are_refused_not_guessed(tmp_path: Path, repo: Path) -> None:
    from conftest import save_tiny_nli

    from harness.config import NLIScorerConfig
    from harness.scorers.base import ScorerContext
    from harness.scorers.nli import NLIScorer

    d = save_tiny_nli(tmp_path / "m", labels=("LABEL_0", "LABEL_1", "LABEL_2"))
    with pytest.raises(ModelUnavailableError, match="id2label"):
        NLIScorer(NLIScorerConfig(type="nli", model=ModelConfig(id=str(d))), ScorerContext())


def test_generic_two_way_labels_load_with_an_explicit_map(tmp_path: Path) -> None:
    """MiniCheck-style id2label "0"/"1": refused without ``labels``, read through it when given."""
    from conftest import save_tiny_nli

    from harness.config import NLIScorerConfig, SegmentationConfig
    from harness.engine import Engine
    from harness.scorers.base import ScorerContext
    from harness.scorers.nli import NLIScorer
    from harness.segment import segment_pair
    from harness.types import Pair

    d = save_tiny_nli(tmp_path / "m", labels=("0", "1"))
    with pytest.raises(ModelUnavailableError, match=r"model\.labels"):
        NLIScorer(NLIScorerConfig(type="nli", model=ModelConfig(id=str(d))), ScorerContext())
    flipped = {}
    for labels in ({"supported": 1, "unsupported": 0}, {"supported": 0, "unsupported": 1}):
        sc = NLIScorer(NLIScorerConfig(type="nli", model=ModelConfig(id=str(d), labels=labels)), ScorerContext())
        sp = segment_pair(Pair("p", "The council approved the budget on monday.", "The council approved it."),
                          SegmentationConfig())
        out = sc.score([sp], Engine(cache=None))[("p", 0)]
        flipped[labels["supported"]] = out.probs["entailment"]
        assert out.probs["contradiction"] == 0.0
    assert flipped[0] == pytest.approx(1 - flipped[1], abs=2e-6)  # each side rounded to 6 decimals
