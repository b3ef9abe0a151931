"""QA engine backends on tiny local models: source windows, span outputs, generation through the engine."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from _tiny_qa import tiny_qa_dir, tiny_qg_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.config import ModelConfig
from harness.engine import Engine
from harness.engine.tiny import WORDS
from harness.models.loading import load_model
from harness.models.qa_backends import ExtractiveQABackend, QuestionGenerationBackend
from harness.models.span_decoding import WindowResult

__all__ = ["tiny_qa_dir", "tiny_qg_dir"]  # fixtures re-exported for pytest


@pytest.fixture(scope="module")
def qa_backend(tiny_qa_dir: Path) -> ExtractiveQABackend:
    loaded = load_model(ModelConfig(id=str(tiny_qa_dir)), "question_answering")
    return ExtractiveQABackend(loaded.model, loaded.tokenizer, model_key="tiny-qa", max_length=48,
                               max_answer_tokens=5)


@pytest.fixture(scope="module")
def qg_backend(tiny_qg_dir: Path) -> QuestionGenerationBackend:
    loaded = load_model(ModelConfig(id=str(tiny_qg_dir)), "seq2seq")
    return QuestionGenerationBackend(loaded.model, loaded.tokenizer, model_key="tiny-qg", max_new_tokens=6)


def long_text(n_words: int, seed: int = 0) -> str:
    import random

    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(n_words)]
    for i in range(0, n_words, 9):
        words[i] = words[i].capitalize() + ("." if i % 2 else ",")
    return " ".join(words)


def check_windows(backend: ExtractiveQABackend, text: str, stride: int) -> list[tuple[int, int]]:
    wins = backend.windows(text, stride)
    covered = [False] * len(text)
    for a, b in wins:
        assert 0 <= a < b <= len(text)
        for i in range(a, b):
            covered[i] = True
        n_tokens = len(backend.tokenizer(text[a:b], add_special_tokens=False)["input_ids"])
        assert n_tokens <= backend.window_tokens + 2
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace()), "uncovered characters"
    for (a1, b1), (a2, _b2) in itertools.pairwise(wins):
        assert a1 < a2 < b1, "consecutive windows must move forward and overlap"
    return wins


def test_long_source_is_fully_covered_by_overlapping_windows(qa_backend: ExtractiveQABackend) -> None:
    text = long_text(300)
    wins = check_windows(qa_backend, text, stride=8)
    assert len(wins) > 5
    # larger stride (overlap) -> more windows; stride is capped at half a window
    assert len(check_windows(qa_backend, text, stride=14)) > len(wins)
    assert len(check_windows(qa_backend, text, stride=1000)) == len(check_windows(qa_backend, text, stride=14))


def test_short_and_empty_contexts(qa_backend: ExtractiveQABackend) -> None:
    assert qa_backend.windows("The army said so.") == [(0, 17)]
    assert qa_backend.windows("   ") == []
    assert qa_backend.windows("  padded  ") == [(2, 8)]


def test_text_without_word_boundaries_is_still_covered(qa_backend: ExtractiveQABackend) -> None:
    url = "https://example.org/" + "-".join(WORDS[:80])  # one 'word' far longer than a window
    assert len(check_windows(qa_backend, f"See {url} and {url}.", stride=8)) > 3


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([*WORDS[:60], "Sheinbaum's", "U.S.", "3,000", "(drug)", "—", "anti-war"]),
                min_size=0, max_size=120),
       st.integers(min_value=1, max_value=40))
def test_windows_cover_any_text(qa_backend: ExtractiveQABackend, words: list[str], stride: int) -> None:
    check_windows(qa_backend, " ".join(words), stride)


def test_qa_outputs_are_json_spans_inside_the_context(qa_backend: ExtractiveQABackend) -> None:
    context = long_text(20)
    enc = [qa_backend.encode(("who said it?", context)), qa_backend.encode(("when?", context[:40]))]
    outs = qa_backend.run_batch(enc)
    assert json.loads(json.dumps(outs)) == outs
    for out, ctx in zip(outs, [context, context[:40]], strict=True):
        res = WindowResult.from_json(out)
        assert 1 <= len(res.spans) <= qa_backend.n_best
        for sp in res.spans:
            assert 0 <= sp.start < sp.end <= len(ctx)
            assert ctx[sp.start:sp.end] == ctx[sp.start:sp.end].strip()
            assert sp.score <= 0.0  # log-probabilities
        assert res.null_score <= 0.0


def test_qa_output_does_not_depend_on_batch_padding(qa_backend: ExtractiveQABackend) -> None:
    items = [("who?", long_text(25, seed=1)), ("what happened?", "The storm hit the village.")]
    together = qa_backend.run_batch([qa_backend.encode(i) for i in items])
    alone = [qa_backend.run_batch([qa_backend.encode(i)])[0] for i in items]
    for t, a in zip(together, alone, strict=True):
        rt, ra = WindowResult.from_json(t), WindowResult.from_json(a)
        assert [(s.start, s.end) for s in rt.spans] == [(s.start, s.end) for s in ra.spans]
        assert rt.null_score == pytest.approx(ra.null_score, abs=1e-4)


def test_long_questions_are_clipped_so_the_context_is_kept(qa_backend: ExtractiveQABackend) -> None:
    question = " ".join(WORDS[:80]) + "?"
    enc = qa_backend.encode((question, "The army said so."))
    assert len(enc) <= qa_backend.max_length
    assert sum(o is not None for o in enc.offsets) == len(qa_backend.tokenizer("The army said so.",
                                                                               add_special_tokens=False)["input_ids"])


def test_generation_runs_through_the_engine_under_a_budget(qg_backend: QuestionGenerationBackend) -> None:
    prompts = [(f"generate question: <hl> {w} <hl> said the {WORDS[i + 5]} in {WORDS[i + 9]} .",)
               for i, w in enumerate(WORDS[:12])]
    big = Engine(token_budget=100_000)
    out_big = big.run(qg_backend, prompts)
    small = Engine(token_budget=64)
    out_small = small.run(qg_backend, prompts + prompts[:3])  # duplicates are generated once
    assert out_small[:12] == out_big
    assert out_small[12:] == out_big[:3]
    assert all(isinstance(q, str) and q for q in out_big)
    assert big.stats.forward_calls == 1
    assert small.stats.forward_calls > 1
    assert small.stats.computed == 12
    cost = len(qg_backend.encode(prompts[0]))
    assert cost == len(qg_backend.tokenizer(prompts[0][0])["input_ids"]) + qg_backend.max_new_tokens


def test_cache_keys_name_model_task_and_settings(qa_backend: ExtractiveQABackend,
                                                 qg_backend: QuestionGenerationBackend) -> None:
    assert "tiny-qa" in qa_backend.cache_key and "|qa|" in qa_backend.cache_key
    assert "tiny-qg" in qg_backend.cache_key and "beams=1" in qg_backend.cache_key
    other: Any = QuestionGenerationBackend(qg_backend.model, qg_backend.tokenizer, model_key="tiny-qg",
                                           max_new_tokens=7)
    assert other.cache_key != qg_backend.cache_key
