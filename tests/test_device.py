"""``runtime.backend: auto``: which forward pass and dtype a run gets on each kind of machine."""

from __future__ import annotations

import pytest
import torch

from harness.engine import device as dev


@pytest.fixture()
def machine(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set what this 'machine' has: native CPU bf16, onnxruntime installed."""

    def set_(*, bf16: bool, onnx: bool) -> None:
        monkeypatch.setattr(dev, "cpu_supports_bf16", lambda: bf16)
        monkeypatch.setattr(dev, "_onnx_missing", lambda: None if onnx else "onnxruntime not installed")

    return set_


@pytest.mark.parametrize(
    ("bf16", "onnx", "dtype", "expected"),
    [
        (False, True, "auto", ("onnx", torch.float32)),  # no native bf16: ONNX Runtime fp32 is the fast path
        (False, True, "fp32", ("onnx", torch.float32)),
        (True, True, "fp32", ("onnx", torch.float32)),  # fp32 asked for: same scores, fused kernels
        (True, True, "auto", ("torch", torch.bfloat16)),  # native bf16 matmul beats fp32 in any runtime
        (True, True, "bf16", ("torch", torch.bfloat16)),
        (False, True, "bf16", ("torch", torch.bfloat16)),  # asked for: honoured, ONNX cannot run it
        (False, False, "auto", ("torch", torch.float32)),  # onnxruntime missing: PyTorch, no error
    ],
)
def test_auto_backend_on_cpu(machine, bf16: bool, onnx: bool, dtype: str, expected: tuple) -> None:  # type: ignore[no-untyped-def]
    machine(bf16=bf16, onnx=onnx)
    assert dev.resolve_backend("auto", dtype, "cpu") == expected


def test_forced_backends(machine) -> None:  # type: ignore[no-untyped-def]
    machine(bf16=True, onnx=True)
    assert dev.resolve_backend("torch", "auto", "cpu") == ("torch", torch.bfloat16)
    assert dev.resolve_backend("onnx", "auto", "cpu") == ("onnx", torch.float32)
    assert dev.resolve_backend("onnx-int8", "fp32", "cpu") == ("onnx-int8", torch.float32)
    with pytest.raises(ValueError, match="fp32 on the CPU"):
        dev.resolve_backend("onnx", "bf16", "cpu")
    with pytest.raises(ValueError, match="unknown backend"):
        dev.resolve_backend("tensorrt", "auto", "cpu")


def test_auto_on_a_gpu_is_pytorch(machine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    machine(bf16=False, onnx=True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *_: (9, 0))
    assert dev.resolve_backend("auto", "auto", "cuda") == ("torch", torch.bfloat16)
    with pytest.raises(ValueError, match="fp32 on the CPU"):
        dev.resolve_backend("onnx", "fp32", "cuda")
