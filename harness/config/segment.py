"""``segmentation:``: how sources become premise units and rewrites become claims."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.config.base import _Strict

__all__ = ["PremiseConfig", "SegmentationConfig"]


class PremiseConfig(_Strict):
    """How the source is cut into premise units that each fit the model window."""

    unit: Literal["sentence", "window", "sentence+window", "chunk", "document"] = "window"
    size: int = Field(default=2, ge=1)
    """window: sentences per window; chunk: tokens (words) per chunk."""
    stride: int = Field(default=1, ge=1)
    """window: sentences between window starts; chunk: words between chunk starts."""


class SegmentationConfig(_Strict):
    claims: Literal["sentence", "paragraph", "whole"] = "sentence"
    premises: PremiseConfig = PremiseConfig()
    min_claim_chars: int = Field(default=3, ge=0)
