"""Training for the embedded faithfulness cross-encoder (``python -m harness.train CONFIG.yaml``)."""

from __future__ import annotations

from harness.train.cli import main
from harness.train.trainer import run_training

__all__ = ["main", "run_training"]
