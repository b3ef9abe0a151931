"""HHEM-2.1-Open run natively: parity with the remote code's ``predict`` re-stated with plain transformers calls
(T5ForTokenClassification of the foundation config, ``t5.``-prefixed safetensors, prompt, padding=True, no
truncation, logits[:, 0, :], softmax, index 1) on a tiny T5 saved in HHEM's layout. Tolerance 1e-5."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _tiny_checkers import save_tiny_hhem, text
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer, T5ForTokenClassification

from harness.config import HHEMScorerConfig, ModelConfig, SegmentationConfig
from harness.engine import Engine
from harness.models.hhem import DEFAULT_PROMPT
from harness.models.loading import ModelUnavailableError
from harness.scorers.base import ScorerContext, build_scorer
from harness.segment import segment_pair
from harness.types import Pair

TOL = 1e-5
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def hhem_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_hhem(tmp_path_factory.mktemp("hhem"))


def reference(pairs: list[tuple[str, str]], folder: Path) -> list[float]:
    config = AutoConfig.from_pretrained(folder)
    config.num_labels = 2
    model = T5ForTokenClassification(config)
    state = {k[3:]: v for k, v in load_file(str(folder / "model.safetensors")).items()}
    state["transformer.encoder.embed_tokens.weight"] = state["transformer.shared.weight"]
    model.load_state_dict(state)
    model.eval()
    tok = AutoTokenizer.from_pretrained(folder)
    prompts = [DEFAULT_PROMPT.format(text1=a, text2=b) for a, b in pairs]
    enc = tok(prompts, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[:, 0, :]
    return torch.softmax(logits, -1)[:, 1].tolist()


def test_hhem_matches_reference_predict(hhem_dir: Path) -> None:
    cfg = HHEMScorerConfig(type="hhem", model=ModelConfig(id=str(hhem_dir), max_length=1_000_000),
                           foundation=ModelConfig(id=str(hhem_dir)))
    sc = build_scorer(cfg, ScorerContext())
    long_source = text(1, 80)  # ~4,000 characters: longer than any 512 window, never truncated
    pairs = [Pair("a", text(2, 3), text(3, 2)), Pair("b", long_source, text(4, 1)), Pair("c", "Short.", "Short.")]
    sps = [segment_pair(p, SegmentationConfig()) for p in pairs]
    out = sc.score(sps, Engine(cache=None))
    todo = [(sp.pair.source, c.text) for sp in sps for c in sp.claims]
    ref = reference(todo, hhem_dir)
    got = [out[(sp.pair.id, c.index)].score for sp in sps for c in sp.claims]
    assert got == pytest.approx(ref, abs=TOL)
    assert len(sc.backend.tokenizer(DEFAULT_PROMPT.format(text1=long_source, text2="x"))["input_ids"]) > 600
    first = out[("a", 0)]
    assert first.evidence is not None and first.evidence.text == pairs[0].source
    assert first.probs["consistent"] + first.probs["hallucinated"] == pytest.approx(1.0)


def test_prompt_starts_with_the_pad_token(hhem_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(hhem_dir)
    assert tok(DEFAULT_PROMPT.format(text1="a", text2="b"))["input_ids"][0] == tok.pad_token_id == 0


def test_non_hhem_weights_are_refused(tmp_path: Path, hhem_dir: Path) -> None:
    from safetensors.torch import save_file

    bad = tmp_path / "bad"
    bad.mkdir()
    for f in hhem_dir.iterdir():
        if f.name != "model.safetensors":
            (bad / f.name).write_bytes(f.read_bytes())
    save_file({"classifier.weight": torch.zeros(2, 32)}, str(bad / "model.safetensors"))
    cfg = HHEMScorerConfig(type="hhem", model=ModelConfig(id=str(bad)), foundation=ModelConfig(id=str(hhem_dir)))
    with pytest.raises(ModelUnavailableError, match=r"no 't5\.' keys"):
        build_scorer(cfg, ScorerContext())
