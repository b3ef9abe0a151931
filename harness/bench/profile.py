"""Where the engine's time goes on CPU: ``harness bench profile`` (issue 15).

Three measurements on the bench workload, one process:

1. **Stages** of one engine run (the engine's own counters): tokenisation (in the background thread), waiting
   for it, collating (padding + tensor building), the forward pass.
2. **Operator breakdown** of the forward pass, PyTorch (``torch.profiler``, self CPU time) and ONNX Runtime
   (its session profiler), grouped into matmul / attention / memory-bound elementwise (bias copies, add,
   LayerNorm, GELU, masking) / other.
3. **Knobs**, interleaved, best of ``--repeats``: intra-op threads, background tokeniser on/off, padding to a
   multiple of 8 vs none, token budget.

Every number in the "Profile" section of ``harness/engine/BENCHMARK.md`` comes from this command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["main"]

MATMUL = ("addmm", "mm", "bmm", "matmul", "linear", "MatMul", "Gemm", "FusedMatMul", "MatMulInteger",
          "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QGemm")
ATTENTION = ("scaled_dot_product", "flash_attention", "Attention", "Softmax", "_softmax")


def _category(op: str) -> str:
    name = op.removeprefix("aten::")
    if any(name == m or name.startswith(m + "_") or name == m.lower() for m in MATMUL):
        return "matmul"
    if any(a.lower() in name.lower() for a in ATTENTION):
        return "attention"
    if name in ("embedding", "index_select", "Gather"):
        return "embedding"
    return "elementwise/memory"


def _torch_ops(run: Any) -> dict[str, float]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    out: dict[str, float] = defaultdict(float)
    for ev in prof.key_averages():
        out[_category(ev.key)] += ev.self_cpu_time_total / 1e6
    return dict(out)


def _ort_ops(backend: Any, run: Any) -> dict[str, float]:
    import onnxruntime as ort

    sess = backend.session
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = sess.get_session_options().intra_op_num_threads
    opts.inter_op_num_threads = 1
    opts.enable_profiling = True
    backend.session = ort.InferenceSession(sess._model_path, opts, providers=["CPUExecutionProvider"])
    try:
        run()
        trace = Path(backend.session.end_profiling())
    finally:
        backend.session = sess
    out: dict[str, float] = defaultdict(float)
    for ev in json.loads(trace.read_text()):
        if ev.get("cat") == "Node" and ev.get("name", "").endswith("_kernel_time"):
            out[_category(ev.get("args", {}).get("op_name", ""))] += ev["dur"] / 1e6
    trace.unlink(missing_ok=True)
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    import torch

    from harness.bench.core import FRANK_PATH, loadavg
    from harness.bench.strategies import load_model
    from harness.bench.workloads import frank_workload, synthetic_workload
    from harness.engine.device import set_threads
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.engine.runner import Engine

    ap = argparse.ArgumentParser(prog="harness bench profile", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="embedded", choices=("minilm", "embedded", "tiny"))
    ap.add_argument("--data", choices=("synthetic", "frank"), default="frank")
    ap.add_argument("--n-pairs", type=int, default=600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--token-budget", type=int, default=8192)
    args = ap.parse_args(argv)

    set_threads(args.threads)
    loaded = load_model(args.model, torch.float32, torch.device("cpu"), 0)
    w = frank_workload(FRANK_PATH, args.n_pairs) if args.data == "frank" else synthetic_workload(args.n_pairs)
    pairs = w.pairs
    be = PairClassifierBackend(loaded.model, loaded.tokenizer, loaded.max_length, loaded.name)
    collate_s = [0.0]
    collate = be.collate

    def timed_collate(batch: Any) -> Any:
        t0 = time.perf_counter()
        out = collate(batch)
        collate_s[0] += time.perf_counter() - t0
        return out

    be.collate = timed_collate  # type: ignore[method-assign]
    Engine(args.token_budget).run(be, pairs[:64])
    print(f"workload {w.name}: {len(pairs)} pairs, model {loaded.name}, fp32, {args.threads} threads; "
          f"load average {loadavg()}")

    # 1. stages
    eng = Engine(args.token_budget, window=max(1, len(pairs) // 4))  # 4 windows, so prefetch overlaps
    collate_s[0] = 0.0
    t0 = time.perf_counter()
    eng.run(be, pairs)
    total = time.perf_counter() - t0
    s = eng.stats
    print(f"stages (s): total {total:.2f} | tokenise {s.encode_seconds:.2f} (background) | wait {s.wait_seconds:.2f} "
          f"| collate {collate_s[0]:.2f} | forward {s.forward_seconds - collate_s[0]:.2f} | "
          f"useful {s.useful_fraction:.3f} over {s.forward_calls} calls")

    # 2. operators
    torch_ops = _torch_ops(lambda: Engine(args.token_budget).run(be, pairs))
    rows = {"pytorch": torch_ops}
    try:
        from harness.engine.onnx_backend import OnnxPairClassifierBackend

        obe = OnnxPairClassifierBackend(loaded.model, loaded.tokenizer, loaded.max_length, loaded.name,
                                        threads=args.threads)
        rows["onnxruntime"] = _ort_ops(obe, lambda: Engine(args.token_budget).run(obe, pairs))
    except ImportError as exc:
        print(f"onnxruntime skipped: {exc}")
    for name, ops in rows.items():
        tot = sum(ops.values())
        parts = " | ".join(f"{k} {v:.2f} s ({v / tot:.0%})" for k, v in sorted(ops.items(), key=lambda kv: -kv[1]))
        print(f"operators {name} (CPU s summed over threads' self time): total {tot:.2f} | {parts}")

    # 3. knobs, interleaved
    knobs: dict[str, tuple[int, Any]] = {
        "default (2 thr, prefetch, pad 8, 8192)": (args.threads, lambda: Engine(args.token_budget)),
        "1 thread": (1, lambda: Engine(args.token_budget)),
        "no background tokeniser": (args.threads, lambda: Engine(args.token_budget, prefetch=False)),
        "pad multiple 1": (args.threads, lambda: Engine(args.token_budget, pad_multiple=1)),
        "token budget 2048": (args.threads, lambda: Engine(2048)),
        "token budget 32768": (args.threads, lambda: Engine(32768)),
    }
    times: dict[str, list[float]] = {k: [] for k in knobs}
    names = list(knobs)
    for rep in range(args.repeats):
        for k in names[rep % len(names):] + names[: rep % len(names)]:
            threads, make = knobs[k]
            torch.set_num_threads(threads)
            t0 = time.perf_counter()
            make().run(be, pairs)
            times[k].append(time.perf_counter() - t0)
    torch.set_num_threads(args.threads)
    base = len(pairs) / min(times[names[0]])
    for k in names:
        pps = len(pairs) / min(times[k])
        print(f"knob {k:42s} {pps:7.1f} pairs/s  ({pps / base:.2f}× default)  times {[round(t, 2) for t in times[k]]}")
    print(f"load average at the end {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
