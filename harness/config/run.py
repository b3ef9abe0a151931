"""The whole run: :class:`RunConfig`, one field per section, and its cross-section rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.config.base import CONFIG_VERSION, _Strict
from harness.config.checks import ChecksConfig
from harness.config.data import DataConfig
from harness.config.runtime import RuntimeConfig
from harness.config.scorers import CombineConfig, RoutingConfig, ScorerConfig
from harness.config.segment import SegmentationConfig

__all__ = ["RUN_NAME_PATTERN", "RunConfig", "default_cache"]


RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
"""A run name becomes part of a folder name under ``--output``: letters, digits, ``.``, ``_`` and ``-``,
starting with a letter or digit, at most 80 characters (no ``/``, no ``..``, nothing that can leave the
output folder)."""


def default_cache(output_dir: str) -> str:
    """Where the output cache goes when the config names none: inside the output folder."""
    return str(Path(output_dir) / "cache.sqlite")


class RunConfig(_Strict):
    version: int = CONFIG_VERSION
    name: str = Field(default="run", pattern=RUN_NAME_PATTERN)
    """The run's name (part of its folder and run id): letters, digits, ``.``, ``_``, ``-``; at most 80."""
    data: list[DataConfig]
    segmentation: SegmentationConfig = SegmentationConfig()
    checks: ChecksConfig = ChecksConfig()
    scorers: list[ScorerConfig]
    combine: CombineConfig = CombineConfig()
    routing: RoutingConfig = RoutingConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    output_dir: str = "results"
    output_formats: tuple[Literal["jsonl", "parquet"], ...] = Field(default=("jsonl", "parquet"), min_length=1)
    """Which files hold claims and pairs: ``claims.jsonl``/``pairs.jsonl`` and/or ``claims.parquet``/
    ``pairs.parquet`` (same columns; readers take either)."""

    @model_validator(mode="before")
    @classmethod
    def _cache_follows_output(cls, data: Any) -> Any:
        """No ``runtime.cache`` given: the output cache lives in the output folder (``<output_dir>/cache.sqlite``),
        so a run writes nothing outside ``output_dir`` (``--output``) unless the config names another path."""
        if not isinstance(data, dict):
            return data
        out = data.get("output_dir", cls.model_fields["output_dir"].default)
        runtime = data.get("runtime")
        if not isinstance(out, str):
            return data  # validation names the bad output_dir
        if runtime is None:
            runtime = {}
        if isinstance(runtime, dict) and "cache" not in runtime:
            return {**data, "runtime": {**runtime, "cache": default_cache(out)}}
        if isinstance(runtime, RuntimeConfig) and "cache" not in runtime.model_fields_set:
            return {**data, "runtime": runtime.model_copy(update={"cache": default_cache(out)})}
        return data

    @field_validator("data", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _unique_names(self) -> RunConfig:
        names = [s.name or s.type for s in self.scorers]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"scorer names must be unique; repeated: {sorted(dup)} (set `name:` on each)")
        data_names = [d.name for d in self.data]
        ddup = {n for n in data_names if data_names.count(n) > 1}
        if ddup:
            raise ValueError(f"dataset names must be unique; repeated: {sorted(ddup)}")
        if not self.scorers:
            raise ValueError("at least one scorer is needed")
        return self
