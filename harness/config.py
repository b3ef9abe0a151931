"""Run configuration: pydantic models with ``extra="forbid"`` so a typo is an error, not a silent default.

Scorers form a discriminated union on ``type``. Paths in a config are resolved relative to the config
file's folder first, then to the current directory.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

__all__ = [
    "CONFIG_VERSION",
    "AlignScoreScorerConfig",
    "ChecksConfig",
    "CombineConfig",
    "ConfigError",
    "CrossLingualScorerConfig",
    "DataConfig",
    "FieldMap",
    "HHEMScorerConfig",
    "MiniCheckScorerConfig",
    "ModelConfig",
    "NLIScorerConfig",
    "OverlapScorerConfig",
    "QAScorerConfig",
    "RayConfig",
    "RoutingConfig",
    "RunConfig",
    "RuntimeConfig",
    "ScorerConfig",
    "SegmentationConfig",
    "SummaCConvScorerConfig",
    "SummaCZSScorerConfig",
    "apply_overrides",
    "config_hash",
    "load_config",
]

CONFIG_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A config problem, worded as one line naming the file, the dotted field and what is allowed."""


class FieldMap(_Strict):
    """Which input columns hold what."""

    id: str | None = "id"
    """Column with a unique pair id; if absent or None, ids are the row numbers."""
    source: str = "source"
    rewrite: str = "rewrite"
    label: str | None = "label"
    """Gold label column (1 faithful / 0 not, or graded); None or absent column = unlabelled."""
    group: str | None = None
    """Column linking minimal-pair twins (e.g. BUMP's ``pair_id``)."""


class DataConfig(_Strict):
    """One dataset of (source, rewrite) pairs."""

    name: str = "data"
    type: Literal["seeds", "jsonl", "csv", "parquet", "hf"] = "jsonl"
    path: str | None = None
    """File or folder (seeds: a folder with ``000_*.txt`` source and ``002_*.txt`` rewrite; or explicit files)."""
    source_file: str | None = None
    """seeds: the source text file (default: the ``000_*`` file in ``path``)."""
    rewrite_file: str | None = None
    """seeds: the rewrite text file (default: the ``002_*`` file in ``path``)."""
    hf_name: str | None = None
    """hf: a `datasets` name or builder ("json", "csv", ...) — with ``path`` for local data files."""
    hf_config: str | None = None
    split: str = "train"
    revision: str | None = None
    fields: FieldMap = FieldMap()
    role: Literal["dev", "test", "none"] = "none"
    """``dev`` sets where thresholds are tuned; ``test`` where tuned thresholds are applied."""
    limit: int | None = Field(default=None, ge=1)
    """Keep only the first N pairs (quick looks)."""

    @model_validator(mode="after")
    def _needs_location(self) -> DataConfig:
        if self.type == "hf" and not (self.hf_name or self.path):
            raise ValueError("type 'hf' needs hf_name (a datasets name) or path (local files)")
        if self.type != "hf" and not (self.path or (self.source_file and self.rewrite_file)):
            raise ValueError(f"type '{self.type}' needs path")
        return self


class PremiseConfig(_Strict):
    """How the source is cut into premise units that each fit the model window."""

    unit: Literal["sentence", "window", "sentence+window", "chunk", "document"] = "window"
    size: int = Field(default=2, ge=1)
    """window: sentences per window; chunk: tokens (words) per chunk."""
    stride: int = Field(default=1, ge=1)
    """window: sentences between window starts; chunk: words between chunk starts."""


class SegmentationConfig(_Strict):
    claims: Literal["sentence", "paragraph", "whole"] = "sentence"
    premises: PremiseConfig = PremiseConfig()
    min_claim_chars: int = Field(default=3, ge=0)


class ChecksConfig(_Strict):
    """Rule-based checks that run before the model scorers (see harness/checks/README.md)."""

    claim_worthiness: bool = True
    """Mark navigation/boilerplate, meta text, repeated headings and bare reference lists ``not_checkable``."""
    extra_boilerplate_patterns: tuple[str, ...] = ()
    """More whole-segment regexes (case-insensitive) for navigation/page furniture."""
    extra_meta_patterns: tuple[str, ...] = ()
    """More search regexes (case-insensitive) for text about the writing process."""
    heading_repeat_overlap: float = Field(default=0.75, ge=0.0, le=1.0)
    """A heading whose content words occur in the rest of the rewrite at this share repeats the body."""
    quotes: bool = True
    """Verify quoted spans of the rewrite against the source; unmatched quotes are ``fabricated_quote``."""
    quote_min_words: int = Field(default=3, ge=1)
    """Shorter quotes are names or scare quotes, not reported speech: not checked."""
    quote_match_threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    """Same-language: share of the quote's words found in order in the source to count as matched."""
    quote_structural_threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    """Cross-lingual without the encoder: offline structural match score needed (a weak signal)."""
    quote_encoder_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """Cross-lingual: multilingual-encoder cosine to the best source quote at or above which a quote is matched
    (seed: real quotes 0.77-0.80 against their German originals, fabricated ones 0.15-0.17)."""
    off_topic: bool = True
    """Flag runs of rewrite segments unrelated to the source as ``off_topic``."""
    off_topic_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    """Encoder cosine to the best source sentence at or above which a segment is related."""
    off_topic_anchor_threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    """Encoder cosine to a related rewrite segment at or above which a segment is related too."""
    off_topic_min_run: int = Field(default=2, ge=1)
    """Unrelated segments are flagged only as a run this long at the end (one longer elsewhere)."""
    off_topic_encoder: bool = True
    """Use the multilingual sentence encoder (through the engine); False = names/numbers overlap only."""
    embed_max_source_sentences: int = Field(default=512, ge=1)
    """Long sources: the off-topic and cross-lingual quote checks embed at most this many source sentences —
    those sharing the most names, numbers and word stems with the rewrite — so their cost stays bounded."""
    language: bool = True
    """Detect languages; cross-lingual pairs go to scorers that declare both languages."""


