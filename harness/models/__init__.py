"""Models: loading by hub id / local path / ``embedded``, and engine backends."""

from harness.models.loading import LoadedModel, ModelUnavailableError, load_model

__all__ = ["LoadedModel", "ModelUnavailableError", "load_model"]
