"""MiniCheck parity: the scorer (through the engine) against a literal re-run of the reference recipe
(Liyan06/MiniCheck ``Inferencer.inference_per_example`` / ``batch_tokenize`` / ``inference``, read at b58b9fa6)
with plain transformers calls on the same tiny models. The reference package is not on PyPI, so its steps are
re-stated here from the source; sentences are this project's (the reference uses NLTK punkt).
Tolerance: 1e-5 absolute on P(supported) (fp32 CPU; different batching and padding widths).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from _tiny_checkers import save_tiny_deberta_2way, save_tiny_minicheck_t5, save_tiny_roberta_2way, text
from transformers import AutoModelForSeq2SeqLM, AutoModelForSequenceClassification, AutoTokenizer

from harness.config import MiniCheckScorerConfig, ModelConfig, SegmentationConfig
from harness.engine import Engine
from harness.scorers.base import ScorerContext, build_scorer
from harness.scorers.chunking import sentences_with_newlines
from harness.segment import segment_pair
from harness.types import Pair

TOL = 1e-5
pytestmark = pytest.mark.usefixtures("one_torch_thread")

BUILDERS = {"roberta": save_tiny_roberta_2way, "deberta": save_tiny_deberta_2way, "flan-t5": save_tiny_minicheck_t5}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def tiny(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    arch = request.param
    return arch, BUILDERS[arch](tmp_path_factory.mktemp(f"minicheck-{arch}"))


def reference_score(doc: str, claim: str, folder: Path, arch: str, chunk_size: int, max_len: int) -> float:
    """The reference recipe step by step (chunks(), batch_tokenize(), inference())."""
    tok = AutoTokenizer.from_pretrained(folder)
    t5 = arch == "flan-t5"
    cls = AutoModelForSeq2SeqLM if t5 else AutoModelForSequenceClassification
    model = cls.from_pretrained(folder, dtype=torch.float32).eval()
    sents = ["\n" if s is None else doc[s[0]:s[1]] for s in sentences_with_newlines(doc)] or [""]

    def count(s: str) -> int:
        if t5:
            return len(s.split())
        return len(tok(s, padding=False, add_special_tokens=False, max_length=max_len, truncation=True)["input_ids"])

    chunks, cur, n = [], [], 0
    for s in sents:
        k = count(s)
        if n + k > chunk_size:
            chunks.append(" ".join(cur))
            cur, n = [s], k
        else:
            cur.append(s)
            n += k
    if cur:
        chunks.append(" ".join(cur))
    chunks = [c.replace(" \n ", "\n").strip() for c in chunks]
    chunks = [c for c in chunks if c != ""]
    texts = [tok.eos_token.join([c, claim]) for c in chunks]
    probs = []
    for t in texts:  # batch size 1: no padding at all in the reference run
        enc = tok([("predict: " + t) if t5 else t], max_length=max_len, truncation=True, padding=True,
                  return_tensors="pt")
        with torch.no_grad():
            if t5:
                logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                               decoder_input_ids=torch.zeros((1, 1), dtype=torch.long)).logits.squeeze(1)
                p = torch.softmax(logits[:, torch.tensor([3, 209])], dim=-1)
            else:
                p = torch.softmax(model(**enc).logits, dim=1)
        probs.append(p[0, 1].item())
    return max(probs)


def _score(folder: Path, arch: str, pairs: list[Pair], **kw: Any) -> dict[tuple[str, int], Any]:
    cfg = MiniCheckScorerConfig(type="minicheck", model=ModelConfig(id=str(folder), **kw.pop("model", {})), **kw)
    sc = build_scorer(cfg, ScorerContext())
    assert sc.architecture == arch  # type: ignore[attr-defined]
    sps = [segment_pair(p, SegmentationConfig(claims="whole")) for p in pairs]
    return sc.score(sps, Engine(cache=None, token_budget=4096))


@pytest.mark.parametrize("chunk_size", [None, 60])
def test_minicheck_matches_reference_recipe(tiny: tuple[str, Path], chunk_size: int | None) -> None:
    arch, folder = tiny
    max_len, default_chunk = {"roberta": (512, 400), "deberta": (2048, 400), "flan-t5": (2048, 500)}[arch]
    size = chunk_size or default_chunk
    doc = text(1, 30, newline_every=4)  # ~1,700 characters: several chunks for the byte-level RoBERTa
    pairs = [Pair("a", doc, text(2, 1)), Pair("b", doc, text(3, 2)), Pair("c", text(4, 3), text(5, 1)),
             Pair("d", "Short.\n\nSecond block here.", text(6, 1))]
    kw: dict[str, Any] = {"chunk_size": chunk_size} if chunk_size else {}
    out = _score(folder, arch, pairs, **kw)
    assert len(out) == len(pairs)
    n_chunks = []
    for p in pairs:
        got = out[(p.id, 0)]
        ref = reference_score(p.source, p.rewrite, folder, arch, size, max_len)
        assert got.score == pytest.approx(ref, abs=TOL), (arch, p.id)
        assert got.evidence is not None and p.source[got.evidence.start:got.evidence.end] == got.evidence.text
        assert got.label == ("supported" if got.score >= 0.5 else "unsupported")
        n_chunks.append(got.detail["chunks"])
    if chunk_size == 60:
        assert n_chunks[0] > 1, "the long source must be cut into several chunks"


def test_minicheck_right_truncation_can_cut_the_claim(tiny: tuple[str, Path]) -> None:
    """With a window shorter than chunk + claim, the reference's right truncation drops the claim's end:
    two claims that differ only after the cut score the same."""
    arch, folder = tiny
    doc = text(7, 3, lo=30, hi=30)  # every chunk alone fills the 24-token window
    a, b = text(8, 1) + " Extra one words.", text(8, 1) + " Other ending words."
    out = _score(folder, arch, [Pair("a", doc, a), Pair("b", doc, b)], model={"max_length": 24}, chunk_size=5)
    assert out[("a", 0)].score == pytest.approx(out[("b", 0)].score, abs=1e-6)
    assert out[("a", 0)].score == pytest.approx(reference_score(doc, a, folder, arch, 5, 24), abs=TOL)


def test_generic_two_way_labels_can_be_flipped(tmp_path: Path) -> None:
    folder = save_tiny_roberta_2way(tmp_path / "m")
    pair = [Pair("a", text(9, 4), text(10, 1))]
    default = _score(folder, "roberta", pair)[("a", 0)].detail["chunk_probs"]
    flipped = _score(folder, "roberta", pair, model={"labels": {"supported": 0, "unsupported": 1}})
    assert flipped[("a", 0)].detail["chunk_probs"] == pytest.approx([1 - p for p in default], abs=1e-6)
