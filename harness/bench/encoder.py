"""``harness bench encoder``: the multilingual sentence encoder's throughput and the seed run end to end.

One process, interleaved repeats: sentences/s of the encoder through the engine (dedup, token-budget
batches, no cache) against the package's own ``USE.encode`` on the same sentences, with the vectors checked
equal; then the shipped seed config run end to end without the cache, with seconds per stage from its
``run.json``. Sentences are the seed pair's (German and English) plus synthetic news-like ones, so the
workload has realistic lengths. Writes ``results/bench/encoder-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from harness.bench.core import REPO_ROOT, write_json_atomic

__all__ = ["main"]


def _sentences(n: int, seed: int) -> list[str]:
    from harness.segment import split_sentences

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO_ROOT / "seeds").glob("*.txt"))]
    base = [s.text for t in texts for s in split_sentences(t) if len(s.text) > 20]
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:  # recombine seed sentences into new, distinct ones of similar length
        a, b = rng.choice(base), rng.choice(base)
        out.append(f"{a[: len(a) // 2]} {b[len(b) // 2:]}")
    return out


def _time(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from harness.engine import Engine
    from harness.engine.sentence_encoder import embed, multilingual_encoder

    enc = multilingual_encoder()
    sents = _sentences(args.n_sentences, args.seed)
    tokens = sum(len(enc.encode((s,))) for s in sents)
    times: dict[str, list[float]] = {"engine": [], "package": []}
    vecs: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        dt_e, vecs["engine"] = _time(lambda: embed(Engine(args.token_budget, prefetch=False), enc, sents))
        times["engine"].append(dt_e)
        dt_p, vecs["package"] = _time(lambda: enc._use.encode(sents))
        times["package"].append(dt_p)
    best = {k: min(v) for k, v in times.items()}
    diff = float(np.abs(vecs["engine"] - vecs["package"]).max())
    report: dict[str, Any] = {
        "encoder": {
            "sentences": len(sents), "tokens": tokens, "repeats": args.repeats,
            "sentences_per_s": {k: len(sents) / v for k, v in best.items()},
            "engine_vs_package": best["package"] / best["engine"], "max_abs_diff": diff,
        }
    }
    if args.seed_run:
        from harness.__main__ import main as cli

        with tempfile.TemporaryDirectory() as tmp:
            wall, code = _time(lambda: cli(["run", str(REPO_ROOT / "configs" / "seed.yaml"), "--output", tmp,
                                            "--no-cache", "--show-claims", "0"]))
            (folder,) = [p for p in Path(tmp).iterdir() if p.is_dir()]
            rec = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        report["seed_run"] = {"exit_code": code, "wall_s": wall, "timings": rec["timings"],
                              "routes": rec.get("routes", {}), "model_inputs": rec["engine"].get("inputs")}
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="harness bench encoder", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-sentences", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--token-budget", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-seed-run", dest="seed_run", action="store_false")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench")
    args = ap.parse_args(argv)
    report = run(args)
    e = report["encoder"]
    print(f"encoder: {e['sentences']} sentences ({e['tokens']} tokens), best of {e['repeats']}: "
          f"engine {e['sentences_per_s']['engine']:.0f}/s, package {e['sentences_per_s']['package']:.0f}/s "
          f"(engine x{e['engine_vs_package']:.2f}), max |diff| {e['max_abs_diff']:.1e}")
    if "seed_run" in report:
        s = report["seed_run"]
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in s["timings"].items())
        print(f"seed run end to end: {s['wall_s']:.1f}s wall ({stages}); routes {s['routes']}")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"encoder-{stamp}.json"
    write_json_atomic(path, report)
    print(f"wrote {path}")
    return 0 if e["max_abs_diff"] < 1e-4 else 1
