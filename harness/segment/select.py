"""Bounded selection of source units for long sources: keep the ones sharing most tokens with the claims.

Embedding every sentence of a book-length source costs minutes; what a check or a scorer needs is the few
that could match a claim. Tokens are compared by their first five characters (case-folded), so names,
numbers and shared stems count in any language pair; one pass over the source, a set look-up per token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["most_overlapping"]

_TOKEN = re.compile(r"[^\W_]{3,}")


def most_overlapping(texts: Sequence[str], queries: Sequence[str], cap: int | None) -> list[int]:
    """Positions (in order) of all ``texts``, or of the ``cap`` sharing most tokens with ``queries``."""
    if cap is None or len(texts) <= cap:
        return list(range(len(texts)))
    vocab = {w.lower()[:5] for q in queries for w in _TOKEN.findall(q)}
    hits = [sum(w.lower()[:5] in vocab for w in _TOKEN.findall(t)) for t in texts]
    return sorted(sorted(range(len(texts)), key=lambda i: (-hits[i], i))[:cap])
