"""Which source windows a QA question reads, best first.

Reading every window of a long source for every question made QA the slow half of a run (about five model
inputs per question on news articles). A question about a claim can only be answered where the claim's words
are, so the windows are ranked by the words they share with the question and with the answer candidate (the
candidate counts twice: where it occurs is where a consistent answer lies), each word weighted by how rare it
is among the source's windows (a word in every window says nothing about which to read). The scorer reads the
best few and widens to the rest only when their answer is weak (harness/scorers/qa.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.scorers.nli import PremiseIndex
from harness.scorers.overlap import content_words

__all__ = ["CANDIDATE_WEIGHT", "WindowIndex", "rank_windows"]

CANDIDATE_WEIGHT = 2.0
"""How much more a word of the answer candidate counts than a word of the question."""


class WindowIndex:
    """The content words of one source's windows, indexed once (the NLI scorer's inverted index: a word's
    postings are the windows holding it, so its document frequency too) and ranked against many questions."""

    def __init__(self, windows: Sequence[str]) -> None:
        self.index = PremiseIndex([set(content_words(w)) for w in windows])

    def rank(self, question: str, candidate: str) -> list[int]:
        """Window indices, best first for ``question`` and its answer ``candidate`` (see :func:`rank_windows`)."""
        n = self.index.n
        if n <= 1:
            return list(range(n))
        weights: dict[str, float] = dict.fromkeys(content_words(question), 1.0)
        weights.update(dict.fromkeys(content_words(candidate), CANDIDATE_WEIGHT))
        scores = [0.0] * n
        for word, weight in weights.items():
            holding = self.index.postings.get(word, ())
            for i in holding:
                scores[i] += weight * math.log(1.0 + n / len(holding))
        return sorted(range(n), key=lambda i: (-scores[i], i))


def rank_windows(question: str, candidate: str, windows: Sequence[str]) -> list[int]:
    """Indices of ``windows`` ordered best first for ``question`` (ties: the earlier window first).

    A window's score is the sum over the distinct content words of the question (weight 1) and of the
    candidate (weight :data:`CANDIDATE_WEIGHT`) that occur in it of ``log(1 + n / df)``, with ``df`` the number
    of windows holding the word. Words are lower-cased, stop words dropped (the overlap scorer's rules)."""
    return WindowIndex(windows).rank(question, candidate)
