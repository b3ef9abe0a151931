"""Source-length sweep: seconds per stage of a real ``harness run`` for one pair whose source grows from
1 KB to 1 MB (``harness bench --source-sweep``).

Each point is a separate ``python -m harness run`` process (the CLI a user runs; a point that passes
``--sweep-timeout`` is recorded as such instead of stalling the sweep). Stage seconds come from the run's
own run.json ``timings``; the report adds, per stage, the growth exponent between the two largest sizes
(1.0 = linear, 2.0 = quadratic). Variants: the overlap scorer with and without the default checks (the
off-topic check embeds with MiniLM), and the embedded NLI model (``/no-off-topic``: ``checks.off_topic=false``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["VARIANTS", "main", "make_pair", "run_sweep"]

VARIANTS: dict[str, dict[str, Any]] = {
    "overlap/no-off-topic": {"scorers": [{"type": "overlap"}], "checks": {"off_topic": False}},
    "overlap/default-checks": {"scorers": [{"type": "overlap"}]},
    "nli-embedded/no-off-topic": {"scorers": [{"type": "nli", "model": {"id": "embedded"}}],
                                  "checks": {"off_topic": False}},
    "nli-embedded/default-checks": {"scorers": [{"type": "nli", "model": {"id": "embedded"}}]},
}
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
STAGES = ("load_data", "load_models", "segment", "checks", "score", "aggregate", "total")


def make_pair(n_chars: int, seed: int = 0, n_claims: int = 5) -> dict[str, str]:
    """A news-like source of about ``n_chars`` characters (paragraphs of long-tailed sentences) and a short
    rewrite: ``n_claims`` sentences, most copied from the source, one with a changed number."""
    from harness.bench.workloads import sentence, sentence_words

    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    sentences: list[str] = []
    while size < n_chars:
        s = sentence(rng, sentence_words(rng))
        sentences.append(s)
        parts.append(s + ("\n\n" if rng.random() < 0.15 else " "))
        size += len(parts[-1])
    source = "".join(parts)[:n_chars].rstrip() + "."
    picked = [rng.choice(sentences[: max(1, len(sentences))]) for _ in range(n_claims)]
    picked[-1] = picked[-1].replace(picked[-1].split()[-1], "1999.") if picked else ""
    return {"id": f"src{n_chars}", "source": source, "rewrite": " ".join(picked)}


def _run_point(folder: Path, variant: dict[str, Any], n_chars: int, timeout: float) -> dict[str, Any]:
    data = folder / f"pair-{n_chars}.jsonl"
    data.write_text(json.dumps(make_pair(n_chars)) + "\n", encoding="utf-8")
    cfg = {"name": f"sweep{n_chars}", "data": {"type": "jsonl", "path": str(data)},
           "runtime": {"cache": None, "progress": False}, **variant}
    cfg_path = folder / f"run-{n_chars}.json"  # JSON is YAML
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    out = folder / f"out-{n_chars}"
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "harness", "run", str(cfg_path), "--output", str(out),
                               "--show-claims", "0"], capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HARNESS_PROGRESS_SECONDS": "1e9"})
    except subprocess.TimeoutExpired:
        return {"source_chars": n_chars, "status": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"source_chars": n_chars, "status": f"exit {proc.returncode}: {last}"}
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    rec = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {"source_chars": n_chars, "status": "ok", "process_s": round(wall, 2),
            "timings": rec["timings"], "counts": rec["counts"], "model_inputs": rec["engine"]["inputs"],
            "warnings": [w for w in rec["warnings"] if "premise units" in w]}


def _exponent(points: list[dict[str, Any]], stage: str) -> float | None:
    ok = [p for p in points if p.get("status") == "ok" and stage in p["timings"]]
    if len(ok) < 2:
        return None
    a, b = ok[-2], ok[-1]
    ta, tb = max(a["timings"][stage], 1e-3), max(b["timings"][stage], 1e-3)
    if tb < 0.05:  # too small to say anything
        return None
    return round(math.log(tb / ta) / math.log(b["source_chars"] / a["source_chars"]), 2)


def run_sweep(sizes: list[int], variants: list[str], timeout: float, log: Any = print) -> dict[str, Any]:
    report: dict[str, Any] = {"meta": {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                       "cpus": os.cpu_count(), "python": sys.version.split()[0],
                                       "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
                                       "sizes": sizes, "timeout_s": timeout},
                              "variants": {}}
    with tempfile.TemporaryDirectory(prefix="harness-source-sweep-") as tmp:
        for name in variants:
            points = []
            for n in sizes:
                folder = Path(tmp) / f"{len(report['variants'])}-{n}"
                folder.mkdir()
                p = _run_point(folder, VARIANTS[name], n, timeout)
                points.append(p)
                t = p.get("timings", {})
                log(f"{name} | {n:>9,} chars | {p['status']} | "
                    + " ".join(f"{k}={t[k]:.2f}" for k in STAGES if k in t))
            report["variants"][name] = {
                "points": points,
                "exponent_last_decade": {s: _exponent(points, s) for s in STAGES},
            }
    return report


def print_table(report: dict[str, Any]) -> None:
    """A markdown table (pasted into BENCHMARK.md as is)."""
    print("| variant | source | premises | model inputs | " + " | ".join(STAGES) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(STAGES))
    for name, v in report["variants"].items():
        for p in v["points"]:
            size = f"{p['source_chars'] / 1000:,.0f} KB"
            if p["status"] != "ok":
                print(f"| {name} | {size} | | | {p['status']} |" + " |" * (len(STAGES) - 1))
                continue
            t = p["timings"]
            cells = [f"{t[s]:.2f}" if s in t else "–" for s in STAGES]
            print(f"| {name} | {size} | {p['counts']['premises']:,} | {p['model_inputs']:,} | " + " | ".join(cells)
                  + " |")
        ex = v["exponent_last_decade"]
        print(f"| {name} | growth exponent, last decade | | | "
              + " | ".join("–" if ex[s] is None else f"{ex[s]:.2f}" for s in STAGES) + " |")


def main(argv: list[str]) -> int:
    from harness.bench.core import REPO_ROOT, write_json_atomic

    ap = argparse.ArgumentParser(prog="harness bench --source-sweep", description=__doc__.split("\n\n")[0])
    ap.add_argument("--source-sweep", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="source sizes in characters")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated subset of {','.join(VARIANTS)}")
    ap.add_argument("--sweep-timeout", type=float, default=600.0, help="seconds per point (default 600)")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"error: unknown variant(s) {unknown}; allowed: {list(VARIANTS)}", file=sys.stderr)
        return 2
    report = run_sweep(sizes, names, args.sweep_timeout)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.out / f"source-sweep-{stamp}.json"
    write_json_atomic(path, report)
    print_table(report)
    print(f"wrote {path}")
    return 0
