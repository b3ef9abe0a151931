"""The ONNX Runtime backend gives the PyTorch backend's probabilities (fp32) and stays within the stated
int8 tolerance; exporting leaves the PyTorch model untouched; kept exports are reused, never half-written;
``runtime.backend: auto`` picks it where it is the faster equal-quality path. Skipped without onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from harness.engine import device as dev
from harness.engine.device import int8_scheme
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


@pytest.mark.slow
def test_onnx_int8_within_stated_tolerance(model_and_tokenizer: tuple) -> None:
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer
    ref = Engine(512).run(PairClassifierBackend(model, tok, max_length=128, cache_key="tiny"), PAIRS)
    q = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny", quantize="int8", threads=1)
    assert q.int8_scheme == int8_scheme(), "chosen by this CPU's features"
    assert q.cache_key.endswith("|onnx-int8" + ("" if q.int8_scheme == "s8" else "-reduce-range"))
    assert _max_diff(Engine(512).run(q, PAIRS), ref) <= INT8_TOLERANCE


def _int8_weights(path: Path) -> list[Any]:
    """The integer weights of every MatMulInteger in an int8 graph."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: t for t in graph.initializer}
    return [numpy_helper.to_array(inits[n.input[1]]) for n in graph.node if n.op_type == "MatMulInteger"]


@pytest.mark.parametrize(("flags", "scheme", "w_max"), [
    (frozenset({"avx2", "fma"}), "s8-reduce-range", 64),  # x86 without VNNI (issue 23's AVX2 EPYC)
    (frozenset({"avx2", "avx512f", "avx512_vnni"}), "s8", 127),
])
def test_int8_scheme_chosen_by_cpu_cannot_clip(model_and_tokenizer: tuple, monkeypatch: pytest.MonkeyPatch,
                                               flags: frozenset[str], scheme: str, w_max: int) -> None:
    """Without VNNI, ONNX Runtime adds each pair of u8 activation × s8 weight products into a saturating 16-bit
    integer (VPMADDUBSW). The scheme chosen there keeps weights within ±64, so a pair is at most 2·255·64 =
    32640 and never clips: its arithmetic is exact on every x86 CPU, the one measured here included, so the
    tolerance checked here holds there too. Full-range weights (±127) are kept where products add exactly."""
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    exact_here = dev.cpu_has_int8_dot()  # the CPU the test runs on, before the flags are pretended
    monkeypatch.setattr(dev, "cpu_flags", lambda: flags)
    monkeypatch.setattr(dev, "_is_x86", lambda: True)
    model, tok = model_and_tokenizer
    q = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny", quantize="int8", threads=1)
    assert q.int8_scheme == scheme
    weights = _int8_weights(q.graph_path)
    assert len(weights) >= 10 and all(w.dtype.name == "int8" for w in weights)
    assert max(int(abs(w.astype(int)).max()) for w in weights) == w_max
    if scheme == "s8-reduce-range":
        assert 2 * 255 * w_max <= 2**15 - 1 and q.graph_path.name == "model.int8-reduce-range.onnx"
        assert q.cache_key.endswith("|onnx-int8-reduce-range")
    else:
        assert 2 * 255 * w_max > 2**15 - 1, "would clip without VNNI"
        assert q.graph_path.name == "model.int8.onnx" and q.cache_key.endswith("|onnx-int8")
    ref = Engine(512).run(PairClassifierBackend(model, tok, max_length=128, cache_key="tiny"), PAIRS)
    if scheme == "s8-reduce-range" or exact_here:  # full-range weights clip on a CPU without VNNI (this test's
        assert _max_diff(Engine(512).run(q, PAIRS), ref) <= INT8_TOLERANCE  # point): only checkable where exact
    with pytest.raises(ValueError, match="int8_scheme"):
        OnnxPairClassifierBackend(model, tok, quantize="int8", int8_scheme="u4")


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
    scores, recorded = {}, {}
    for backend in ("torch", "onnx", "auto"):  # auto with fp32 on a CPU = ONNX Runtime
        out = tmp_path / backend
        assert main(["run", str(cfg), "--output", str(out), "--set", f"runtime.backend={backend}"]) == 0
        (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
        claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
        scores[backend] = {(c.pair_id, c.claim_index): c.score for c in claims if c.score is not None}
        recorded[backend] = json.loads((folder / "run.json").read_text())["scorers"][0]["models"][0]["backend"]
    assert recorded == {"torch": "torch", "onnx": "onnx", "auto": "onnx"}
    assert scores["torch"].keys() == scores["onnx"].keys() and scores["torch"]
    assert max(abs(scores["torch"][k] - scores["onnx"][k]) for k in scores["torch"]) <= FP32_TOLERANCE
    assert scores["auto"] == scores["onnx"]
    # the ONNX backend runs fp32 graphs: another dtype is refused in one line before any scoring
    assert main(["run", str(cfg), "--output", str(tmp_path / "bf16"), "--set", "runtime.backend=onnx",
                 "--set", "runtime.dtype=bf16"]) == 2


@pytest.mark.slow
def test_kept_export_is_reused_and_never_half_written(model_and_tokenizer: tuple, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer
    exports: list[str] = []
    real_export = OnnxPairClassifierBackend._export

    def counting(self: OnnxPairClassifierBackend, path):  # type: ignore[no-untyped-def]
        exports.append(str(path))
        return real_export(self, path)

    monkeypatch.setattr(OnnxPairClassifierBackend, "_export", counting)
    first = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", export_cache=tmp_path)
    ref = Engine(512).run(first, PAIRS)
    second = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", export_cache=tmp_path)
    assert len(exports) == 1 and second.graph_path == first.graph_path
    assert Engine(512).run(second, PAIRS) == ref
    (kept,) = [p for p in tmp_path.iterdir()]
    assert kept.name != first.cache_key and not kept.name.startswith(".")  # a hash; no temporary folder left
    # int8 is derived from the kept fp32 graph and kept beside it, one file per scheme
    q1 = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", quantize="int8",
                                   int8_scheme="s8", export_cache=tmp_path)
    q2 = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", quantize="int8",
                                   int8_scheme="s8", export_cache=tmp_path)
    assert len(exports) == 1 and q1.graph_path == q2.graph_path == kept / "model.int8.onnx"
    q3 = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", quantize="int8",
                                   int8_scheme="s8-reduce-range", export_cache=tmp_path)
    assert len(exports) == 1 and q3.graph_path == kept / "model.int8-reduce-range.onnx"
    assert q3.cache_key != q1.cache_key and (kept / "model.int8.onnx").is_file()
    # other weights (another key) get their own export
    OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=2", export_cache=tmp_path)
    assert len(exports) == 2 and len([p for p in tmp_path.iterdir()]) == 2
    # a kept graph that no longer loads is replaced by a private export, with the same scores
    (kept / "model.onnx").write_bytes(b"not a graph")
    fresh = OnnxPairClassifierBackend(model, tok, max_length=128, cache_key="tiny@sha=1", export_cache=tmp_path)
    assert len(exports) == 3 and fresh.graph_path != kept / "model.onnx"
    assert _max_diff(Engine(512).run(fresh, PAIRS), ref) == 0.0


