"""Engine behaviour on a real (tiny) model and under injected out-of-memory errors."""

from __future__ import annotations

import pytest
import torch
from tiny_models import FakeBackend, fake_output, make_items, tiny_pair_backend

from harness.engine import Engine
from harness.engine.device import cpu_supports_bf16, dtype_name, is_oom_error, resolve_device, resolve_dtype
from harness.engine.hf_backend import PairClassifierBackend

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tiny() -> PairClassifierBackend:
    return tiny_pair_backend(seed=0, max_length=128)


def _max_abs_diff(a: list[dict[str, float]], b: list[dict[str, float]]) -> float:
    return max(abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x)


def test_same_outputs_for_any_budget(tiny: PairClassifierBackend) -> None:
    items = make_items(120, seed=3, dup_every=5)
    one_by_one = [tiny.run_batch([tiny.encode(it)])[0] for it in items]
    spread = max(o["LABEL_0"] for o in one_by_one) - min(o["LABEL_0"] for o in one_by_one)
    assert spread > 0.05, "the tiny model must not be trivially uniform, or this test proves nothing"
    for budget, window in [(1, 7), (64, 16), (512, 1000), (100_000, 1000)]:
        engine = Engine(budget, window=window)
        outs = engine.run(tiny, items)
        assert _max_abs_diff(outs, one_by_one) <= 1e-5, budget
        assert engine.stats.computed == len(set(items))


def test_bulk_encoding_matches_hf_tokenizer(tiny: PairClassifierBackend) -> None:
    tok = tiny._hf_tokenizer
    items = [*make_items(30, seed=4), ("x " * 400, "y " * 300), ("only one field",)]
    for it, enc in zip(items, tiny.encode_many(items), strict=True):
        ref = tok(*it, truncation=True, max_length=tiny.max_length, return_token_type_ids=True)
        assert list(enc.ids) == ref["input_ids"]
        assert list(enc.type_ids or ()) == ref["token_type_ids"]
        assert len(enc) <= tiny.max_length


def test_padding_multiple_and_mask(tiny: PairClassifierBackend) -> None:
    encs = tiny.encode_many([("a b c", "d"), ("the police said on monday", "police said")])
    t = tiny.collate(encs)
    assert t["input_ids"].shape[1] % 8 == 0
    assert t["attention_mask"].sum().item() == sum(len(e) for e in encs)


@pytest.mark.parametrize("kind", ["message", "typed"])
def test_oom_backoff_never_drops_or_duplicates(kind: str) -> None:
    items = make_items(300, seed=5, dup_every=9)
    backend = FakeBackend(oom_above=300, oom_kind=kind)
    engine = Engine(4096, window=100)
    outs = engine.run(backend, items)
    assert outs == [fake_output(it, backend.key) for it in items]
    assert sorted(backend.computed) == sorted(set(items))
    assert backend.oom_count > 0 and engine.stats.oom_retries == backend.oom_count
    assert engine.effective_budget <= 512 and engine.token_budget == 4096


def test_oom_on_singleton_is_raised() -> None:
    backend = FakeBackend(oom_above=8)
    with pytest.raises(RuntimeError, match="out of memory"):
        Engine(4096).run(backend, [("a b c d e f g h i j", "k")])


def test_other_errors_propagate() -> None:
    class Broken(FakeBackend):
        def run_batch(self, batch):  # type: ignore[no-untyped-def]
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        Engine(64).run(Broken(), make_items(10))


def test_prefetch_windows_give_identical_results(tiny: PairClassifierBackend) -> None:
    items = make_items(200, seed=6, dup_every=4)
    a = Engine(2048, window=16, prefetch=True).run(tiny, items)
    b = Engine(2048, window=10_000, prefetch=False).run(tiny, items)
    assert _max_abs_diff(a, b) <= 1e-5


def test_empty_input() -> None:
    assert Engine().run(FakeBackend(), []) == []


def test_device_and_dtype_policy() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda"}
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError):
            resolve_device("cuda")
    assert resolve_dtype("fp32", "cpu") == torch.float32
    assert resolve_dtype("bf16", "cpu") == torch.bfloat16
    with pytest.raises(ValueError):
        resolve_dtype("fp16", "cpu")
    with pytest.raises(ValueError):
        resolve_dtype("int3", "cpu")
    expected = torch.bfloat16 if cpu_supports_bf16() else torch.float32
    assert resolve_dtype("auto", "cpu") == expected
    assert dtype_name(torch.bfloat16) == "bf16"
    assert is_oom_error(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert not is_oom_error(RuntimeError("shape mismatch"))


def test_cache_key_names_dtype_and_length() -> None:
    a = tiny_pair_backend(seed=0, max_length=128)
    b = tiny_pair_backend(seed=0, max_length=64)
    c = tiny_pair_backend(seed=0, max_length=128, dtype=torch.bfloat16)
    assert len({a.cache_key, b.cache_key, c.cache_key}) == 3
    assert "fp32" in a.cache_key and "bf16" in c.cache_key
