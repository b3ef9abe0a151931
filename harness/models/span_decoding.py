"""Extractive-QA span decoding from start/end logits — ours, because transformers 5 has no QA pipeline.

Per window (one (question, context-window) forward pass) we turn the logits into log-probabilities
(log-softmax over the window's real tokens, as the model was trained), score every span ``i..j`` of
context tokens with ``j - i < max_answer_tokens`` as ``logp_start[i] + logp_end[j]``, and the
no-answer hypothesis as the same at the null position (the ``[CLS]`` / ``<s>`` token, SQuAD 2.0 style).

Across the windows of one long context (:func:`best_across_windows`) the answer is the best span of
any window, mapped to character offsets of the full context; the no-answer score is the *minimum*
over windows (a question is answerable if any window can answer it) and
``p_no_answer = sigmoid(null - best)`` compares the two hypotheses. Pure numpy: tested on hand-made
logits, no model needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Span", "SpanAnswer", "WindowResult", "best_across_windows", "decode_window", "log_softmax"]

Offset = tuple[int, int] | None
"""Character (start, end) of a token in the window's context text; None = not a context token."""


@dataclass(frozen=True, slots=True)
class Span:
    """A candidate answer: character offsets into the context text it was decoded from, and its log-score."""

    start: int
    end: int
    score: float

    def shifted(self, by: int) -> Span:
        return Span(self.start + by, self.end + by, self.score)

    def to_json(self) -> list[float]:
        return [self.start, self.end, self.score]


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The best spans of one window (best first) and the window's no-answer log-score."""

    spans: tuple[Span, ...]
    null_score: float

    def to_json(self) -> dict[str, object]:
        """Compact JSON (the engine caches backend outputs)."""
        return {"spans": [s.to_json() for s in self.spans], "null": self.null_score}

    @classmethod
    def from_json(cls, d: dict[str, object]) -> WindowResult:
        spans = d.get("spans") or []
        assert isinstance(spans, list)
        null = d.get("null")
        return cls(tuple(Span(int(s[0]), int(s[1]), float(s[2])) for s in spans),
                   float(null) if isinstance(null, int | float) else -math.inf)


@dataclass(frozen=True, slots=True)
class SpanAnswer:
    """The answer to a question over a whole context (all its windows)."""

    start: int
    end: int
    score: float
    """Log-score of the best span (-inf when the context had no candidate span)."""
    null_score: float
    """Minimum no-answer log-score over the windows."""

    @property
    def p_no_answer(self) -> float:
        """P(no answer) = sigmoid(null - best): 0.5 where the model is torn, → 1 when it abstains."""
        if self.score == -math.inf:
            return 1.0
        d = self.null_score - self.score
        if d >= 0:
            return 1.0 / (1.0 + math.exp(-d))
        e = math.exp(d)
        return e / (1.0 + e)

    @property
    def has_span(self) -> bool:
        return self.score != -math.inf


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = float(np.max(x)) if x.size else 0.0
    return x - m - math.log(float(np.sum(np.exp(x - m)))) if x.size else x


def decode_window(
    start_logits: Sequence[float] | np.ndarray,
    end_logits: Sequence[float] | np.ndarray,
    offsets: Sequence[Offset],
    *,
    max_answer_tokens: int = 30,
    null_index: int | None = 0,
    n_best: int = 3,
    top_k: int = 20,
) -> WindowResult:
    """Best ``n_best`` spans of one window.

    ``start_logits``/``end_logits``/``offsets`` cover the window's real tokens (no padding). Only tokens
    with an offset of non-zero width may start or end a span (so question and special tokens never
    do); ``null_index`` is the no-answer position (None: the model has no no-answer head, the null
    score is -inf). The search looks at the ``top_k`` best starts and ends, the usual SQuAD shortcut,
    which finds the exact best span whenever it is made of top-k start and end tokens.
    """
    s = log_softmax(np.asarray(start_logits, dtype=np.float64))
    e = log_softmax(np.asarray(end_logits, dtype=np.float64))
    if not (len(s) == len(e) == len(offsets)):
        raise ValueError(f"length mismatch: {len(s)} start, {len(e)} end logits, {len(offsets)} offsets")
    valid = np.array([o is not None and o[1] > o[0] for o in offsets], dtype=bool)
    null = float(s[null_index] + e[null_index]) if null_index is not None and len(s) else -math.inf
    if not valid.any():
        return WindowResult((), null)
    idx = np.flatnonzero(valid)
    k = min(top_k, len(idx))
    starts = idx[np.argsort(-s[idx], kind="stable")[:k]]
    ends = idx[np.argsort(-e[idx], kind="stable")[:k]]
    cands: list[tuple[float, int, int]] = []
    for i in starts:
        for j in ends:
            if j < i or j - i + 1 > max_answer_tokens:
                continue
            cands.append((float(s[i] + e[j]), int(i), int(j)))
    if not cands:  # every top-k end precedes every top-k start: fall back to the best single token
        i = int(idx[np.argmax(s[idx] + e[idx])])
        cands = [(float(s[i] + e[i]), i, i)]
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    spans: list[Span] = []
    seen: set[tuple[int, int]] = set()
    for score, i, j in cands:
        oi, oj = offsets[i], offsets[j]
        assert oi is not None and oj is not None
        key = (oi[0], oj[1])
        if key in seen:
            continue
        seen.add(key)
        spans.append(Span(oi[0], oj[1], score))
        if len(spans) >= n_best:
            break
    return WindowResult(tuple(spans), null)


def best_across_windows(windows: Sequence[tuple[int, WindowResult]]) -> SpanAnswer:
    """Combine ``(char_shift, result)`` of every window of one context: best span by score (ties: the
    earlier position), offsets shifted into the full context; null = the minimum over windows."""
    best: Span | None = None
    null = math.inf
    for shift, res in windows:
        null = min(null, res.null_score)
        for sp in res.spans:
            sp = sp.shifted(shift)
            if best is None or sp.score > best.score or (sp.score == best.score and sp.start < best.start):
                best = sp
    if null == math.inf:
        null = -math.inf
    if best is None:
        return SpanAnswer(0, 0, -math.inf, null)
    return SpanAnswer(best.start, best.end, best.score, null)
