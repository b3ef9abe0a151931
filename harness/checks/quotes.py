"""Quote verification: does each quoted passage of the rewrite have a counterpart in the source?

Which quotes are checked: *leaf* quotes (quotes containing no other quote) with at least
``min_words`` words — an outer quote that merely frames nested quotes (``"He asked, '…' And I told
him, '…'"``) is judged through its nested quotes, and one- or two-word quotes are usually names or
scare quotes ('Urroru'), not reported speech.

Same language (or unknown language): word-level fuzzy match against the whole source — the share of
the quote's words covered by in-order matching runs of >= 2 words (or the whole quote when shorter).
Exact quotes score 1.0; light edits (a changed word, dropped punctuation) stay above
``quote_match_threshold``.

Cross-lingual, with ``entail_fn`` (premise, hypothesis -> P(entail), e.g. a multilingual XNLI model):
each quote is checked against every source quote and every source sentence containing a quote mark;
the best probability is the match score.

Cross-lingual, with ``embed_fn`` (the multilingual sentence encoder through the engine): best cosine of the
quote against the source's quotes and sentences, matched at ``encoder_threshold`` (seed: real quotes
0.73-0.78 against their German originals, fabricated ones 0.09-0.32). The structural matcher below is a
second opinion for quotes just under the threshold.

Cross-lingual without either: a *structural* matcher compares the quote with each quote of
the source by language-independent signals — relative length, question/exclamation/sentence pattern,
shared names and numbers, shared speaker next to the quote, cognate-like words (shared character
trigrams after removing accents), and relative position. Honest limits: it knows no vocabulary, so it
cannot tell a faithful translation from a made-up quote of the same shape by the same speaker.
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from harness.segment.quotes import QuoteSpan, find_quotes
from harness.segment.select import most_overlapping

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "EntailFn", "QuoteVerdict", "leaf_quotes", "match_same_language", "shared_names", "structural_score",
    "verify_quotes",
]

EntailFn = Callable[[list[tuple[str, str]]], list[float]]
EmbedFn = Callable[[Sequence[str]], "np.ndarray"]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_NAME = re.compile(r"(?<![\w.])(?:[A-ZÄÖÜÉ][\w-]+|[A-Z](?:\.[A-Z])+\.?|\d[\d.,]*)")
_COMMON_CAPS = frozenset(
    """
        I The A An He She It We They You This That But And No Yes In On At If So Not My Our Your His Her Der
        Die Das Er Sie Es Wir Ich Und Aber Nein Ja Ihr Ihnen Ihrem Ihre Sie Wie Was Le La Il Elle El
        """.split()
)


@dataclass(frozen=True, slots=True)
class QuoteVerdict:
    start: int
    end: int
    """Offsets of the quote (with its marks) in the rewrite."""
    text: str
    score: float
    matched: bool
    method: str
    """exact | fuzzy | nli | encoder | encoder+names | structural | skipped"""
    counterpart: str | None = None


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.lower())
    return "".join(c for c in s if not unicodedata.combining(c)).replace("ß", "ss")


def _words(s: str) -> list[str]:
    return [_fold(w).replace("’", "'") for w in _WORD.findall(s)]


def match_same_language(quote: str, source_words: list[str]) -> tuple[float, str]:
    """Share of the quote's words found in in-order runs (>= 2 words) of the source; 1.0 = verbatim."""
    qw = _words(quote)
    if not qw:
        return 1.0, "exact"
    sm = difflib.SequenceMatcher(None, qw, source_words, autojunk=False)
    blocks = sm.get_matching_blocks()
    min_run = 2 if len(qw) >= 2 else 1
    covered = sum(b.size for b in blocks if b.size >= min_run)
    score = covered / len(qw)
    longest = max((b.size for b in blocks), default=0)
    return score, "exact" if longest == len(qw) else "fuzzy"


def _names(s: str) -> set[str]:
    out = set()
    for m in _NAME.findall(s):
        if m in _COMMON_CAPS:
            continue
        out.add(_fold(m).replace(".", ""))
    return out


def _trigrams(w: str) -> set[str]:
    w = f"_{w}_"
    return {w[i:i + 3] for i in range(len(w) - 2)}


