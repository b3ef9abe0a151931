"""HHEM-2.1-Open (Vectara; reference: the hub repo's ``modeling_hhem_v2.py`` ``HHEMv2ForSequenceClassification
.predict``, Apache-2.0), natively on this project's engine (weights: :mod:`harness.models.hhem`).

Per claim: the prompt ``"<pad> Determine if the hypothesis is true given the premise?\\n\\nPremise: {source}\\n\\n
Hypothesis: {claim}"`` (the literal ``<pad>`` is token 0), the T5 encoder + linear head read at position 0,
softmax, index 1 = consistent. No chunking, no sentence splitting, no truncation (the whole source in one
prompt, as the reference does); evidence = the whole source.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.config import HHEMScorerConfig
from harness.engine import Engine
from harness.engine.hf_backend import PairClassifierBackend
from harness.models.hhem import load_hhem
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.types import ClaimScore, Evidence, SegmentedPair

__all__ = ["HHEMScorer", "build_hhem_scorer"]


class HHEMScorer:
    type = "hhem"

    def __init__(self, cfg: HHEMScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or "hhem"
        loaded = load_hhem(cfg.model, cfg.foundation, dtype=ctx.dtype, device=ctx.device)
        self.info = loaded.info
        self.prompt = loaded.prompt
        key = f"{loaded.info.id}@{loaded.info.revision}|sha={loaded.info.weight_sha256}|{self.prompt}"
        self.backend = PairClassifierBackend(loaded.model, loaded.tokenizer, max_length=cfg.model.max_length,
                                             cache_key=key, device=ctx.device)

    def languages(self) -> frozenset[str] | None:
        return frozenset(self.info.languages) if self.info.languages else None

    def models(self) -> list[ModelInfo]:
        return [self.info]

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        todo = [(sp, c) for sp in pairs for c in sp.claims if c.checkable]
        inputs = [(self.prompt.format(text1=sp.pair.source, text2=c.text),) for sp, c in todo]
        raw = engine.run(self.backend, inputs, desc=f"{self.name}: {len(inputs)} prompts")
        result: dict[ClaimKey, ClaimScore] = {}
        for (sp, c), out in zip(todo, raw, strict=True):
            p = float(out["consistent"])
            ok = p >= self.cfg.supported_threshold
            src = sp.pair.source
            result[(sp.pair.id, c.index)] = ClaimScore(
                pair_id=sp.pair.id, scorer=self.name, claim_index=c.index, text=c.text, start=c.start, end=c.end,
                score=p, label="supported" if ok else "unsupported", reason="entailed" if ok else "no_evidence",
                probs={"consistent": p, "hallucinated": float(out["hallucinated"])},
                evidence=Evidence(src, 0, len(src), None),
            )
        return result


@scorer("hhem")
def build_hhem_scorer(cfg: HHEMScorerConfig, ctx: ScorerContext) -> HHEMScorer:
    return HHEMScorer(cfg, ctx)
