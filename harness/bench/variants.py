"""Scorer variants of one run config, measured in one process: the machinery of ``harness bench premises`` and
``harness bench qa``.

A variant is one scorer of the config (the first of its type) with some keys changed; the run keeps only that
scorer, turns checks and the output cache off (each repeat computes everything) and runs locally without
writing. Variants are interleaved over ``--repeats`` and the best repeat kept, so the ratios between them come
from the same process and the same machine state.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["Variant", "add_arguments", "chosen_variants", "measure", "parse_variant", "print_rows", "run_variants",
           "variant_config"]

Variant = tuple[str, dict[str, Any]]
"""(scorer type, changes to that scorer's config)."""


def parse_variant(text: str, scorer_type: str = "nli") -> tuple[str, Variant]:
    """``name:key=value,key=value`` (values as YAML: ``null``, numbers) -> (name, (scorer type, changes)); a
    ``type=qa`` item picks another scorer of the config."""
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
    return name, (str(changes.pop("type", scorer_type)), changes)


def add_arguments(ap: argparse.ArgumentParser, builtin: Mapping[str, Variant], default: str, own: str) -> None:
    """The options every variant bench takes: ``--limit --variants --variant --repeats --threads --json``."""
    ap.add_argument("--limit", type=int, default=None, help="first N pairs of each dataset (default: all)")
    ap.add_argument("--variants", default=default,
                    help=f"built-in variants, comma-separated, the first is the reference ({', '.join(builtin)})")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE[,KEY=VALUE]",
                    help=f"a variant of your own (repeatable), after the built-in ones; {own}")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")


def chosen_variants(ap: argparse.ArgumentParser, args: argparse.Namespace, builtin: Mapping[str, Variant],
                    scorer_type: str) -> dict[str, Variant]:
    """``--variants`` (built-in names) then ``--variant`` (own), in order; a bad one is a usage error."""
    variants: dict[str, Variant] = {}
    for name in [v for v in args.variants.split(",") if v]:
        if name not in builtin:
            ap.error(f"unknown variant {name!r}; built-in: {', '.join(builtin)}")
        variants[name] = builtin[name]
    for text in args.variant:
        try:
            name, variant = parse_variant(text, scorer_type)
        except ValueError as exc:
            ap.error(str(exc))
        variants[name] = variant
    if not variants:
        ap.error("no variants")
    return variants


def variant_config(base: Any, variant: Variant, limit: int | None, threads: int | None) -> Any:
    """The base run config with only its first scorer of the variant's type, the changes applied, checks off, no
    cache, local, and at most ``limit`` pairs per dataset."""
    from harness.config import RunConfig

    scorer_type, changes = variant
    data = base.model_dump(mode="json")
    chosen = [s for s in data["scorers"] if s["type"] == scorer_type]
    if not chosen:
        raise ValueError(f"the config has no {scorer_type} scorer")
    data["scorers"] = [{**chosen[0], **changes}]
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
            **{k: rec.engine.get(k, 0) for k in ("inputs", "unique", "real_tokens", "forward_calls")},
            "roc_auc": aucs[0] if aucs else float("nan")}


def run_variants(base: Any, variants: dict[str, Variant], *, limit: int | None, threads: int | None,
                 repeats: int) -> list[dict[str, Any]]:
    """Every variant measured ``repeats`` times, interleaved; the best repeat of each, with ratios to the first."""
    configs = {name: variant_config(base, v, limit, threads) for name, v in variants.items()}
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for name, cfg in configs.items():
            m = measure(cfg)
            if name not in best or m["seconds"] < best[name]["seconds"]:
                best[name] = m
    ref = next(iter(best.values()))
    return [{"variant": name, "scorer": variants[name][0], "changes": variants[name][1], **m,
             "pairs_per_s": m["pairs"] / max(m["seconds"], 1e-9),
             "inputs_ratio": m["unique"] / max(ref["unique"], 1),
             "tokens_ratio": m["real_tokens"] / max(ref["real_tokens"], 1),
             "seconds_ratio": m["seconds"] / max(ref["seconds"], 1e-9)} for name, m in best.items()]


def print_rows(rows: list[dict[str, Any]], config: str, repeats: int, json_path: Path | None) -> None:
    """The table (and, with ``json_path``, the rows as JSON)."""
    print(f"{rows[0]['pairs']} pairs from {config}; ratios against '{rows[0]['variant']}'; "
          f"best of {repeats} interleaved repeat(s)")
    print(f"{'variant':<16}{'unique':>9}{'× in':>7}{'tokens':>11}{'× tokens':>10}{'calls':>7}{'seconds':>9}"
          f"{'× s':>7}{'pairs/s':>9}{'ROC-AUC':>9}")
    for r in rows:
        print(f"{r['variant']:<16}{r['unique']:>9}{r['inputs_ratio']:>7.2f}{r['real_tokens']:>11}"
              f"{r['tokens_ratio']:>10.2f}{r['forward_calls']:>7}{r['seconds']:>9.1f}{r['seconds_ratio']:>7.2f}"
              f"{r['pairs_per_s']:>9.2f}{r['roc_auc']:>9.3f}")
    if json_path:
        json_path.write_text(json.dumps({"config": config, "rows": rows}, indent=2) + "\n")
