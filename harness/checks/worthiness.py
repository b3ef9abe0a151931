"""Claim-worthiness: which rewrite segments make a checkable claim about the source.

Rules (in order; the first that fires gives the reason):

* ``boilerplate`` — the whole segment is navigation/page furniture ("Skip to content", "Read also:",
  "Latest", "Rewrite:", "Share this article", ...): :data:`BOILERPLATE_PATTERNS` + config extras.
* ``meta`` — text about the writing/editing process ("Enrichment data has been incorporated",
  "restructured for clarity", "as an AI", ...): :data:`META_PATTERNS` + config extras.
* ``reference`` — the label of a reference list ("References:", "Quellen:").
* ``heading_repeat`` — a heading (a line without a full stop) that repeats an earlier segment or whose
  content words mostly (>= ``heading_repeat_overlap``) occur in the rest of the rewrite.
* ``extrinsic_reference`` — a reference entry or bare URL that the source does not contain. These are
  *not* dropped: they stay checkable and are flagged, so they come out ``unsupported``.

A heading that says something the body does not is kept as a claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BOILERPLATE_PATTERNS",
    "META_PATTERNS",
    "Worthiness",
    "WorthinessRules",
    "classify_segments",
    "content_words",
]

BOILERPLATE_PATTERNS: tuple[str, ...] = (
    r"skip to (?:main )?content", r"jump to (?:navigation|search|content)", r"read (?:also|more|next)",
    r"see also", r"latest(?: news| stories| articles)?", r"related(?: articles| posts| stories| news)?",
    r"(?:most )?popular", r"trending(?: now)?", r"share(?: this)?(?: article| story| post)?(?: on \w+)?",
    r"advertisement", r"sponsored(?: content)?", r"subscribe(?: now)?(?: to .{0,40})?", r"sign (?:in|up)",
    r"log ?in", r"log ?out", r"menu", r"home", r"search", r"close", r"next", r"previous",
    r"(?:accept|manage)(?: all)? cookies", r"cookie (?:settings|policy)", r"privacy policy",
    r"terms of (?:use|service)", r"all rights reserved.*", r"©.*", r"copyright .*", r"follow us.*",
    r"newsletter", r"back to top", r"print", r"e-?mail", r"comments?(?: \(\d+\))?", r"tags?:.*",
    r"rewrite", r"rewritten(?: article| text)?", r"original(?: article| text)?", r"summary", r"source",
    r"continue reading", r"click here.*", r"more from .{0,40}", r"you may also like",
    r"lesen sie auch", r"mehr zum thema", r"weiterlesen", r"anzeige", r"werbung", r"teilen",
    r"zum inhalt springen", r"lire aussi", r"à lire aussi", r"leer más", r"lee también", r"leggi anche",
)
"""Whole-segment patterns (case-insensitive; a trailing ':' / '…' and spaces are ignored)."""

META_PATTERNS: tuple[str, ...] = (
    r"\benrichment (?:data|insights?)\b",
    r"\b(?:has|have|had) been (?:restructured|revised|rewritten|reworded|paraphrased|broken down|"
    r"incorporated|condensed|shortened|simplified|edited)\b",
    r"\b(?:was|were) (?:restructured|revised|rewritten|reworded|paraphrased|ensured|prioritized|"
    r"incorporated)\b",
    r"\bfor (?:better )?(?:clarity|readability|originality)\b",
    r"\b(?:while )?preserving (?:the )?(?:original )?meaning\b",
    r"\bflow and coherence\b", r"\bcontext limits?\b", r"\b(?:the )?base article\b",
    r"\b(?:the )?original (?:article|text)\b", r"\bas an ai\b", r"\blanguage model\b",
    r"\bhere is (?:the|a|your) (?:rewritten|revised|paraphrased|summari[sz]ed)\b",
    r"\bi (?:have )?(?:rewritten|revised|paraphrased|summari[sz]ed)\b", r"\bword count\b",
    r"\bthe (?:rewritten|revised) (?:text|article|version)\b",
)
"""Search patterns (case-insensitive): one hit makes the segment ``meta``."""

_REF_LABEL = re.compile(
    r"(?i)^(?:references?|sources?|quellen|einzelnachweise|literatur|références|fuentes|referencias|"
    r"fonti|bronnen|citations?|footnotes?)\s*:?$"
)
_URL = re.compile(r"(?:https?://|www\.)[^\s\[\]<>\"“”]+")
_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")
_STOP = frozenset(
    """
        the a an of and or to in on at by for with from as is are was were be been this that these those it
        its by der die das und von zu mit im am le la les de des du et el los las y
        """.split()
)


@dataclass(frozen=True, slots=True)
class WorthinessRules:
    boilerplate: tuple[str, ...] = BOILERPLATE_PATTERNS
    meta: tuple[str, ...] = META_PATTERNS
    heading_repeat_overlap: float = 0.75


@dataclass(frozen=True, slots=True)
class Worthiness:
    index: int
    checkable: bool
    reason: str | None
    flag: str | None = None
    """A pre-scoring flag for checkable segments (``extrinsic_reference``)."""


def content_words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text) if w.lower() not in _STOP]


def _normal(text: str) -> str:
    t = text.strip().rstrip(":：…").rstrip(".").strip()
    return re.sub(r"\s+", " ", t)


def classify_segments(
    segments: Sequence[tuple[int, str, str]], source: str, rules: WorthinessRules = WorthinessRules()
) -> list[Worthiness]:
    """``segments`` = (index, text, kind) of the rewrite, in order; returns one verdict per segment."""
    boiler = re.compile(r"(?i)^(?:" + "|".join(f"(?:{p})" for p in rules.boilerplate) + r")$")
    meta = re.compile(r"(?i)" + "|".join(f"(?:{p})" for p in rules.meta))
    source_low = source.lower()
    out: list[Worthiness] = []
    seen: set[str] = set()
    words = [content_words(t) for _, t, _ in segments]
    for k, (idx, text, kind) in enumerate(segments):
        norm = _normal(text)
        key = norm.lower()
        if boiler.match(norm):
            out.append(Worthiness(idx, False, "boilerplate"))
        elif meta.search(text):
            out.append(Worthiness(idx, False, "meta"))
        elif _REF_LABEL.match(text.strip()):
            out.append(Worthiness(idx, False, "reference"))
        elif kind == "heading" and (key in seen or _repeats_body(words, k, rules.heading_repeat_overlap)):
            out.append(Worthiness(idx, False, "heading_repeat"))
        elif kind == "reference" or _is_bare_url(text):
            urls = _URL.findall(text)
            inside = bool(urls) and all(u.rstrip(".,;").lower() in source_low for u in urls)
            out.append(Worthiness(idx, True, None, None if inside else "extrinsic_reference"))
        else:
            out.append(Worthiness(idx, True, None))
        seen.add(key)
    return out


def _is_bare_url(text: str) -> bool:
    rest = _URL.sub("", text)
    rest = re.sub(r"\[\d+\]|[\s:,;.\-–]", "", rest)
    return bool(_URL.search(text)) and len(rest) <= 3


def _repeats_body(words: list[list[str]], k: int, threshold: float) -> bool:
    mine = set(words[k])
    if not mine:
        return True
    rest: set[str] = set()
    for j, ws in enumerate(words):
        if j != k:
            rest.update(ws)
    rest_stems = {w[:5] for w in rest}
    hit = sum(1 for w in mine if w in rest or w[:5] in rest_stems)
    return hit / len(mine) >= threshold