class ModelConfig(_Strict):
    """A model by hub id, local directory, or the shipped ``embedded`` default."""

    id: str = "embedded"
    revision: str | None = None
    """Hub revision (branch, tag or commit) — pin a commit for reproducible runs."""
    max_length: int = Field(default=512, ge=8)
    languages: tuple[str, ...] | None = None
    """Languages the model supports (ISO 639-1), or None = take the model's declared languages
    (embedded: English; hub models: ``["en"]`` unless given)."""
    labels: dict[str, int | tuple[int, ...]] | None = None
    """Classifiers only: which class index means what, used instead of the model's ``id2label``. Three-way
    keys ``entailment`` / ``neutral`` / ``contradiction`` or two-way ``supported`` / ``unsupported``
    (MiniCheck: ``{supported: 1, unsupported: 0}``); every class index once. Needed for generic
    ``id2label`` names (``LABEL_0``, ``"0"``/``"1"``), which are refused without it."""

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, v: dict[str, int | tuple[int, ...]] | None) -> dict[str, int | tuple[int, ...]] | None:
        if v is None:
            return v
        three, two = {"entailment", "neutral", "contradiction"}, {"supported", "unsupported"}
        keys = set(v)
        if not (keys <= three and "entailment" in keys) and not (keys <= two and "supported" in keys):
            raise ValueError(
                f"labels keys must be entailment/neutral/contradiction (entailment required) or "
                f"supported/unsupported (supported required), not a mix; got {sorted(keys)}")
        idx = [i for x in v.values() for i in ((x,) if isinstance(x, int) else x)]
        if any(i < 0 for i in idx) or len(idx) != len(set(idx)):
            raise ValueError(f"labels: each class index at most once and >= 0; got {v}")
        return v


class _ScorerBase(_Strict):
    name: str | None = None
    """Column name in the outputs; defaults to the scorer type (must be unique within a run)."""
    pair_aggregation: Literal["mean", "min", "logit_mean"] = "mean"
    """How claim scores make the pair score: ``mean``, ``min``, or ``logit_mean`` = sigmoid of the mean
    claim logit (SummaC-Conv's rule: its pair score is the head applied to the mean claim row)."""
    weight: float = Field(default=1.0, ge=0.0)
    """Weight of this scorer in the combined pair score."""


