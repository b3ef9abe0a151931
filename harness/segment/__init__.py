"""Segmentation: rewrite -> claims, source -> premise units, all with exact character offsets."""

from harness.segment.quotes import QuoteSpan, find_quotes
from harness.segment.sentences import line_units, split_paragraphs, split_sentences
from harness.segment.units import claim_units, coverage, fit_to_limit, premise_units, segment_pair

__all__ = [
    "QuoteSpan",
    "claim_units",
    "coverage",
    "find_quotes",
    "fit_to_limit",
    "line_units",
    "premise_units",
    "segment_pair",
    "split_paragraphs",
    "split_sentences",
]
