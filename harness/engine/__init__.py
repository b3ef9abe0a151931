"""Inference engine: batching, caching and the device loop. Knows models and inputs, never claims."""

from harness.engine.base import Backend, BulkEncoder, Encoded, ModelInput, Output
from harness.engine.batching import Plan, dedup, plan_batches, restore
from harness.engine.cache import OutputCache
from harness.engine.runner import Engine, EngineStats, encode_all

# torch-dependent modules are imported explicitly by callers: harness.engine.device (device/dtype policy),
# harness.engine.hf_backend (PairClassifierBackend), harness.engine.tiny (test models).
__all__ = ["Backend", "BulkEncoder", "Encoded", "Engine", "EngineStats", "ModelInput", "Output", "OutputCache",
           "Plan", "dedup", "encode_all", "plan_batches", "restore"]
