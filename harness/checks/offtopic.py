"""Off-topic runs: contiguous rewrite segments unrelated to the source (e.g. a news item glued on).

A checkable segment is *related* when any of these holds:

* it names something the source names (:func:`harness.checks.quotes.shared_names`: people, places,
  institutions, numbers — language-independent, so it works for German source / English rewrite);
* at least ``lexical_share`` of its content words (>= 4 letters, compared by 5-letter prefix) occur in
  the source (same-language pairs; works without the encoder);
* its best multilingual-encoder cosine to a source sentence is >= ``threshold`` (seed pair, German source
  and English page: faithful sentences 0.5-0.8, the appended unrelated article 0.07-0.12);
* its best cosine to an *anchor* (a rewrite segment related by the two rules above) is >=
  ``anchor_threshold`` — this carries relatedness across languages, because rewrite-to-rewrite
  similarity is same-language even when the source is not.

Unrelated segments are flagged only as a *run*: at least ``min_run`` consecutive checkable segments
(non-checkable ones such as "Read also:" inside the run are skipped over) when the run reaches the end
of the rewrite, or ``min_run + 1`` elsewhere. A single odd sentence in the middle is left to the
scorers. Without the encoder (``embed_fn`` is None) only the names and lexical rules decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from harness.checks.quotes import _names_in, shared_names
from harness.segment.select import most_overlapping

__all__ = ["EmbedFn", "OffTopicResult", "find_off_topic"]

_WORD = re.compile(r"[^\W\d_]{4,}")


def _stems(text: str) -> set[str]:
    """Content-word stems (5-letter prefixes, case-folded), without a list of every word (a long unit)."""
    return {m.group().lower()[:5] for m in _WORD.finditer(text)}


def _share(text: str, stems: set[str]) -> float:
    n = hits = 0
    for m in _WORD.finditer(text):
        n += 1
        hits += m.group().lower()[:5] in stems
    return hits / n if n else 0.0

EmbedFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class OffTopicResult:
    runs: list[list[int]]
    """Each run = claim indices (checkable ones) flagged off_topic, in order."""
    related: dict[int, dict[str, float]]
    """Per checkable claim index: the signals (names, src_sim, anchor_sim)."""


def find_off_topic(
    claims: Sequence[tuple[int, str, bool]],
    source_sentences: Sequence[str],
    source: str,
    rewrite: str,
    *,
    threshold: float,
    anchor_threshold: float,
    min_run: int,
    embed_fn: EmbedFn | None,
    lexical_share: float = 0.5,
    max_source_sentences: int | None = None,
) -> OffTopicResult:
    """``claims`` = (index, text, checkable) in rewrite order. With ``max_source_sentences`` only that many
    source sentences are embedded: those sharing most names, numbers and stems with the claims."""
    vocab = shared_names(rewrite, source)
    checkable = [(i, t) for i, t, ok in claims if ok]
    if not checkable:
        return OffTopicResult([], {})
    names = {i: len(_names_in(t, vocab)) for i, t in checkable}
    stems = _stems(source)
    lexical = {i: _share(t, stems) for i, t in checkable}
    src_sim = {i: 0.0 for i, _ in checkable}
    anchor_sim = {i: 0.0 for i, _ in checkable}
    if embed_fn is not None and source_sentences:
        texts = [t for _, t in checkable]
        chosen = [source_sentences[i] for i in most_overlapping(source_sentences, texts, max_source_sentences)]
        emb = embed_fn([*texts, *chosen])
        r, s = emb[: len(texts)], emb[len(texts):]
        sim = r @ s.T
        best = sim.max(axis=1)
        for k, (i, _) in enumerate(checkable):
            src_sim[i] = float(best[k])
        anchors = [k for k, (i, _) in enumerate(checkable)
                   if names[i] > 0 or lexical[i] >= lexical_share or src_sim[i] >= threshold]
        if anchors:
            rr = r @ r[anchors].T
            for k, (i, _) in enumerate(checkable):
                row = [float(rr[k, a]) for a, ak in enumerate(anchors) if ak != k]
                anchor_sim[i] = max(row, default=0.0)
    related = {
        i: names[i] > 0 or lexical[i] >= lexical_share or src_sim[i] >= threshold
        or anchor_sim[i] >= anchor_threshold
        for i, _ in checkable
    }
    runs: list[list[int]] = []
    cur: list[int] = []
    for i, _ in checkable:
        if not related[i]:
            cur.append(i)
        else:
            if len(cur) >= min_run + 1:
                runs.append(cur)
            cur = []
    if len(cur) >= min_run:
        runs.append(cur)  # a run that reaches the end
    detail = {
        i: {"names": float(names[i]), "lexical": round(lexical[i], 4), "src_sim": round(src_sim[i], 4),
            "anchor_sim": round(anchor_sim[i], 4)}
        for i, _ in checkable
    }
    return OffTopicResult(runs, detail)

