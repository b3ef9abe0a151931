"""``scorers:``, ``combine:`` and ``routing:``: the judges (a discriminated union on ``type``), their
models, how their pair scores combine, and which judge scores a pair by its languages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from harness.config.base import _Strict

__all__ = [
    "AlignScoreScorerConfig",
    "CombineConfig",
    "CrossLingualScorerConfig",
    "HHEMScorerConfig",
    "MiniCheckScorerConfig",
    "ModelConfig",
    "NLIScorerConfig",
    "OverlapScorerConfig",
    "QAModelsConfig",
    "QAScorerConfig",
    "RoutingConfig",
    "ScorerConfig",
    "SummaCConvScorerConfig",
    "SummaCZSScorerConfig",
]


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
    fusion: bool | None = None
    """English evidence fusion (harness/scorers/fusion.py): each claim's score becomes a small learned head's
    P(supported) over the NLI probability at its evidence, word overlap with the source, and the claim's names and
    numbers missing from the source; the NLI score stays in ``detail.nli_score``. ``None`` (default): on for
    ``model.id: embedded``, whose probabilities the shipped head was fitted on (dev: FRANK ROC-AUC 0.840 -> 0.851,
    its XSum rows 0.622 -> 0.714, BUMP twin wins 0.768 -> 0.794, docs/model.md), off for any other model."""
    fusion_head: str | None = None
    """A fusion head JSON other than the shipped one (``python -m harness.train.fusion fit --out``)."""
    untokenize: bool = False
    """Give the model PTB-tokenised text as plain prose (``would n't`` -> ``wouldn't``, ```` `` ''`` -> ``"``,
    ``-lrb-`` -> ``(``; :mod:`harness.segment.detokenize`); claims, offsets and evidence are unchanged."""
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
    premise_stop_above: float | None = Field(default=0.2, gt=0, le=1)
    """Passes over the units a claim may meet (with ``claim_score: entail``): first its closest unit (and its
    lone sentences); a claim whose best P(entail) so far is below this then meets the rest of its top k, then
    the rest of its widened units (``premise_widen_below``), one engine call per pass. More units can only
    raise a claim's score, so a claim already supported skips inputs that would barely move it. Default 0.2
    (the embedded model's P(entail) is low: its supported claims sit near 0.6): on the dev suite the same
    ROC-AUC and twin wins as one pass (within ±0.01), 42% fewer unique model inputs, and model tokens back to
    the old top-3-only default's (0.99x with v0.3.0, 0.91x with v0.4.0), so that widening and lone sentences
    cost nothing per pair (docs/speed.md). ``None``: one pass over every chosen unit."""
    sentence_premises_above: float | None = Field(default=0.67, ge=0, le=1)
    """A claim that shares at least this fraction of its content words with one sentence of a chosen
    multi-sentence premise (a window) also meets that sentence alone: a copied or lightly edited sentence is
    judged without its neighbours, which a small model reads as "neutral" (a verbatim sentence inside a
    2-sentence window scored 0.63). Claims with less overlap (paraphrase) meet windows only. The evidence is then
    the sentence (``premise_index``: its window). ``None``: windows only. Default 0.67 (the claims that
    ``premise_widen_below`` does not widen): on the dev suite FRANK ROC-AUC +0.002 and BUMP twin wins -0.012
    (both within their intervals), behavioural checklist 5 -> 7 of 13, 11% more unique model inputs
    (docs/model.md)."""
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
    source_windows: int | None = Field(default=1, ge=1)
    """Source windows each question reads first: those sharing the most (rare) words with the question and its
    answer candidate (harness/scorers/qa_windows.py). None = every window (before 0.5; docs/qa.md has the cost)."""
    widen_below: float | None = Field(default=None, ge=0.0, le=1.0)
    """With ``source_windows``: a question whose answer from its first windows scores below this (answer F1 x
    (1 - P(no answer))) reads the rest of the source too. None = never widen (the default: on FRANK-valid
    widening at 0.1-0.5 read 2.4-3x the windows for no gain in ranking, docs/qa.md)."""
    absent_answers: Literal["ask", "unsupported"] = "unsupported"
    """A candidate with a word or value that occurs nowhere in the source (an extrinsic name or number):
    ``unsupported`` scores it 0 without a model input (no answer in the source can match it), ``ask`` asks its
    question like any other (before 0.5)."""
    claim_answers: Literal["auto", "model", "candidate"] = "auto"
    """The reference a source answer is compared with: ``model`` = the QA model's answer on the claim (QAGS),
    ``candidate`` = the answer candidate itself (no model input: a cloze question asks for exactly the masked
    words). ``auto`` = ``candidate`` for cloze questions, ``model`` for generated ones."""
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
