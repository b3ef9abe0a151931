"""Document sentences and chunks the way the published checkers cut sources, with exact offsets.

The checkers split with NLTK punkt; this project's rule splitter (:mod:`harness.segment.sentences`) stands in
for it. Unlike claim units, checker sentences must not lose any text (a list marker stays in its sentence, as
punkt keeps it): a sentence runs from its start to the next sentence's start, trimmed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.segment.sentences import _strip, split_sentences

__all__ = ["Chunk", "pack_greedy", "sentence_spans", "sentences_with_newlines"]

Span = tuple[int, int]


def sentence_spans(text: str, lo: int = 0, hi: int | None = None) -> list[Span]:
    """Sentences of ``text[lo:hi]`` as (start, end) offsets into ``text``, covering all its non-space text."""
    hi = len(text) if hi is None else hi
    block = text[lo:hi]
    starts = [s.start for s in split_sentences(block)]
    if not starts:
        a, b = _strip(block, 0, len(block))
        return [(lo + a, lo + b)] if a < b else []
    starts[0] = _strip(block, 0, len(block))[0]
    out = []
    for a, b in zip(starts, [*starts[1:], len(block)], strict=True):
        a2, b2 = _strip(block, a, b)
        if a2 < b2:
            out.append((lo + a2, lo + b2))
    return out


def sentences_with_newlines(text: str) -> list[Span | None]:
    """MiniCheck's ``sent_tokenize_with_newlines``: sentences of each ``\\n``-separated block, with a ``None``
    marker (the reference's ``"\\n"`` item) between blocks."""
    out: list[Span | None] = []
    pos = 0
    blocks = text.split("\n")
    for k, block in enumerate(blocks):
        out.extend(sentence_spans(text, pos, pos + len(block)))
        if k < len(blocks) - 1:
            out.append(None)
        pos += len(block) + 1
    return out


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of consecutive source sentences: ``text`` is what the model reads, ``start``/``end`` locate it."""

    text: str
    start: int
    end: int


def pack_greedy(text: str, items: Sequence[Span | None], size: Callable[[str], int], limit: int) -> list[Chunk]:
    """Greedy packing (MiniCheck): add whole sentences while the running size stays <= ``limit``; a sentence that
    would overflow starts the next chunk. Chunk text = items joined by one space (a marker is ``"\\n"``), then
    ``" \\n "`` -> ``"\\n"`` and trimmed; empty chunks are dropped."""
    groups: list[list[Span | None]] = []
    cur: list[Span | None] = []
    count = 0
    for it in items:
        n = size("\n" if it is None else text[it[0]:it[1]])
        if count + n > limit:
            groups.append(cur)
            cur, count = [it], n
        else:
            cur.append(it)
            count += n
    if cur:
        groups.append(cur)
    out = []
    for g in groups:
        joined = " ".join("\n" if it is None else text[it[0]:it[1]] for it in g).replace(" \n ", "\n").strip()
        spans = [it for it in g if it is not None]
        if joined and spans:
            out.append(Chunk(joined, spans[0][0], spans[-1][1]))
    return out
