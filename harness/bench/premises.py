"""``harness bench premises``: what a premise-selection setting costs per pair, as ratios from one process.

Every variant is the config's first ``nli`` scorer with some of its keys changed; all variants score the same
pairs through the real stages (segmentation, the scorer, the engine; checks off, no output cache), interleaved
over ``--repeats``, each repeat with a fresh engine so nothing is remembered between them. Per variant: unique
model inputs, model tokens, engine calls, seconds of scoring (best repeat) — each also as a ratio to the first
variant — and the pair ROC-AUC where the data has labels (a sanity check, not a substitute for
``harness compare``)::

    harness bench premises --config configs/frank_dev.yaml --limit 300
    harness bench premises --config configs/dev_suite.yaml --variant k2:premise_top_k=2,premise_stop_above=null

The built-in variants: ``top3`` (three windows, nothing else: the default the judge-quality issue measured),
``one-pass`` (today's selection without passes) and ``default`` (the config as it is).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

__all__ = ["VARIANTS", "main", "measure"]

VARIANTS: dict[str, dict[str, Any]] = {
    "top3": {"premise_stop_above": None, "premise_widen_below": None, "sentence_premises_above": None},
    "one-pass": {"premise_stop_above": None},
    "default": {},
}
"""Built-in variants: changes to the config's ``nli`` scorer."""


def _parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``name:key=value,key=value`` (values as YAML: ``null``, numbers) -> (name, changes)."""
    import yaml

    name, _, body = text.partition(":")
    if not name or not body:
        raise ValueError(f"--variant {text!r}: expected name:key=value[,key=value]")
    changes = {}
    for item in body.split(","):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"--variant {text!r}: {item!r} is not key=value")
        changes[key.strip()] = yaml.safe_load(value)
    return name, changes


def _variant_config(base: Any, changes: dict[str, Any], threads: int | None) -> Any:
    """The base run config with only its first ``nli`` scorer, ``changes`` applied, checks off, no cache."""
    from harness.config import RunConfig

    data = base.model_dump(mode="json")
    nli = [s for s in data["scorers"] if s["type"] == "nli"]
    if not nli:
        raise ValueError("the config has no nli scorer")
    data["scorers"] = [{**nli[0], **changes}]
    data["checks"] = {**data["checks"], "claim_worthiness": False, "quotes": False, "off_topic": False}
    data["runtime"] = {**data["runtime"], "cache": None, "progress": False,
                       **({"threads": threads} if threads else {})}
    data["combine"] = {**data.get("combine", {}), "enabled": False}
    return RunConfig.model_validate(data)


def measure(cfg: Any, pairs: list[Any], block_pairs: int) -> dict[str, Any]:
    """Score ``pairs`` once with a fresh context: seconds of scoring, engine counters and pair scores."""
    from harness.stages import build_context, score_block

    ctx = build_context(cfg, cache=None, progress=False)
    totals: dict[str, float] = {}
    scores: dict[str, float] = {}
    t = time.perf_counter()
    for start in range(0, len(pairs), block_pairs):
        out = score_block(ctx, pairs[start:start + block_pairs])
        for key in ("unique", "real_tokens", "forward_calls", "inputs"):
            totals[key] = totals.get(key, 0) + out.stats["engine"].get(key, 0)
        for row in out.pairs:
            score = row["scores"].get(ctx.scorers[0].name, {}).get("score")
            if score is not None:
                scores[row["pair_id"]] = score
    return {"seconds": time.perf_counter() - t, **totals, "scores": scores}


def main(argv: list[str] | None = None) -> int:
    from harness.config import load_config
    from harness.data import load_pairs
    from harness.engine.device import set_threads
    from harness.evaluation.metrics import roc_auc

    ap = argparse.ArgumentParser(prog="harness bench premises", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="a run config with an nli scorer and its datasets")
    ap.add_argument("--limit", type=int, default=None, help="first N pairs of each dataset (default: all)")
    ap.add_argument("--variants", default="top3,one-pass,default",
                    help=f"built-in variants, comma-separated, the first is the reference ({', '.join(VARIANTS)})")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                    help="a variant of your own (repeatable), after the built-in ones")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)

    variants: dict[str, dict[str, Any]] = {}
    for name in [v for v in args.variants.split(",") if v]:
        if name not in VARIANTS:
            ap.error(f"unknown variant {name!r}; built-in: {', '.join(VARIANTS)}")
        variants[name] = VARIANTS[name]
    for text in args.variant:
        try:
            name, changes = _parse_variant(text)
        except ValueError as exc:
            ap.error(str(exc))
        variants[name] = changes
    if not variants:
        ap.error("no variants")
    set_threads(args.threads)
    base = load_config(args.config)
    configs = {name: _variant_config(base, changes, args.threads) for name, changes in variants.items()}
    pairs = [p for ds in base.data for p in load_pairs(ds)[0][: args.limit]]
    labels = {p.id: p.label for p in pairs if p.label is not None}
    block = base.runtime.block_pairs
    best: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeats):  # interleaved: each repeat runs every variant once
        for name, cfg in configs.items():
            m = measure(cfg, pairs, block)
            if name not in best or m["seconds"] < best[name]["seconds"]:
                best[name] = m
    ref = next(iter(best.values()))
    rows = []
    for name, m in best.items():
        ids = [i for i in m["scores"] if i in labels]
        auc = (roc_auc([1.0 if labels[i] >= 0.5 else 0.0 for i in ids], [m["scores"][i] for i in ids])
               if ids else float("nan"))
        rows.append({"variant": name, "changes": variants[name], "pairs": len(pairs),
                     **{k: m[k] for k in ("unique", "real_tokens", "forward_calls", "seconds")},
                     "tokens_ratio": m["real_tokens"] / max(ref["real_tokens"], 1),
                     "seconds_ratio": m["seconds"] / max(ref["seconds"], 1e-9), "roc_auc": auc})
    print(f"{len(pairs)} pairs from {args.config}; ratios against '{rows[0]['variant']}'; "
          f"best of {args.repeats} interleaved repeat(s)")
    print(f"{'variant':<14}{'unique':>9}{'tokens':>11}{'× tokens':>10}{'calls':>7}{'seconds':>9}{'× s':>7}"
          f"{'ROC-AUC':>9}")
    for r in rows:
        print(f"{r['variant']:<14}{r['unique']:>9}{r['real_tokens']:>11}{r['tokens_ratio']:>10.2f}"
              f"{r['forward_calls']:>7}{r['seconds']:>9.1f}{r['seconds_ratio']:>7.2f}{r['roc_auc']:>9.3f}")
    if args.json:
        args.json.write_text(json.dumps({"config": args.config, "rows": rows}, indent=2) + "\n")
    return 0
