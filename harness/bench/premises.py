"""``harness bench premises``: what a premise-selection setting costs per pair, as ratios from one process.

Every variant is the config's first ``nli`` scorer with some of its keys changed; all variants are the same
run, made by the local executor without writing (checks off, no output cache: each repeat computes
everything), interleaved over ``--repeats``. Per variant: unique model inputs, model tokens, engine calls and
seconds of scoring (run.json ``timings.score``, best repeat) — each also as a ratio to the first variant — and
the first labelled dataset's ROC-AUC (a sanity check, not a substitute for ``harness compare``)::

    harness bench premises --config configs/frank_dev.yaml --limit 300
    harness bench premises --config configs/dev_suite.yaml --variant k2:premise_top_k=2,premise_stop_above=null

The built-in variants: ``top3`` (three windows, nothing else: the default the judge-quality issue measured),
``one-pass`` (today's selection without passes), ``default`` (the config as it is), and, asked for by name,
``fusion`` (the English fusion head on top: no model inputs of its own) and ``embedded-large`` (the 110M model with
the same selection: its cost per pair beside the default; needs ``pip install -e ".[large]"`` and a delta).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["VARIANTS", "main", "measure"]

VARIANTS: dict[str, dict[str, Any]] = {
    "top3": {"premise_stop_above": None, "premise_widen_below": None, "sentence_premises_above": None},
    "one-pass": {"premise_stop_above": None},
    "default": {},
    "fusion": {"fusion": True},
    "embedded-large": {"model": {"id": "embedded-large"}},
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


def _variant_config(base: Any, changes: dict[str, Any], limit: int | None, threads: int | None) -> Any:
    """The base run config with only its first ``nli`` scorer, ``changes`` applied, checks off, no cache, local,
    and at most ``limit`` pairs per dataset."""
    from harness.config import RunConfig

    data = base.model_dump(mode="json")
    nli = [s for s in data["scorers"] if s["type"] == "nli"]
    if not nli:
        raise ValueError("the config has no nli scorer")
    data["scorers"] = [{**nli[0], **changes}]
    data["checks"] = {**data["checks"], "claim_worthiness": False, "quotes": False, "off_topic": False}
    data["runtime"] = {**data["runtime"], "cache": None, "progress": False, "executor": "local",
                       **({"threads": threads} if threads else {})}
    if limit:
        data["data"] = [{**d, "limit": min(limit, d.get("limit") or limit)} for d in data["data"]]
    return RunConfig.model_validate(data)


def measure(cfg: Any) -> dict[str, Any]:
    """One run of ``cfg`` without writing: seconds of scoring, engine counters, pairs and the ROC-AUC of the
    first dataset with one."""
    from harness.executors import run

    rec = run(cfg, write=False).record
    name = rec.scorers[0].name
    aucs = [m[name]["roc_auc"] for ds, m in rec.metrics.items() if ds != "macro" and "roc_auc" in m.get(name, {})]
    return {"seconds": rec.timings["score"], "pairs": rec.counts["pairs"],
            **{k: rec.engine.get(k, 0) for k in ("unique", "real_tokens", "forward_calls")},
            "roc_auc": aucs[0] if aucs else float("nan")}


def main(argv: list[str] | None = None) -> int:
    from harness.config import load_config

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
    base = load_config(args.config)
    configs = {name: _variant_config(base, changes, args.limit, args.threads) for name, changes in variants.items()}
    best: dict[str, dict[str, Any]] = {}
    for _ in range(args.repeats):  # interleaved: each repeat runs every variant once
        for name, cfg in configs.items():
            m = measure(cfg)
            if name not in best or m["seconds"] < best[name]["seconds"]:
                best[name] = m
    ref = next(iter(best.values()))
    rows = [{"variant": name, "changes": variants[name], **m,
             "tokens_ratio": m["real_tokens"] / max(ref["real_tokens"], 1),
             "seconds_ratio": m["seconds"] / max(ref["seconds"], 1e-9)} for name, m in best.items()]
    print(f"{rows[0]['pairs']} pairs from {args.config}; ratios against '{rows[0]['variant']}'; "
          f"best of {args.repeats} interleaved repeat(s)")
    print(f"{'variant':<14}{'unique':>9}{'tokens':>11}{'× tokens':>10}{'calls':>7}{'seconds':>9}{'× s':>7}"
          f"{'ROC-AUC':>9}")
    for r in rows:
        print(f"{r['variant']:<14}{r['unique']:>9}{r['real_tokens']:>11}{r['tokens_ratio']:>10.2f}"
              f"{r['forward_calls']:>7}{r['seconds']:>9.1f}{r['seconds_ratio']:>7.2f}{r['roc_auc']:>9.3f}")
    if args.json:
        args.json.write_text(json.dumps({"config": args.config, "rows": rows}, indent=2) + "\n")
    return 0
