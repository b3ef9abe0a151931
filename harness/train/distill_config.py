"""The ``distill`` section of a training config (:mod:`harness.train.distill`): which teacher labels the student's
mix, which unlabelled scoring-shaped pairs join it, and how gold and teacher mix in the loss. Kept apart from the
trainer so that the trainer's config can name it without importing the labelling code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.config import ModelConfig

__all__ = ["DistillCfg", "TeacherCfg"]


class TeacherCfg(BaseModel):
    """The model whose 3-way probabilities the student learns; run through the engine (batching, dedup, cache)."""

    model: ModelConfig = Field(default_factory=lambda: ModelConfig(id="embedded-large", max_length=256))
    """Any 3-way NLI classifier the scorers can load: ``embedded-large`` (default), a local folder, a hub id."""
    delta: str | None = None
    """For ``embedded-large``: a folder holding the teacher's ``adapter.safetensors`` (e.g. a training snapshot,
    ``~/.cache/harness-train/embedded-large/snapshots/step-000750``); None = the shipped delta."""
    backend: Literal["auto", "torch", "onnx"] = "auto"
    dtype: Literal["auto", "fp32", "bf16"] = "auto"
    threads: int = 1
    token_budget: int = 8192


class DistillCfg(BaseModel):
    """Soft labels from a teacher on every example the student will see, plus unlabelled pairs shaped like what
    the scorer feeds the model (a window of a training document and a claim about it, a sentence of it, or a
    sentence from elsewhere). ``python -m harness.train.teacher_labels CONFIG`` writes them (resumable: the engine
    cache keeps every finished batch); ``python -m harness train CONFIG`` then trains the student on them."""

    teacher: TeacherCfg = Field(default_factory=TeacherCfg)
    labels_file: str = "teacher_labels.jsonl.gz"
    """Written in ``output.train_dir`` (outside the repository); the trainer refuses to start while any example
    it will see has no teacher label."""
    cache_file: str = "teacher_cache.sqlite"
    """The engine's output cache for the teacher, in ``output.train_dir``: a killed labelling run resumes from it."""
    unlabelled_pairs: int = 20000
    """Scoring-shaped pairs without gold, built from the training documents of ``unlabelled_groups``."""
    unlabelled_groups: list[str] = Field(
        default_factory=lambda: ["cogensumm", "factcc-synthetic", "fakesumm", "mctest-nli"])
    """Origins whose premises are documents (news, summaries' sources, stories); never dev or held-out sets."""
    gold_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    """Per example with gold: ``gold_weight`` x gold loss + (1 - gold_weight) x KL to the teacher."""
