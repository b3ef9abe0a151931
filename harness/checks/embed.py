"""Sentence embeddings for the checks, through the engine (dedup, cache, token-budget batches).

The checks use the multilingual encoder (:mod:`harness.engine.sentence_encoder`), so the off-topic and
quote checks work the same for an English rewrite of an English source and of a German one: a
translated sentence scores 0.6-0.9 cosine against its original, an unrelated one under 0.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["engine_embed_fn"]


def engine_embed_fn(engine: Any) -> tuple[Any, str | None]:
    """(texts -> unit vectors via ``engine``, None) or (None, a one-line warning) when the encoder is missing."""
    try:
        from harness.engine.sentence_encoder import embed, multilingual_encoder

        backend = multilingual_encoder()
    except Exception as e:  # package missing or broken: fall back to the names rule, say so
        return None, (f"checks: multilingual sentence encoder unavailable ({type(e).__name__}: {e}); off-topic "
                      f"and cross-lingual quote checks use names/numbers only")

    def embed_fn(texts: Sequence[str]) -> np.ndarray:
        return embed(engine, backend, list(texts), desc=f"checks: embed {len(texts)} sentences")

    return embed_fn, None
