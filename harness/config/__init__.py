"""Run configuration: pydantic models with ``extra="forbid"`` so a typo is an error, not a silent default.

Scorers form a discriminated union on ``type``. Paths in a config are resolved relative to the config
file's folder first, then to the current directory.

One module per section, every name importable from here: :mod:`~harness.config.base` (strict base model,
:class:`ConfigError`), :mod:`~harness.config.data`, :mod:`~harness.config.segment`,
:mod:`~harness.config.checks`, :mod:`~harness.config.scorers` (with ``combine`` and ``routing``),
:mod:`~harness.config.runtime`, :mod:`~harness.config.run` (:class:`RunConfig`) and
:mod:`~harness.config.loading` (YAML, overrides, errors, hash).
"""

from harness.config.base import CONFIG_VERSION, ConfigError
from harness.config.checks import ChecksConfig
from harness.config.data import DataConfig, FieldMap
from harness.config.loading import MAX_CONFIG_VALUES, DuplicateKeyError, apply_overrides, config_hash, load_config
from harness.config.run import RUN_NAME_PATTERN, RunConfig
from harness.config.runtime import RayConfig, RuntimeConfig
from harness.config.scorers import (
    AlignScoreScorerConfig,
    CombineConfig,
    CrossLingualScorerConfig,
    HHEMScorerConfig,
    MiniCheckScorerConfig,
    ModelConfig,
    NLIScorerConfig,
    OverlapScorerConfig,
    QAModelsConfig,
    QAScorerConfig,
    RoutingConfig,
    ScorerConfig,
    SummaCConvScorerConfig,
    SummaCZSScorerConfig,
)
from harness.config.segment import PremiseConfig, SegmentationConfig

__all__ = [
    "CONFIG_VERSION",
    "MAX_CONFIG_VALUES",
    "RUN_NAME_PATTERN",
    "AlignScoreScorerConfig",
    "ChecksConfig",
    "CombineConfig",
    "ConfigError",
    "CrossLingualScorerConfig",
    "DataConfig",
    "DuplicateKeyError",
    "FieldMap",
    "HHEMScorerConfig",
    "MiniCheckScorerConfig",
    "ModelConfig",
    "NLIScorerConfig",
    "OverlapScorerConfig",
    "PremiseConfig",
    "QAModelsConfig",
    "QAScorerConfig",
    "RayConfig",
    "RoutingConfig",
    "RunConfig",
    "RuntimeConfig",
    "ScorerConfig",
    "SegmentationConfig",
    "SummaCConvScorerConfig",
    "SummaCZSScorerConfig",
    "apply_overrides",
    "config_hash",
    "load_config",
]
