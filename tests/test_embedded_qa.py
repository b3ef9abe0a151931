"""The embedded extractive QA model: cloze question format, delta export/load round trip on the pinned base,
one-line errors when it is not trained yet, and (once shipped) its outputs against the stored reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness.config import ModelConfig
from harness.models import embedded_qa as EQ
from harness.models.embedded import ADAPTER_FILE, EMBEDDED_DIR
from harness.models.loading import ModelUnavailableError, load_model, model_type

CLAIM = "U.S. President Donald Trump's offer of $40 million was refused on March 3, 2020."


def _span(text: str, part: str) -> tuple[int, int]:
    at = text.index(part)
    return at, at + len(part)


def test_cloze_question_masks_the_answer_and_keeps_glued_characters() -> None:
    assert EQ.cloze_question(CLAIM, *_span(CLAIM, "Donald Trump")) == \
        "U.S. President [MASK]'s offer of $40 million was refused on March 3, 2020."
    assert EQ.cloze_question(CLAIM, *_span(CLAIM, "40 million")) == \
        "U.S. President Donald Trump's offer of $[MASK] was refused on March 3, 2020."
    assert EQ.cloze_question(" a  b\nc ", 4, 5) == "a [MASK] c"
    with pytest.raises(ValueError, match="outside"):
        EQ.cloze_question("short", 2, 9)


def test_cloze_question_cuts_a_long_claim_around_the_mask() -> None:
    words = [f"w{i}" for i in range(100)]
    text = " ".join(words)
    q = EQ.cloze_question(text, *_span(text, "w95"), max_words=10)
    assert q == "w90 w91 w92 w93 w94 [MASK] w96 w97 w98 w99"  # the unused right budget goes to the left
    q = EQ.cloze_question(text, *_span(text, "w50"), max_words=5)
    assert q == "w48 w49 [MASK] w51 w52"
    assert EQ.cloze_question(text, 0, 2, max_words=3) == "[MASK] w1 w2"
    assert len(EQ.cloze_question(text, *_span(text, "w50")).split()) == EQ.CLOZE_CONTEXT_WORDS


def test_missing_adapter_is_one_line_naming_the_training_command(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EQ, "EMBEDDED_QA_DIR", tmp_path / "embedded_qa")
    assert not EQ.embedded_qa_available()
    with pytest.raises(ModelUnavailableError) as err:
        load_model(ModelConfig(id="embedded-qa"), "question_answering")
    msg = str(err.value)
    assert "\n" not in msg and "not trained yet" in msg and EQ.TRAIN_COMMAND in msg
    assert model_type(ModelConfig(id="embedded-qa")) == "embedded-qa"


def test_wrong_task_or_wrong_delta_is_refused() -> None:
    with pytest.raises(ModelUnavailableError, match="extractive QA model"):
        load_model(ModelConfig(id="embedded-qa"), "classification")
    with pytest.raises(ModelUnavailableError, match="embedded-qa"):
        load_model(ModelConfig(id="embedded"), "question_answering")
    with pytest.raises(ModelUnavailableError, match="classification delta"):  # the NLI adapter is not a QA one
        EQ.load_embedded_qa(directory=EMBEDDED_DIR)


@pytest.mark.slow
def test_exported_delta_loads_onto_the_pinned_base(tmp_path: Path) -> None:
    """LoRA model -> exported delta -> loader (base + merged delta) gives the same span logits."""
    from harness.train import qa as TQ

    cfg = TQ.QAConfig.model_validate({"model": {"base": "embedded", "max_length": 64},
                                      "lora": {"rank": 2, "alpha": 2, "dropout": 0.0}})
    model, tok = TQ.build_qa_model(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.normal_(0, 0.02)
    model.eval()
    path = TQ.export_delta(model, cfg, tmp_path, {"test": True})
    loaded, tokenizer, info = EQ.load_embedded_qa(directory=tmp_path)
    assert info["name"] == "embedded-qa" and info["max_length"] == tokenizer.model_max_length == 64
    assert info["metadata"]["task"] == "question_answering" and info["metadata"]["cloze_mask"] == EQ.CLOZE_MASK
    assert info["adapter_sha256"] and path.name == ADAPTER_FILE
    enc = tok(["Who approved the budget on [MASK]?"], ["The council approved the budget on Monday."],
              return_tensors="pt")
    assert enc["input_ids"][0].tolist().count(tok.mask_token_id) == 1  # the mask stays one token
    with torch.no_grad():
        want, got = model(**enc), loaded(**enc)
    assert torch.allclose(want.start_logits, got.start_logits, atol=2e-3)
    assert torch.allclose(want.end_logits, got.end_logits, atol=2e-3)


@pytest.mark.skipif(not EQ.embedded_qa_available(), reason="embedded-qa not trained yet "
                    "(python -m harness train configs/train_qa.yaml)")
def test_shipped_model_matches_its_reference_outputs() -> None:
    model, tok, info = EQ.load_embedded_qa()
    ref = json.loads((EQ.EMBEDDED_QA_DIR / "reference_outputs.json").read_text())
    assert ref["adapter_sha256"] == info["adapter_sha256"], "reference_outputs.json is stale: re-export"
    enc = tok([q for q, _ in ref["inputs"]], [c for _, c in ref["inputs"]], padding=True, return_tensors="pt")
    with torch.inference_mode():
        out = model(**enc)
    assert torch.allclose(out.start_logits, torch.tensor(ref["start_logits"]), atol=1e-3)
    assert torch.allclose(out.end_logits, torch.tensor(ref["end_logits"]), atol=1e-3)
    loaded = load_model(ModelConfig(id="embedded-qa"), "question_answering")
    assert loaded.info.weight_sha256 == info["adapter_sha256"] and loaded.info.languages == ["en"]
