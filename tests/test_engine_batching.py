"""Property tests for the pure batcher and for the engine's exactly-once / order-restoring contract."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_models import FakeBackend, fake_output

from harness.engine.batching import dedup, padded_length, plan_batches, restore
from harness.engine.runner import Engine

lengths_st = st.lists(st.integers(min_value=1, max_value=600), max_size=300)


@given(lengths_st, st.integers(min_value=8, max_value=4096), st.sampled_from([1, 8, 16]),
       st.one_of(st.none(), st.integers(min_value=1, max_value=64)), st.sampled_from([0.0, 0.5, 0.9]))
@settings(max_examples=300, deadline=None)
def test_plan_every_item_once_and_budget(lengths: list[int], budget: int, multiple: int,
                                         max_rows: int | None, min_fill: float) -> None:
    plan = plan_batches(lengths, budget, multiple=multiple, max_batch_size=max_rows, min_fill=min_fill)
    flat = [i for b in plan.batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    padded = 0
    for b in plan.batches:
        assert b, "no empty batches"
        cost = len(b) * padded_length(max(lengths[i] for i in b), multiple)
        padded += cost
        assert cost <= budget or len(b) == 1, "only a singleton may exceed the budget"
        if max_rows is not None:
            assert len(b) <= max_rows
        longest = max(lengths[i] for i in b)
        width = padded_length(longest, multiple)
        assert all(lengths[i] >= min_fill * longest or padded_length(lengths[i], multiple) == width for i in b)
    assert plan.padded_tokens == padded
    assert plan.real_tokens == sum(lengths)
    assert 0 < plan.useful_fraction <= 1 or not lengths


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=200))
def test_dedup_restore_exact(items: list[int]) -> None:
    uniques, index = dedup(items)
    assert len(set(uniques)) == len(uniques) == len(set(items))
    assert uniques == list(dict.fromkeys(items)), "first-seen order"
    assert restore(uniques, index) == items


pair_st = st.tuples(st.sampled_from(["a b", "a", "x y z", "long " * 30, "q"]),
                    st.sampled_from(["h", "h i", "j k l m"]))


@given(st.lists(pair_st, max_size=120), st.integers(min_value=8, max_value=512),
       st.integers(min_value=1, max_value=50), st.booleans())
@settings(max_examples=150, deadline=None)
def test_engine_exactly_once_and_order(items: list[tuple[str, str]], budget: int, window: int,
                                       prefetch: bool) -> None:
    backend = FakeBackend()
    engine = Engine(budget, window=window, prefetch=prefetch)
    outs = engine.run(backend, items)
    assert outs == [fake_output(it, backend.key) for it in items]
    computed = backend.computed
    assert sorted(computed) == sorted(set(items)), "every distinct input computed exactly once"
    assert engine.stats.computed == len(set(items)) == engine.stats.unique
    assert engine.stats.padded_tokens >= engine.stats.real_tokens