def test_an_export_that_fails_leaves_nothing_behind(model_and_tokenizer: tuple, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from harness.engine.onnx_backend import OnnxPairClassifierBackend

    model, tok = model_and_tokenizer

    def broken(self: OnnxPairClassifierBackend, path):  # type: ignore[no-untyped-def]
        path.write_bytes(b"half a graph")
        raise RuntimeError("disk full")

    monkeypatch.setattr(OnnxPairClassifierBackend, "_export", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        OnnxPairClassifierBackend(model, tok, cache_key="tiny@sha=1", export_cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_run_keeps_its_export_beside_the_output_cache(tmp_path, tiny_nli_dir) -> None:  # type: ignore[no-untyped-def]
    import json

    from harness.__main__ import main

    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p", "source": "The cat sat on the mat.", "rewrite": "The cat sat."}) + "\n")
    cfg = tmp_path / "c.yaml"
    cache = tmp_path / "cache" / "outputs.sqlite"
    cfg.write_text(f"data: {{type: jsonl, path: {data}}}\nscorers: [{{type: nli, model: {{id: {tiny_nli_dir}}}}}]\n"
                   f"checks: {{off_topic: false, quotes: false}}\nruntime: {{cache: {cache}, progress: false, "
                   "dtype: fp32, backend: onnx}\n")
    assert main(["run", str(cfg), "--output", str(tmp_path / "out")]) == 0
    graphs = sorted((tmp_path / "cache" / "onnx").glob("*/model.onnx"))
    assert len(graphs) == 1
    stamp = graphs[0].stat().st_mtime_ns
    assert main(["run", str(cfg), "--output", str(tmp_path / "out"), "--no-cache"]) == 0  # no cache: private export
    assert main(["run", str(cfg), "--output", str(tmp_path / "out")]) == 0
    assert sorted((tmp_path / "cache" / "onnx").glob("*/model.onnx")) == graphs
    assert graphs[0].stat().st_mtime_ns == stamp
    # three runs of one config into one folder, likely within a second: three run folders, ids = folder names
    runs = [p for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 3
    assert all(json.loads((p / "run.json").read_text())["run_id"] == p.name for p in runs)
