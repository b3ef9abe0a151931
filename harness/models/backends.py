"""Engine backends for sequence-pair classification (NLI cross-encoders).

Label order is read from the model's ``id2label`` — never assumed — and mapped onto the three NLI
labels. Two-way models (entailment / not_entailment) report ``not_entailment`` as neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.engine.base import ModelInput

__all__ = ["NLI_LABELS", "PairClassifierBackend", "nli_label_index"]

NLI_LABELS = ("entailment", "neutral", "contradiction")
_ALIASES = {
    "entailment": "entailment", "entail": "entailment", "entailed": "entailment", "supported": "entailment",
    "consistent": "entailment", "factual": "entailment",
    "neutral": "neutral", "not_entailment": "neutral", "non_entailment": "neutral", "not entailment": "neutral",
    "contradiction": "contradiction", "contradict": "contradiction", "contradicted": "contradiction",
    "refuted": "contradiction",
}


def nli_label_index(id2label: dict[Any, str]) -> dict[str, list[int]]:
    """Map each NLI label to the model's class indices, from ``config.id2label``.

    Raises ValueError when the labels are generic (LABEL_0...) or no entailment class exists, because
    guessing an order silently inverts scores.
    """
    out: dict[str, list[int]] = {k: [] for k in NLI_LABELS}
    unknown = []
    for idx, name in id2label.items():
        key = _ALIASES.get(str(name).strip().lower().replace("-", "_"))
        if key is None:
            unknown.append(name)
        else:
            out[key].append(int(idx))
    if not out["entailment"] or unknown:
        raise ValueError(
            f"cannot read NLI labels from the model config id2label={dict(id2label)}: expected names like "
            "entailment/neutral/contradiction (or not_entailment)"
        )
    return out


class _Encoded(list[int]):
    """Token ids of one (premise, hypothesis) pair plus its token-type ids."""

    __slots__ = ("type_ids",)

    def __init__(self, ids: list[int], type_ids: list[int] | None) -> None:
        super().__init__(ids)
        self.type_ids = type_ids


class PairClassifierBackend:
    """Cross-encoder over (premise, hypothesis): outputs {entailment, neutral, contradiction} probabilities.

    Truncation cuts the premise only (``only_first``); the segmenter sizes premise units so that this
    does not happen in practice, and :attr:`truncated` counts the times it did.
    """

    version = "nli-1"

    def __init__(self, model: Any, tokenizer: Any, *, max_length: int, model_key: str, device: str = "cpu"):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
        self.device = device
        self.labels = nli_label_index(model.config.id2label)
        self._key = f"{model_key}|max_length={self.max_length}|{self.version}"
        self.truncated = 0
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @property
    def cache_key(self) -> str:
        return self._key

    def encode(self, item: ModelInput) -> _Encoded:
        premise, hypothesis = item
        enc = self.tokenizer(premise, hypothesis, truncation="only_first", max_length=self.max_length,
                             return_overflowing_tokens=False)
        full = len(self.tokenizer(premise, hypothesis)["input_ids"]) if len(enc["input_ids"]) >= self.max_length \
            else len(enc["input_ids"])
        if full > self.max_length:
            self.truncated += 1
        return _Encoded(enc["input_ids"], enc.get("token_type_ids"))

    def run_batch(self, batch: Sequence[_Encoded]) -> list[dict[str, float]]:
        import torch

        width = max(len(e) for e in batch)
        width = -(-width // 8) * 8
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        types = torch.zeros((len(batch), width), dtype=torch.long)
        has_types = all(e.type_ids is not None for e in batch)
        for r, e in enumerate(batch):
            ids[r, : len(e)] = torch.tensor(e, dtype=torch.long)
            mask[r, : len(e)] = 1
            if has_types and e.type_ids is not None:
                types[r, : len(e)] = torch.tensor(e.type_ids, dtype=torch.long)
        inputs = {"input_ids": ids.to(self.device), "attention_mask": mask.to(self.device)}
        if has_types:
            inputs["token_type_ids"] = types.to(self.device)
        with torch.inference_mode():
            logits = self.model(**inputs).logits.float()
            probs = torch.softmax(logits, dim=-1).cpu().tolist()
        return [
            {name: float(sum(row[i] for i in idxs)) for name, idxs in self.labels.items()} for row in probs
        ]
