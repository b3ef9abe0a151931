"""The error every model loader raises, in a module of its own so that loaders at any floor can raise it
without importing :mod:`harness.models.loading` (which dispatches to them)."""

from __future__ import annotations

__all__ = ["ModelUnavailableError"]


class ModelUnavailableError(RuntimeError):
    """A model that cannot be loaded here; the message is one line saying which and how to provide it."""
