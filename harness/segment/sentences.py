"""Rule-based sentence splitting with exact offsets, built for scraped pages and news text.

Pure-Python regexes (no model) so that 100k pairs segment in seconds. Design decisions:

* **Lines first.** Text is cut into lines; soft-wrapped lines (next line starts lower-case, or the
  line is long and ends mid-sentence) are joined back. A line without a full stop is one unit
  (``heading``); ``1. …`` / ``- …`` lines are ``list_item`` units (the marker is left out of the unit).
* **Sentences inside a line** end at ``. ! ? …`` (plus closing quotes/brackets and glued reference
  markers such as ``[1]``) when followed by a space and a sentence-starting character, or glued
  directly to a capitalised word (``sparingly.The``). No split after abbreviations (Mr., Dr., e.g.,
  z.B., No. 5), initials, dotted acronyms (``U.S. troops``; a split happens only before a common
  sentence opener like "The"), or German ordinals before months/after prepositions (``am 19. Februar``).
* **Quotes are not cut.** A boundary inside a balanced quote (see :mod:`harness.segment.quotes`) is
  skipped, so ``"He asked, '…? …' And I told him …"`` stays one unit and quote checks see whole
  quotes. Unbalanced or very long quotes (> 1200 chars) do not protect anything.
* **Reference lists** (``References:[1] https://…[2] https://…``) become one ``heading`` unit for the
  label and one ``reference`` unit per entry.

Every unit satisfies ``text[start:end] == unit.text`` with no surrounding whitespace; units are in
order and never overlap.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from harness.segment.quotes import find_quotes
from harness.types import Segment


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


__all__ = ["ABBREVIATIONS", "Span", "line_units", "split_paragraphs", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    kind: str


ABBREVIATIONS = _words(
    """
    mr mrs ms dr prof sr jr st mt ft gen sen rep gov col lt sgt capt cmdr adm rev hon pres supt messrs
    e.g i.e cf vs etc al approx est fig figs no nos vol vols pp p ch sec art arts para op ed eds
    inc ltd co corp dept univ assn bros jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thur thurs fri sat sun
    z.b u.a d.h bzw ca nr abs vgl evtl ggf sog bzgl inkl usw o.ä s.o s.u u.ä hr fr frl dipl ing
    mme mlle sra srta dña sres av avda
    """
)
"""Lower-case, without the final dot. ``etc``/``usw`` also often end sentences: see ``_SOFT_ABBREV``."""
_SOFT_ABBREV = frozenset({"etc", "usw", "al"})
_LOWERCASE_ABBREV = _words(
    """
    e.g i.e cf vs etc al approx fig figs nos vol vols pp p ch sec para op ed eds dept univ assn
    z.b u.a d.h bzw ca nr abs vgl evtl ggf sog bzgl inkl usw o.ä s.o s.u u.ä
    """
)
"""Abbreviations that are written lower-case. The others (titles, months, weekdays, ``No.``, ``Art.``,
``Co.``) are abbreviations only when capitalised: lower-case "sat.", "sun.", "no.", "art.", "mar." are the
words that end "The cat sat." or "He said no."."""

_SENTENCE_OPENERS = _words(
    """
    The A An This That These Those It Its He She They We I You His Her Their Our My In On At For But And
    However Meanwhile After Before When While If As Although Though Since Yet So Then There Here What
    Der Die Das Ein Eine Er Sie Es Wir Ich Aber Und Doch Im Am Nach Vor Auch Dies Diese Dieser
    Le La Les Il Elle Ils Un Une El Los Las Ella Ellos Het De Een Lo Gli
    """
)
_MONTHS = _words(
    """
    januar jänner februar märz april mai juni juli august september oktober november dezember
    janvier février mars avril juin juillet août septembre octobre novembre décembre
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    """
)
_ORDINAL_PREV = _words(
    "am im vom zum bis ab seit vor nach der die das dem den des ein eine einem einen zur beim um"
)

_CJK_END = "。！？"
"""Full-width ends (Chinese, Japanese): a boundary with or without a space after."""
_CASELESS_END = "؟۔।॥"
"""Arabic/Urdu question mark and full stop, Devanagari danda: ends before any letter."""
_LIST = re.compile(r"[ \t]*(?:\(?\d{1,3}[.)]|\(?[a-z][.)]|[-*•·–—▪►‣◦])[ \t]+(?=\S)")
_END_PUNCT = re.compile(
    r"(?:\.{2,}|…|[.!?]+|[。！？]+|[؟۔।॥]+)(?:\[\d{1,3}\])*[\"”“’‘'»«)\]]*(?:\[\d{1,3}\])*"
)
_TERMINAL_AT_END = re.compile(r"(?:\.|!|\?|…|[。！？؟۔।॥])(?:\[\d{1,3}\])*[\"”“’‘'»«)\]]*(?:\[\d{1,3}\])*$")
_REF_LABEL = re.compile(
    r"(?i)(?:references?|sources?|quellen|einzelnachweise|literatur|références|sources|fuentes|"
    r"referencias|fonti|bronnen|citations?|notes?|footnotes?)\s*:"
)
_REF_ENTRY = re.compile(r"\[\d{1,3}\]\s*")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_OPENING = "\"“„‚‘'«»(¿¡[‹"


def line_units(text: str) -> list[Span]:
    """Lines of ``text`` (soft wraps joined), each a ``line`` or ``list_item`` span, stripped."""
    lines: list[tuple[int, int]] = []
    pos = 0
    for m in re.finditer(r"\n", text):
        lines.append((pos, m.start()))
        pos = m.end()
    lines.append((pos, len(text)))

    spans: list[Span] = []
    cur: list[int] | None = None  # [start, end, is_list]
    for ls, le in lines:
        s, e = _strip(text, ls, le)
        if s >= e:
            if cur:
                spans.append(Span(cur[0], cur[1], "list_item" if cur[2] else "line"))
            cur = None
            continue
        lm = _LIST.match(text, ls, le)
        is_list = lm is not None and not _looks_like_number_sentence(text, ls, le)
        if is_list and lm is not None:
            s = lm.end()
        # only the joined line's tail matters to _continues (its length is >= 50 either way); slicing the
        # whole joined line made hard-wrapped text quadratic
        if cur is not None and not is_list and _continues(text[max(cur[0], cur[1] - 256):cur[1]], text[s:e]):
            cur[1] = e
            continue
        if cur:
            spans.append(Span(cur[0], cur[1], "list_item" if cur[2] else "line"))
        cur = [s, e, int(is_list)]
    if cur:
        spans.append(Span(cur[0], cur[1], "list_item" if cur[2] else "line"))
    return spans


def _looks_like_number_sentence(text: str, ls: int, le: int) -> bool:
    """'3. Oktober war ...' or '19. Februar' is a date, not a list marker."""
    m = re.match(r"[ \t]*\d{1,2}\.[ \t]+(\w+)", text[ls:le])
    return m is not None and m.group(1).lower() in _MONTHS


def _continues(prev: str, nxt: str) -> bool:
    """Is ``nxt`` a soft-wrapped continuation of line ``prev``?"""
    if _TERMINAL_AT_END.search(prev) or prev.endswith(":"):
        return False
    first = nxt[0]
    if first.islower():
        return True
    return len(prev) >= 50 and (prev[-1].islower() or prev[-1] in ",;–-") and len(nxt) >= 20


def _strip(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


_MAX_TOKEN = 256
"""The token before a full stop is read back at most this far: abbreviations, initials, URLs and numbers
are decided by its end, and an unbounded walk made a long run without spaces (a base64 blob, "a.b.a.b…")
quadratic."""


_TRAILING_TOKEN = re.compile(r"\S*\Z")


def _token_before(text: str, lo: int, p: int) -> str:
    window = text[max(lo, p - _MAX_TOKEN):p]
    return window[_TRAILING_TOKEN.search(window).start():].lstrip(_OPENING)  # type: ignore[union-attr]


def _word_after(text: str, q: int, hi: int) -> str:
    m = re.match(r"[^\W\d_]+", text[q:hi])
    return m.group(0) if m else ""


def _inside(protected: list[tuple[int, int]], p: int, e: int) -> bool:
    """Is ``text[p:e]`` strictly inside one of the ``protected`` spans (sorted, non-overlapping)?
    A binary search: a long line full of quotes stays linear."""
    k = bisect.bisect_left(protected, (p, -1)) - 1  # the last span starting before p
    return k >= 0 and e < protected[k][1]


def _is_boundary(text: str, lo: int, hi: int, p: int, e: int, protected: list[tuple[int, int]],
                 lowercased: bool = False) -> bool:
    """Should the sentence end after ``text[p:e]`` (punctuation run starting at p)?

    ``lowercased``: the text has no cased words (lower-cased model output such as "… ismol family . the
    darwin woman …", maybe with ``UNK`` placeholders), so an end mark is a boundary even before a
    lower-case word: always when it stands free (tokenised text), else unless an abbreviation, initial
    or dotted acronym precedes it (``dr. smith``, ``u.s. troops``)."""
    if e >= hi:
        return False
    if lowercased and punct_free_standing(text, lo, p, e):
        # tokenised model output: " . " ends a sentence even inside ` ... ' quotes (FRANK's own
        # sentence lists split there too) and before a lower-case word or an opening quote
        q = e
        while q < hi and text[q].isspace():
            q += 1
        return q < hi and (text[q].isalnum() or text[q] in _OPENING or text[q] == "`")
    if _inside(protected, p, e):
        return False  # inside a quote, and the quote does not close with this punctuation
    q = e
    while q < hi and text[q].isspace():
        q += 1
    if q >= hi:
        return False
    glued = q == e
    nc = text[q]
    punct = text[p:e]
    if punct[0] in _CJK_END:
        return True  # scripts without spaces or case: the full-width mark alone ends the sentence
    if punct[0] in _CASELESS_END:
        return not glued
    caseless = nc.isalpha() and not nc.isupper() and not nc.islower()  # Arabic, Hebrew, Devanagari, CJK
    tok = _token_before(text, lo, p)
    if glued:
        if re.match(r"https?://|www\.", text[q:q + 8]) and "/" not in tok and "www" not in tok.lower():
            return True  # "… sentence.https://example.com/…": a URL glued to the sentence end
        # "sparingly.The content": lower-case word, one dot, then a capitalised word
        if not (punct[0] in ".!?" and len(tok) >= 2 and tok[-1].islower() and nc.isupper()
                and q + 1 < hi and text[q + 1].islower()):
            return False
        return not ("/" in tok or "www" in tok.lower() or "." in tok or "@" in tok)
    if not (nc.isupper() or nc in _OPENING or (nc.isdigit() and punct[0] in "!?") or (lowercased and nc.islower())
            or caseless):
        return False
    if punct.startswith(".") and not punct.startswith(".."):
        low = tok.lower()
        nxt_word = _word_after(text, q, hi)
        if low in ABBREVIATIONS and not _written_as_abbreviation(tok, low, nxt_word, lowercased):
            pass  # an ordinary word that happens to spell an abbreviation: "The cat sat. The dog ran."
        elif low in ABBREVIATIONS and low not in _SOFT_ABBREV:
            return False
        if low in _SOFT_ABBREV and nxt_word not in _SENTENCE_OPENERS:
            return False
        if len(tok) == 1 and tok.isalpha():
            return False  # initial: "J. Smith"
        if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", tok):
            return nxt_word in _SENTENCE_OPENERS  # U.S. troops / U.S. The
        if tok.isdigit() and len(tok) <= 2:
            prev_tok = _token_before(text, lo, p - len(tok) - 1) if p - len(tok) - 1 > lo else ""
            if nxt_word.lower() in _MONTHS or prev_tok.lower() in _ORDINAL_PREV:
                return False
    return True


def _written_as_abbreviation(tok: str, low: str, nxt_word: str, lowercased: bool) -> bool:
    """Is ``tok`` (before a full stop) used as the abbreviation it spells? Capitalised ones are ("Sat.",
    "No. 5", "Art. 3"); lower-case ones only if that abbreviation is written lower-case ("e.g.", "vs.");
    in text without case, unless the next word opens a sentence ("the cat sat. the dog ran")."""
    if low in _LOWERCASE_ABBREV or tok[:1].isupper():
        return True
    if lowercased:
        return nxt_word.capitalize() not in _SENTENCE_OPENERS
    return False


def punct_free_standing(text: str, lo: int, p: int, e: int) -> bool:
    """Is the end mark ``text[p:e]`` a token of its own (space before and after), as in tokenised text?"""
    return (text[p] in ".!?" and p > lo and text[p - 1].isspace() and e < len(text) and text[e].isspace()
            and text[p:e].strip(".!?") == "" and e - p <= 3)


_CASED_WORD = re.compile(r"[A-Z][a-z]|[a-z][A-Z]")


def _is_uncased(line: str) -> bool:
    """Lower-cased (tokenised) model output: no word mixes cases. All-caps tokens such as ``UNK`` or
    ``-LRB-`` (placeholders of tokenised corpora like FRANK) do not make a text cased."""
    return _CASED_WORD.search(line) is None and any(c.islower() for c in line)


def _sentences_in(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    protected = [(q.start, q.end) for q in find_quotes(text, lo, hi) if q.depth == 0]
    lowercased = _is_uncased(text[lo:hi])
    cuts: list[int] = []
    for m in _END_PUNCT.finditer(text, lo, hi):
        if _is_boundary(text, lo, hi, m.start(), m.end(), protected, lowercased):
            cuts.append(m.end())
    out = []
    s = lo
    for c in [*cuts, hi]:
        a, b = _strip(text, s, c)
        if a < b:
            out.append((a, b))
        s = c
    return out


def _reference_pieces(text: str, s: int, e: int) -> list[Span]:
    """``References:[1] url[2] url`` -> label + one span per entry."""
    m = _REF_LABEL.match(text, s, e)
    out: list[Span] = []
    body = s
    if m:
        out.append(Span(s, m.end(), "heading"))
        body = m.end()
    starts = [mm.start() for mm in _REF_ENTRY.finditer(text, body, e)]
    if not starts or starts[0] != _strip(text, body, e)[0]:
        starts = [body, *starts]
    for a, b in zip(starts, [*starts[1:], e], strict=True):
        a2, b2 = _strip(text, a, b)
        if a2 < b2:
            out.append(Span(a2, b2, "reference"))
    return out


def _is_reference_line(line: str) -> bool:
    if _REF_LABEL.match(line):
        return True
    urls = sum(len(u) for u in _URL.findall(line))
    return urls > 0 and urls >= 0.6 * len(line.replace(" ", ""))


def split_sentences(text: str) -> list[Segment]:
    """Sentence-like units of ``text`` with exact offsets and a ``kind``.

    Kinds: ``sentence``, ``heading`` (a line with no sentence end, or ending in ':'), ``list_item``,
    ``reference`` (entries of a reference list / bare URL lines).
    """
    spans: list[Span] = []
    for ln in line_units(text):
        line = text[ln.start:ln.end]
        if _is_reference_line(line):
            spans.extend(_reference_pieces(text, ln.start, ln.end))
            continue
        pieces = _sentences_in(text, ln.start, ln.end)
        if ln.kind == "list_item":
            spans.extend(Span(a, b, "list_item") for a, b in pieces)
        elif len(pieces) == 1 and _is_heading(line):
            spans.append(Span(pieces[0][0], pieces[0][1], "heading"))
        else:
            spans.extend(Span(a, b, "sentence") for a, b in pieces)
    return [Segment(i, sp.start, sp.end, text[sp.start:sp.end], sp.kind) for i, sp in enumerate(spans)]


def _is_heading(line: str) -> bool:
    if line.endswith(":"):
        return len(line.split()) <= 12
    return not _TERMINAL_AT_END.search(line) and len(line.split()) <= 20


def split_paragraphs(text: str) -> list[Segment]:
    """Blocks separated by blank lines, stripped; kind ``paragraph``."""
    out: list[Segment] = []
    pos = 0
    bounds = [(m.start(), m.end()) for m in re.finditer(r"\n[ \t\r\f\v]*\n\s*", text)]
    for bs, be in [*bounds, (len(text), len(text))]:
        a, b = _strip(text, pos, bs)
        if a < b:
            out.append(Segment(len(out), a, b, text[a:b], "paragraph"))
        pos = be
    return out
