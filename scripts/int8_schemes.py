"""max |Δp| of the ONNX backend's int8 schemes against PyTorch fp32, on this CPU and on an emulated AVX2 one.

Why (issue 23): ONNX Runtime's u8×s8 int8 GEMM adds each pair of products into a saturating 16-bit integer on
x86 CPUs without VNNI (VPMADDUBSW), so full-range weights clip there and probabilities moved by 0.32 on an
AVX2-only AMD EPYC. A CPU with VNNI cannot show that, so besides running each scheme in ONNX Runtime here, this
script replays the quantised matmuls in PyTorch the way each CPU class computes them: ``exact`` (VNNI, AMX, ARM)
and ``avx2`` (pairs of u8×s8 products clamped to [-32768, 32767]). Emulation: every ``nn.Linear`` with
per-tensor u8 activations (ONNX ``DynamicQuantizeLinear``) and symmetric per-output-channel s8 weights in
[-127, 127] (``s8``) or [-64, 64] (``s8-reduce-range``); embeddings stay fp32, so it is an estimate of the CPU
effect, checked against ONNX Runtime's own numbers on this CPU (the ``exact`` rows).

    python scripts/int8_schemes.py --model tiny --n-pairs 60              # the bench test's workload
    python scripts/int8_schemes.py --model embedded --data frank --n-pairs 750 --no-emulate
    python scripts/int8_schemes.py --model embedded --data frank --n-pairs 150
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

import torch

from harness import bench
from harness.bench.core import FRANK_PATH
from harness.bench.strategies import load_model
from harness.engine import device as dev
from harness.engine.hf_backend import PairClassifierBackend
from harness.engine.onnx_backend import OnnxPairClassifierBackend
from harness.engine.runner import Engine

RANGES = {"s8": 127, "s8-reduce-range": 64}


def _diffs(a: Sequence[dict[str, float]], b: Sequence[dict[str, float]]) -> dict[str, float]:
    d = torch.tensor([abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x])
    return {"max": float(d.max()), "p99": float(d.quantile(0.99)), "median": float(d.median())}


class _EmulatedLinear(torch.nn.Module):
    """``nn.Linear`` as ONNX Runtime's dynamic int8 MatMulInteger computes it on one CPU class."""

    def __init__(self, linear: torch.nn.Linear, qmax: int, saturate: bool) -> None:
        super().__init__()
        w = linear.weight.detach().double()
        self.w_scale = w.abs().amax(dim=1).clamp_min(1e-12) / qmax  # per output channel, symmetric
        self.wq = (w / self.w_scale[:, None]).round().clamp(-qmax, qmax)
        self.bias = None if linear.bias is None else linear.bias.detach().double()
        self.saturate = saturate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape, xd = x.shape, x.detach().double().reshape(-1, x.shape[-1])
        lo, hi = min(0.0, float(xd.min())), max(0.0, float(xd.max()))
        scale = (hi - lo) / 255 or 1.0
        zp = min(255.0, max(0.0, round(-lo / scale)))
        xq = ((xd / scale).round() + zp).clamp(0, 255)
        acc = xq @ self.wq.T  # exact: integers far below 2**53
        if self.saturate:  # VPMADDUBSW: pairs of adjacent products, each pair sum clamped to int16
            # Only weight pairs with |w0| + |w1| > 32767 / 255 can clip; the correction is computed for those.
            k = xq.shape[1] - xq.shape[1] % 2
            w = self.wq[:, :k].reshape(self.wq.shape[0], -1, 2)
            o, j = torch.nonzero(w.abs().sum(-1) * 255 > 32767, as_tuple=True)
            for i in range(0, len(o), 4096):
                oo, jj = o[i : i + 4096], j[i : i + 4096]
                pairs = xq[:, 2 * jj] * w[oo, jj, 0] + xq[:, 2 * jj + 1] * w[oo, jj, 1]
                acc.index_add_(1, oo, pairs.clamp(-32768, 32767) - pairs)
        out = (acc - zp * self.wq.sum(1)) * scale * self.w_scale
        if self.bias is not None:
            out = out + self.bias
        return out.to(x.dtype).reshape(*shape[:-1], -1)


def _emulated(model: Any, qmax: int, saturate: bool) -> Any:
    import copy

    twin = copy.deepcopy(model)
    for mod in list(twin.modules()):
        for child, sub in list(mod.named_children()):
            if isinstance(sub, torch.nn.Linear):
                setattr(mod, child, _EmulatedLinear(sub, qmax, saturate))
    return twin


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("tiny", "embedded", "minilm"), default="tiny")
    ap.add_argument("--data", choices=("synthetic", "frank"), default="synthetic")
    ap.add_argument("--n-pairs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--token-budget", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-emulate", dest="emulate", action="store_false")
    args = ap.parse_args(argv)
    dev.set_threads(args.threads)
    loaded = load_model(args.model, torch.float32, "cpu", args.seed)
    workload = (bench.frank_workload(FRANK_PATH, args.n_pairs) if args.data == "frank"
                else bench.synthetic_workload(args.n_pairs, args.seed))
    pairs = workload.pairs

    def run(model: Any) -> list[dict[str, float]]:
        be = PairClassifierBackend(model, loaded.tokenizer, max_length=loaded.max_length, cache_key="x")
        return Engine(args.token_budget).run(be, pairs)

    ref = run(loaded.model)
    report: dict[str, Any] = {"model": loaded.name, "workload": workload.name, "pairs": len(pairs),
                              "cpu": dev.cpu_summary(), "onnxruntime_here": {}, "emulated": {}}
    for scheme in RANGES:
        be = OnnxPairClassifierBackend(loaded.model, loaded.tokenizer, max_length=loaded.max_length, cache_key="x",
                                       quantize="int8", int8_scheme=scheme, threads=args.threads)
        report["onnxruntime_here"][scheme] = _diffs(Engine(args.token_budget).run(be, pairs), ref)
        print(f"onnxruntime here   {scheme:16s} {report['onnxruntime_here'][scheme]}", flush=True)
    if args.emulate:
        with torch.inference_mode():
            for scheme, qmax in RANGES.items():
                for cpu, saturate in (("exact", False), ("avx2", True)):
                    got = run(_emulated(loaded.model, qmax, saturate))
                    report["emulated"][f"{scheme}/{cpu}"] = _diffs(got, ref)
                    print(f"emulated {cpu:9s} {scheme:16s} {report['emulated'][f'{scheme}/{cpu}']}", flush=True)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
