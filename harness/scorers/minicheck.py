"""MiniCheck (Tang, Laban & Durrett, EMNLP 2024; reference: Liyan06/MiniCheck ``minicheck/inference.py``
``Inferencer``, Apache-2.0 code, MIT models, read at b58b9fa6), on this project's engine.

Recipe, per claim (the claim is NOT split; use ``segmentation.claims: whole`` to check a whole summary as one
claim like the reference, or the default sentences, which the model card advises):

* source sentences per ``\\n``-block with a newline marker between blocks; greedy packing of whole sentences
  into chunks of at most ``chunk_size`` — model tokens (no special tokens, each sentence cut at the model
  window) for RoBERTa/DeBERTa (400), whitespace words for Flan-T5 (500);
* ONE sequence per chunk, ``chunk + eos_token + claim`` (RoBERTa ``</s>``, DeBERTa-v3 ``[SEP]``, T5 ``</s>``,
  no spaces), right-truncated at ``max_length`` (512 / 2048 / 2048) — a long chunk can cut the claim, as in
  the reference; Flan-T5 reads ``"predict: " + ...``;
* RoBERTa/DeBERTa: softmax over the two classes, index 1 = supported; Flan-T5: the first decoder step's logits
  at token ids 3 and 209, softmaxed over the two, id 209 (``▁1``) = supported;
* claim score = max over chunks; evidence = that chunk (its source offsets); label by ``supported_threshold``.

Sentences come from this project's splitter instead of NLTK punkt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.config import MiniCheckScorerConfig
from harness.engine import Engine
from harness.engine.hf_backend import PairClassifierBackend
from harness.engine.seq2seq_backend import Seq2SeqLabelBackend
from harness.models.loading import ModelUnavailableError, load_model, model_type
from harness.models.nli_labels import nli_label_index, to_nli_probs
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.chunking import Chunk, pack_greedy, sentences_with_newlines
from harness.types import ClaimScore, Evidence, SegmentedPair

__all__ = ["FLAN_T5_LABEL_IDS", "MiniCheckScorer", "build_minicheck_scorer", "minicheck_chunks"]

FLAN_T5_LABEL_IDS = (3, 209)
"""T5 vocabulary ids MiniCheck-Flan-T5 reads: 3 = ``▁`` (first piece of the label "0"), 209 = ``▁1`` (label "1")."""
_DEFAULTS = {"roberta": (512, 400), "deberta": (2048, 400), "flan-t5": (2048, 500)}
_ARCH = {"roberta": "roberta", "xlm-roberta": "roberta", "deberta-v2": "deberta", "deberta": "deberta",
         "t5": "flan-t5", "mt5": "flan-t5"}


def minicheck_chunks(source: str, size: Any, chunk_size: int) -> list[Chunk]:
    """The reference's chunks of a source (an empty source gives no chunk: the reference's ``[""]`` drops out)."""
    return pack_greedy(source, sentences_with_newlines(source), size, chunk_size)


class MiniCheckScorer:
    type = "minicheck"

    def __init__(self, cfg: MiniCheckScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or "minicheck"
        arch = cfg.architecture
        if arch == "auto":
            mt = model_type(cfg.model)
            if mt not in _ARCH:
                raise ModelUnavailableError(
                    f"model {cfg.model.id!r} has model_type {mt!r}; MiniCheck is RoBERTa, DeBERTa-v3 or Flan-T5 "
                    "(set architecture: roberta | deberta | flan-t5 to force one)")
            arch = _ARCH[mt]  # type: ignore[assignment]
        self.architecture = arch
        default_len, default_chunk = _DEFAULTS[arch]
        self.max_length = cfg.model.max_length if "max_length" in cfg.model.model_fields_set else default_len
        self.chunk_size = cfg.chunk_size or default_chunk
        seq2seq = arch == "flan-t5"
        loaded = load_model(cfg.model, "seq2seq" if seq2seq else "classification", dtype=ctx.dtype,
                            device=ctx.device)
        self.info = loaded.info
        self.tokenizer = loaded.tokenizer
        key = f"{loaded.info.id}@{loaded.info.revision}|sha={loaded.info.weight_sha256}"
        self.backend: Any
        if seq2seq:
            self.backend = Seq2SeqLabelBackend(loaded.model, loaded.tokenizer, FLAN_T5_LABEL_IDS,
                                               max_length=self.max_length, cache_key=key, device=ctx.device)
            self.labels: dict[str, list[int]] = {"entailment": [1], "neutral": [0], "contradiction": []}
        else:
            self.backend = PairClassifierBackend(loaded.model, loaded.tokenizer, max_length=self.max_length,
                                                 cache_key=key, device=ctx.device)
            labels = cfg.model.labels or {"supported": 1, "unsupported": 0}
            try:
                self.labels = nli_label_index(loaded.model.config.id2label, labels)
            except ValueError as e:
                raise ModelUnavailableError(f"model {cfg.model.id!r}: {e}") from None
        self.eos = str(loaded.tokenizer.eos_token or loaded.tokenizer.sep_token)
        self.prefix = "predict: " if seq2seq else ""
        self._sizes: dict[str, int] = {}

    def languages(self) -> frozenset[str] | None:
        return frozenset(self.info.languages) if self.info.languages else None

    def models(self) -> list[ModelInfo]:
        return [self.info]

    def size(self, sentence: str) -> int:
        """Words (Flan-T5) or model tokens without special tokens, cut at the window (RoBERTa/DeBERTa)."""
        if self.architecture == "flan-t5":
            return len(sentence.split())
        n = self._sizes.get(sentence)
        if n is None:
            ids = self.tokenizer(sentence, add_special_tokens=False, truncation=True,
                                 max_length=self.max_length)["input_ids"]
            n = self._sizes[sentence] = len(ids)
        return n

    def _supported(self, out: Any) -> float:
        if self.architecture == "flan-t5":
            return float(out[1])
        return to_nli_probs(out, self.labels, self.backend.labels)["entailment"]

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        inputs: list[tuple[str]] = []
        plan = []
        for sp in pairs:
            chunks = minicheck_chunks(sp.pair.source, self.size, self.chunk_size)
            if not chunks:
                continue
            for c in sp.claims:
                if c.checkable:
                    plan.append((sp, c, chunks, len(inputs)))
                    inputs.extend((f"{self.prefix}{ch.text}{self.eos}{c.text}",) for ch in chunks)
        raw = engine.run(self.backend, inputs, desc=f"{self.name}: {len(inputs)} chunk-claim inputs")
        result: dict[ClaimKey, ClaimScore] = {}
        for sp, c, chunks, first in plan:
            probs = [self._supported(o) for o in raw[first : first + len(chunks)]]
            best = max(range(len(probs)), key=lambda i: (probs[i], -i))
            ch = chunks[best]
            ok = probs[best] >= self.cfg.supported_threshold
            result[(sp.pair.id, c.index)] = ClaimScore(
                pair_id=sp.pair.id, scorer=self.name, claim_index=c.index, text=c.text, start=c.start, end=c.end,
                score=probs[best], label="supported" if ok else "unsupported",
                reason="entailed" if ok else "no_evidence", probs={"supported": probs[best]},
                evidence=Evidence(sp.pair.source[ch.start:ch.end], ch.start, ch.end, best),
                detail={"chunks": len(chunks), "chunk_probs": [round(p, 6) for p in probs]},
            )
        return result


@scorer("minicheck")
def build_minicheck_scorer(cfg: MiniCheckScorerConfig, ctx: ScorerContext) -> MiniCheckScorer:
    return MiniCheckScorer(cfg, ctx)
