"""Span decoding from start/end logits: hand-made logits with a known answer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.models.span_decoding import (
    Span,
    SpanAnswer,
    WindowResult,
    best_across_windows,
    decode_window,
    log_softmax,
)

# "[CLS] who ? [SEP] paris is big [SEP]" — the context is "Paris is big" (chars 0-5, 6-8, 9-12)
OFFSETS = [None, None, None, None, (0, 5), (6, 8), (9, 12), None]
CONTEXT = "Paris is big"


def logits(n: int, peaks: dict[int, float]) -> np.ndarray:
    x = np.zeros(n)
    for i, v in peaks.items():
        x[i] = v
    return x


def test_known_best_span_is_found_with_character_offsets() -> None:
    res = decode_window(logits(8, {4: 5.0}), logits(8, {6: 5.0}), OFFSETS, max_answer_tokens=5)
    best = res.spans[0]
    assert CONTEXT[best.start:best.end] == "Paris is big"
    expected = log_softmax(logits(8, {4: 5.0}))[4] + log_softmax(logits(8, {6: 5.0}))[6]
    assert best.score == pytest.approx(expected)


def test_spans_never_start_or_end_on_question_or_special_tokens() -> None:
    # the question token (index 1) has the highest logits, but it is not context
    res = decode_window(logits(8, {1: 9.0, 5: 3.0}), logits(8, {1: 9.0, 5: 3.0}), OFFSETS, n_best=5)
    assert res.spans[0] == Span(6, 8, res.spans[0].score)
    assert all(s.start >= 0 and s.end <= len(CONTEXT) and s.end > s.start for s in res.spans)


def test_end_before_start_is_not_a_span() -> None:
    # best start at "big", best end at "Paris": the decoder must not return an inverted span
    res = decode_window(logits(8, {6: 6.0}), logits(8, {4: 6.0}), OFFSETS, n_best=10)
    assert all(s.end > s.start for s in res.spans)
    assert res.spans[0].start <= res.spans[0].end


def test_max_answer_length_cuts_long_spans() -> None:
    start, end = logits(8, {4: 6.0, 6: 1.0}), logits(8, {6: 6.0, 4: 1.0})
    long = decode_window(start, end, OFFSETS, max_answer_tokens=3)
    short = decode_window(start, end, OFFSETS, max_answer_tokens=2)
    assert (long.spans[0].start, long.spans[0].end) == (0, 12)
    assert (short.spans[0].end - short.spans[0].start) < 12
    assert all(CONTEXT[s.start:s.end] in ("Paris", "Paris is", "is big", "big", "is") for s in short.spans)


def test_no_answer_when_null_position_dominates() -> None:
    res = decode_window(logits(8, {0: 8.0}), logits(8, {0: 8.0}), OFFSETS)
    ans = best_across_windows([(0, res)])
    assert ans.null_score > ans.score
    assert ans.p_no_answer > 0.99
    # a confident span: P(no answer) near 0
    res2 = decode_window(logits(8, {4: 8.0}), logits(8, {4: 8.0}), OFFSETS)
    assert best_across_windows([(0, res2)]).p_no_answer < 0.01


def test_without_null_head_no_answer_probability_is_zero() -> None:
    res = decode_window(logits(8, {0: 8.0}), logits(8, {0: 8.0}), OFFSETS, null_index=None)
    assert res.null_score == -math.inf
    assert best_across_windows([(0, res)]).p_no_answer == 0.0


def test_n_best_are_distinct_and_sorted() -> None:
    res = decode_window(logits(8, {4: 3.0, 5: 2.0}), logits(8, {5: 3.0, 6: 2.0}), OFFSETS, n_best=4)
    keys = [(s.start, s.end) for s in res.spans]
    assert len(keys) == len(set(keys)) == 4
    assert [s.score for s in res.spans] == sorted((s.score for s in res.spans), reverse=True)


def test_window_overlap_best_span_maps_to_full_source() -> None:
    source = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
    # window A covers chars [0, 37), window B [18, 53); "Delta epsilon" (18-31) lies in both
    a_text, b_text = source[0:37], source[18:53]

    def offsets_of(text: str) -> list[tuple[int, int] | None]:
        out: list[tuple[int, int] | None] = [None]
        pos = 0
        for w in text.split():
            s = text.index(w, pos)
            out.append((s, s + len(w)))
            pos = s + len(w)
        return [*out, None]

    oa, ob = offsets_of(a_text), offsets_of(b_text)
    # window A: weakly prefers "Delta epsilon" (tokens 4-5); window B: strongly prefers the same words (1-2)
    ra = decode_window(logits(len(oa), {4: 2.0}), logits(len(oa), {5: 2.0}), oa)
    rb = decode_window(logits(len(ob), {1: 7.0}), logits(len(ob), {2: 7.0}), ob)
    ans = best_across_windows([(0, ra), (18, rb)])
    assert source[ans.start:ans.end] == "Delta epsilon"
    assert ans.score == pytest.approx(rb.spans[0].score)
    # with window B uncertain, window A's span (same text, same offsets after the shift) wins
    rb_weak = decode_window(logits(len(ob), {6: 0.5}), logits(len(ob), {7: 0.5}), ob)
    ans2 = best_across_windows([(0, ra), (18, rb_weak)])
    assert source[ans2.start:ans2.end] == "Delta epsilon"
    assert ans2.score == pytest.approx(ra.spans[0].score)


def test_answerable_if_any_window_can_answer() -> None:
    null_heavy = WindowResult((Span(0, 3, -9.0),), null_score=-0.1)
    answers = WindowResult((Span(5, 9, -0.5),), null_score=-6.0)
    ans = best_across_windows([(0, null_heavy), (100, answers)])
    assert (ans.start, ans.end) == (105, 109)
    assert ans.null_score == -6.0
    assert ans.p_no_answer < 0.01


def test_json_round_trip_and_empty() -> None:
    res = WindowResult((Span(1, 4, -0.25),), -3.5)
    assert WindowResult.from_json(res.to_json()) == res
    empty = decode_window([0.0, 0.0], [0.0, 0.0], [None, None])
    assert empty.spans == ()
    ans = best_across_windows([(0, empty)])
    assert not ans.has_span and ans.p_no_answer == 1.0
    assert best_across_windows([]) == SpanAnswer(0, 0, -math.inf, -math.inf)


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        decode_window([0.0], [0.0, 1.0], [None, None])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=14).flatmap(lambda n: st.tuples(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.integers(min_value=1, max_value=6),
)))
def test_best_span_equals_brute_force(case: tuple[list[float], list[float], list[bool], int]) -> None:
    start, end, is_context, max_len = case
    offsets: list[tuple[int, int] | None] = [(3 * i, 3 * i + 2) if c else None for i, c in enumerate(is_context)]
    offsets[0] = None  # the null position is never a span
    res = decode_window(start, end, offsets, max_answer_tokens=max_len, top_k=len(start))
    ls, le = log_softmax(np.array(start)), log_softmax(np.array(end))
    valid = [i for i, o in enumerate(offsets) if o is not None]
    brute = [(ls[i] + le[j], i, j) for i in valid for j in valid if i <= j < i + max_len]
    if not brute:
        assert res.spans == ()
        return
    best = max(s for s, _, _ in brute)
    assert res.spans[0].score == pytest.approx(best)
    assert res.null_score == pytest.approx(ls[0] + le[0])
