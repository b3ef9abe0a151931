"""Rule-based checks between segmentation and scoring (see README.md in this folder).

:func:`run_checks` detects languages, marks non-checkable segments, flags extrinsic references,
off-topic runs and fabricated quotes, and marks claims that no configured scorer can score because of
their languages. Contract with aggregation (harness/aggregate.py):

* ``checkable=False`` + ``reason`` in :data:`NOT_CHECKABLE_REASONS` -> label ``not_checkable``, left out
  of the pair score (``cross_lingual_unscored`` / ``language_unscored`` too: no model can judge them).
* ``flags`` (claim index, reason in :data:`FLAG_REASONS`) on checkable claims -> label ``unsupported``
  with that reason, whatever a model says. Flagged claims are never marked ``*_unscored``: the rule
  found a problem without a model.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from harness.checks.language import (
    LanguageGuess,
    detect_language,
    language_profile,
    unreadable_languages,
)
from harness.checks.offtopic import EmbedFn, find_off_topic
from harness.checks.quotes import EntailFn, verify_quotes
from harness.checks.worthiness import BOILERPLATE_PATTERNS, META_PATTERNS, WorthinessRules, classify_segments
from harness.config import ChecksConfig
from harness.engine.sentence_encoder import ENCODER_LANGUAGES
from harness.segment import split_sentences
from harness.types import SegmentedPair

__all__ = [
    "FLAG_REASONS",
    "NOT_CHECKABLE_REASONS",
    "EmbedFn",
    "EntailFn",
    "LanguageGuess",
    "check_pair",
    "detect_language",
    "language_profile",
    "run_checks",
    "unreadable_languages",
]

log = logging.getLogger(__name__)

NOT_CHECKABLE_REASONS = ("boilerplate", "meta", "heading_repeat", "reference", "cross_lingual_unscored",
                         "language_unscored")
FLAG_REASONS = ("fabricated_quote", "off_topic", "extrinsic_reference")


def _reads(langs: frozenset[str] | set[str] | None, pair_langs: set[str]) -> bool:
    return langs is None or pair_langs <= set(langs)


def check_pair(
    sp: SegmentedPair,
    cfg: ChecksConfig,
    *,
    embed_fn: EmbedFn | None = None,
    entail_fn: EntailFn | None = None,
    known_languages: frozenset[str] | None = None,
) -> SegmentedPair:
    """All checks on one pair except the scorer-language routing (see :func:`run_checks`).

    A model decides nothing about a language it cannot read: the encoder (``embed_fn``) is used only for pairs in
    its languages, ``entail_fn`` only for pairs in the languages it declares (its ``languages`` attribute, if
    any). A pair in two languages the encoder does not both read gets no off-topic verdict (names and stems do
    not match across them), and a pair with a language no offline judge declares (``known_languages``: the run's
    scorers' and the encoder's; :func:`unreadable_languages`) gets no verdict from any check: it is unverified."""
    src, rw = sp.pair.source, sp.pair.rewrite
    src_lang, rw_lang = sp.source_lang, sp.rewrite_lang
    if cfg.language:
        src_lang, rw_lang = detect_language(src), detect_language(rw)
    claims = list(sp.claims)
    flags: list[tuple[int, str]] = list(sp.flags)
    known = known_languages if known_languages is not None else frozenset(ENCODER_LANGUAGES)
    unknown = cfg.language and bool(unreadable_languages(src_lang, src, rw_lang, rw, known))
    named = {src_lang, rw_lang} - {"und"}
    cross = len(named) == 2
    encoder_reads = not unknown and _reads(frozenset(ENCODER_LANGUAGES), named)
    if not encoder_reads:
        embed_fn = None
    if entail_fn is not None and (unknown or not _reads(getattr(entail_fn, "languages", None), named)):
        entail_fn = None

    if cfg.claim_worthiness:
        rules = WorthinessRules(
            boilerplate=BOILERPLATE_PATTERNS + tuple(cfg.extra_boilerplate_patterns),
            meta=META_PATTERNS + tuple(cfg.extra_meta_patterns),
            heading_repeat_overlap=cfg.heading_repeat_overlap,
        )
        verdicts = classify_segments([(c.index, c.text, c.kind) for c in claims], src, rules)
        for k, v in enumerate(verdicts):
            if not v.checkable:
                claims[k] = dataclasses.replace(claims[k], checkable=False, reason=v.reason)
            elif v.flag and not unknown:
                claims[k] = dataclasses.replace(claims[k], reason=v.flag)
                flags.append((claims[k].index, v.flag))

    off_spans: list[tuple[int, int]] = []
    if cfg.off_topic and not unknown and (encoder_reads or not cross):
        flagged = {i for i, _ in flags}
        res = find_off_topic(
            [(c.index, c.text, c.checkable and c.index not in flagged) for c in claims],
            [s.text for s in split_sentences(src)], src, rw,
            threshold=cfg.off_topic_threshold, anchor_threshold=cfg.off_topic_anchor_threshold,
            min_run=cfg.off_topic_min_run, embed_fn=embed_fn if cfg.off_topic_encoder else None,
            max_source_sentences=cfg.embed_max_source_sentences,
        )
        by_index = {c.index: k for k, c in enumerate(claims)}
        for run in res.runs:
            first, last = claims[by_index[run[0]]], claims[by_index[run[-1]]]
            off_spans.append((first.start, last.end))
            for i in run:
                claims[by_index[i]] = dataclasses.replace(claims[by_index[i]], reason="off_topic")
                flags.append((i, "off_topic"))

    if cfg.quotes and not unknown:
        same = src_lang == rw_lang or "und" in (src_lang, rw_lang)
        verdicts_q = verify_quotes(
            rw, src, same_language=same, threshold=cfg.quote_match_threshold,
            structural_threshold=cfg.quote_structural_threshold, min_words=cfg.quote_min_words,
            entail_fn=None if same else entail_fn, embed_fn=None if same else embed_fn,
            encoder_threshold=cfg.quote_encoder_threshold, max_source_sentences=cfg.embed_max_source_sentences,
            skip=off_spans,
        )
        for q in verdicts_q:
            if q.matched:
                continue
            for k, c in enumerate(claims):
                if c.checkable and c.start < q.end and q.start < c.end and (c.index, "fabricated_quote") not in flags:
                    claims[k] = dataclasses.replace(c, reason=c.reason or "fabricated_quote")
                    flags.append((c.index, "fabricated_quote"))
    return dataclasses.replace(
        sp, claims=tuple(claims), source_lang=src_lang, rewrite_lang=rw_lang, flags=tuple(sorted(set(flags)))
    )


def _mark_unscored(sp: SegmentedPair, reason: str) -> SegmentedPair:
    flagged = {i for i, _ in sp.flags}
    claims = tuple(
        dataclasses.replace(c, checkable=False, reason=reason) if c.checkable and c.index not in flagged else c
        for c in sp.claims
    )
    return dataclasses.replace(sp, claims=claims)


def _supported(langs: set[str], scorer_languages: Mapping[str, frozenset[str] | None]) -> bool:
    return any(v is None or langs <= set(v) for v in scorer_languages.values())


def run_checks(
    pairs: Sequence[SegmentedPair],
    cfg: ChecksConfig,
    *,
    scorer_languages: Mapping[str, frozenset[str] | None] | None = None,
    entail_fn: EntailFn | None = None,
    embed_fn: EmbedFn | None = None,
    progress: Callable[[int], None] | None = None,
    known_languages: frozenset[str] | None = None,
) -> tuple[list[SegmentedPair], list[str]]:
    """Run the checks on every pair; returns (updated pairs, run-level warnings, one line each).

    ``scorer_languages``: scorer name -> languages it supports (None = any). Pairs whose languages no
    scorer supports get their unflagged checkable claims marked ``cross_lingual_unscored`` (or
    ``language_unscored`` for a same-language pair) and a warning says so.
    ``entail_fn``: (premise, hypothesis) pairs -> P(entail), used for cross-lingual quote checks (a
    multilingual NLI model); without it an offline structural matcher is used and a warning says so.
    ``embed_fn``: texts -> unit vectors (the multilingual encoder through the engine, see
    :func:`harness.checks.embed.engine_embed_fn`) for the off-topic check and cross-lingual quotes; without
    it both fall back to names/numbers and a warning says so.
    ``known_languages``: languages some offline judge of the run declares (see :func:`check_pair`).
    """
    warnings: list[str] = []
    out: list[SegmentedPair] = []
    unscored: Counter[str] = Counter()
    unscored_claims = 0
    structural = 0
    for n, sp in enumerate(pairs):
        sp = check_pair(sp, cfg, embed_fn=embed_fn, entail_fn=entail_fn, known_languages=known_languages)
        langs = {sp.source_lang, sp.rewrite_lang} - {"und"}
        cross = len(langs) == 2
        if cross and cfg.quotes and entail_fn is None and embed_fn is None:
            structural += 1
        if cfg.language and scorer_languages is not None and langs and not _supported(langs, scorer_languages):
            before = sum(c.checkable for c in sp.claims)
            sp = _mark_unscored(sp, "cross_lingual_unscored" if cross else "language_unscored")
            unscored_claims += before - sum(c.checkable for c in sp.claims)
            unscored[f"{sp.source_lang}->{sp.rewrite_lang}"] += 1
        out.append(sp)
        if progress is not None:
            progress(n + 1)
    if unscored:
        which = ", ".join(f"{k}: {v}" for k, v in sorted(unscored.items()))
        warnings.append(
            f"LANGUAGE: {sum(unscored.values())} of {len(out)} pairs ({which}) have no scorer that supports their "
            f"languages; {unscored_claims} claims are marked cross_lingual_unscored/language_unscored and NOT "
            f"scored. Configure a multilingual model (see configs/multilingual.yaml)."
        )
    if structural:
        warnings.append(
            f"quotes: {structural} cross-lingual pairs had their quotes checked by the offline structural "
            f"matcher (weak, no vocabulary): the multilingual encoder was unavailable."
        )
    return out, warnings
