"""``data:``: where pairs come from and which fields hold the source, the rewrite and the labels."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.config.base import _Strict

__all__ = ["DataConfig", "FieldMap"]


class FieldMap(_Strict):
    """Which input columns hold what."""

    id: str | None = "id"
    """Column with a unique pair id; if absent or None, ids are the row numbers."""
    source: str = "source"
    rewrite: str = "rewrite"
    label: str | None = "label"
    """Gold label column (1 faithful / 0 not, or graded); None or absent column = unlabelled."""
    group: str | None = None
    """Column linking minimal-pair twins (e.g. BUMP's ``pair_id``)."""


class DataConfig(_Strict):
    """One dataset of (source, rewrite) pairs."""

    name: str = "data"
    type: Literal["seeds", "jsonl", "csv", "parquet", "hf"] = "jsonl"
    path: str | None = None
    """File or folder (seeds: a folder with ``000_*.txt`` source and ``002_*.txt`` rewrite; or explicit files)."""
    source_file: str | None = None
    """seeds: the source text file (default: the ``000_*`` file in ``path``)."""
    rewrite_file: str | None = None
    """seeds: the rewrite text file (default: the ``002_*`` file in ``path``)."""
    hf_name: str | None = None
    """hf: a `datasets` name or builder ("json", "csv", ...) — with ``path`` for local data files."""
    hf_config: str | None = None
    split: str = "train"
    revision: str | None = None
    fields: FieldMap = FieldMap()
    role: Literal["dev", "test", "none"] = "none"
    """``dev`` sets where thresholds are tuned; ``test`` where tuned thresholds are applied."""
    limit: int | None = Field(default=None, ge=1)
    """Keep only the first N pairs (quick looks)."""

    @model_validator(mode="after")
    def _needs_location(self) -> DataConfig:
        if self.type == "hf" and not (self.hf_name or self.path):
            raise ValueError("type 'hf' needs hf_name (a datasets name) or path (local files)")
        if self.type != "hf" and not (self.path or (self.source_file and self.rewrite_file)):
            raise ValueError(f"type '{self.type}' needs path")
        return self
