"""Benchmark: the engine against the usual ways of running a cross-encoder over many sentence pairs.

One process, one model, one workload; every strategy scores the same flattened (premise, hypothesis)
list and must produce the same probabilities:

* ``one_at_a_time``  – a forward call per pair (naive loop);
* ``fixed_batch32``  – batches of 32 in input order, padded to the longest row (HF-pipeline-like);
* ``summac``         – SummaC's reference batching (``SummaCZS.score`` -> ``SummaCImager.build_images``): the
  premise×claim grid of every (document, summary), premise-major, concatenated across pairs in input order,
  batches of 128, padded to the longest row; repeated (document, summary) pairs once, no other dedup;
* ``crossencoder``   – sentence-transformers ``CrossEncoder.predict`` (optional ``bench`` extra) on the same
  model exported to a temporary folder: sorts by character length, batches of 32, padded to the longest row;
* ``engine``         – :class:`harness.engine.Engine` (dedup, bulk tokenisation in a background thread,
  length sort, token-budget batches padded to a multiple of 8);
* ``engine_onnx`` / ``engine_onnx_int8`` – the same engine over
  :class:`harness.engine.onnx_backend.OnnxPairClassifierBackend` (ONNX Runtime, fp32 / dynamic int8; CPU, fp32
  models only);
* ``engine_compile`` – the PyTorch engine over ``torch.compile(model, dynamic=True)`` (compiled during the
  warm-up over the whole workload; the compile time is reported as ``setup_s``, not timed);
* ``engine_default`` – what ``harness run`` uses on this machine with the default config
  (``runtime.backend: auto``, ``runtime.dtype: auto``; see :func:`harness.engine.device.resolve_backend`): a copy
  of the model cast to that dtype, which may differ from ``--dtype`` (bf16 on CPUs with native bf16). Its
  scores are checked against the engine's with the bf16 tolerance when the dtypes differ.

A strategy whose optional package is missing (or that does not apply to the device/dtype) is skipped and the
reason is kept in the report. ``--dtype bf16`` on a CPU without native bf16 (no AVX512-BF16/AMX) is emulated by
PyTorch at a small fraction of fp32 speed: the bench says so in one line and skips the strategies that would run
in bf16, unless ``--allow-emulated-bf16`` asks to measure them anyway (then the report flags them).

The report's ``meta.cpu`` is :func:`harness.engine.device.cpu_summary`: the ISA flags that decided the default
backend and the int8 scheme ``engine_onnx_int8`` ran (full-range weights where the CPU has VNNI, reduce-range
weights where it does not; see ``harness/engine/device.py``).

Strategies are interleaved (the order rotates every repeat) and the best time of ``--repeats`` is kept,
so background load hurts all of them alike. Run ``python -m harness.bench --help``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.bench.core import (
    FRANK_PATH,
    REPO_ROOT,
    format_cpu,
    loadavg,
    measure_matmul_flops,
    measure_ort_matmul_flops,
    peak_mb,
    peak_reset,
    write_json_atomic,
)
from harness.bench.strategies import (
    Loaded,
    Meter,
    Runner,
    crossencoder_runner,
    flops_model,
    linear_fit,
    load_model,
    max_abs_diff,
    metered_backend,
    strategy_runners,
)
from harness.bench.workloads import Workload, frank_workload, synthetic_workload

__all__ = ["DEFAULT_STRATEGIES", "STRATEGIES", "build_parser", "main", "print_table", "run_benchmark"]


STRATEGIES = ("one_at_a_time", "fixed_batch32", "summac", "crossencoder", "engine", "engine_compile", "engine_onnx",
              "engine_onnx_int8", "engine_default")
DEFAULT_STRATEGIES = tuple(s for s in STRATEGIES if s != "engine_compile")
"""``engine_compile`` is opt-in (``--strategies``): compiling costs tens of seconds on a small CPU."""


def run_benchmark(args: argparse.Namespace, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every strategy interleaved; return the JSON-able report (see ``main`` for the CLI)."""
    import torch

    from harness.engine.device import (
        bf16_emulated_warning,
        cpu_summary,
        dtype_name,
        resolve_device,
        resolve_dtype,
        set_threads,
    )
    from harness.engine.runner import Engine

    threads = set_threads(args.threads)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    cpu_info = cpu_summary()
    log(f"cpu: {format_cpu(cpu_info)}")
    bf16_emulated = bf16_emulated_warning(args.dtype, device)
    skip_bf16 = bf16_emulated is not None and not getattr(args, "allow_emulated_bf16", False)
    if bf16_emulated:
        print(f"warning: {bf16_emulated}; " + ("bf16 strategies are skipped (--allow-emulated-bf16 runs them)"
                                               if skip_bf16 else "bf16 strategies are flagged in the report"),
              file=sys.stderr)
    loaded = load_model(args.model, dtype, device, args.seed)
    p_nonemb, n_layers, hidden = flops_model(loaded.model)
    size, secs = (256, 0.05) if args.quick else (1024, 0.3)
    if torch.device(device).type == "cuda" and not args.quick:
        size = 8192  # a 1024² matmul leaves a data-centre GPU mostly idle: the peak must be the roofline
    # With the bf16 strategies skipped only fp32 ones run (engine_default): their roofline is fp32's.
    peak_dtype = torch.float32 if skip_bf16 else dtype
    peak_flops = peak_torch = measure_matmul_flops(peak_dtype, device, size=size, seconds=secs)
    peak_ort = 0.0
    ort_roofline = torch.device(device).type == "cpu" and peak_dtype == torch.float32
    if ort_roofline:
        from harness.engine.onnx_backend import onnx_available

        ort_roofline = onnx_available() is None
    if ort_roofline:
        peak_ort = measure_ort_matmul_flops(size, secs, threads)
        peak_flops = max(peak_flops, peak_ort)
    log(f"model={loaded.name} dtype={dtype_name(dtype)} device={device} threads={threads} "
        f"matmul peak={peak_flops / 1e9:.1f} GFLOP/s")

    if args.data == "frank":
        if not FRANK_PATH.exists():
            raise SystemExit(f"--data frank: {FRANK_PATH} not found")
        workload = frank_workload(FRANK_PATH, args.n_pairs)
    else:
        workload = synthetic_workload(args.n_pairs, args.seed)
    pairs = workload.pairs

    meter = Meter()
    ref = metered_backend(loaded, 1, meter)  # reference strategies pad to the longest row, like HF
    eng = metered_backend(loaded, 8, meter)
    runners = strategy_runners(ref, eng, args.token_budget)
    lengths = [len(e) for e in eng.encode_many(pairs)]
    skipped: dict[str, str] = {}
    keep: list[Any] = []  # temporary folders of the optional strategies live as long as the run
    if "crossencoder" in args.strategies:
        try:
            run_ce, folder = crossencoder_runner(loaded, device, dtype, eng.labels,
                                                 dict(zip(pairs, lengths, strict=True)), meter)
            runners["crossencoder"] = run_ce
            keep.append(folder)
        except ImportError as exc:
            skipped["crossencoder"] = f"sentence-transformers not installed ({exc.name}): pip install 'harness[bench]'"
    int8_scheme = None
    for name, quantize in (("engine_onnx", None), ("engine_onnx_int8", "int8")):
        if name not in args.strategies:
            continue
        from harness.engine.onnx_backend import OnnxPairClassifierBackend, onnx_available

        reason = onnx_available() or (
            "ONNX Runtime strategies run on CPU in fp32 only" if torch.device(device).type != "cpu"
            or dtype != torch.float32 else None)
        if reason:
            skipped[name] = reason
            continue
        onnx_be = metered_backend(loaded, 8, meter, OnnxPairClassifierBackend, quantize=quantize, threads=threads)
        keep.append(onnx_be)
        if quantize:
            int8_scheme = onnx_be.int8_scheme
            log(f"  {name}: int8 scheme {int8_scheme} ({'exact' if cpu_info['int8_dot'] else 'no'} int8 dot products)")
        runners[name] = (lambda be: lambda w: Engine(args.token_budget).run(be, w.pairs))(onnx_be)
    setup_s: dict[str, float] = {}
    full_warm: set[str] = set()
    if "engine_compile" in args.strategies:
        from harness.engine.device import maybe_compile

        compiled = metered_backend(Loaded(maybe_compile(loaded.model, True), loaded.tokenizer, loaded.name,
                                           loaded.max_length), 8, meter)
        runners["engine_compile"] = lambda w: Engine(args.token_budget).run(compiled, w.pairs)
        full_warm.add("engine_compile")  # compile every shape bucket before timing
    default_dtype, default_backend = dtype, None
    if "engine_default" in args.strategies:
        from harness.engine.device import resolve_backend

        t0 = time.perf_counter()
        default_backend, default_dtype = resolve_backend("auto", "auto", device)
        base_loaded = loaded
        if default_dtype != dtype:  # the same weights, cast as a default run would load them
            import copy

            base_loaded = Loaded(copy.deepcopy(loaded.model).to(default_dtype), loaded.tokenizer, loaded.name,
                                 loaded.max_length)
        if default_backend == "torch":
            default_be = metered_backend(base_loaded, 8, meter)
        else:
            from harness.engine.onnx_backend import OnnxPairClassifierBackend

            default_be = metered_backend(base_loaded, 8, meter, OnnxPairClassifierBackend, threads=threads)
            keep.append(default_be)
        setup_s["engine_default"] = time.perf_counter() - t0
        runners["engine_default"] = lambda w: Engine(args.token_budget).run(default_be, w.pairs)
        log(f"  engine_default = runtime.backend auto here: {default_backend}, {dtype_name(default_dtype)}")
    if skip_bf16:
        for name in [n for n in runners if n in args.strategies and n != "engine_default"]:  # all run in bf16
            del runners[name]
            skipped[name] = ("bf16 is emulated on this CPU (no avx512_bf16 or amx_bf16), tens of times slower than "
                             "fp32: not measured (--allow-emulated-bf16 measures it)")
    for name, why in skipped.items():
        log(f"  skipped {name}: {why}")
    names = [s for s in args.strategies if s in runners]
    if not names:
        raise SystemExit("no strategy left to run: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    flops = lambda real, real_sq: 2 * p_nonemb * real + 4 * n_layers * hidden * real_sq  # noqa: E731

    warm = workload.subset(min(64, len(pairs)))
    for name in names:  # first-call costs (allocator, oneDNN primitives) stay out of the timings
        t0 = time.perf_counter()
        runners[name](workload if name in full_warm else warm)
        if name in full_warm:
            setup_s[name] = time.perf_counter() - t0

    results: dict[str, dict[str, Any]] = {}
    outputs: dict[str, list[Any]] = {}
    for rep in range(args.repeats):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            meter.reset()
            peak_reset(device)
            c0, t0 = time.process_time(), time.perf_counter()
            out = runners[name](workload)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            peak = peak_mb(device)
            outputs.setdefault(name, out)
            r = results.setdefault(name, {"times_s": [], "cpu_s": []})
            r["times_s"].append(elapsed)
            r["cpu_s"].append(cpu)
            if elapsed <= min(r["times_s"]):
                r.update(
                    forward_calls=meter.calls, computed_pairs=meter.rows, real_tokens=meter.real,
                    padded_tokens=meter.padded, peak_mb=round(peak, 1),
                    flops_real=flops(meter.real, meter.real_sq),
                    flops_padded=flops(meter.padded, meter.padded_sq),
                )
            log(f"  rep {rep} {name:14s} {elapsed:8.2f} s")
            # Re-measure the roofline between strategies, so that it sees the same background load they do
            # (a peak taken once at a busy moment made FLOP fractions > 1).
            peak_torch = max(peak_torch, measure_matmul_flops(peak_dtype, device, size=size, seconds=secs / 3,
                                                              trials=1))
            if ort_roofline:
                peak_ort = max(peak_ort, measure_ort_matmul_flops(size, secs / 3, threads))
            peak_flops = max(peak_flops, peak_torch, peak_ort)

    workload_tokens = sum(lengths)
    tol = args.tolerance if args.tolerance is not None else (1e-4 if dtype == torch.float32 else 5e-2)
    from harness.engine.onnx_backend import INT8_TOLERANCE
    reference = outputs.get("engine") or next(iter(outputs.values()))
    # bf16 strategies are measured against the bf16 matmul peak; int8 has no comparable float peak.
    peak_default = peak_flops
    if "engine_default" in results and default_dtype != dtype:
        peak_default = measure_matmul_flops(default_dtype, device, size=size, seconds=secs)
    for name, r in results.items():
        t = min(r["times_s"])
        peak_here = peak_default if name == "engine_default" else peak_flops
        r.update(
            time_s=t,
            pairs_per_s=len(pairs) / t,
            pairs_per_cpu_s=len(pairs) / min(r["cpu_s"]),
            tokens_per_s=workload_tokens / t,
            useful_fraction=r["real_tokens"] / r["padded_tokens"] if r["padded_tokens"] else 1.0,
            flop_fraction=None if name == "engine_onnx_int8" else r["flops_real"] / t / peak_here,
            padded_flop_fraction=None if name == "engine_onnx_int8" else r["flops_padded"] / t / peak_here,
            max_abs_diff_vs_engine=max_abs_diff(outputs[name], reference),
        )
        r["tolerance"] = max(tol, INT8_TOLERANCE) if name == "engine_onnx_int8" else tol
        if name == "engine_default" and default_dtype != dtype:
            r["tolerance"] = max(tol, 5e-2)  # another dtype than the reference: the bf16 tolerance
        if name in setup_s:
            r["setup_s"] = setup_s[name]
        r["scores_match"] = r["max_abs_diff_vs_engine"] <= r["tolerance"]
        if name == "engine_onnx_int8":
            r["int8_scheme"] = int8_scheme
        if bf16_emulated and not skip_bf16 and (name != "engine_default" or default_dtype == dtype):
            r["bf16_emulated"] = True
    if "engine" in results:
        e = results["engine"]["pairs_per_s"]
        for r in results.values():
            r["engine_speedup"] = e / r["pairs_per_s"]
    for ref_name in ("engine_onnx", "engine_default"):
        if ref_name in results:
            e = results[ref_name]["pairs_per_s"]
            for r in results.values():
                r[f"{ref_name}_speedup"] = e / r["pairs_per_s"]

    sweeps: dict[str, Any] = {}
    if args.sweep and "engine" in runners:
        sweeps = _sweeps(args, workload, runners["engine"], log)

    n_unique = len(set(pairs))
    sorted_len = sorted(lengths) or [0]
    report = {
        "meta": {
            "command": "python -m harness.bench " + " ".join(args.argv),
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "model": args.model, "model_name": loaded.name, "dtype": dtype_name(dtype), "device": str(device),
            "threads": threads, "token_budget": args.token_budget, "seed": args.seed, "repeats": args.repeats,
            "torch": torch.__version__, "python": platform.python_version(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "loadavg_end": loadavg(),
            "matmul_peak_flops": peak_flops, "matmul_peak_torch_flops": peak_torch,
            "matmul_peak_onnxruntime_flops": peak_ort or None, "nonembedding_params": p_nonemb, "layers": n_layers,
            "hidden": hidden, "tolerance": tol,
            "matmul_peak_default_dtype_flops": peak_default if "engine_default" in results else None,
            "default_backend": default_backend, "default_dtype": dtype_name(default_dtype) if default_backend else None,
            "cpu": cpu_info, "bf16_emulated": bf16_emulated is not None,
        },
        "workload": {
            "name": workload.name, "cases": len(workload.cases), "pairs": len(pairs), "unique_pairs": n_unique,
            "duplicate_fraction": 1 - n_unique / max(1, len(pairs)), "real_tokens": workload_tokens,
            "tokens_p50": sorted_len[len(sorted_len) // 2], "tokens_p95": sorted_len[int(0.95 * (len(sorted_len) - 1))],
            "tokens_max": sorted_len[-1],
        },
        "strategies": results,
        "scores_match": all(r["scores_match"] for r in results.values()),
        "skipped": skipped,
        "sweeps": sweeps,
    }
    if "engine" in results:
        report["targets"] = _targets(results, sweeps)
    return report


def _sweeps(args: argparse.Namespace, workload: Workload, engine: Runner, log: Callable[[str], None]) -> dict:
    """Engine time vs #pairs (prefixes of the workload) and vs document length (fixed claims)."""
    n = len(workload.pairs)
    fractions = (0.25, 1.0) if args.quick else (0.125, 0.25, 0.5, 1.0)
    # Prefixes of a seeded shuffle of the cases, so small subsets have the same length mix as the whole.
    shuffled = list(workload.cases)
    random.Random(args.seed).shuffle(shuffled)
    mixed = Workload(workload.name, tuple(shuffled))
    by_pairs = []
    for f in fractions:
        sub = mixed.subset(max(1, int(n * f)))
        t0 = time.perf_counter()
        engine(sub)
        by_pairs.append({"pairs": len(sub.pairs), "time_s": time.perf_counter() - t0})
    lengths = (4, 8) if args.quick else (5, 10, 20, 40)
    n_docs = 2 if args.quick else 6
    by_len = []
    for s in lengths:
        w = synthetic_workload(n_docs * 3 * s, args.seed + 1, doc_sentences=s, claims_per_summary=3,
                               summaries_per_doc=1)
        t0 = time.perf_counter()
        engine(w)
        by_len.append({"doc_sentences": s, "pairs": len(w.pairs), "time_s": time.perf_counter() - t0})
    for row in by_pairs + by_len:
        row["pairs_per_s"] = row["pairs"] / row["time_s"]
    log("  sweep done")
    return {
        "time_vs_pairs": by_pairs,
        "time_vs_pairs_fit": linear_fit([r["pairs"] for r in by_pairs], [r["time_s"] for r in by_pairs]),
        "time_vs_doc_sentences": by_len,
        "time_vs_doc_sentences_fit": linear_fit([r["doc_sentences"] for r in by_len],
                                                 [r["time_s"] for r in by_len]),
    }


def _targets(results: dict[str, dict[str, Any]], sweeps: dict[str, Any]) -> dict[str, Any]:
    e = results["engine"]
    t: dict[str, Any] = {"engine_useful_fraction>=0.90": e["useful_fraction"] >= 0.90}
    if "summac" in results:
        t["engine_vs_summac>=4x"] = results["summac"]["engine_speedup"] >= 4.0
        if "engine_onnx" in results:
            t["engine_onnx_vs_summac>=4x"] = results["summac"]["engine_onnx_speedup"] >= 4.0
    if "crossencoder" in results:
        t["engine_vs_crossencoder>=1.5x"] = results["crossencoder"]["engine_speedup"] >= 1.5
        if "engine_onnx" in results:
            ratio = results["engine_onnx"]["pairs_per_s"] / results["crossencoder"]["pairs_per_s"]
            t["engine_onnx_vs_crossencoder>=1.5x"] = ratio >= 1.5
    if "engine_default" in results:
        for peer, goal in (("crossencoder", 1.5), ("summac", 4.0)):
            if peer in results:
                t[f"engine_default_vs_{peer}>={goal:g}x"] = results[peer]["engine_default_speedup"] >= goal
    if "one_at_a_time" in results:
        t["engine_vs_one_at_a_time>=5x"] = results["one_at_a_time"]["engine_speedup"] >= 5.0
    if sweeps:
        t["time_linear_in_pairs(r2>=0.98)"] = sweeps["time_vs_pairs_fit"]["r2"] >= 0.98
    return t


def print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from harness.textsafe import cell, line

    m, w = report["meta"], report["workload"]
    emulated = " (bf16 EMULATED: not representative)" if m.get("bf16_emulated") and m["dtype"] == "bf16" else ""
    table = Table(title=cell(f"{m['model_name']} · {m['dtype']}{emulated} · {m['device']} · {w['pairs']} pairs "
                             f"({w['duplicate_fraction']:.1%} duplicates) · {w['name']}"))
    for col in ("strategy", "pairs/s", "pairs/cpu-s", "real tok/s", "useful", "fwd calls", "peak MB", "FLOP frac",
                "max|Δ| vs engine", "engine ×", "onnx ×", "default ×"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for name, r in report["strategies"].items():
        table.add_row(
            cell(name), f"{r['pairs_per_s']:.1f}", f"{r['pairs_per_cpu_s']:.1f}", f"{r['tokens_per_s']:.0f}",
            f"{r['useful_fraction']:.3f}",
            str(r["forward_calls"]), f"{r['peak_mb']:.0f}",
            "—" if r["flop_fraction"] is None else f"{r['flop_fraction']:.3f}",
            f"{r['max_abs_diff_vs_engine']:.1e}" + ("" if r["scores_match"] else " ✗"),
            f"{r.get('engine_speedup', float('nan')):.2f}", f"{r.get('engine_onnx_speedup', float('nan')):.2f}",
            f"{r.get('engine_default_speedup', float('nan')):.2f}",
        )
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(table)
    if m.get("cpu"):
        console.print(f"cpu: {format_cpu(m['cpu'])}")
    if report["sweeps"]:
        s = report["sweeps"]
        pts = ", ".join(f"{r['pairs']}→{r['time_s']:.2f}s" for r in s["time_vs_pairs"])
        console.print(f"time vs pairs: {pts}  (R²={s['time_vs_pairs_fit']['r2']:.4f})")
        pts = ", ".join(f"{r['doc_sentences']} sent→{r['time_s']:.2f}s" for r in s["time_vs_doc_sentences"])
        console.print(f"time vs doc length: {pts}  (R²={s['time_vs_doc_sentences_fit']['r2']:.4f})")
    for k, why in report.get("skipped", {}).items():
        console.print(line("skipped {}: {}", k, why))  # a model name or an error message: text
    console.print(f"load average at the end: {m['loadavg_end']}; matmul roofline {m['matmul_peak_flops'] / 1e9:.0f} "
                  f"GFLOP/s (torch {m['matmul_peak_torch_flops'] / 1e9:.0f}, onnxruntime "
                  f"{(m['matmul_peak_onnxruntime_flops'] or 0) / 1e9:.0f})")
    for k, ok in report.get("targets", {}).items():
        console.print(f"target {k}: {'[green]met' if ok else '[red]missed'}")
    console.print(f"scores match (tol {m['tolerance']:g}): {report['scores_match']}")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="harness bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=("minilm", "embedded", "deberta-base-shape", "deberta-large-shape", "tiny"),
                    default="minilm")
    ap.add_argument("--dtype", default="fp32", help="auto | fp32 | bf16 | fp16")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--token-budget", type=int, default=8192)
    ap.add_argument("--n-pairs", type=int, default=None, help="workload size (default 600; quick: 120)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", choices=("synthetic", "frank"), default="synthetic")
    ap.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES),
                    help=f"comma-separated, from {', '.join(STRATEGIES)} (default: all but engine_compile)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per strategy (default 2; quick: 1)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: all cores)")
    ap.add_argument("--tolerance", type=float, default=None, help="max |Δ| (default 1e-4 fp32, 5e-2 bf16)")
    ap.add_argument("--allow-emulated-bf16", action="store_true",
                    help="with --dtype bf16 on a CPU without native bf16: measure the bf16 strategies anyway "
                         "(flagged; by default they are skipped, being tens of times slower than fp32)")
    ap.add_argument("--no-sweep", dest="sweep", action="store_false")
    ap.add_argument("--quick", action="store_true", help="tiny workload, one repeat, 2-point sweeps")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench")
    ap.add_argument("--source-sweep", action="store_true",
                    help="instead: seconds per stage of `harness run` on one pair as the source grows 1 KB -> 1 MB "
                         "(options: --sizes, --variants, --sweep-timeout; see harness/bench/sources.py)")
    return ap


def main(argv: list[str] | None = None) -> int:
    """The cross-encoder bench (``harness bench`` without a subcommand); writes results/bench/<timestamp>.json."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    args.strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = set(args.strategies) - set(STRATEGIES)
    if unknown:
        raise SystemExit(f"unknown strategies: {sorted(unknown)}")
    if args.n_pairs is None:
        args.n_pairs = 120 if args.quick else 600
    if args.repeats is None:
        args.repeats = 1 if args.quick else 2
    report = run_benchmark(args)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"{stamp}.json"
    write_json_atomic(path, report)
    print_table(report)
    print(f"wrote {path}")
    return 0 if report["scores_match"] else 1
