"""Scale benchmark of the block pipeline: peak memory against the number of pairs, and local vs Ray.

Also reachable as ``harness bench rss ...`` / ``harness bench executors ...``.

``python -m harness.bench.scale rss --pairs 10000 100000``: each size is one ``harness run`` in a fresh
process (overlap scorer, default checks with the names-only off-topic rule) on synthetic labelled pairs;
peak RSS comes from the kernel (``wait4``); the ratio largest/smallest must stay <= 1.3 (memory does not
grow with the number of pairs).

``python -m harness.bench.scale executors --pairs 2000``: the same run with ``runtime.executor`` local and
ray (a local Ray instance started by the run, as a user would), pairs/s and the Ray overhead in percent; per
Ray run the blocks, busy and idle seconds of each actor (from run.json ``executor``), and the throughput of the
widest pool over the narrowest (``--actors 1 2``).

Both print a table and write JSON (``--json FILE``). Numbers depend on the machine and its load: rerun them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "synthetic_pairs"]

_WORDS = ("the council approved a new budget for schools and roads after a long debate on monday while "
          "critics said taxes would rise and the mayor promised to review spending in the harbour district "
          "where storms damaged the old bridge last winter and police closed the market for two days").split()


def _sentence(rng: random.Random, lo: int = 6, hi: int = 18) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))).capitalize() + "."


def synthetic_pairs(path: Path, n: int, seed: int = 0) -> Path:
    """``n`` labelled English pairs as JSONL: an 8-sentence source, a 3-sentence rewrite that copies source
    sentences (label 1) or invents one (label 0). Written line by line (no list of n rows)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            source = [_sentence(rng) for _ in range(8)]
            rewrite = rng.sample(source, 3)
            if i % 2:
                rewrite[1] = "Officials in Lisbon denied every report about the volcano."
            fh.write(json.dumps({"id": f"s{i}", "source": " ".join(source), "rewrite": " ".join(rewrite),
                                 "label": 1 - i % 2}) + "\n")
    return path


SCORERS = {
    "overlap": "[{type: overlap}]",
    "nli": "[{type: nli, premise_top_k: 2}]",
}
"""Workloads: ``overlap`` is model-free (the executor's own costs dominate); ``nli`` is the embedded
cross-encoder, each claim against its 2 best premise units (a model-bound workload)."""


def _config(folder: Path, data: Path, executor: str, block_pairs: int, actors: int | None,
            scorer: str = "overlap", threads: int | None = None) -> Path:
    cfg = folder / f"bench-{executor}.yaml"
    ray = f", ray: {{actors: {actors}}}" if actors else ""
    ray += f", threads: {threads}" if threads else ""
    cfg.write_text(f"""
name: scale-{executor}
data: {{name: synthetic, type: jsonl, path: {data}, role: dev}}
checks: {{off_topic_encoder: false}}
scorers: {SCORERS[scorer]}
runtime: {{executor: {executor}, cache: null, progress: false, block_pairs: {block_pairs}{ray}}}
""", encoding="utf-8")
    return cfg


