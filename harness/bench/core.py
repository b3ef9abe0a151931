"""What every benchmark shares: where results and data live, atomic JSON reports, load and memory readings,
and the matmul roofline that FLOP fractions divide by. Imports no other benchmark module."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = [
    "FRANK_PATH",
    "REPO_ROOT",
    "SHARED_DATA",
    "format_cpu",
    "loadavg",
    "measure_matmul_flops",
    "measure_ort_matmul_flops",
    "peak_mb",
    "peak_reset",
    "write_json_atomic",
]


REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("HARNESS_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")
"""../shared/data beside the checkout; ``HARNESS_SHARED_DATA`` points elsewhere (worktrees), as in the tests."""
FRANK_PATH = SHARED_DATA / "dev" / "frank_valid.jsonl"


def write_json_atomic(path: Path, data: Any) -> None:
    """Temp file in the same directory + ``os.replace``: readers never see a half-written report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with __import__("contextlib").suppress(OSError):
            os.unlink(tmp)
        raise


def format_cpu(cpu: dict[str, Any]) -> str:
    """One line of :func:`harness.engine.device.cpu_summary` for logs and the bench table."""
    isa = " ".join(cpu.get("isa") or []) or "no flags read"
    return (f"{cpu.get('arch')}, isa: {isa}; torch kernels {cpu.get('torch_capability')}; bf16 "
            f"{'native' if cpu.get('bf16_native') else 'emulated'}; int8 scheme {cpu.get('int8_scheme')}")


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def peak_reset(device: Any) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:  # Linux: writing 5 resets VmHWM (peak RSS) for this process.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb(device: Any) -> float:
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"VmHWM:\s+(\d+)\s+kB", f.read())
        return int(m.group(1)) / 1024 if m else float("nan")
    except OSError:
        return float("nan")


def measure_matmul_flops(dtype: Any, device: Any, size: int = 1024, seconds: float = 0.3, trials: int = 3) -> float:
    """Best-of-trials square-matmul FLOP/s at the run dtype: the roofline the FLOP fraction divides by."""
    import torch

    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    for _ in range(3):
        a @ b
    best = 0.0
    for _ in range(trials):
        sync()
        n, t0 = 0, time.perf_counter()
        while True:
            a @ b
            n += 1
            sync()
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        best = max(best, 2 * size**3 * n / elapsed)
    return best


def measure_ort_matmul_flops(size: int = 1024, seconds: float = 0.3, threads: int = 1) -> float:
    """The same square fp32 matmul through ONNX Runtime (MLAS). On the AMD EPYC of BENCHMARK.md PyTorch's MKL
    sgemm reaches ~165 GFLOP/s and MLAS ~400: the roofline is the best GEMM the machine offers, not torch's."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    spec = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [size, size]) for n in "ABC"]
    graph = helper.make_graph([helper.make_node("MatMul", ["A", "B"], ["C"])], "mm", spec[:2], spec[2:])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feeds = {n: np.random.default_rng(0).standard_normal((size, size), dtype=np.float32) for n in "AB"}
    sess.run(None, feeds)
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds or n < 2:
        sess.run(None, feeds)
        n += 1
    return 2 * size**3 * n / elapsed
