"""AlignScore (Zha, Yang, Li & Hu, ACL 2023; reference: yuh-zha/AlignScore ``src/alignscore/inference.py``
``Inferencer.inference_per_example`` with ``nlg_eval_mode="nli_sp"``, MIT, read at a0936d5a), on this project's
engine. Weights: :mod:`harness.models.alignscore` (tensor-only checkpoint load into RoBERTa + heads).

Recipe, per claim row:

* source sentences; ``n = words(source) // chunk_words + 1`` target chunks, ``k = max(len(sentences) // n, 1)``
  sentences per chunk, consecutive groups of k joined by a space (no overlap; the count can exceed n);
* the claim's own sentences (a sentence claim is one);
* every (chunk, claim sentence) as a pair, truncating only the chunk at 512 tokens (``only_first``; a claim
  sentence too long for that falls back to ``longest_first``, as the reference retries);
* softmax of the 3-way head, index 0 ("aligned"); claim score = mean over claim sentences of the max over chunks;
  evidence = the chunk that gave the max for the claim's first sentence.

The only_first -> longest_first retry is per pair here, per mini-batch of one example's pairs in the reference
(they differ only when one claim sentence of a multi-sentence claim alone overflows the window).
Differences on purpose: sentences from this project's splitter instead of NLTK punkt; batches padded to the
longest row (multiple of 8) instead of to 512 (attention-masked: same outputs up to float rounding).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.config import AlignScoreScorerConfig
from harness.engine import Engine
from harness.engine.hf_backend import PairClassifierBackend
from harness.models.alignscore import load_alignscore
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.chunking import Chunk, sentence_spans
from harness.types import ClaimScore, Evidence, SegmentedPair

__all__ = ["AlignScoreScorer", "alignscore_chunks", "build_alignscore_scorer"]


def alignscore_chunks(source: str, chunk_words: int = 350) -> list[Chunk]:
    """The reference's source chunks with offsets (an empty source gives one empty chunk, like its ``[""]``)."""
    spans = sentence_spans(source)
    if not spans:
        return [Chunk("", 0, 0)]
    n_target = len(source.strip().split()) // chunk_words + 1
    k = max(len(spans) // n_target, 1)
    out = []
    for i in range(0, len(spans), k):
        group = spans[i : i + k]
        out.append(Chunk(" ".join(source[a:b] for a, b in group), group[0][0], group[-1][1]))
    return out


class AlignScoreScorer:
    type = "alignscore"

    def __init__(self, cfg: AlignScoreScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or "alignscore"
        loaded = load_alignscore(cfg.checkpoint, cfg.checkpoint_file, cfg.base_model, cfg.head, dtype=ctx.dtype,
                                 device=ctx.device)
        self.info = loaded.info
        self.index = 0 if cfg.head == "nli" else 1
        key = f"{loaded.info.id}@{loaded.info.revision}|sha={loaded.info.weight_sha256}|{cfg.head}"
        self.backend = PairClassifierBackend(loaded.model, loaded.tokenizer, max_length=cfg.base_model.max_length,
                                             cache_key=key, device=ctx.device, truncation="only_first")

    def languages(self) -> frozenset[str] | None:
        return frozenset(self.info.languages) if self.info.languages else None

    def models(self) -> list[ModelInfo]:
        return [self.info]

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        inputs: list[tuple[str, str]] = []
        plan = []
        for sp in pairs:
            chunks = alignscore_chunks(sp.pair.source, self.cfg.chunk_words)
            for c in sp.claims:
                if not c.checkable:
                    continue
                sents = [c.text[a:b] for a, b in sentence_spans(c.text)] or [c.text]
                plan.append((sp, c, chunks, sents, len(inputs)))
                inputs.extend((ch.text, s) for ch in chunks for s in sents)
        raw = engine.run(self.backend, inputs, desc=f"{self.name}: {len(inputs)} chunk-sentence pairs")
        label = self.backend.labels[self.index]
        result: dict[ClaimKey, ClaimScore] = {}
        for sp, c, chunks, sents, first in plan:
            m = len(sents)
            probs = [[float(raw[first + i * m + j][label]) for j in range(m)] for i in range(len(chunks))]
            per_sent = [max(probs[i][j] for i in range(len(chunks))) for j in range(m)]
            score = sum(per_sent) / m
            best = max(range(len(chunks)), key=lambda i: (probs[i][0], -i))
            ch = chunks[best]
            ok = score >= self.cfg.supported_threshold
            result[(sp.pair.id, c.index)] = ClaimScore(
                pair_id=sp.pair.id, scorer=self.name, claim_index=c.index, text=c.text, start=c.start, end=c.end,
                score=score, label="supported" if ok else "unsupported", reason="entailed" if ok else "no_evidence",
                probs={"aligned": score}, evidence=Evidence(sp.pair.source[ch.start:ch.end], ch.start, ch.end, best),
                detail={"chunks": len(chunks), "claim_sentences": m,
                        "sentence_scores": [round(x, 6) for x in per_sent]},
            )
        return result


@scorer("alignscore")
def build_alignscore_scorer(cfg: AlignScoreScorerConfig, ctx: ScorerContext) -> AlignScoreScorer:
    return AlignScoreScorer(cfg, ctx)
