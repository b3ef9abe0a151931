"""``checks:``: the rule-based checks that run before (and beside) the model scorers."""

from __future__ import annotations

from pydantic import Field

from harness.config.base import _Strict

__all__ = ["ChecksConfig"]


class ChecksConfig(_Strict):
    """Rule-based checks that run before the model scorers (see harness/checks/README.md)."""

    claim_worthiness: bool = True
    """Mark navigation/boilerplate, meta text, repeated headings and bare reference lists ``not_checkable``."""
    extra_boilerplate_patterns: tuple[str, ...] = ()
    """More whole-segment regexes (case-insensitive) for navigation/page furniture."""
    extra_meta_patterns: tuple[str, ...] = ()
    """More search regexes (case-insensitive) for text about the writing process."""
    heading_repeat_overlap: float = Field(default=0.75, ge=0.0, le=1.0)
    """A heading whose content words occur in the rest of the rewrite at this share repeats the body."""
    quotes: bool = True
    """Verify quoted spans of the rewrite against the source; unmatched quotes are ``fabricated_quote``."""
    quote_min_words: int = Field(default=3, ge=1)
    """Shorter quotes are names or scare quotes, not reported speech: not checked."""
    quote_match_threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    """Same-language: share of the quote's words found in order in the source to count as matched."""
    quote_structural_threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    """Cross-lingual without the encoder: offline structural match score needed (a weak signal)."""
    quote_encoder_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """Cross-lingual: multilingual-encoder cosine to the best source quote at or above which a quote is matched
    (seed: real quotes 0.77-0.80 against their German originals, fabricated ones 0.15-0.17)."""
    off_topic: bool = True
    """Flag runs of rewrite segments unrelated to the source as ``off_topic``."""
    off_topic_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    """Encoder cosine to the best source sentence at or above which a segment is related."""
    off_topic_anchor_threshold: float = Field(default=0.45, ge=0.0, le=1.0)
    """Encoder cosine to a related rewrite segment at or above which a segment is related too."""
    off_topic_min_run: int = Field(default=2, ge=1)
    """Unrelated segments are flagged only as a run this long at the end (one longer elsewhere)."""
    off_topic_encoder: bool = True
    """Use the multilingual sentence encoder (through the engine); False = names/numbers overlap only."""
    embed_max_source_sentences: int = Field(default=512, ge=1)
    """Long sources: the off-topic and cross-lingual quote checks embed at most this many source sentences —
    those sharing the most names, numbers and word stems with the rewrite — so their cost stays bounded."""
    language: bool = True
    """Detect languages; cross-lingual pairs go to scorers that declare both languages."""
