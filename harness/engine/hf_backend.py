"""A fast, reusable Hugging Face cross-encoder backend: (premise, hypothesis) -> label probabilities.

Speed choices (each measured in ``harness/engine/BENCHMARK.md``):

* tokenise with a private copy of the Rust ``tokenizers.Tokenizer`` in one ``encode_batch`` call
  (parallel, no Python per-item overhead, and thread-safe against the caller's own tokenizer settings);
* keep encodings as plain id lists and pad with one ``masked_scatter`` per batch, to a multiple of 8;
* no ``token_type_ids`` for models that do not use them; SDPA attention when the architecture supports it;
* ``torch.inference_mode`` and a single device->host copy of the probabilities per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from harness.engine.base import ModelInput, Output
from harness.engine.batching import padded_length
from harness.engine.device import dtype_name

__all__ = ["OUTPUT_VERSION", "PairClassifierBackend", "PairEncoding", "load_sequence_classifier"]

OUTPUT_VERSION = "pair-cls/1"
"""Bump when the output format changes, so old cache entries stop matching."""


@dataclass(frozen=True, slots=True)
class PairEncoding:
    """Token ids of one input (special tokens included); ``len()`` is what the engine budgets on."""

    ids: tuple[int, ...]
    type_ids: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self.ids)


class PairClassifierBackend:
    """Implements :class:`harness.engine.base.Backend` for ``AutoModelForSequenceClassification`` models.

    Inputs are ``(premise, hypothesis)`` (or any 1- or 2-field tuple); outputs are
    ``{label: probability}`` dicts using ``model.config.id2label``. Truncation is ``longest_first`` at
    ``max_length`` tokens. ``cache_key`` must name the weights (id + revision or hash); the dtype,
    max length, labels and output version are appended automatically.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        max_length: int = 512,
        cache_key: str | None = None,
        *,
        pad_multiple: int = 8,
        device: torch.device | str | None = None,
        truncation: str = "longest_first",
    ) -> None:
        self.model = model.eval()
        config = model.config
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        limit = getattr(config, "max_position_embeddings", None) or max_length
        self.max_length = min(max_length, limit)
        self.pad_multiple = pad_multiple
        if truncation not in ("longest_first", "only_first"):
            raise ValueError(f"truncation must be longest_first or only_first, not {truncation!r}")
        self.truncation = truncation
        """``only_first`` cuts only the premise (AlignScore); a pair whose second text alone overflows falls back
        to ``longest_first``, as AlignScore's own retry does."""
        self.labels: list[str] = [str(config.id2label[i]) for i in range(config.num_labels)]
        self.use_token_types = int(getattr(config, "type_vocab_size", 0) or 0) > 1
        pad_id = tokenizer.pad_token_id
        self.pad_id = int(pad_id) if pad_id is not None else 0
        self.dtype = next(model.parameters()).dtype
        name = cache_key or str(getattr(config, "_name_or_path", "") or type(model).__name__)
        self._cache_key = (
            f"{name}|{OUTPUT_VERSION}|{dtype_name(self.dtype)}|max{self.max_length}|{','.join(self.labels)}"
            + ("" if truncation == "longest_first" else f"|{truncation}")
        )
        self._hf_tokenizer = tokenizer
        self._fast = self._private_fast_tokenizer(tokenizer)

    def _private_fast_tokenizer(self, tokenizer: Any) -> Any | None:
        """A copy of the Rust tokenizer with our truncation and no padding (tokenizer.json files often
        ship with padding/truncation baked in, e.g. MiniLM pads everything to 128)."""
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None
        from tokenizers import Tokenizer

        fast = Tokenizer.from_str(backend.to_str())
        fast.no_padding()
        fast.enable_truncation(max_length=self.max_length, strategy=self.truncation)
        return fast

    @property
    def cache_key(self) -> str:
        return self._cache_key

    @property
    def tokenizer(self) -> Any:
        """The Hugging Face tokenizer as given (for counting tokens; encoding uses a private copy)."""
        return self._hf_tokenizer

    def encode(self, item: ModelInput) -> PairEncoding:
        return self.encode_many([item])[0]

    def encode_many(self, items: Sequence[ModelInput]) -> list[PairEncoding]:
        """Tokenise in one batch call; thread-safe with respect to :meth:`run_batch`."""
        if not items:
            return []
        for it in items:
            if not 1 <= len(it) <= 2:
                raise ValueError(f"PairClassifierBackend takes 1- or 2-field inputs, got {len(it)} fields")
        inputs: list[Any] = [it[0] if len(it) == 1 else (it[0], it[1]) for it in items]
        if self._fast is not None:
            try:
                encs = self._fast.encode_batch(inputs)
            except Exception:  # only_first cannot fit some pair: retry item by item, longest_first for those
                if self.truncation == "longest_first":
                    raise
                encs = [self._encode_one_only_first(x) for x in inputs]
            if self.use_token_types:
                return [PairEncoding(tuple(e.ids), tuple(e.type_ids)) for e in encs]
            return [PairEncoding(tuple(e.ids)) for e in encs]
        firsts = [it[0] for it in items]
        seconds = [it[1] if len(it) == 2 else None for it in items]
        out: list[PairEncoding] = []
        for a, b in zip(firsts, seconds, strict=True):  # slow-tokenizer fallback
            try:
                enc = self._hf_tokenizer(a, b, truncation=self.truncation, max_length=self.max_length)
            except Exception:
                enc = self._hf_tokenizer(a, b, truncation=True, max_length=self.max_length)
            tt = enc.get("token_type_ids") if self.use_token_types else None
            out.append(PairEncoding(tuple(enc["input_ids"]), tuple(tt) if tt is not None else None))
        return out

    def _encode_one_only_first(self, item: Any) -> Any:
        assert self._fast is not None
        try:
            return self._fast.encode(*item) if isinstance(item, tuple) else self._fast.encode(item)
        except Exception:
            from tokenizers import Tokenizer

            fallback = Tokenizer.from_str(self._fast.to_str())
            fallback.enable_truncation(max_length=self.max_length, strategy="longest_first")
            return fallback.encode(*item) if isinstance(item, tuple) else fallback.encode(item)

    def batch_width(self, longest: int) -> int:
        """Padded sequence length of a batch whose longest row has ``longest`` tokens: rounded up to
        ``pad_multiple`` but never past ``max_length`` (position embeddings end there)."""
        return max(longest, min(padded_length(longest, self.pad_multiple), self.max_length))

    def collate(self, batch: Sequence[PairEncoding]) -> dict[str, torch.Tensor]:
        """Right-pad every row to :meth:`batch_width` and move to the device."""
        lengths = torch.tensor([len(e) for e in batch], dtype=torch.long)
        width = self.batch_width(int(lengths.max()))
        mask = torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)
        flat = [t for e in batch for t in e.ids]
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        ids.masked_scatter_(mask, torch.tensor(flat, dtype=torch.long))
        tensors = {"input_ids": ids, "attention_mask": mask.long()}
        if self.use_token_types:
            tt = torch.zeros((len(batch), width), dtype=torch.long)
            flat_tt = [t for e in batch for t in (e.type_ids or (0,) * len(e))]
            tt.masked_scatter_(mask, torch.tensor(flat_tt, dtype=torch.long))
            tensors["token_type_ids"] = tt
        non_blocking = self.device.type == "cuda"
        return {k: v.to(self.device, non_blocking=non_blocking) for k, v in tensors.items()}

    def run_batch(self, batch: Sequence[PairEncoding]) -> list[Output]:
        if not batch:
            return []
        tensors = self.collate(batch)
        with torch.inference_mode():
            logits = self.model(**tensors).logits
            probs = logits.float().softmax(dim=-1).cpu().tolist()
        labels = self.labels
        return [dict(zip(labels, row, strict=True)) for row in probs]


def load_sequence_classifier(
    path: str, *, dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu", **kwargs: Any
) -> Any:
    """``from_pretrained`` with SDPA attention when the architecture has it, eager otherwise."""
    from transformers import AutoModelForSequenceClassification

    try:
        model = AutoModelForSequenceClassification.from_pretrained(
            path, dtype=dtype, attn_implementation="sdpa", **kwargs
        )
    except (ValueError, ImportError):
        model = AutoModelForSequenceClassification.from_pretrained(path, dtype=dtype, **kwargs)
    return model.to(device).eval()
