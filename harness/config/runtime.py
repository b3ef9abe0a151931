"""``runtime:``: where and how a run executes (executor, blocks, Ray, device, backend, dtype, cache)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.config.base import _Strict

__all__ = ["RayConfig", "RuntimeConfig"]


class RayConfig(_Strict):
    """Where and how wide the ``ray`` executor runs (see docs/scaling.md)."""

    address: str | None = None
    """``None``: start a local Ray instance; ``auto``: join the cluster of ``ray start --head`` (or
    ``RAY_ADDRESS``); ``ray://host:10001``: a remote cluster through Ray Client."""
    actors: int | None = Field(default=None, ge=1)
    """Scoring actors (each builds the scorers once); None = one per GPU (``gpus_per_actor`` each) when the
    run is on cuda, else one per ``cpus_per_actor`` CPUs of the cluster."""
    gpus_per_actor: float | None = Field(default=None, gt=0)
    """GPUs reserved per actor when the device is cuda (fractions share a GPU); None = 1."""
    cpus_per_actor: int = Field(default=1, ge=1)
    """CPUs reserved per actor; also its torch threads unless ``runtime.threads`` is set."""
    max_restarts: int = Field(default=3, ge=0)
    """Times a scoring actor that died (killed, out of memory, a crashing block) is restarted, and times its
    in-flight block is retried, before the run fails with the block named; each restart is printed and
    counted in run.json (``executor.actor_restarts``). 0: the first death fails the run."""
    actor_start_timeout_s: float = Field(default=600.0, gt=0)
    """Seconds the run waits for its scoring actors to be ready (started, scorers built) before it fails with
    one line: the cluster's CPUs or GPUs are held by other jobs, its nodes cannot start workers, or the models
    load slower than this (the cluster's total resources are checked before submitting; what is free is only
    known by waiting). Ray Data alone waits forever."""


class RuntimeConfig(_Strict):
    executor: Literal["local", "ray"] = "local"
    """``local``: blocks scored one after another in this process; ``ray``: the same stage functions as a
    Ray Data pipeline over an actor pool (``pip install "harness[ray]"``). Results are identical."""
    block_pairs: int = Field(default=256, ge=1)
    """Pairs per block: the unit that is scored, written and skipped on resume (the same in both executors,
    so that model batches, and therefore the floats, are the same)."""
    ray: RayConfig = RayConfig()
    device: Literal["auto", "cpu", "cuda"] = "auto"
    backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"
    """How pair classifiers (the NLI and SummaC scorers' models) run their forward pass. ``auto``: the fastest
    at reference quality here: PyTorch on GPUs and on CPUs with native bf16 (run in bf16), else ONNX Runtime in
    fp32 (PyTorch's fp32 scores to ~1e-6, fused kernels), PyTorch when onnxruntime is missing. ``torch``,
    ``onnx`` (CPU, fp32) and ``onnx-int8`` (CPU, dynamic int8 weights: faster, probabilities move by up to
    ~0.15) force one. run.json records the choice per model (``scorers[].models[].backend``); see
    docs/speed.md."""
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    token_budget: int = Field(default=8192, ge=64)
    """Max padded tokens (rows x padded length) per forward pass."""
    threads: int | None = Field(default=None, ge=1)
    """torch intra-op threads; None = number of cores (oversubscription is slower)."""
    cache: str | None = "results/cache.sqlite"
    """sqlite cache of model outputs (content-addressed); None disables. Not given: ``<output_dir>/cache.sqlite``
    (``--output`` moves it along), so a run writes nothing outside its output folder. Must be a regular file
    (not a folder, a device such as ``/dev/null``, a pipe or a symbolic link)."""
    progress: bool = True
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    """Seeds Python, NumPy and torch at the start of every block (NumPy takes 0 to 2**32 - 1)."""
