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


def test_runtime_backend_onnx_runs_a_whole_config_with_the_same_scores(tmp_path, tiny_nli_dir) -> None:  # type: ignore[no-untyped-def]
    import json

    from harness.__main__ import main
    from harness.results.schema import ClaimRow

    data = tmp_path / "d.jsonl"
    rows = [{"id": f"p{i}", "source": "The cat sat on the mat. It was a sunny day in Paris. The dog slept.",
             "rewrite": r} for i, r in enumerate(["The cat sat.", "It rained in Rome. The dog slept."])]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data: {{type: jsonl, path: {data}}}\nscorers: [{{type: nli, model: {{id: {tiny_nli_dir}}}}}]\n"
                   "checks: {off_topic: false, quotes: false}\nruntime: {cache: null, progress: false, dtype: fp32}\n")
    scores = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / backend
        assert main(["run", str(cfg), "--output", str(out), "--set", f"runtime.backend={backend}"]) == 0
        (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
        claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
        scores[backend] = {(c.pair_id, c.claim_index): c.score for c in claims if c.score is not None}
    assert scores["torch"].keys() == scores["onnx"].keys() and scores["torch"]
    assert max(abs(scores["torch"][k] - scores["onnx"][k]) for k in scores["torch"]) <= FP32_TOLERANCE
    # the ONNX backend runs fp32 graphs: another dtype is refused in one line before any scoring
    assert main(["run", str(cfg), "--output", str(tmp_path / "bf16"), "--set", "runtime.backend=onnx",
                 "--set", "runtime.dtype=bf16"]) == 2
