"""Pair ROC-AUC (and twin wins for grouped datasets) of one run's claim scores under several pair aggregations.

Answers "would another way of turning claim scores into a pair score rank better?" from a finished run,
without rescoring: the claim scores are in claims.jsonl. Optionally per value of a field in the dataset's
own file (FRANK's ``origin``), since an overall AUC over mixed origins mostly measures the origins apart.

    python scripts/aggregation_auc.py results/RUN [--scorer nli] \
        [--by-field origin --data ../shared/data/dev/frank_valid.jsonl --dataset frank_valid]
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

AGGREGATIONS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda v: float(v.mean()),
    "min": lambda v: float(v.min()),
    "logit_mean": lambda v: float(np.log(np.clip(v, 1e-4, 1 - 1e-4) / (1 - np.clip(v, 1e-4, 1 - 1e-4))).mean()),
    "mean_and_min": lambda v: float(0.5 * v.mean() + 0.5 * v.min()),
    "lowest_two": lambda v: float(np.sort(v)[:2].mean()),
    "p25": lambda v: float(np.quantile(v, 0.25)),
}


def _rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--scorer", default="nli")
    ap.add_argument("--by-field", default=None, help="also split --dataset's rows by this field of --data")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--dataset", default=None)
    args = ap.parse_args(argv)
    claims: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in _rows(args.run / "claims.jsonl"):
        if c["scorer"] == args.scorer and c["score"] is not None:
            claims[(c["dataset"], c["pair_id"])].append(float(c["score"]))
    pairs = {(p["dataset"], p["pair_id"]): p for p in _rows(args.run / "pairs.jsonl")}
    subsets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, p in pairs.items():
        if key in claims and p.get("gold_label") is not None:
            subsets[key[0]].append(key)
    if args.by_field and args.data and args.dataset:
        value = {str(r["id"]): r.get(args.by_field) for r in _rows(args.data)}
        for key in list(subsets.get(args.dataset, [])):
            subsets[f"{args.dataset} {args.by_field}={value.get(key[1])}"].append(key)
    print("subset".ljust(34) + "".join(name.rjust(13) for name in AGGREGATIONS))
    for name, keys in subsets.items():
        gold = [pairs[k]["gold_label"] for k in keys]
        if len(set(gold)) < 2:
            continue
        cells = []
        for agg in AGGREGATIONS.values():
            scores = [agg(np.array(claims[k])) for k in keys]
            cell = f"{roc_auc_score(gold, scores):.3f}"
            twins: dict[str, dict[float, float]] = defaultdict(dict)
            for k, s in zip(keys, scores, strict=True):
                if pairs[k].get("group") is not None:
                    twins[pairs[k]["group"]][pairs[k]["gold_label"]] = s
            wins = [(t[1] > t[0]) + 0.5 * (t[1] == t[0]) for t in twins.values() if 0 in t and 1 in t]
            if wins:
                cell += f"/{np.mean(wins):.3f}"
            cells.append(cell.rjust(13))
        print(f"{name} (n={len(keys)})".ljust(34) + "".join(cells))
    print("cells: ROC-AUC, or ROC-AUC/twin wins for grouped datasets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
