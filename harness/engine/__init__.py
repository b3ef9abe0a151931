"""Inference engine: batching, caching and the device loop. Knows models and inputs, never claims."""

from harness.engine.base import Backend, Encoded, ModelInput, Output
from harness.engine.batching import Plan, dedup, plan_batches, restore
from harness.engine.runner import Engine, EngineStats

__all__ = ["Backend", "Encoded", "Engine", "EngineStats", "ModelInput", "Output", "Plan", "dedup", "plan_batches",
           "restore"]
