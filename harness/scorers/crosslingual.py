"""Cross-lingual entailment scorer: claims in one language judged against a source in another, offline.

Per pair: the source is cut into sentences and adjacent two-sentence windows; claims and passages are
embedded by the multilingual sentence encoder (through the engine: dedup, cache, token-budget batches);
each claim meets its ``top_k`` most similar passages; the trained head
(:mod:`harness.models.crosslingual`) turns encoder similarity plus language-independent evidence
(numbers, dates, names, negation) into P(entailment / neutral / contradiction) per passage. The claim
score is the best passage's P(entailment), and that passage is the evidence (offsets into the source).

Works for same-language pairs too (the encoder's languages include English), which is how it is compared
with the cross-encoder on English data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.config import CrossLingualScorerConfig
from harness.engine import Engine
from harness.engine.sentence_encoder import ENCODER_ID, ENCODER_LANGUAGES, embed, multilingual_encoder
from harness.models.crosslingual import CLASSES, claim_evidence, features, load_head
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.evidence import EVIDENCE_LANGUAGES, SourceIndex
from harness.segment import premise_units
from harness.segment.select import most_overlapping
from harness.types import ClaimScore, Evidence, Segment, SegmentedPair

__all__ = ["Candidate", "CrossLingualScorer", "build_crosslingual_scorer", "candidates", "passages"]


def passages(source: str) -> list[Segment]:
    """Sentences and adjacent two-sentence windows (a claim may merge two source sentences)."""
    sents = premise_units(source, "sentence")
    wins = premise_units(source, "window", 2, 1) if len(sents) > 1 else []
    units = {(u.start, u.end): u for u in (*sents, *wins)}
    return [Segment(i, u.start, u.end, u.text, u.kind) for i, u in enumerate(sorted(units.values(),
                                                                                      key=lambda s: (s.start, s.end)))]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (passage, claim) the head judges: which passage, its cosine, and the feature row."""

    claim: int
    passage: int
    cos: float
    row: list[float]


def candidates(
    claims: Sequence[str],
    claim_vecs: np.ndarray,
    units: Sequence[Segment],
    unit_vecs: np.ndarray,
    source: str,
    top_k: int,
) -> list[Candidate]:
    """Feature rows for each claim against its ``top_k`` most similar passages (best first)."""
    if not units or not claims:
        return []
    doc_index = SourceIndex([source])
    sims = claim_vecs @ unit_vecs.T
    unit_index: dict[int, SourceIndex] = {}
    out: list[Candidate] = []
    for ci, claim in enumerate(claims):
        ev = claim_evidence(claim)
        order = np.argsort(-sims[ci], kind="stable")
        best = float(sims[ci, order[0]])
        second = float(sims[ci, order[1]]) if len(order) > 1 else best
        for ui in order[:top_k]:
            u = int(ui)
            if u not in unit_index:
                unit_index[u] = SourceIndex([units[u].text])
            cos = float(sims[ci, u])
            out.append(Candidate(ci, u, cos, features(ev, units[u].text, unit_index[u], doc_index, cos=cos,
                                                      cos_best=best, cos_second=second)))
    return out


class CrossLingualScorer:
    type = "crosslingual"
    cross_lingual = True

    def __init__(self, cfg: CrossLingualScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or "crosslingual"
        self.head = load_head(cfg.head)
        self.encoder = multilingual_encoder()
        declared = set(self.head.languages or EVIDENCE_LANGUAGES) & set(ENCODER_LANGUAGES)
        self._languages = frozenset(cfg.languages) if cfg.languages else frozenset(declared)

    def languages(self) -> frozenset[str] | None:
        return self._languages

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(role="sentence_encoder", id=ENCODER_ID, revision=self.encoder.version,
                      weight_sha256=self.encoder.weight_sha256, languages=list(ENCODER_LANGUAGES)),
            ModelInfo(role="crosslingual_head", id=f"harness-crosslingual-head@{self.head.version}",
                      revision=self.head.version, weight_sha256=self.head.sha256,
                      languages=sorted(self._languages), labels={str(i): c for i, c in enumerate(CLASSES)}),
        ]

    @property
    def model_id(self) -> str:
        return f"crosslingual-head@{self.head.version}"

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        work: list[tuple[SegmentedPair, list[int], list[Segment]]] = []
        texts: list[str] = []
        for sp in pairs:
            todo = [k for k, c in enumerate(sp.claims) if c.checkable]
            if not todo:
                continue
            units = passages(sp.pair.source)
            keep = most_overlapping([u.text for u in units], [sp.claims[k].text for k in todo], self.cfg.max_passages)
            if len(keep) < len(units):
                units = [units[i] for i in keep]
            if not units:
                continue
            work.append((sp, todo, units))
            texts.extend(sp.claims[k].text for k in todo)
            texts.extend(u.text for u in units)
        vecs = embed(engine, self.encoder, texts, desc=f"{self.name}: embed {len(texts)} texts")
        result: dict[ClaimKey, ClaimScore] = {}
        at = 0
        for sp, todo, units in work:
            c_vecs = vecs[at: at + len(todo)]
            at += len(todo)
            u_vecs = vecs[at: at + len(units)]
            at += len(units)
            cands = candidates([sp.claims[k].text for k in todo], c_vecs, units, u_vecs, sp.pair.source,
                               self.cfg.top_k)
            probs = self.head.predict_proba([c.row for c in cands]) if cands else np.zeros((0, 3))
            by_claim: dict[int, list[int]] = {}
            for j, c in enumerate(cands):
                by_claim.setdefault(c.claim, []).append(j)
            for ci, js in by_claim.items():
                claim = sp.claims[todo[ci]]
                best = max(js, key=lambda j: (probs[j, 0], -j))
                worst = max(js, key=lambda j: (probs[j, 2], -j))
                p_best = {name: round(float(probs[best, i]), 6) for i, name in enumerate(CLASSES)}
                if p_best["entailment"] >= self.cfg.supported_threshold:
                    label, reason, at_j = "supported", "entailed", best
                elif probs[worst, 2] >= self.cfg.contradicted_threshold:
                    label, reason, at_j = "contradicted", "contradicted", worst
                else:
                    label, reason, at_j = "unsupported", "no_evidence", best
                unit = units[cands[at_j].passage]
                result[(sp.pair.id, claim.index)] = ClaimScore(
                    pair_id=sp.pair.id, scorer=self.name, claim_index=claim.index, text=claim.text,
                    start=claim.start, end=claim.end, score=p_best["entailment"],
                    label=label,  # type: ignore[arg-type]
                    reason=reason,
                    probs={name: round(float(probs[at_j, i]), 6) for i, name in enumerate(CLASSES)},
                    evidence=Evidence(unit.text, unit.start, unit.end, unit.index),
                    detail={"model": self.model_id, "passages_scored": len(js),
                            "cosine": round(cands[at_j].cos, 4),
                            "evidence_features": _evidence_summary(cands[at_j].row)},
                )
        return result


def _evidence_summary(row: Sequence[float]) -> dict[str, float]:
    """The human-readable part of a feature row (what the evidence passage lacks)."""
    from harness.models.crosslingual import FEATURES

    keep = ("numbers_missing_passage", "numbers_missing_document", "names_missing_passage",
            "names_missing_document", "negation_mismatch")
    return {k: row[FEATURES.index(k)] for k in keep}


@scorer("crosslingual")
def build_crosslingual_scorer(cfg: CrossLingualScorerConfig, ctx: ScorerContext) -> CrossLingualScorer:
    return CrossLingualScorer(cfg, ctx)
