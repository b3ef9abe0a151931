"""The ONNX Runtime backend gives the PyTorch backend's probabilities (fp32) and stays within the stated
int8 tolerance; exporting leaves the PyTorch model untouched. Skipped without the ``bench`` extra."""

from __future__ import annotations

import pytest
import torch

from harness.engine.onnx_backend import FP32_TOLERANCE, INT8_TOLERANCE, onnx_available
from harness.engine.runner import Engine
from harness.engine.tiny import build_tiny_bert, build_tiny_tokenizer

pytestmark = pytest.mark.skipif(onnx_available() is not None, reason=str(onnx_available()))

PAIRS = [
    ("the city council said on monday that the budget for the school was cut.", "the council cut the budget."),
    ("police arrested two men.", "two men were arrested by police in paris on friday after the match."),
    ("the film won an award at the festival in berlin.", "the film lost."),
    ("prices rose.", "prices rose."),
] * 3 + [(" ".join(["the market fell"] * 60), "the market fell.")]


@pytest.fixture(scope="module")
def model_and_tokenizer() -> tuple[object, object]:
    tok = build_tiny_tokenizer()
    return build_tiny_bert(len(tok), seed=3), tok


def _max_diff(a: list[dict[str, float]], b: list[dict[str, float]]) -> float:
    return max(abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x)


def test_onnx_matches_torch_and_leaves_the_model_in_eval_mode(model_and_tokenizer: tuple) -> None:
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer
    torch_be = PairClassifierBackend(model, tok, max_length=128, cache_key="tiny")
    before = Engine(512).run(torch_be, PAIRS)
    onnx_be = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny", threads=1)
    assert not model.training, "the exporter must not leave dropout on"
    assert _max_diff(Engine(512).run(torch_be, PAIRS), before) == 0.0
    # Different batch shapes than the traced example (dynamic batch and sequence axes, token types, padding).
    got = Engine(512).run(onnx_be, PAIRS)
    assert _max_diff(got, before) <= FP32_TOLERANCE
    assert set(got[0]) == set(before[0])
    assert onnx_be.cache_key != torch_be.cache_key and onnx_be.cache_key.endswith("|onnx")


def test_onnx_int8_within_stated_tolerance(model_and_tokenizer: tuple) -> None:
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer
    ref = Engine(512).run(PairClassifierBackend(model, tok, max_length=128, cache_key="tiny"), PAIRS)
    q = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny", quantize="int8", threads=1)
    assert q.cache_key.endswith("|onnx-int8")
    assert _max_diff(Engine(512).run(q, PAIRS), ref) <= INT8_TOLERANCE


def test_onnx_rejects_what_it_cannot_run(model_and_tokenizer: tuple) -> None:
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer
    with pytest.raises(ValueError, match="quantize"):
        OnnxPairClassifierBackend(model, tok, quantize="int4")
    bf16 = build_tiny_bert(len(tok), seed=3, dtype=torch.bfloat16)
    with pytest.raises(ValueError, match="fp32"):
        OnnxPairClassifierBackend(bf16, tok)