def _cognates(a: str, b: str) -> float:
    """Share of a's long words (>= 5 letters) with a trigram-similar word in b."""
    aw = [w for w in _words(a) if len(w) >= 5]
    bw = [_trigrams(w) for w in _words(b) if len(w) >= 4]
    if not aw or not bw:
        return 0.0
    hit = 0
    for w in aw:
        t = _trigrams(w)
        best = max(len(t & u) * 2 / (len(t) + len(u)) for u in bw)
        hit += best >= 0.5
    return hit / max(len(aw), 4)  # few long words = little evidence


def _shape(s: str) -> tuple[int, int, int, int]:
    """(?, !, sentences, is-fragment): a fragment starts lower-case or has no sentence end."""
    t = s.strip().rstrip(",;:")
    frag = int(not t[:1].isupper() or not re.search(r"[.!?…]$", t))
    return t.count("?"), t.count("!"), len(re.findall(r"[.!?…](?:\s|$)", t + " ")), frag


FUZZY_NAME_BUDGET = 10_000
"""Spelling-variant comparisons (``Mexico``/``Mexiko``, difflib) one name look-up over a whole text may make.
Exact and prefix matches (``Sheinbaum``/``Sheinbaums``) are always found, by set and sorted-list look-ups; the
budget only matters for a text with tens of thousands of distinct capitalised tokens (base64, a pasted log), whose
cost it keeps linear."""


