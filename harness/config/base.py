"""What every config section shares: strict models (unknown keys are errors, values frozen), the
one-line :class:`ConfigError`, and the config format version."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["CONFIG_VERSION", "ConfigError"]


CONFIG_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfigError(ValueError):
    """A config problem, worded as one line naming the file, the dotted field and what is allowed."""
