"""Lexical-overlap baseline: the fraction of a claim's content words that occur in the source.

On extractive data (CNN/DM) this is a strong baseline; every model number should be reported beside
it. It needs no model and no engine.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from harness.config import OverlapScorerConfig
from harness.engine import Engine
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.types import ClaimScore, Evidence, SegmentedPair

__all__ = ["OverlapScorer", "build_overlap_scorer", "content_words", "overlap_fraction"]

_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    """
        a an the and or but if of to in on at by for with from as is are was were be been being has have had
        do does did it its this that these those he she they we you i his her their our your them him us me
        my not no so than then there here which who whom whose what when where why how will would can could
        should may might must shall also into over after before about up down out said says say
        """.split()
)


def content_words(text: str) -> list[str]:
    return [w for w in (t.lower() for t in _WORD.findall(text)) if w not in _STOP]


def overlap_fraction(claim: str, vocabulary: set[str]) -> float:
    words = content_words(claim)
    if not words:
        return 1.0
    return sum(w in vocabulary for w in words) / len(words)


def _best_premise(claim: str, postings: dict[str, list[int]]) -> int:
    """Position of the premise with the highest :func:`overlap_fraction` for ``claim`` (the earliest on ties),
    counted through an inverted index: the cost follows the claim's words, not claims x premises."""
    shared: Counter[int] = Counter()
    for w, m in Counter(content_words(claim)).items():
        for i in postings.get(w, ()):
            shared[i] += m
    return min(shared, key=lambda i: (-shared[i], i)) if shared else 0


class OverlapScorer:
    type = "overlap"
    cross_lingual = False
    """Word overlap means nothing across languages: cross-lingual pairs are left unverified."""

    def __init__(self, cfg: OverlapScorerConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name or "overlap"

    def languages(self) -> frozenset[str] | None:
        return None

    def models(self) -> list[ModelInfo]:
        return []

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        out: dict[ClaimKey, ClaimScore] = {}
        for sp in pairs:
            vocab = set(content_words(sp.pair.source))
            postings: dict[str, list[int]] = defaultdict(list)  # word -> premises holding it
            for i, p in enumerate(sp.premises):
                for w in set(content_words(p.text)):
                    postings[w].append(i)
            for claim in sp.claims:
                if not claim.checkable:
                    continue
                score = overlap_fraction(claim.text, vocab)
                evidence = None
                if sp.premises:
                    p = sp.premises[_best_premise(claim.text, postings)]
                    evidence = Evidence(p.text, p.start, p.end, p.index)
                supported = score >= self.cfg.supported_threshold
                out[(sp.pair.id, claim.index)] = ClaimScore(
                    pair_id=sp.pair.id, scorer=self.name, claim_index=claim.index, text=claim.text,
                    start=claim.start, end=claim.end, score=round(score, 6),
                    label="supported" if supported else "unsupported",
                    reason="lexical_overlap" if supported else "no_evidence", evidence=evidence,
                )
        return out


@scorer("overlap")
def build_overlap_scorer(cfg: OverlapScorerConfig, ctx: ScorerContext) -> OverlapScorer:
    return OverlapScorer(cfg)