class _NameIndex:
    """Names for near-match look-ups (:func:`_near`) in time that does not grow with the number of names: an exact
    set, a sorted list for prefixes, and spelling variants compared only within the same first two letters and a
    length that can reach a 0.8 ratio."""

    def __init__(self, names: Iterable[str]) -> None:
        self.exact = frozenset(names)
        self.ordered = sorted(self.exact)
        buckets: dict[str, list[tuple[int, str]]] = {}
        for x in self.ordered:
            buckets.setdefault(x[:2], []).append((len(x), x))
        for b in buckets.values():
            b.sort()
        self.buckets = buckets

    def near(self, f: str, budget: list[int]) -> bool:
        """Is ``f`` near a name of the index? ``budget[0]`` counts down the fuzzy comparisons left."""
        if f in self.exact:
            return True
        if len(f) >= 4:
            at = bisect.bisect_right(self.ordered, f)
            if at < len(self.ordered) and self.ordered[at].startswith(f):
                return True  # a longer name starting with f
            if any(f[:k] in self.exact for k in range(4, len(f))):
                return True  # a name of >= 4 letters that f starts with
        if len(f) < 5:
            return False
        bucket = self.buckets.get(f[:2], ())
        lo = bisect.bisect_left(bucket, (-(-2 * len(f) // 3), ""))
        for _, x in bucket[lo:]:
            if 2 * len(x) > 3 * len(f):
                break  # too long for a 0.8 ratio
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            if difflib.SequenceMatcher(None, f, x).ratio() >= 0.8:
                return True
        return False


def shared_names(rewrite: str, source: str) -> frozenset[str]:
    """Folded capitalised tokens of the rewrite (not sentence-initial) with a near match in the source:
    names, places, institutions that both texts mention, whatever their languages."""
    src = _NameIndex(_fold(m).replace(".", "") for m in _NAME.findall(source))
    budget = [FUZZY_NAME_BUDGET]
    out = set()
    for m in re.finditer(_NAME, rewrite):
        tok = m.group(0)
        before = rewrite[max(0, m.start() - 3):m.start()]
        if tok in _COMMON_CAPS or m.start() == 0 or re.search(r"[.!?\"“„'‘]\s*$", before):
            continue
        f = _fold(tok).replace(".", "")
        if f in out or src.near(f, budget):
            out.add(f)
    return frozenset(out)


@lru_cache(maxsize=2)
def _index(vocab: frozenset[str]) -> _NameIndex:
    return _NameIndex(vocab)


def _names_in(s: str, vocab: frozenset[str]) -> set[str]:
    """Names of ``s`` near a name of ``vocab`` (see :class:`_NameIndex`)."""
    index = _index(vocab)
    budget = [FUZZY_NAME_BUDGET]
    return {n for n in _names(s) if index.near(n, budget)}


def _speaker(doc: str, q: QuoteSpan, vocab: frozenset[str], window: int = 80) -> set[str]:
    """Shared names in the same sentence as the quote but outside it ('…,' Sheinbaum asserted)."""
    before = re.split(r"[.!?][\"”“’'»]*\s|\n", doc[max(0, q.start - window):q.start])[-1]
    after = re.split(r"[.!?](?:\s|$)|\n", doc[q.end:q.end + window])[0]
    return _names_in(before, vocab) | _names_in(after, vocab)


def structural_score(
    rq: str, sq: str, *, vocab: frozenset[str] = frozenset(), r_speaker: frozenset[str] | set[str] = frozenset(),
    s_speaker: frozenset[str] | set[str] = frozenset(), r_pos: float = 0.0, s_pos: float = 0.0,
) -> float:
    """Language-independent similarity of two quotes in [0, 1] (see module docstring for the limits).

    ``vocab`` = :func:`shared_names` of the pair; positions are ranks among the quotes in [0, 1].
    """
    lr, ls = len(rq.strip()), len(sq.strip())
    f_len = min(lr, ls * 0.9) / max(lr, ls * 0.9) if lr and ls else 0.0
    a, b = _shape(rq), _shape(sq)
    f_shape = 1.0 - sum(abs(x - y) for x, y in zip(a, b, strict=True)) / max(1, sum(a) + sum(b))
    rn, sn = _names_in(rq, vocab), _names_in(sq, vocab)
    f_names = (sum(1 for n in rn if any(_near(n, m) for m in sn)) / max(len(rn), 2)) if rn else (
        0.5 if not sn else 0.25)
    f_speaker = 1.0 if any(_near(n, m) for n in r_speaker for m in s_speaker) else 0.0
    f_cog = _cognates(rq, sq)
    f_pos = 1.0 - min(1.0, abs(r_pos - s_pos))
    return 0.25 * f_len + 0.2 * f_shape + 0.15 * f_names + 0.15 * f_speaker + 0.15 * f_cog + 0.1 * f_pos


def _near(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) >= 4 and len(b) >= 4 and (a.startswith(b) or b.startswith(a)):
        return True  # Sheinbaum / Sheinbaums
    return len(a) >= 5 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8  # Mexico / Mexiko


def leaf_quotes(text: str, lo: int, hi: int, min_words: int) -> list[QuoteSpan]:
    qs = find_quotes(text, lo, hi)
    leaves = [q for q in qs if not any(o is not q and q.start <= o.start and o.end <= q.end for o in qs)]
    return [q for q in leaves if len(_WORD.findall(q.inner(text))) >= min_words]


def verify_quotes(
    rewrite: str,
    source: str,
    *,
    same_language: bool,
    threshold: float,
    structural_threshold: float,
    min_words: int = 3,
    entail_fn: EntailFn | None = None,
    embed_fn: EmbedFn | None = None,
    encoder_threshold: float = 0.5,
    max_source_sentences: int | None = None,
    skip: Sequence[tuple[int, int]] = (),
) -> list[QuoteVerdict]:
    """One verdict per checked quote of ``rewrite``; ``skip`` = spans (e.g. off-topic runs) to ignore."""
    quotes = [q for q in leaf_quotes(rewrite, 0, len(rewrite), min_words)
              if not any(a <= q.start and q.end <= b for a, b in skip)]
    if not quotes:
        return []
    out: list[QuoteVerdict] = []
    if same_language:
        sw = _words(source)
        for q in quotes:
            score, how = match_same_language(q.inner(rewrite), sw)
            out.append(QuoteVerdict(q.start, q.end, q.inner(rewrite), score, score >= threshold, how))
        return out
    src_quotes = [q for q in find_quotes(source) if len(_WORD.findall(q.inner(source))) >= 2]
    if entail_fn is not None:
        cands = [q.inner(source) for q in src_quotes] + _quote_sentences(source)
        cands = list(dict.fromkeys(c for c in cands if c.strip()))
        if cands:
            inputs = [(c, q.inner(rewrite)) for q in quotes for c in cands]
            probs = entail_fn(inputs)
            for i, q in enumerate(quotes):
                row = probs[i * len(cands):(i + 1) * len(cands)]
                j = max(range(len(cands)), key=lambda k: row[k])
                out.append(QuoteVerdict(q.start, q.end, q.inner(rewrite), float(row[j]), row[j] >= 0.5, "nli",
                                        cands[j]))
            return out
    structural = _structural_verdicts(rewrite, source, quotes, src_quotes, min_words, structural_threshold)
    if embed_fn is None:
        return structural
    return _encoder_verdicts(rewrite, source, quotes, src_quotes, structural, embed_fn, encoder_threshold,
                             max_source_sentences)


_SECOND_OPINION_MARGIN = 0.15
"""Cross-lingual: a quote whose encoder cosine is within this margin below the threshold still counts as
matched when the structural matcher (names, speaker, shape) pairs it with a source quote."""


def _encoder_verdicts(
    rewrite: str, source: str, quotes: list[QuoteSpan], src_quotes: list[QuoteSpan],
    structural: list[QuoteVerdict], embed_fn: EmbedFn, threshold: float, max_source_sentences: int | None,
) -> list[QuoteVerdict]:
    """Best multilingual-encoder cosine of each quote against the source's quotes and sentences (for a long
    source: the ``max_source_sentences`` sharing most names, numbers and stems with the quotes)."""
    from harness.segment import split_sentences

    texts = [q.inner(rewrite) for q in quotes]
    all_sentences = [s.text for s in split_sentences(source)]
    sentences = [all_sentences[i] for i in most_overlapping(all_sentences, texts, max_source_sentences)]
    cands = [q.inner(source) for q in src_quotes] + sentences
    cands = list(dict.fromkeys(c for c in cands if c.strip()))
    if not cands:
        return structural
    vecs = embed_fn([*texts, *cands])
    sims = vecs[: len(texts)] @ vecs[len(texts):].T
    out = []
    for i, (q, st) in enumerate(zip(quotes, structural, strict=True)):
        j = int(sims[i].argmax())
        cos = float(sims[i, j])
        second = st.matched and cos >= threshold - _SECOND_OPINION_MARGIN
        out.append(QuoteVerdict(q.start, q.end, q.inner(rewrite), round(cos, 4), cos >= threshold or second,
                                "encoder+names" if second and cos < threshold else "encoder", cands[j]))
    return out


def _structural_verdicts(
    rewrite: str, source: str, quotes: list[QuoteSpan], src_quotes: list[QuoteSpan], min_words: int,
    structural_threshold: float,
) -> list[QuoteVerdict]:
    out: list[QuoteVerdict] = []
    vocab = shared_names(rewrite, source)
    all_r = leaf_quotes(rewrite, 0, len(rewrite), min_words)
    rank_r = {(q.start, q.end): i / max(1, len(all_r) - 1) for i, q in enumerate(all_r)}
    # score every (rewrite quote, source quote), then assign greedily one-to-one: a source quote is the
    # counterpart of at most one rewrite quote, so a made-up quote cannot borrow a real quote's match
    scores: dict[tuple[int, int], float] = {}
    for i, q in enumerate(quotes):
        for j, s in enumerate(src_quotes):
            scores[i, j] = structural_score(
                q.inner(rewrite), s.inner(source), vocab=vocab, r_speaker=_speaker(rewrite, q, vocab),
                s_speaker=_speaker(source, s, vocab), r_pos=rank_r.get((q.start, q.end), 0.0),
                s_pos=j / max(1, len(src_quotes) - 1),
            )
    assigned: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for (i, j), sc in sorted(scores.items(), key=lambda kv: -kv[1]):
        if i not in assigned and j not in used:
            assigned[i] = (j, sc)
            used.add(j)
    for i, q in enumerate(quotes):
        j, sc = assigned.get(i, (-1, max((v for (a, _), v in scores.items() if a == i), default=0.0)))
        out.append(QuoteVerdict(q.start, q.end, q.inner(rewrite), round(sc, 4),
                                j >= 0 and sc >= structural_threshold, "structural",
                                src_quotes[j].inner(source) if j >= 0 else None))
    return out


def _quote_sentences(source: str) -> list[str]:
    from harness.segment import split_sentences

    marks = set("\"“”„‚‘’«»'")
    return [s.text for s in split_sentences(source) if any(c in marks for c in s.text)]
