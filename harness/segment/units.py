"""Claims of the rewrite and premise units of the source, with no silent truncation.

Premise units (``segmentation.premises.unit``): ``sentence``; ``window`` (``size`` sentences, a new
window every ``stride`` sentences, the last window always reaching the end); ``sentence+window`` (both: every
sentence alone and every window, so a copied sentence meets itself without its neighbours and a claim that
joins two sentences meets them together); ``chunk`` (``size`` words,
a new chunk every ``stride`` words); ``document`` (the whole source). When a token limit is given, any
unit over it is split again — first into sentence groups, then into overlapping word windows, and as
a last resort into character pieces — so every premise fits the model window and ``coverage`` stays 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from harness.config import SegmentationConfig
from harness.segment.sentences import _LIST, _strip, split_paragraphs, split_sentences
from harness.types import Pair, Segment, SegmentedPair

_LIST_AT_LINE_START = re.compile(r"(?m)^" + _LIST.pattern)

__all__ = ["claim_units", "coverage", "premise_units", "segment_pair"]

CountTokens = Callable[[str], int]
_WORD = re.compile(r"\S+")


def claim_units(text: str, mode: str = "sentence", min_chars: int = 0) -> list[Segment]:
    """Claims of a rewrite: sentence units, paragraphs, or the whole text.

    Units with fewer than ``min_chars`` non-space characters or no letter/digit are dropped (a lone
    "–" or "1." makes no claim).
    """
    if mode == "sentence":
        units = split_sentences(text)
    elif mode == "paragraph":
        units = split_paragraphs(text)
    elif mode == "whole":
        a, b = _strip(text, 0, len(text))
        units = [Segment(0, a, b, text[a:b], "document")] if a < b else []
    else:
        raise ValueError(f"unknown claim unit {mode!r}; allowed: sentence, paragraph, whole")
    kept = [u for u in units
            if len("".join(u.text.split())) >= min_chars and any(c.isalnum() for c in u.text)]
    return [_reindex(u, i) for i, u in enumerate(kept)]


def _reindex(u: Segment, i: int, kind: str | None = None) -> Segment:
    return Segment(i, u.start, u.end, u.text, kind or u.kind, u.checkable, u.reason)


def _span(text: str, a: int, b: int, kind: str) -> Segment | None:
    a, b = _strip(text, a, b)
    return Segment(0, a, b, text[a:b], kind) if a < b else None


def premise_units(text: str, unit: str = "window", size: int = 2, stride: int = 1) -> list[Segment]:
    """Premise units of a source (not yet fitted to a token limit)."""
    out: list[Segment | None] = []
    if unit == "document":
        out.append(_span(text, 0, len(text), "document"))
    elif unit == "sentence+window":
        singles = premise_units(text, "sentence")
        out.extend(singles)
        if len(singles) > 1:
            out.extend(premise_units(text, "window", size, stride))
    elif unit in ("sentence", "window"):
        sents = split_sentences(text)
        if unit == "sentence" or len(sents) <= size:
            if unit == "sentence":
                out.extend(_reindex(s, 0, "sentence") for s in sents)
            else:
                out.append(_span(text, sents[0].start, sents[-1].end, "window") if sents else None)
        else:
            starts = list(range(0, len(sents) - size + 1, stride))
            if starts[-1] + size < len(sents):
                starts.append(len(sents) - size)
            out.extend(_span(text, sents[i].start, sents[i + size - 1].end, "window") for i in starts)
    elif unit == "chunk":
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        if words:
            starts = list(range(0, max(len(words) - size, 0) + 1, stride))
            if starts[-1] + size < len(words):
                starts.append(len(words) - size)
            for i in starts:
                j = min(i + size, len(words)) - 1
                out.append(_span(text, words[i][0], words[j][1], "chunk"))
    else:
        raise ValueError(f"unknown premise unit {unit!r}; allowed: sentence, window, sentence+window, "
                         "chunk, document")
    return [s for s in out if s is not None]


def fit_to_limit(text: str, unit: Segment, max_tokens: int, count_tokens: CountTokens) -> list[Segment]:
    """Split ``unit`` (offsets into ``text``) until each piece has at most ``max_tokens`` tokens."""
    if count_tokens(unit.text) <= max_tokens:
        return [unit]
    sents = [s for s in split_sentences(unit.text)]
    pieces: list[Segment] = []
    if len(sents) > 1:
        group: list[Segment] = []
        # The first piece starts where the unit does: text the splitter skips before the first sentence (a list
        # marker after a no-break space, which the source-level coverage counts as content) is never dropped.
        for s in sents:
            cand = [*group, s]
            if group and count_tokens(unit.text[cand[0].start:cand[-1].end]) > max_tokens:
                pieces.append(_offset(unit, 0 if not pieces else group[0].start, group[-1].end))
                group = [s]
            else:
                group = cand
        if group:
            pieces.append(_offset(unit, 0 if not pieces else group[0].start, group[-1].end))
        if len(pieces) == 1:  # the sentences did not divide it: words will
            return _word_windows(text, unit, max_tokens, count_tokens)
        out: list[Segment] = []
        for p in pieces:
            out.extend(fit_to_limit(text, p, max_tokens, count_tokens) if count_tokens(p.text) > max_tokens
                       else [p])
        return out
    return _word_windows(text, unit, max_tokens, count_tokens)


def _offset(unit: Segment, a: int, b: int) -> Segment:
    s = unit.start + a
    e = unit.start + b
    return Segment(0, s, e, unit.text[a:b], unit.kind)


def _largest_fitting(n_max: int, fits: Callable[[int], bool], guess: int = 1) -> int:
    """Largest n in [1, n_max] with ``fits(n)`` (``fits(1)`` is known true; fits is monotone enough).

    Galloping from ``guess`` (the previous window's size: neighbouring windows are alike, so two or three
    probes usually settle it), then bisecting. Each probe costs about its n, so the cost follows the answer;
    bisecting [1, n_max] from the middle tokenised half of a book for every window (quadratic)."""
    guess = max(1, min(guess, n_max))
    if fits(guess):
        lo, step = guess, 1
        while lo + step <= n_max and fits(lo + step):
            lo += step
            step *= 2
        hi = min(n_max, lo + step - 1)
    else:
        bad, step = guess, 1  # fits(bad) is false
        while True:
            lo = max(1, bad - step)
            if lo == 1 or fits(lo):
                break
            bad, step = lo, step * 2
        hi = bad - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _word_windows(text: str, unit: Segment, max_tokens: int, count_tokens: CountTokens) -> list[Segment]:
    """Overlapping word windows (a quarter overlap) each within the limit."""
    words = [(m.start() + unit.start, m.end() + unit.start) for m in _WORD.finditer(unit.text)]
    out: list[Segment] = []
    i = 0
    n = 1
    while i < len(words):
        if count_tokens(text[words[i][0]:words[i][1]]) > max_tokens:
            out.extend(_char_pieces(text, words[i][0], words[i][1], max_tokens, count_tokens, unit.kind))
            i += 1
            continue
        def fits(k: int, i: int = i) -> bool:
            return count_tokens(text[words[i][0]:words[i + k - 1][1]]) <= max_tokens

        n = _largest_fitting(len(words) - i, fits, guess=n)
        a, b = words[i][0], words[i + n - 1][1]
        out.append(Segment(0, a, b, text[a:b], unit.kind))
        if i + n >= len(words):
            break
        i += max(1, n - n // 4)
    return out


def _char_pieces(
    text: str, a: int, b: int, max_tokens: int, count_tokens: CountTokens, kind: str
) -> list[Segment]:
    """A single 'word' over the limit (a long URL): cut into character pieces."""
    out = []
    n = 1
    while a < b:
        def fits(k: int, a: int = a) -> bool:
            return count_tokens(text[a:a + k]) <= max_tokens

        n = _largest_fitting(b - a, fits, guess=n)
        out.append(Segment(0, a, a + n, text[a:a + n], kind))
        a += n
    return out


def coverage(text: str, units: list[Segment]) -> float:
    """Fraction of non-space characters of ``text`` inside at least one unit (list markers such as
    "- " or "1. " at line starts are not content, so they do not count)."""
    markers = [(m.start(), m.end()) for m in _LIST_AT_LINE_START.finditer(text)]
    if markers:
        parts: list[str] = []
        pos = 0
        for a, b in markers:
            parts.extend((text[pos:a], " " * (b - a)))
            pos = b
        parts.append(text[pos:])
        text = "".join(parts)
    total = _non_space(text)
    if total == 0:
        return 1.0
    iv = sorted((u.start, u.end) for u in units)
    merged: list[list[int]] = []
    for s, e in iv:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    inside = sum(_non_space(text[s:e]) for s, e in merged)
    return inside / total


def _non_space(s: str) -> int:
    """Characters that are not whitespace (``str.split`` and ``str.isspace`` agree on what whitespace is)."""
    return sum(map(len, s.split()))


def segment_pair(
    pair: Pair,
    cfg: SegmentationConfig,
    *,
    max_premise_tokens: int | None = None,
    count_tokens: CountTokens | None = None,
) -> SegmentedPair:
    """Claims of ``pair.rewrite`` and premises of ``pair.source`` per ``cfg``.

    With ``max_premise_tokens`` and ``count_tokens`` every premise is split until it fits (no silent
    truncation later). Premises are de-duplicated, sorted by offset and re-indexed.
    """
    claims = claim_units(pair.rewrite, cfg.claims, cfg.min_claim_chars)
    p = cfg.premises
    prem = premise_units(pair.source, p.unit, p.size, p.stride)
    if max_premise_tokens is not None and count_tokens is not None:
        prime = getattr(count_tokens, "prime", None)
        if prime is not None:  # a counter that can count all units in one batched call (see TokenCounter)
            prime([u.text for u in prem])
        fitted: list[Segment] = []
        for u in prem:
            fitted.extend(fit_to_limit(pair.source, u, max_premise_tokens, count_tokens))
        prem = fitted
    seen: set[tuple[int, int]] = set()
    uniq: list[Segment] = []
    for u in sorted(prem, key=lambda s: (s.start, s.end)):
        if (u.start, u.end) not in seen:
            seen.add((u.start, u.end))
            uniq.append(u)
    premises = tuple(_reindex(u, i) for i, u in enumerate(uniq))
    return SegmentedPair(pair=pair, claims=tuple(claims), premises=premises,
                         coverage=coverage(pair.source, list(premises)))

