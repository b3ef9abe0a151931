"""ONNX Runtime backend for pair classifiers on CPU (the default CPU forward pass where the CPU has no native
bf16: ``runtime.backend: auto``, see :func:`harness.engine.device.resolve_backend`).

Same tokenisation, truncation, padding and softmax as :class:`~harness.engine.hf_backend.PairClassifierBackend`;
only the forward pass differs: the loaded PyTorch model is exported once (TorchScript exporter, dynamic batch
and sequence axes) and run by ONNX Runtime with all graph optimisations (fused LayerNorm, GELU, MatMul+Add) and
its own arena allocator. On the 2-core CPU of ``harness/engine/BENCHMARK.md`` this is the per-input win over
PyTorch eager: PyTorch spends ~40 % of a forward in memory-bound ops (bias copies, add, LayerNorm, GELU, mask
``where``) on freshly allocated activations.

``quantize="int8"`` adds ONNX Runtime's dynamic quantisation (int8 weights, activations quantised per batch):
faster again, but probabilities move by up to a few 1e-2, so it is an opt-in with its own cache key and a stated
tolerance (:data:`INT8_TOLERANCE`), never the default. The weight range depends on the CPU
(:func:`harness.engine.device.int8_scheme`): full-range weights clip on x86 CPUs without VNNI, so those get
ONNX Runtime's ``reduce_range`` weights, a scheme with its own graph file and cache key.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from harness.engine import device as _device
from harness.engine.base import Output
from harness.engine.device import onnx_available
from harness.engine.hf_backend import PairClassifierBackend, PairEncoding

__all__ = ["FP32_TOLERANCE", "INT8_TOLERANCE", "OnnxPairClassifierBackend", "onnx_available"]

FP32_TOLERANCE = 1e-4
"""Max |Δ probability| against the PyTorch backend in fp32 (measured: ~1e-6)."""
INT8_TOLERANCE = 0.15
"""Max |Δ probability| accepted for dynamic int8 (per-channel int8 weights). Measured on the embedded model over
FRANK grid pairs: max 0.093 (300 pairs; p99 0.063, median 0.002) and 0.13 (750 pairs); per-tensor weights: max
0.24. The reduce-range weights of CPUs without VNNI: max 0.140 (750 pairs), 0.133 (168): inside, with a thin
margin. Not for thresholds closer than that; see BENCHMARK.md and docs/cpu.md."""


OPSET = 17
EXPORT_VERSION = 1
"""Bumped when the export itself changes, so kept graphs from older harness versions are not reused."""


class _Logits(torch.nn.Module):
    """Export wrapper: named tensor inputs in, logits out (no ModelOutput dataclass in the graph)."""

    def __init__(self, model: Any, token_types: bool) -> None:
        super().__init__()
        self.model = model
        self.token_types = token_types

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        kwargs = {"token_type_ids": token_type_ids} if self.token_types else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs).logits


class OnnxPairClassifierBackend(PairClassifierBackend):
    """:class:`PairClassifierBackend` whose forward runs in ONNX Runtime (CPU, fp32 weights).

    ``threads`` defaults to torch's intra-op thread count, so both backends use the same cores. The exported
    graph lives in ``export_dir`` (a fresh temporary folder by default, removed with the backend object), or,
    with ``export_cache``, in a sub-folder of that folder named by a hash of ``cache_key``, the torch version and
    the exporter settings, where later processes find it instead of exporting again (the caller's key must
    identify the weights, as the engine's weight-hash keys do). A kept graph appears only once complete (written
    in a temporary folder, then renamed), so concurrent runs and killed exports never leave a half graph behind.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        max_length: int = 512,
        cache_key: str | None = None,
        *,
        pad_multiple: int = 8,
        truncation: str = "longest_first",
        quantize: str | None = None,
        int8_scheme: str | None = None,
        threads: int | None = None,
        export_dir: str | Path | None = None,
        export_cache: str | Path | None = None,
    ) -> None:
        reason = onnx_available()
        if reason:
            raise ImportError(reason)
        if next(model.parameters()).dtype != torch.float32:
            raise ValueError("the ONNX backend exports fp32 models only (use dtype fp32; int8 via quantize='int8')")
        if quantize not in (None, "int8"):
            raise ValueError(f"quantize must be None or 'int8', not {quantize!r}")
        if int8_scheme is not None and int8_scheme not in _device.INT8_SCHEMES:
            raise ValueError(f"int8_scheme must be one of {', '.join(_device.INT8_SCHEMES)}, not {int8_scheme!r}")
        super().__init__(model, tokenizer, max_length, cache_key, pad_multiple=pad_multiple, device="cpu",
                         truncation=truncation)
        self.quantize = quantize
        self.int8_scheme = (int8_scheme or _device.int8_scheme()) if quantize == "int8" else None
        """``s8`` or ``s8-reduce-range`` (chosen by the CPU unless given); None without int8."""
        weights_key = self._cache_key
        self._cache_key += "|onnx" + (f"-{quantize}" if quantize else "") + self._scheme_suffix()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if export_cache is not None:
            path = self._graph(self._kept_export(Path(export_cache), weights_key))
        elif export_dir is not None:
            path = self._graph(Path(export_dir), export=True)
        else:
            path = self._private_graph()
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception:
            if export_cache is None:
                raise
            # A kept graph that no longer loads (disk trouble, another onnxruntime): export afresh, privately.
            path = self._private_graph()
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.graph_path = path
        """The ONNX file this backend runs (for reports and tests)."""
        self._input_names = {i.name for i in self.session.get_inputs()}

    def _scheme_suffix(self) -> str:
        """``""`` for the full-range scheme (the names it always had), ``-reduce-range`` for the other: graphs and
        cached outputs of the two schemes never mix."""
        return "" if self.int8_scheme in (None, "s8") else "-reduce-range"

    def _graph(self, folder: Path, export: bool = False) -> Path:
        """The graph to run from ``folder`` (exported there first if asked): fp32, or its int8 version."""
        path = self._export(folder / "model.onnx") if export else folder / "model.onnx"
        return self._quantized(path, reuse=not export) if self.quantize == "int8" else path

    def _private_graph(self) -> Path:
        """A graph in a temporary folder that lives as long as this backend."""
        self._tmp = tempfile.TemporaryDirectory(prefix="harness-onnx-")
        return self._graph(Path(self._tmp.name), export=True)

    def _kept_export(self, root: Path, weights_key: str) -> Path:
        """The folder of this model's kept export under ``root``, exporting it first when absent."""
        digest = hashlib.sha256(f"{weights_key}|torch={torch.__version__}|opset={OPSET}|{EXPORT_VERSION}".encode())
        folder = root / digest.hexdigest()[:24]
        from harness.results.safe_io import refuse_link

        for p in (root, folder, folder / "model.onnx"):  # a kept export is never read or written through a link
            refuse_link(p, "a kept ONNX export")
        if (folder / "model.onnx").is_file():
            return folder
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".export-"))
        try:
            self._export(tmp / "model.onnx")
            try:
                os.replace(tmp, folder)  # atomic; fails if another process kept its export first
            except OSError:
                if not (folder / "model.onnx").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return folder

    def _quantized(self, path: Path, reuse: bool) -> Path:
        """Dynamic int8 (per-channel weights, in this backend's scheme) beside ``path``; with ``reuse``, one
        already there is taken (a kept export's), else it is written afresh from the graph just exported."""
        qpath = path.with_name(f"model.int8{self._scheme_suffix()}.onnx")
        if reuse and qpath.is_file():
            return qpath
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model.int8.", suffix=".onnx")
        os.close(fd)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger every call
        try:
            quantize_dynamic(str(path), tmp, weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=self.int8_scheme == "s8-reduce-range")
            os.replace(tmp, qpath)
        finally:
            root.setLevel(level)
            if os.path.exists(tmp):
                os.remove(tmp)
        return qpath

    def _export(self, path: Path) -> Path:
        """Trace with a padded example batch (a mask of all ones lets HF drop the mask from the graph)."""
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if self.use_token_types else [])
        ids = (torch.arange(100, 132).reshape(2, 16) % int(self.model.config.vocab_size)).long()
        mask = torch.ones_like(ids)
        mask[1, 9:] = 0
        args: tuple[torch.Tensor, ...] = (ids, mask) + ((torch.zeros_like(ids),) if self.use_token_types else ())
        axes = {n: {0: "batch", 1: "seq"} for n in names} | {"logits": {0: "batch"}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(_Logits(self.model, self.use_token_types), args, str(path), input_names=names,
                                  output_names=["logits"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
            finally:
                self.model.eval()  # the TorchScript exporter can leave the model in training mode (dropout on)
        return path

    def run_batch(self, batch: Sequence[PairEncoding]) -> list[Output]:
        if not batch:
            return []
        feeds = {k: v.numpy() for k, v in self.collate(batch).items() if k in self._input_names}
        logits = torch.from_numpy(self.session.run(["logits"], feeds)[0])
        probs = logits.float().softmax(dim=-1).tolist()
        return [dict(zip(self.labels, row, strict=True)) for row in probs]
