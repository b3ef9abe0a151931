"""Encoder-decoder label scoring: P(label token) at the first decoder step, one forward pass, no generation.

Used by checkers that answer with a one-token label (MiniCheck-Flan-T5: ids 3 ``▁`` / 209 ``▁1``; TRUE-style
T5 NLI). The decoder gets only its start token; the logits of the first step are restricted to the label ids
and softmaxed over them. Inputs are single strings, right-truncated at ``max_length`` (the tokenizer's own
end-of-sequence token kept), padded per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from harness.engine.base import ModelInput, Output
from harness.engine.batching import padded_length
from harness.engine.device import dtype_name
from harness.engine.hf_backend import PairEncoding

__all__ = ["OUTPUT_VERSION", "Seq2SeqLabelBackend"]

OUTPUT_VERSION = "s2s-label/1"


class Seq2SeqLabelBackend:
    """Implements :class:`harness.engine.base.Backend`: ``(text,)`` -> probabilities over ``label_ids``."""

    def __init__(self, model: Any, tokenizer: Any, label_ids: Sequence[int], *, max_length: int = 512,
                 cache_key: str | None = None, pad_multiple: int = 8, device: torch.device | str | None = None
                 ) -> None:
        self.model = model.eval()
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.label_ids = [int(i) for i in label_ids]
        vocab = int(model.config.vocab_size)
        if any(not 0 <= i < vocab for i in self.label_ids):
            raise ValueError(f"label ids {self.label_ids} outside the vocabulary (size {vocab})")
        self.max_length = max_length
        self.pad_multiple = pad_multiple
        self.pad_id = int(tokenizer.pad_token_id or 0)
        start = getattr(model.config, "decoder_start_token_id", None)
        self.decoder_start = int(start if start is not None else self.pad_id)
        self._hf_tokenizer = tokenizer
        from tokenizers import Tokenizer

        fast = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        fast.no_padding()
        fast.enable_truncation(max_length=max_length)
        self._fast = fast
        name = cache_key or str(getattr(model.config, "_name_or_path", "") or type(model).__name__)
        dtype = dtype_name(next(model.parameters()).dtype)
        self._cache_key = f"{name}|{OUTPUT_VERSION}|{dtype}|max{max_length}|ids{','.join(map(str, self.label_ids))}"

    @property
    def cache_key(self) -> str:
        return self._cache_key

    @property
    def tokenizer(self) -> Any:
        return self._hf_tokenizer

    def encode(self, item: ModelInput) -> PairEncoding:
        return self.encode_many([item])[0]

    def encode_many(self, items: Sequence[ModelInput]) -> list[PairEncoding]:
        for it in items:
            if len(it) != 1:
                raise ValueError(f"Seq2SeqLabelBackend takes 1-field inputs, got {len(it)} fields")
        return [PairEncoding(tuple(e.ids)) for e in self._fast.encode_batch([it[0] for it in items])]

    def run_batch(self, batch: Sequence[PairEncoding]) -> list[Output]:
        if not batch:
            return []
        lengths = torch.tensor([len(e) for e in batch])
        width = max(int(lengths.max()), min(padded_length(int(lengths.max()), self.pad_multiple), self.max_length))
        mask = torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        ids.masked_scatter_(mask, torch.tensor([t for e in batch for t in e.ids], dtype=torch.long))
        start = torch.full((len(batch), 1), self.decoder_start, dtype=torch.long)
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.long().to(self.device),
                                decoder_input_ids=start.to(self.device)).logits[:, 0, :]
            probs = logits[:, self.label_ids].float().softmax(dim=-1).cpu().tolist()
        return [list(row) for row in probs]
