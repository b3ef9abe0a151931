"""The bases a cross-encoder trains on: the embedded MiniLM-L6, the large all-mpnet-base-v2, or a random tiny
BERT/MPNet for tests (the code paths of both real bases in seconds)."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from pydantic import BaseModel

from harness.models import embedded

__all__ = ["TinyModelCfg", "accepts_segments", "base_sha256", "build_large_classifier", "build_tiny_classifier"]


class TinyModelCfg(BaseModel):
    arch: str = "bert"
    """``bert`` (like the embedded base) or ``mpnet`` (like the large base: no segment ids)."""
    hidden_size: int = 32
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 64


def build_tiny_classifier(t: TinyModelCfg, tokenizer: Any) -> torch.nn.Module:
    """A seeded random tiny BERT or MPNet classifier (tests: the shapes and code paths of both bases in seconds)."""
    from transformers import BertConfig, BertForSequenceClassification, MPNetConfig, MPNetForSequenceClassification

    common = {"vocab_size": tokenizer.vocab_size, "hidden_size": t.hidden_size,
              "num_hidden_layers": t.num_hidden_layers, "num_attention_heads": t.num_attention_heads,
              "intermediate_size": t.intermediate_size, "num_labels": 3, "id2label": dict(embedded.ID2LABEL),
              "label2id": dict(embedded.LABEL2ID)}
    if t.arch == "mpnet":
        return MPNetForSequenceClassification(MPNetConfig(max_position_embeddings=514,
                                                          pad_token_id=tokenizer.pad_token_id, **common))
    if t.arch != "bert":
        raise ValueError(f"unknown model.tiny.arch {t.arch!r} (expected 'bert' or 'mpnet')")
    return BertForSequenceClassification(BertConfig(max_position_embeddings=512, **common))


def accepts_segments(model: torch.nn.Module) -> bool:
    """Whether the model takes ``token_type_ids`` (BERT does, MPNet has none)."""
    return "token_type_ids" in inspect.signature(model.forward).parameters


def build_large_classifier() -> tuple[torch.nn.Module, Any]:
    """A 3-way MPNetForSequenceClassification on the verified all-mpnet-base-v2 base (head untrained)."""
    from transformers import AutoTokenizer

    from harness.models import embedded_large, large_base

    base_dir = large_base.base_dir()
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    return embedded_large.build_large_classifier(base_dir), tokenizer


def base_sha256(base: str) -> str:
    """The sha256 of the base weights a delta of this config fits (checked when the delta is loaded)."""
    if base == "embedded":
        return embedded.BASE_SHA256
    if base == "large":
        from harness.models import large_base

        return large_base.BASE_SHA256
    return "tiny-random"
