"""Vectara HHEM-2.1-Open (``vectara/hallucination_evaluation_model``, Apache-2.0) loaded natively: no remote code.

The hub repo's own classes (``HHEMv2ForSequenceClassification``) wrap a ``T5ForTokenClassification`` built from
the foundation model's config (``google/flan-t5-base``) as ``self.t5``, and read the logits of the first token.
Here: the foundation's T5 config + tokenizer, the repo's ``model.safetensors`` (safe format) with the ``t5.``
prefix stripped, the encoder embeddings re-tied to ``shared`` (the file stores only one copy), and
:class:`FirstTokenClassifier` returning ``logits[:, 0, :]`` so the engine's classifier backend can run it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harness.config import ModelConfig
from harness.models.loading import DTYPES, ModelUnavailableError, files_sha256, resolve_source
from harness.results.schema import ModelInfo

__all__ = ["DEFAULT_PROMPT", "FirstTokenClassifier", "LoadedHHEM", "load_hhem"]

DEFAULT_PROMPT = (
    "<pad> Determine if the hypothesis is true given the premise?\n\nPremise: {text1}\n\nHypothesis: {text2}"
)
"""HHEMv2Config.prompt (text1 = source, text2 = claim); a ``prompt`` in the repo's config.json wins."""
LABELS = {0: "hallucinated", 1: "consistent"}


@dataclass
class _Logits:
    logits: torch.Tensor


class FirstTokenClassifier(nn.Module):
    """A token classifier read at position 0 (HHEM's ``logits[:, 0, :]``), shaped like a sequence classifier."""

    def __init__(self, token_classifier: Any, id2label: dict[int, str]) -> None:
        super().__init__()
        self.inner = token_classifier
        cfg = copy.deepcopy(token_classifier.config)
        cfg.id2label = dict(id2label)
        cfg.label2id = {v: k for k, v in id2label.items()}
        cfg.num_labels = len(id2label)
        self.config = cfg

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any) -> _Logits:
        return _Logits(self.inner(input_ids=input_ids, attention_mask=attention_mask).logits[:, 0, :])


@dataclass(frozen=True)
class LoadedHHEM:
    model: FirstTokenClassifier
    tokenizer: Any
    info: ModelInfo
    prompt: str


def _weights_folder(cfg: ModelConfig) -> Path:
    source, _ = resolve_source(cfg)  # fails fast offline when not cached
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(cfg.id, "model.safetensors", revision=cfg.revision)
    if not isinstance(cached, str):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(cfg.id, revision=cfg.revision, allow_patterns=["*.json", "*.safetensors"]))
        except Exception as e:
            raise ModelUnavailableError(f"cannot download HHEM weights {cfg.id!r}: {e}") from None
    return Path(cached).parent


def load_hhem(weights: ModelConfig, foundation: ModelConfig, dtype: str = "fp32", device: str = "cpu") -> LoadedHHEM:
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoTokenizer, T5ForTokenClassification

    folder = _weights_folder(weights)
    file = folder / "model.safetensors"
    if not file.is_file():
        raise ModelUnavailableError(f"HHEM weights {file} not found (expected model.safetensors)")
    source, local_only = resolve_source(foundation)
    kwargs: dict[str, Any] = {"revision": foundation.revision, "local_files_only": local_only}
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    except OSError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailableError(f"cannot load HHEM foundation {foundation.id!r}: {first}") from None
    if config.model_type != "t5":
        raise ModelUnavailableError(f"HHEM foundation {foundation.id!r} is {config.model_type!r}, not t5")
    config.num_labels = 2
    model = T5ForTokenClassification(config)
    state = {k[3:]: v for k, v in load_file(str(file)).items() if k.startswith("t5.")}
    if not state:
        raise ModelUnavailableError(f"HHEM weights {file}: no 't5.' keys (not an HHEM-2.x checkpoint)")
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if k != "transformer.encoder.embed_tokens.weight"]
    if missing or result.unexpected_keys:
        raise ModelUnavailableError(
            f"HHEM weights {file} do not fit T5ForTokenClassification({foundation.id}): missing {missing[:5]}, "
            f"unexpected {result.unexpected_keys[:5]}")
    model.transformer.encoder.embed_tokens.weight = model.transformer.shared.weight  # one copy in the file
    prompt = DEFAULT_PROMPT
    cfg_file = folder / "config.json"
    if cfg_file.is_file():
        prompt = json.loads(cfg_file.read_text(encoding="utf-8")).get("prompt", prompt)
    wrapped = FirstTokenClassifier(model, LABELS).to(getattr(torch, DTYPES[dtype])).to(device).eval()
    info = ModelInfo(role="nli", id=weights.id, revision=weights.revision, weight_sha256=files_sha256([file]),
                     weights_format="safetensors", weights_file=file.name,
                     languages=list(weights.languages or ("en",)), labels={str(k): v for k, v in LABELS.items()})
    return LoadedHHEM(wrapped, tokenizer, info, prompt)