class NLIScorerConfig(_ScorerBase):
    type: Literal["nli"]
    model: ModelConfig = ModelConfig()
    claim_score: Literal["entail", "summac_zs", "max_entail_minus_contradict"] = "entail"
    """``entail``: max over premises of P(entail); ``summac_zs``: SummaC-ZS's max over premises of P(entail)
    minus max over premises of P(contradict) (two independent maxima); ``max_entail_minus_contradict``: max
    over premises of (P(entail) - P(contradict)), one premise for both (not SummaC). The old name
    ``entail_minus_contradict`` is refused: it meant the latter but was documented as SummaC-ZS."""
    supported_threshold: float = 0.5
    """P(entail) of the best premise at or above which a claim is ``supported``."""
    contradicted_threshold: float = 0.5
    """P(contradict) at or above which an unsupported claim is ``contradicted``."""
    @field_validator("claim_score", mode="before")
    @classmethod
    def _renamed_claim_score(cls, v: Any) -> Any:
        if v == "entail_minus_contradict":
            raise ValueError(
                "claim_score 'entail_minus_contradict' was renamed: it computed max over premises of "
                "(P(entail) - P(contradict)), which is not SummaC-ZS; use 'max_entail_minus_contradict' for that "
                "number, or 'summac_zs' for SummaC-ZS's max P(entail) - max P(contradict)")
        return v

    premise_top_k: int | None = Field(default=3, ge=1)
    """Score each claim only against its k closest premise units, chosen by ``premise_selection`` (``None``:
    every unit, an exhaustive run). Default 3: on FRANK valid + BUMP, 7.6x fewer model inputs than every unit
    with ROC-AUC and twin wins within their bootstrap intervals (docs/speed.md)."""
    premise_selection: Literal["words", "encoder", "words+encoder"] = "words"
    """How ``premise_top_k`` picks units: most shared content words; highest multilingual-encoder cosine (sees
    paraphrase, e.g. abstractive XSum-style summaries); or the union of both picks (up to 2k units)."""
    premise_widen_below: float | None = Field(default=0.67, ge=0, le=1)
    """Adaptive ``premise_top_k``: a claim whose closest unit shares less than this fraction of its content
    words (a paraphrase, as in abstractive summaries, where word overlap cannot find the evidence) is scored
    against every unit instead (up to ``max_premises_per_claim``, or ``premise_widen_to``); claims with clear
    lexical evidence keep k. ``None``: always k. Default 0.67 with ``premise_widen_to: 8``: on FRANK's
    abstractive XSum rows within 0.005 ROC-AUC of scoring every unit (top-3 alone lost 0.015), 4.5x fewer unique
    model inputs than every unit on the dev suite (top-3 alone: 7.6x); BUMP twin wins -0.014 (docs/model.md)."""
    premise_widen_to: int | None = Field(default=8, ge=1)
    """With ``premise_widen_below``: how many units a widened claim meets (its most word-overlapping ones, and,
    with ``premise_selection`` using the encoder, its k closest by meaning besides); ``None``: every unit up
    to ``max_premises_per_claim``."""
    max_premises_per_claim: int | None = Field(default=256, ge=1)
    """With ``premise_top_k`` unset: a source with more premise units than this (a book, not an article; FRANK
    and BUMP sources have at most 144) scores each claim against only this many units, the ones sharing most
    content words with it, and run.json warns; ``None``: always all units (claims x units model inputs)."""


class OverlapScorerConfig(_ScorerBase):
    """Lexical baseline: fraction of the claim's content tokens found in the source."""

    type: Literal["overlap"]
    supported_threshold: float = 0.8


class QAModelsConfig(_Strict):
    """The QA scorer's models (hub id with ``revision``, a local directory, or the shipped ``embedded-qa``),
    each with a dtype. The default is the offline path: no generator (cloze questions) and ``embedded-qa``."""

    question_generation: ModelConfig | None = None
    """A seq2seq (``AutoModelForSeq2SeqLM``) question generator, e.g. lmqg/t5-base-squad-qg (configs/qa_hub.yaml);
    None (the default) = no generator: cloze questions are made from the claim itself (see ``questions``)."""
    question_answering: ModelConfig = ModelConfig(id="embedded-qa", max_length=384)
    """An extractive QA model (``AutoModelForQuestionAnswering``), ideally SQuAD 2.0-trained (no-answer);
    default ``embedded-qa``, shipped with harness (MiniLM-L6 + span head, trained on SQuAD-style and cloze data)."""
    question_generation_dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """``auto`` = the run's ``runtime.dtype``."""
    question_answering_dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"


