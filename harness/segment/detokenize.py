"""Undo Penn-Treebank-style tokenisation in the text a model reads (``i 'm`` -> ``i'm``, ```` hi ''`` -> ``"hi"``).

Why: many summarisation corpora (CNN/DM and XSum outputs in FRANK, SummEval, BUMP's summaries) store system
summaries lower-cased and tokenised, while the sources are plain text. An NLI model then compares ``would n't``
with ``wouldn't`` and a backtick quote with a real one, and reads the mismatch as evidence against the claim.
Only the model's input changes: claims keep their text and offsets, evidence spans point into the source.

The rules touch only patterns that plain prose does not contain (a space before a comma or a contraction,
doubled backticks, ``-lrb-``), so untokenised text passes through unchanged.
"""

from __future__ import annotations

import re

__all__ = ["untokenize"]

_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_BRACKET = re.compile(r"-(?:l|r)(?:r|s|c)b-", re.IGNORECASE)
_OPEN_QUOTE = re.compile(r"``\s*")
_CLOSE_QUOTE = re.compile(r"\s*''")
_SINGLE_OPEN = re.compile(r"(^|\s)`\s+(?=\w)")  # ` we 're -> 'we're (a backtick opening a quotation)
_SINGLE_CLOSE = re.compile(r"(?<=[\w.,!?]) '(?=\s|$)")
_CONTRACTION = re.compile(r"(\w) (n't|'(?:s|re|ve|ll|d|m))\b", re.IGNORECASE)
_BEFORE_PUNCT = re.compile(r"(?<=\S) +(?=[,.;:!?%)\]}](?:\s|$))")
_AFTER_OPEN = re.compile(r"([(\[{$]) +(?=\S)")


def untokenize(text: str) -> str:
    """``text`` as ordinary prose when it is PTB-tokenised; otherwise ``text`` itself."""
    if " " not in text:
        return text
    out = _BRACKET.sub(lambda m: _BRACKETS[m.group(0).lower()], text)
    out = _CONTRACTION.sub(r"\1\2", out)
    out = _BEFORE_PUNCT.sub("", out)
    if "``" in out or "''" in out:
        out = _CLOSE_QUOTE.sub('"', _OPEN_QUOTE.sub('"', out))
    if _SINGLE_OPEN.search(out):  # ` quoted ' : the closing quote was split off too
        out = _SINGLE_CLOSE.sub("'", _SINGLE_OPEN.sub(lambda m: f"{m.group(1)}'", out))
    return _AFTER_OPEN.sub(r"\1", out)
