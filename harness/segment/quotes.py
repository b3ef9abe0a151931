"""Find quoted spans (straight, curly, German and French quotes; nested) with exact offsets.

Why a scanner and not a regex: straight quotes are symmetric, ``'`` doubles as an apostrophe
(``Trump's``), German closes „…“ with the mark English uses to *open* (“…”), and scraped text often
leaves a quote unclosed. The scanner keeps a stack of open quotes and resolves those cases:

* ``“`` closes an open ``„`` (German), otherwise opens an English quote closed by ``”``;
  ``‘`` likewise closes ``‚`` or opens one closed by ``’``.
* ``'`` / ``’`` count as quote marks only at word edges (``'No'`` yes, ``It's`` no).
* An opener that is still open when a new opener of the *same* kind appears is taken as unbalanced
  and dropped (the German seed has „Er sagte: ‚…‘ … with no closing “).
* Quotes never cross a blank line and are dropped if longer than ``max_chars``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["QuoteSpan", "find_quotes"]


@dataclass(frozen=True, slots=True)
class QuoteSpan:
    """A quoted passage: ``text[start:end]`` includes the marks, ``text[inner_start:inner_end]`` does not."""

    start: int
    end: int
    inner_start: int
    inner_end: int
    depth: int
    """0 for an outermost quote, 1 for a quote inside it, ..."""
    open_mark: str
    close_mark: str

    def inner(self, text: str) -> str:
        return text[self.inner_start:self.inner_end]


# opener -> closers that end it
_PAIRS: dict[str, tuple[str, ...]] = {
    '"': ('"', "”", "“"),
    "“": ("”", "“"),  # English “…”; some texts use “…“
    "„": ("“", "”"),
    "‚": ("‘", "’"),
    "‘": ("’",),
    "'": ("'", "’"),
    "«": ("»",),
    "»": ("«",),
    "‹": ("›",),
    "›": ("‹",),
    "「": ("」",),
    "『": ("』",),
}
_MARKS = set(_PAIRS) | {c for cs in _PAIRS.values() for c in cs}
_BLANK = re.compile(r"\n[ \t\r\f\v]*\n")


def _is_word(c: str) -> bool:
    return c.isalnum()


def find_quotes(
    text: str, start: int = 0, end: int | None = None, *, max_chars: int = 1200
) -> list[QuoteSpan]:
    """All balanced quotes in ``text[start:end]``, sorted by start offset (outer before inner)."""
    end = len(text) if end is None else end
    out: list[QuoteSpan] = []
    pos = start
    for m in _BLANK.finditer(text, start, end):
        out.extend(_scan(text, pos, m.start(), max_chars))
        pos = m.end()
    out.extend(_scan(text, pos, end, max_chars))
    out.sort(key=lambda q: (q.start, -q.end))
    return out


def _scan(text: str, lo: int, hi: int, max_chars: int) -> list[QuoteSpan]:
    stack: list[tuple[str, int]] = []  # (open mark, offset)
    found: list[tuple[int, int, str, str]] = []
    for i in range(lo, hi):
        c = text[i]
        if c not in _MARKS:
            continue
        prev = text[i - 1] if i > lo else " "
        nxt = text[i + 1] if i + 1 < hi else " "
        if c in ("'", "’") and _is_word(prev) and _is_word(nxt):
            continue  # apostrophe inside a word: It's, Trump's
        # 1) does it close something on the stack?
        closed = False
        for k in range(len(stack) - 1, -1, -1):
            om, oi = stack[k]
            if c in _PAIRS[om]:
                opener_like = (prev.isspace() or i == lo) and not nxt.isspace() and nxt not in ".,;:!?)"
                if c in ("'", "’", '"') and opener_like:
                    break  # looks like an opener (space before, text after), not a closer
                if c in ("'", "’") and _is_word(nxt):
                    break
                found.append((oi, i + 1, om, c))
                del stack[k:]
                closed = True
                break
        if closed:
            continue
        # 2) does it open one?
        if c not in _PAIRS:
            continue
        if c in ("'", '"') and nxt.isspace():
            continue  # a stray mark followed by space cannot open a quote
        if c == "'" and _is_word(prev):
            continue  # trailing apostrophe: the players' ...
        if c == "»" and not (prev.isspace() or prev in "(:[" or i == lo) and any(o == "«" for o, _ in stack):
            continue
        # same kind of opener still open -> the earlier one was never closed: drop it and what it holds
        for k in range(len(stack) - 1, -1, -1):
            if stack[k][0] == c and c not in ('"', "'"):
                del stack[k:]
                break
        stack.append((c, i))
    spans: list[QuoteSpan] = []
    kept = [(s, e, om, cm) for s, e, om, cm in found if e - s <= max_chars and e - s > 2]
    kept.sort(key=lambda t: (t[0], -t[1]))
    # The stack above makes quotes nest or stay apart, never cross, so sorted by (start, -end) a quote's
    # depth is the number of still-open quotes before it: linear, where counting containers pairwise was
    # quadratic on a long line full of quotes.
    open_ends: list[int] = []
    for s, e, om, cm in kept:
        while open_ends and open_ends[-1] <= s:
            open_ends.pop()
        spans.append(QuoteSpan(s, e, s + 1, e - 1, len(open_ends), om, cm))
        open_ends.append(e)
    return spans