def _run(cfg: Path, out: Path) -> dict[str, Any]:
    """One ``harness run`` in a fresh process: wall seconds and peak RSS (MiB) of that process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(cfg), "--output", str(out),
                             "--show-claims", "0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"run failed ({status}): {err[-2000:]}")
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "pairs": record["counts"]["pairs"], "timings": record["timings"], "folder": str(folder),
            "executor": record.get("executor", {})}


def bench_rss(sizes: list[int], block_pairs: int, work: Path) -> dict[str, Any]:
    rows = []
    for n in sizes:
        data = synthetic_pairs(work / f"pairs-{n}.jsonl", n)
        r = _run(_config(work, data, "local", block_pairs, None), work / f"out-rss-{n}")
        rows.append({"pairs": n, **{k: r[k] for k in ("wall_s", "peak_rss_mib")},
                     "pairs_per_s": round(n / r["wall_s"], 1)})
        print(f"{n:>8} pairs  peak RSS {r['peak_rss_mib']:8.1f} MiB  {r['wall_s']:8.1f} s", flush=True)
    ratio = rows[-1]["peak_rss_mib"] / rows[0]["peak_rss_mib"]
    print(f"peak RSS ratio {sizes[-1]} / {sizes[0]} pairs: {ratio:.3f} (target <= 1.3)")
    return {"rows": rows, "rss_ratio": round(ratio, 3), "target": 1.3}


def bench_executors(n: int, block_pairs: int, actors: list[int], work: Path, scorer: str = "overlap",
                    threads: int | None = None) -> dict[str, Any]:
    data = synthetic_pairs(work / f"pairs-{n}.jsonl", n)
    local = _run(_config(work, data, "local", block_pairs, None, scorer, threads), work / "out-local")
    rows = [{"executor": "local", "actors": 1, "wall_s": local["wall_s"], "pairs_per_s": round(n / local["wall_s"], 1),
             "timings": local["timings"]}]
    print(f"local          {n / local['wall_s']:8.1f} pairs/s  ({local['wall_s']} s)", flush=True)
    same = True
    for a in actors:
        r = _run(_config(work, data, "ray", block_pairs, a, scorer, threads), work / f"out-ray-{a}")
        for f in ("claims.jsonl", "pairs.jsonl"):
            same &= (Path(r["folder"]) / f).read_bytes() == (Path(local["folder"]) / f).read_bytes()
        overhead = (r["wall_s"] - local["wall_s"]) / local["wall_s"] * 100
        per_actor = r["executor"].get("per_actor", [])
        rows.append({"executor": "ray", "actors": a, "wall_s": r["wall_s"], "pairs_per_s": round(n / r["wall_s"], 1),
                     "timings": r["timings"], "overhead_pct": round(overhead, 1), "per_actor": per_actor,
                     "actors_busy": sum(1 for x in per_actor if x["blocks"])})
        print(f"ray ({a} actors) {n / r['wall_s']:8.1f} pairs/s  ({r['wall_s']} s)  overhead {overhead:+.1f} %",
              flush=True)
        for x in per_actor:  # did every actor work to the end? (one block in flight per actor)
            print(f"    actor {x['actor']}: {len(x['blocks'])} blocks, busy {x['busy_s']:.1f} s, idle "
                  f"{x['idle_s']:.1f} s, restarts {x['restarts']}", flush=True)
    ray_rows = [r for r in rows if r["executor"] == "ray"]
    if len(ray_rows) > 1:  # throughput of the widest pool over the narrowest: what adding actors bought
        lo, hi = min(ray_rows, key=lambda r: r["actors"]), max(ray_rows, key=lambda r: r["actors"])
        speedup = round(hi["pairs_per_s"] / lo["pairs_per_s"], 2)
        print(f"ray {hi['actors']} actors / {lo['actors']} actor(s): {speedup}x pairs/s")
    else:
        speedup = None
    print(f"ray files identical to local: {same}")
    return {"pairs": n, "block_pairs": block_pairs, "scorer": scorer, "threads": threads, "rows": rows,
            "identical": same, "target_overhead_pct": 15, "actor_speedup": speedup}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.bench.scale", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("rss", help="peak RSS against the number of pairs (local executor)")
    r.add_argument("--pairs", type=int, nargs="+", default=[10_000, 100_000])
    e = sub.add_parser("executors", help="pairs/s of local vs ray on one workload")
    e.add_argument("--pairs", type=int, default=2000)
    e.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    e.add_argument("--scorer", choices=sorted(SCORERS), default="overlap")
    e.add_argument("--threads", type=int, default=None,
                   help="runtime.threads for both executors (default: local = all cores, ray = 1 per actor)")
    for p in (r, e):
        p.add_argument("--block-pairs", type=int, default=256)
        p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="harness-bench-scale-") as tmp:
        work = Path(tmp)
        if args.what == "rss":
            report = bench_rss(sorted(args.pairs), args.block_pairs, work)
        else:
            report = bench_executors(args.pairs, args.block_pairs, args.actors, work, args.scorer, args.threads)
    report.update({"load_avg": list(os.getloadavg()), "cpus": os.cpu_count(), "argv": sys.argv[1:]})
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
