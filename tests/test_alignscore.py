"""AlignScore parity and safe checkpoint loading.

The reference (yuh-zha/AlignScore, not on PyPI, needs Lightning) is re-stated step by step from its
``inference_per_example`` / ``batch_tokenize`` / ``BERTAlignModel.forward`` with plain transformers calls on a
tiny Lightning-style checkpoint; the scorer runs through the engine. Tolerance 1e-5 absolute (fp32 CPU; the
reference pads to 512, the engine to the batch's longest row).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import torch
from _tiny_checkers import save_tiny_alignscore, text
from transformers import AutoTokenizer, RobertaConfig, RobertaModel

from harness.config import AlignScoreScorerConfig, ModelConfig, SegmentationConfig
from harness.engine import Engine
from harness.models.alignscore import read_checkpoint_state
from harness.models.loading import ModelUnavailableError
from harness.scorers.alignscore import alignscore_chunks
from harness.scorers.base import ScorerContext, build_scorer
from harness.scorers.chunking import sentence_spans
from harness.segment import segment_pair
from harness.types import Pair

TOL = 1e-5
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_alignscore(tmp_path_factory.mktemp("alignscore"))


def _cfg(folder: Path, **kw: Any) -> AlignScoreScorerConfig:
    return AlignScoreScorerConfig(type="alignscore", checkpoint=ModelConfig(id=str(folder)),
                                  checkpoint_file="AlignScore-tiny.ckpt", base_model=ModelConfig(id=str(folder)), **kw)


def reference(doc: str, claim: str, folder: Path, head: str = "nli", chunk_words: int = 350) -> float:
    """inference_per_example (nli_sp / bin_sp), literally: chunks, pairs, only_first + max_length padding, heads."""
    state = torch.load(folder / "AlignScore-tiny.ckpt", weights_only=True)["state_dict"]
    base = RobertaModel(RobertaConfig.from_pretrained(folder), add_pooling_layer=True).eval()
    base.load_state_dict({k[len("base_model."):]: v for k, v in state.items()
                          if k.startswith("base_model.") and not k.endswith("position_ids")})
    tok = AutoTokenizer.from_pretrained(folder)
    sents = [doc[a:b] for a, b in sentence_spans(doc)] or [""]
    n_chunk = len(doc.strip().split()) // chunk_words + 1
    n_chunk = max(len(sents) // n_chunk, 1)
    chunks = [" ".join(sents[i:i + n_chunk]) for i in range(0, len(sents), n_chunk)]
    hyps = [claim[a:b] for a, b in sentence_spans(claim)]
    prem = [c for c in chunks for _ in hyps]
    hyp = [h for _ in chunks for h in hyps]
    try:
        batch = tok(prem, hyp, truncation="only_first", padding="max_length", max_length=tok.model_max_length,
                    return_tensors="pt")
    except Exception:
        batch = tok(prem, hyp, truncation=True, padding="max_length", max_length=tok.model_max_length,
                    return_tensors="pt")
    with torch.no_grad():
        pooled = base(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).pooler_output
        if head == "nli":
            out = torch.softmax(pooled @ state["tri_layer.weight"].T + state["tri_layer.bias"], -1)[:, 0]
        else:
            out = torch.softmax(pooled @ state["bin_layer.weight"].T + state["bin_layer.bias"], -1)[:, 1]
    return out.view(len(chunks), len(hyps)).max(dim=0).values.mean().item()


@pytest.mark.parametrize("head", ["nli", "bin"])
def test_alignscore_matches_reference(ckpt_dir: Path, head: str) -> None:
    sc = build_scorer(_cfg(ckpt_dir, head=head, chunk_words=40), ScorerContext())
    long_doc = text(1, 24)  # ~200 words: several 40-word-target chunks
    pairs = [Pair("a", long_doc, text(2, 1)), Pair("b", long_doc, text(3, 1, lo=3, hi=5)),
             Pair("c", text(4, 2), text(5, 1)), Pair("d", text(6, 1, lo=200, hi=200), text(7, 1)),  # chunk cut
             Pair("e", text(11, 2), text(12, 1, lo=120, hi=120))]  # claim alone > 512 tokens: longest_first retry
    sps = [segment_pair(p, SegmentationConfig(claims="whole")) for p in pairs]
    out = sc.score(sps, Engine(cache=None))
    for p in pairs:
        got = out[(p.id, 0)]
        assert got.score == pytest.approx(reference(p.source, p.rewrite, ckpt_dir, head, 40), abs=TOL), p.id
        assert got.evidence is not None and p.source[got.evidence.start:got.evidence.end] == got.evidence.text
    assert out[("a", 0)].detail["chunks"] > 1


def test_multi_sentence_claim_is_mean_over_its_sentences(ckpt_dir: Path) -> None:
    sc = build_scorer(_cfg(ckpt_dir), ScorerContext())
    doc, claim = text(8, 5), text(9, 3)
    sp = segment_pair(Pair("a", doc, claim), SegmentationConfig(claims="whole"))
    got = sc.score([sp], Engine(cache=None))[("a", 0)]
    assert got.detail["claim_sentences"] == 3
    assert got.score == pytest.approx(reference(doc, claim, ckpt_dir), abs=TOL)


def test_chunking_follows_sentence_counts() -> None:
    doc = text(10, 12, lo=10, hi=10)  # 12 sentences x 10 words = 120 words
    chunks = alignscore_chunks(doc, chunk_words=50)  # n = 120 // 50 + 1 = 3 targets -> 4 sentences per chunk
    assert len(chunks) == 3 and all(doc[c.start:c.end] == c.text for c in chunks)
    assert alignscore_chunks("", 350)[0].text == ""


def test_checkpoint_with_code_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self) -> tuple[Any, ...]:
            return (Path.touch, (marker,))

    bad = tmp_path / "evil.ckpt"
    with bad.open("wb") as fh:
        pickle.dump({"state_dict": {"x": Boom()}}, fh, protocol=2)
    with pytest.raises(ModelUnavailableError, match="tensor-only"):
        read_checkpoint_state(bad)
    assert not marker.exists()


def test_missing_head_weights_are_an_error_not_random(ckpt_dir: Path, tmp_path: Path) -> None:
    ckpt = torch.load(ckpt_dir / "AlignScore-tiny.ckpt", weights_only=True)
    del ckpt["state_dict"]["tri_layer.weight"]
    folder = tmp_path / "broken"
    folder.mkdir()
    for f in ckpt_dir.iterdir():
        if f.suffix != ".ckpt":
            (folder / f.name).write_bytes(f.read_bytes())
    torch.save(ckpt, folder / "AlignScore-tiny.ckpt")
    with pytest.raises(ModelUnavailableError, match=r"missing \['tri_layer.weight'\]"):
        build_scorer(_cfg(folder), ScorerContext())


def test_hub_checkpoint_offline_fails_fast() -> None:
    cfg = AlignScoreScorerConfig(type="alignscore", base_model=ModelConfig(id="/no/such/base"))
    with pytest.raises(ModelUnavailableError):
        build_scorer(cfg, ScorerContext())
