"""Device and dtype policy: one place decides where models run and at which precision.

Scorers and the CLI pass user strings ("auto", "cpu", "bf16", ...); everything downstream gets a concrete
``torch.device`` / ``torch.dtype``. The dtype is part of every backend's cache key, so "auto" must resolve
deterministically on a given machine.
"""

from __future__ import annotations

import functools
import os
import platform
from typing import Any

import torch

__all__ = [
    "BACKENDS",
    "DTYPE_NAMES",
    "INT8_SCHEMES",
    "ISA_FLAGS",
    "bf16_emulated_warning",
    "cpu_flags",
    "cpu_has_int8_dot",
    "cpu_summary",
    "cpu_supports_bf16",
    "dtype_name",
    "int8_scheme",
    "is_oom_error",
    "maybe_compile",
    "onnx_available",
    "resolve_backend",
    "resolve_device",
    "resolve_dtype",
    "set_threads",
]

DTYPE_NAMES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else CPU; an explicit ``cuda`` without a GPU is an error
    (silently falling back would make a GPU run 50x slower without telling anyone)."""
    name = name.lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    if name == "mps" or name.startswith(("cpu", "cuda")):
        return torch.device(name)
    raise ValueError(f"unknown device {name!r}: use auto, cpu, cuda or cuda:N")


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_flags() -> frozenset[str]:
    """The CPU's ISA flags as Linux names them in /proc/cpuinfo (empty elsewhere). Every CPU decision below
    reads them through this one function, so a test can stand in for another CPU by replacing it."""
    return _cpu_flags()


def _is_x86() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")


ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_bf16",
             "amx_int8")
"""The flags that decide a backend here (bf16 or fp32, the int8 scheme), as recorded in run.json and printed by
``harness bench``."""

INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
"""x86 instructions that add u8×s8 products straight into 32 bits (VNNI's VPDPBUSD, AMX-INT8)."""


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 matmul (AVX512-BF16 or AMX); without it bf16 is emulated and
    slower than fp32, so ``auto`` must not pick it."""
    flags = cpu_flags()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return True
    # Non-Linux fallback: torch reports AVX512 / AMX capability but not the BF16 extension itself.
    return not flags and "AMX" in torch.backends.cpu.get_cpu_capability().upper()


def cpu_has_int8_dot() -> bool:
    """True where ONNX Runtime's u8×s8 int8 products add up exactly: x86 with VNNI or AMX-INT8, and other
    architectures (ARM's dot-product instructions widen first). An x86 CPU without them (AVX2 or AVX-512 only)
    multiplies with VPMADDUBSW, which adds each pair of u8×s8 products into a saturating 16-bit integer: with
    full-range int8 weights the sums clip (ONNX Runtime's quantisation docs), which moved probabilities by 0.32
    on an AVX2-only AMD EPYC (issue 23). An x86 CPU whose flags cannot be read counts as one without."""
    if not _is_x86():
        return True
    return bool(cpu_flags() & INT8_DOT_FLAGS)


INT8_SCHEMES = ("s8", "s8-reduce-range")
"""Dynamic int8 schemes of the ONNX backend (activations u8 per batch; weights s8 per output channel):
``s8`` uses the full weight range [-127, 127]; ``s8-reduce-range`` uses [-64, 64] (ONNX Runtime's
``reduce_range=True``), so that a pair of u8×s8 products is at most 2·255·64 = 32640 and never clips a 16-bit
sum. Measured against fp32 in docs/cpu.md (``scripts/int8_schemes.py``)."""


def int8_scheme() -> str:
    """The int8 scheme that keeps :data:`~harness.engine.onnx_backend.INT8_TOLERANCE` on this CPU: ``s8``
    where int8 products add exactly (:func:`cpu_has_int8_dot`), else ``s8-reduce-range``."""
    return "s8" if cpu_has_int8_dot() else "s8-reduce-range"


def cpu_summary() -> dict[str, Any]:
    """What decided this machine's backend, for run.json and ``harness bench``: the architecture, the ISA
    flags of :data:`ISA_FLAGS` it has, torch's kernel level, and the decisions those flags make (native bf16,
    exact int8 products, the int8 scheme)."""
    flags = cpu_flags()
    return {
        "arch": platform.machine(),
        "isa": [f for f in ISA_FLAGS if f in flags],
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_native": cpu_supports_bf16(),
        "int8_dot": cpu_has_int8_dot(),
        "int8_scheme": int8_scheme(),
    }


def bf16_emulated_warning(dtype: str, device: torch.device | str) -> str | None:
    """One line when bf16 is asked for by name on a CPU without native bf16 (``auto`` never picks it there):
    PyTorch then emulates bf16 matmuls, which ran at 1.0 GFLOP/s against 172 in fp32 on an AVX2-only EPYC."""
    if dtype.lower() != "bf16" or torch.device(device).type != "cpu" or cpu_supports_bf16():
        return None
    return ("bf16 asked for on a CPU without native bf16 (no avx512_bf16 or amx_bf16): PyTorch emulates it, tens of "
            "times slower than fp32 here; runtime.dtype auto or fp32 gives fp32 scores much faster")


def resolve_dtype(name: str, device: torch.device | str) -> torch.dtype:
    """``auto``: bf16 on Ampere+ GPUs and on CPUs with native bf16, fp16 on older GPUs, else fp32.

    Explicit names are honoured, except fp16 on CPU, which PyTorch runs slowly and inaccurately."""
    device = torch.device(device)
    name = name.lower()
    if name in DTYPE_NAMES:
        if name == "fp16" and device.type == "cpu":
            raise ValueError("fp16 is not supported on CPU: use bf16 or fp32")
        return DTYPE_NAMES[name]
    if name != "auto":
        raise ValueError(f"unknown dtype {name!r}: use auto, fp32, bf16 or fp16")
    if device.type == "cuda":
        major, _ = torch.cuda.get_device_capability(device)
        return torch.bfloat16 if major >= 8 else torch.float16
    if device.type == "cpu" and cpu_supports_bf16():
        return torch.bfloat16
    return torch.float32


BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
"""Forward passes a pair classifier can run on (``runtime.backend``)."""


def onnx_available() -> str | None:
    """``None`` when onnxruntime and onnx import, else the reason (for skips and bench notes).

    Here rather than in ``onnx_backend``: the device policy decides whether ONNX Runtime can run, and the backends
    depend on the policy, never the other way round."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"onnxruntime/onnx not installed ({exc.name}): pip install 'onnxruntime>=1.18' 'onnx>=1.16'"
    return None


def _onnx_missing() -> str | None:
    return onnx_available()


def resolve_backend(backend: str, dtype: str, device: torch.device | str) -> tuple[str, torch.dtype]:
    """The pair classifiers' forward pass and the run's model dtype, decided together.

    ``auto`` takes the fastest option that gives the reference scores' quality on this machine (measured in
    docs/speed.md): PyTorch on GPUs, and on CPUs with native bf16 (bf16 matmul is ~2x fp32 there, which ONNX
    Runtime's CPU kernels cannot use); ONNX Runtime in fp32 on other CPUs, or when fp32 is asked for, since it
    gives PyTorch's fp32 scores to ~1e-6 with fused kernels. Without onnxruntime installed ``auto`` is PyTorch.
    ``onnx``/``onnx-int8`` run fp32 graphs on the CPU only: anything else is a ``ValueError``."""
    device = torch.device(device)
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: use {', '.join(BACKENDS)}")
    if backend == "torch":
        return backend, resolve_dtype(dtype, device)
    if backend != "auto":
        if device.type != "cpu" or dtype.lower() not in ("auto", "fp32"):
            raise ValueError(f"runtime.backend {backend!r} runs fp32 on the CPU; set runtime.dtype: fp32 (or auto) "
                             f"and runtime.device: cpu (got {dtype}, {device.type})")
        return backend, torch.float32
    resolved = resolve_dtype(dtype, device)
    if device.type == "cpu" and resolved == torch.float32 and _onnx_missing() is None:
        return "onnx", resolved
    return "torch", resolved


def dtype_name(dtype: torch.dtype) -> str:
    """Short stable name for cache keys and reports (``fp32``/``bf16``/``fp16``)."""
    for k, v in DTYPE_NAMES.items():
        if v == dtype:
            return k
    return str(dtype).removeprefix("torch.")


def set_threads(n: int | None = None) -> int:
    """Use one intra-op thread per physical-ish core (``os.sched_getaffinity``); oversubscription with a
    background tokeniser thread costs more than it gains on small machines."""
    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


def is_oom_error(exc: BaseException) -> bool:
    """CUDA OOM (typed on recent torch) or any RuntimeError whose message says "out of memory"
    (older torch, MPS, CPU allocator failures)."""
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, (RuntimeError, MemoryError)) and "out of memory" in str(exc).lower()


def maybe_compile(model: Any, enabled: bool) -> Any:
    """``torch.compile`` with dynamic shapes (batches vary in length). Used by ``harness bench``'s
    ``engine_compile``; not a run option, since it measured 0.96-1.2x eager for ~20 s of compiling per process
    on the CPU of docs/speed.md (and needs a C++ toolchain there)."""
    if not enabled:
        return model
    return torch.compile(model, dynamic=True)