class QAScorerConfig(_ScorerBase):
    """QA-based consistency (QAGS/QAFactEval style); see harness/scorers/qa.py.

    Two ways to ask questions about a claim's answer candidates (``questions``):

    * ``cloze`` (offline, no generator): the question is the claim with the candidate replaced by ``[MASK]``
      (harness.models.embedded_qa.cloze_question: the format ``embedded-qa`` was trained on);
    * ``generated``: a seq2seq model writes a wh-question with the candidate highlighted (``qg_format``).

    ``auto`` (default) = ``generated`` when ``models.question_generation`` is given, else ``cloze``. Either way
    each question is answered on the source windows and on the claim, and the answers are compared
    (``answer_matching``) and weighted by answerability.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())
    type: Literal["qa"]
    models: QAModelsConfig = QAModelsConfig()
    questions: Literal["auto", "cloze", "generated"] = "auto"
    """Where questions come from: ``cloze`` (the claim with the answer masked, no model), ``generated`` (needs
    ``models.question_generation``) or ``auto`` (generated when a generator is given, else cloze)."""
    answer_matching: Literal["values", "token_f1"] = "values"
    """How the source answer is compared with the claim's: ``values`` = SQuAD token F1 after writing numbers
    and dates one way ("1,000" = "1000", "two" = "2", "March 3, 2020" = "3 March 2020"); ``token_f1`` = plain
    SQuAD token F1 (QAGS)."""
    qg_format: str = "generate question: {highlighted}"
    """Input template for question generation. Placeholders: ``{highlighted}`` = the claim with the answer
    wrapped in ``highlight_token`` (lmqg T5 models), ``{answer}``, ``{claim}`` (MixQG: ``"{answer} \\n {claim}"``)."""
    highlight_token: str = "<hl>"
    max_questions_per_claim: int = Field(default=4, ge=1)
    """Answer candidates (= questions) per claim; entities, dates and numbers are kept before noun phrases."""
    max_answer_tokens: int = Field(default=30, ge=1)
    max_question_tokens: int = Field(default=64, ge=1)
    """Questions are cut to this many tokens before QA (the rest of the model window is context)."""
    doc_stride: int = Field(default=128, ge=1)
    """Overlap in tokens between consecutive source windows (SQuAD's ``doc_stride``; capped at half a window)."""
    supported_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    answer_extractor: Literal["spacy", "rules", "auto"] = "auto"
    """``auto``: spaCy's English pipeline when installed, else model-free rules (see harness/scorers/answers.py)."""
    answerability: bool = True
    """Weight each question's F1 by (1 - P(no answer on the source)); turn off for QA models without a
    no-answer head (SQuAD 1.1-trained)."""
    min_question_consistency: float = Field(default=0.0, ge=0.0, le=1.0)
    """Drop questions whose answer *on the claim* has token F1 below this with the answer candidate they were
    generated for (QAFactEval's question filter; 0 keeps every question)."""
    generation_max_new_tokens: int = Field(default=32, ge=1)
    num_beams: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _questions_fit_models(self) -> QAScorerConfig:
        has_generator = self.models.question_generation is not None
        if self.questions == "generated" and not has_generator:
            raise ValueError("questions 'generated' needs models.question_generation (a seq2seq model id, e.g. "
                             "lmqg/t5-base-squad-qg); leave questions out for offline cloze questions")
        if self.questions == "cloze" and has_generator:
            raise ValueError("questions 'cloze' uses no generator: remove models.question_generation, or set "
                             "questions: generated")
        return self

    @property
    def question_source(self) -> Literal["cloze", "generated"]:
        """``questions`` with ``auto`` resolved."""
        if self.questions != "auto":
            return self.questions
        return "generated" if self.models.question_generation is not None else "cloze"

    @field_validator("qg_format")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        import string

        names = {f for _, f, _, _ in string.Formatter().parse(v) if f is not None}
        unknown = names - {"highlighted", "answer", "claim"}
        if unknown or not names & {"highlighted", "answer"}:
            raise ValueError(
                f"qg_format placeholders must be among {{highlighted}}, {{answer}}, {{claim}} and include "
                f"{{highlighted}} or {{answer}}; got {sorted(names)}"
            )
        return v


class CrossLingualScorerConfig(_ScorerBase):
    """Cross-lingual entailment offline: multilingual encoder + trained evidence head (scorers/crosslingual.py)."""

    type: Literal["crosslingual"]
    head: str | None = None
    """Path to a trained head JSON; None = the shipped head (harness/models/crosslingual/head.json)."""
    top_k: int = Field(default=1, ge=1)
    """Passages (sentences and two-sentence windows) judged per claim: the k most similar by the encoder."""
    supported_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """P(entail) of the best passage at or above which a claim is ``supported``."""
    contradicted_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """P(contradict) at or above which an unsupported claim is ``contradicted``."""
    max_passages: int | None = Field(default=2000, ge=1)
    """Long sources: embed at most this many passages per pair, those sharing the most names, numbers and word
    stems with the pair's claims (None: every passage). Keeps a book-length source from costing minutes."""
    languages: tuple[str, ...] | None = None
    """Restrict the declared languages (default: the head's evidence languages that the encoder covers)."""


class _SummaCBase(_ScorerBase):
    model: ModelConfig = ModelConfig(id="tals/albert-xlarge-vitaminc-mnli", max_length=500)
    """The NLI backbone (paper: ``tals/albert-xlarge-vitaminc-mnli``, labels SUPPORTS/REFUTES/NOT ENOUGH INFO);
    ``max_length`` 500 as in SummaC (pair truncation ``longest_first``)."""
    granularity: Literal["sentence", "paragraph", "2sents", "document"] = "sentence"
    """Source units (SummaC's document granularity); claims are the run's claim units (``segmentation.claims``;
    ``sentence`` = SummaC's sentence granularity)."""
    max_doc_units: int = Field(default=100, ge=1)
    """Only the first N source units are scored (SummaC's ``max_doc_sents``)."""
    min_unit_chars: int = Field(default=10, ge=0)
    """Source units and claims of at most this many characters are dropped (SummaC keeps ``len > 10``)."""


class SummaCZSScorerConfig(_SummaCBase):
    """SummaC-ZS (Laban et al. 2022, tingofurro/summac): per claim max P(entail) - max P(contradict) over
    source units; pair = mean over claims."""

    type: Literal["summac_zs"]
    op1: Literal["max", "mean", "min"] = "max"
    """How each of P(entail) and P(contradict) is reduced over source units (SummaC ``op1``)."""
    use_ent: bool = True
    use_con: bool = True
    """``use_con: false`` scores P(entail) alone; ``use_ent: false`` scores 1 - P(contradict)."""
    supported_threshold: float = 0.5
    """P(entail) of the best unit at or above which a claim is ``supported``."""
    contradicted_threshold: float = 0.5
    """P(contradict) of the worst unit at or above which an unsupported claim is ``contradicted``."""

    @model_validator(mode="after")
    def _some_signal(self) -> SummaCZSScorerConfig:
        if not (self.use_ent or self.use_con):
            raise ValueError("summac_zs needs use_ent or use_con")
        return self


class SummaCConvScorerConfig(_SummaCBase):
    """SummaC-Conv: a histogram of P(entail) over source units per claim, a learned 23->1 row score, the
    mean over the first 10 claims, a 3->2 head. Published weights (vitc, sentence, percentile bins) ship."""

    type: Literal["summac_conv"]
    pair_aggregation: Literal["mean", "min", "logit_mean"] = "logit_mean"
    max_claims: int = Field(default=10, ge=1)
    """Only the first N claims are scored (SummaC-Conv's ``n_rows``); later claims are ``not_checkable``."""
    weights_file: str | None = None
    """A SummaC-Conv ``.bin`` state dict (mlp 23->1, layer_final 3->2; loaded tensor-only) instead of the
    shipped ``summac_conv_vitc_sent_perc_e`` weights."""
    supported_threshold: float = 0.5
    """Claim score (P(consistent) of the claim's own row) at or above which a claim is ``supported``."""


class MiniCheckScorerConfig(_ScorerBase):
    """MiniCheck (Tang et al. 2024, Liyan06/MiniCheck): each claim whole against greedy sentence-packed chunks
    of the source; claim score = max over chunks of P(supported)."""

    type: Literal["minicheck"]
    model: ModelConfig = ModelConfig(id="lytang/MiniCheck-Flan-T5-Large")
    """``lytang/MiniCheck-RoBERTa-Large``, ``lytang/MiniCheck-DeBERTa-v3-Large`` or ``lytang/MiniCheck-Flan-T5-Large``
    (or a local copy). ``max_length`` left unset = MiniCheck's: 512 (RoBERTa), 2048 (DeBERTa, Flan-T5). Without
    ``labels``, class 1 is "supported" (MiniCheck's convention; these models' id2label is just "0"/"1")."""
    architecture: Literal["auto", "roberta", "deberta", "flan-t5"] = "auto"
    """Which MiniCheck recipe; ``auto`` reads the model's ``model_type`` (t5 -> flan-t5, deberta-v2 -> deberta)."""
    chunk_size: int | None = Field(default=None, ge=1)
    """Source chunk size: model tokens for RoBERTa/DeBERTa (default 400), whitespace words for Flan-T5 (500)."""
    supported_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """P(supported) at or above which a claim is ``supported`` (MiniCheck's published threshold is 0.5)."""


class AlignScoreScorerConfig(_ScorerBase):
    """AlignScore (Zha et al. 2023, yuh-zha/AlignScore): claim sentences against sentence-aligned ~350-word source
    chunks; max over chunks, mean over the claim's sentences (mode ``nli_sp``)."""

    type: Literal["alignscore"]
    checkpoint: ModelConfig = ModelConfig(id="yzha/AlignScore")
    """Where the Lightning checkpoint lives: a hub repo (pin ``revision``) or a local folder."""
    checkpoint_file: str = "AlignScore-large.ckpt"
    """``AlignScore-large.ckpt`` (RoBERTa-large) or ``AlignScore-base.ckpt`` (RoBERTa-base)."""
    base_model: ModelConfig = ModelConfig(id="roberta-large", max_length=512)
    """The RoBERTa whose config and tokenizer match the checkpoint (``roberta-base`` for AlignScore-base)."""
    head: Literal["nli", "bin"] = "nli"
    """``nli`` = softmax(3-way head)[0] (the published ``nli_sp``); ``bin`` = softmax(2-way head)[1] (``bin_sp``)."""
    chunk_words: int = Field(default=350, ge=1)
    """Target whitespace words per source chunk (chunks are whole sentences, equal sentence counts)."""
    supported_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """Claim score at or above which a claim is ``supported`` (AlignScore ships no threshold)."""


class HHEMScorerConfig(_ScorerBase):
    """Vectara HHEM-2.1-Open, run natively (no remote code): P(consistent) of (source, claim) in one prompt."""

    type: Literal["hhem"]
    model: ModelConfig = ModelConfig(id="vectara/hallucination_evaluation_model", max_length=1_000_000)
    """The HHEM weights (``model.safetensors``; pin ``revision``). HHEM does not truncate: ``max_length`` is a cap
    in tokens on the whole prompt (default: none in practice); longer prompts are right-truncated."""
    foundation: ModelConfig = ModelConfig(id="google/flan-t5-base")
    """The T5 whose config and tokenizer HHEM was built on (HHEMv2Config.foundation)."""
    supported_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """P(consistent) at or above which a claim is ``supported`` (0.5 = the class argmax)."""


ScorerConfig = Annotated[
    NLIScorerConfig | OverlapScorerConfig | QAScorerConfig | SummaCZSScorerConfig | SummaCConvScorerConfig
    | MiniCheckScorerConfig | AlignScoreScorerConfig | HHEMScorerConfig | CrossLingualScorerConfig,
    Field(discriminator="type"),
]


class CombineConfig(_Strict):
    """A pair-level combination of all scorers (weighted mean of their pair scores)."""

    enabled: bool = True
    name: str = "combined"
    threshold: float = 0.5


class RoutingConfig(_Strict):
    """Which offline judge scores a pair, by its languages (harness/routing.py)."""

    cross_lingual: bool = True
    """Pairs whose languages an ``nli`` scorer's model does not declare (e.g. German source, English rewrite)
    are judged in that scorer's column by the built-in cross-lingual scorer when it covers both languages;
    False = leave them ``cross_lingual_unscored`` as before."""

class RayConfig(_Strict):
    """Where and how wide the ``ray`` executor runs (see docs/scaling.md)."""

    address: str | None = None
    """``None``: start a local Ray instance; ``auto``: join the cluster of ``ray start --head`` (or
    ``RAY_ADDRESS``); ``ray://host:10001``: a remote cluster through Ray Client."""
    actors: int | None = Field(default=None, ge=1)
    """Scoring actors (each builds the scorers once); None = one per GPU (``gpus_per_actor`` each) when the
    run is on cuda, else one per ``cpus_per_actor`` CPUs of the cluster."""
    gpus_per_actor: float | None = Field(default=None, gt=0)
    """GPUs reserved per actor when the device is cuda (fractions share a GPU); None = 1."""
    cpus_per_actor: int = Field(default=1, ge=1)
    """CPUs reserved per actor; also its torch threads unless ``runtime.threads`` is set."""
    max_restarts: int = Field(default=3, ge=0)
    """Times a scoring actor that died (killed, out of memory, a crashing block) is restarted, and times its
    in-flight block is retried, before the run fails with the block named; each restart is printed and
    counted in run.json (``executor.actor_restarts``). 0: the first death fails the run."""


class RuntimeConfig(_Strict):
    executor: Literal["local", "ray"] = "local"
    """``local``: blocks scored one after another in this process; ``ray``: the same stage functions as a
    Ray Data pipeline over an actor pool (``pip install "harness[ray]"``). Results are identical."""
    block_pairs: int = Field(default=256, ge=1)
    """Pairs per block: the unit that is scored, written and skipped on resume (the same in both executors,
    so that model batches, and therefore the floats, are the same)."""
    ray: RayConfig = RayConfig()
    device: Literal["auto", "cpu", "cuda"] = "auto"
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"
    """How pair classifiers (the NLI and SummaC scorers' models) run their forward pass. ``auto``: the fastest
    at reference quality here: PyTorch on GPUs and on CPUs with native bf16 (run in bf16), else ONNX Runtime in
    fp32 (PyTorch's fp32 scores to ~1e-6, fused kernels), PyTorch when onnxruntime is missing. ``torch``,
    ``onnx`` (CPU, fp32) and ``onnx-int8`` (CPU, dynamic int8 weights: faster, probabilities move by up to
    ~0.15) force one. run.json records the choice per model (``scorers[].models[].backend``); see
    docs/speed.md."""
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    token_budget: int = Field(default=8192, ge=64)
    """Max padded tokens (rows x padded length) per forward pass."""
    threads: int | None = Field(default=None, ge=1)
    """torch intra-op threads; None = number of cores (oversubscription is slower)."""
    cache: str | None = "results/cache.sqlite"
    """sqlite cache of model outputs (content-addressed); None disables."""
    progress: bool = True
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """Seeds Python, NumPy and torch at the start of every block (NumPy takes 0 to 2**32 - 1)."""


RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
"""A run name becomes part of a folder name under ``--output``: letters, digits, ``.``, ``_`` and ``-``,
starting with a letter or digit, at most 80 characters (no ``/``, no ``..``, nothing that can leave the
output folder)."""


class RunConfig(_Strict):
    version: int = CONFIG_VERSION
    name: str = Field(default="run", pattern=RUN_NAME_PATTERN)
    """The run's name (part of its folder and run id): letters, digits, ``.``, ``_``, ``-``; at most 80."""
    data: list[DataConfig]
    segmentation: SegmentationConfig = SegmentationConfig()
    checks: ChecksConfig = ChecksConfig()
    scorers: list[ScorerConfig]
    combine: CombineConfig = CombineConfig()
    routing: RoutingConfig = RoutingConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    output_dir: str = "results"
    output_formats: tuple[Literal["jsonl", "parquet"], ...] = Field(default=("jsonl", "parquet"), min_length=1)
    """Which files hold claims and pairs: ``claims.jsonl``/``pairs.jsonl`` and/or ``claims.parquet``/
    ``pairs.parquet`` (same columns; readers take either)."""

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _unique_names(self) -> RunConfig:
        names = [s.name or s.type for s in self.scorers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"scorer names must be unique; repeated: {sorted(dup)} (set `name:` on each)")
        data_names = [d.name for d in self.data]
        ddup = {n for n in data_names if data_names.count(n) > 1}
        if ddup:
            raise ValueError(f"dataset names must be unique; repeated: {sorted(ddup)}")
        if not self.scorers:
            raise ValueError("at least one scorer is needed")
        return self


MAX_CONFIG_VALUES = 100_000
"""A config whose YAML aliases expand to more values than this is refused (a "billion laughs" bomb would
otherwise take minutes and gigabytes in validation, hashing and run.json)."""


def _known_keys() -> set[str]:
    """Every field name of every config model (for did-you-mean suggestions)."""
    keys: set[str] = set()
    todo: list[type[BaseModel]] = [RunConfig]
    seen: set[type[BaseModel]] = set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        keys.update(m.model_fields)
        for f in m.model_fields.values():
            for t in _model_types(f.annotation):
                todo.append(t)
    return keys


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out.extend(_model_types(arg))
    return out


def _scorer_tags() -> set[str]:
    import typing

    return {str(t) for m in _model_types(ScorerConfig) for t in typing.get_args(m.model_fields["type"].annotation)}


def _tags(m: type[BaseModel]) -> set[str]:
    """The ``type`` tags a scorer config model answers to (empty for other models)."""
    import typing

    return {str(t) for t in typing.get_args(m.model_fields["type"].annotation)} if "type" in m.model_fields else set()


def _keys_at(loc: Sequence[Any]) -> set[str] | None:
    """Field names of the config model that holds the last key of ``loc`` (None if the path cannot be followed):
    suggestions come from the keys allowed there, not from anywhere in the config."""
    models: list[type[BaseModel]] = [RunConfig]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        tagged = [m for m in models if part in _tags(m)]
        if tagged:  # a scorer union's tag (scorers.0.nli.x): stay on the model it names
            models = tagged
            continue
        models = [t for m in models if part in m.model_fields for t in _model_types(m.model_fields[part].annotation)]
        if not models:
            return None
    return {k for m in models for k in m.model_fields}


def _did_you_mean(key: str, loc: Sequence[Any] | None = None) -> str:
    import difflib

    keys = (_keys_at(loc) if loc else None) or _known_keys()
    close = difflib.get_close_matches(key, sorted(keys), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_error(path: Path | str, err: ValidationError, overrides: list[str] | None = None) -> str:
    e = err.errors()[0]
    parts = [str(p) for p in e["loc"]]
    if len(parts) > 2 and parts[0] == "scorers" and parts[2] in _scorer_tags():
        del parts[2]  # the discriminated union's tag is not a key the user wrote
    loc = ".".join(parts) or "<root>"
    msg = e["msg"]
    if e["type"] == "extra_forbidden":
        msg = "unknown key" + _did_you_mean(str(e["loc"][-1]), e["loc"])
    elif e["type"] == "literal_error" and "ctx" in e:
        msg = f"must be one of {e['ctx'].get('expected')}"
    elif e["type"] == "union_tag_invalid" and "ctx" in e:
        msg = f"unknown scorer type {e['ctx'].get('tag')!r}; allowed: {e['ctx'].get('expected_tags')}"
    elif e["type"] == "string_pattern_mismatch" and loc == "name":
        msg = ("a run name is a name, not a path: letters, digits, '.', '_' and '-', starting with a letter or "
               "digit, at most 80 characters")
    got = e.get("input")
    got_r = repr(got)
    got_r = got_r if len(got_r) <= 80 else got_r[:60] + f"... ({len(str(got))} chars)"
    got_s = "" if isinstance(got, dict | list) or got is None else f" (got {got_r})"
    more = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    from_set = any(o.split("=", 1)[0] == loc for o in overrides or [])
    return f"{path}: {'--set ' if from_set else ''}{loc}: {msg}{got_s}{more}"


_EXPONENT_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _parse_scalar(text: str) -> Any:
    """A --set value as YAML, except that ``1e-3`` is a number (YAML 1.1, which PyYAML follows, reads a float
    without a dot as text)."""
    value = yaml.safe_load(text)
    if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(text.strip()):
        return float(text)
    return value


def _expanded_size(obj: Any, limit: int) -> int:
    """Number of values in ``obj`` with shared (aliased) sub-trees counted every time they occur;
    stops counting once past ``limit``."""
    n = 0
    stack = [obj]
    while stack and n <= limit:
        cur = stack.pop()
        n += 1
        if isinstance(cur, dict):
            stack.extend(cur.keys())
            stack.extend(cur.values())
        elif isinstance(cur, list | tuple):
            stack.extend(cur)
    return n


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML; list items by index: ``scorers.0.name``).

    Raises :class:`ConfigError` naming the override when its path does not fit the config's shape;
    unknown keys are left for validation, which names them (with a did-you-mean)."""
    for item in overrides:
        key, eq, value = item.partition("=")
        parts = key.strip().split(".")
        if not eq or not all(parts):
            raise ConfigError(f"--set {item}: expected dotted.key=value, e.g. runtime.dtype=fp32")
        node: Any = raw
        for depth, p in enumerate(parts):
            here = ".".join(parts[: depth + 1])
            last = depth == len(parts) - 1
            if isinstance(node, list):
                if not p.lstrip("-").isdigit():
                    raise ConfigError(f"--set {item}: {'.'.join(parts[:depth]) or '<root>'} is a list; "
                                      f"use an index (0..{len(node) - 1}), not {p!r}")
                i = int(p)
                if not -len(node) <= i < len(node):
                    raise ConfigError(f"--set {item}: {here}: index out of range ({len(node)} item(s))")
                if last:
                    node[i] = _parse_scalar(value)
                else:
                    node = node[i]
            elif isinstance(node, dict):
                if last:
                    node[p] = _parse_scalar(value)
                else:
                    node = node.setdefault(p, {})
            else:
                raise ConfigError(f"--set {item}: {'.'.join(parts[:depth])} is a value "
                                  f"({type(node).__name__}), not a section")
    return raw


def _resolve_paths(cfg: RunConfig, base: Path) -> RunConfig:
    """Make relative data paths absolute: relative to the config file's folder if that exists, else the cwd."""

    def fix(p: str | None) -> str | None:
        if p is None or Path(p).is_absolute():
            return p
        for root in (base, Path.cwd()):
            cand = (root / p).resolve()
            if cand.exists():
                return str(cand)
        return str((Path.cwd() / p).resolve())

    data = [
        d.model_copy(update={"path": fix(d.path), "source_file": fix(d.source_file),
                             "rewrite_file": fix(d.rewrite_file)})
        for d in cfg.data
    ]
    return cfg.model_copy(update={"data": data})


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names the same key twice (YAML says keys are unique; PyYAML keeps the last silently)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, naming the key and both lines (a second ``data:`` block
    replaced the first without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: let the base class report it
                continue
            if first is not None:
                raise DuplicateKeyError(f"line {line}: key {key!r} repeats the key of line {first} (YAML keys "
                                        "must be unique; merge the two or delete one)")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read, override, validate. Raises :class:`ConfigError` with one line on any problem."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except DuplicateKeyError as e:
        raise ConfigError(f"{path}: {e}") from None
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(e, 'problem', e)})") from None
    except (UnicodeDecodeError, IsADirectoryError, NotADirectoryError) as e:
        raise ConfigError(f"{path}: cannot read the config ({type(e).__name__})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys (name, data, scorers, ...)")
    if _expanded_size(raw, MAX_CONFIG_VALUES) > MAX_CONFIG_VALUES:
        raise ConfigError(f"{path}: YAML aliases expand to more than {MAX_CONFIG_VALUES:,} values "
                          "(an alias bomb?); write the values out instead")
    if isinstance(raw.get("data"), dict):
        raw["data"] = [raw["data"]]
    try:
        raw = apply_overrides(raw, overrides or [])
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: bad --set value: {getattr(e, 'problem', e)}") from None
    try:
        cfg = RunConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_format_error(path, e, overrides)) from None
    cfg = _resolve_paths(cfg, path.parent.resolve())
    if cfg.runtime.executor == "ray":
        import importlib.util

        try:
            missing = importlib.util.find_spec("ray") is None
        except (ImportError, ValueError):  # a broken or blocked install: as good as none
            missing = True
        if missing:
            raise ConfigError(f"{path}: runtime.executor: 'ray' needs Ray, which is not installed here: "
                              'pip install "harness[ray]" (or use executor: local)')
    me = path.resolve()
    for i, d in enumerate(cfg.data):
        for fld in ("path", "source_file", "rewrite_file"):
            p = getattr(d, fld)
            if p is not None and d.type != "hf" and not Path(p).exists():
                raise ConfigError(f"{path}: data.{i}.{fld}: file not found: {p}")
            if p is not None and d.type != "hf" and not (Path(p).is_file() or Path(p).is_dir()):
                raise ConfigError(f"{path}: data.{i}.{fld}: {p} is not a regular file (a device, pipe or socket); "
                                  "inputs are read twice (a check, then scoring): write it to a file first")
            if p is not None and Path(p).resolve() == me:
                raise ConfigError(f"{path}: data.{i}.{fld}: names this config file itself; point it at the "
                                  "data file (JSONL, CSV, Parquet)")
    return cfg


def config_hash(cfg: RunConfig) -> str:
    """Hash of what determines scores (not the run name, output folder or progress bar)."""
    d = cfg.model_dump(mode="json", exclude={"name": True, "output_dir": True, "output_formats": True,
                                             "runtime": {"progress", "cache", "executor", "ray"}})
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
