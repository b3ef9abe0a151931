"""How NLI and QA should be combined, chosen by ranking: pair ROC-AUC per origin of a labelled set, and the
mean over origins (FRANK-valid: CNN/DM and XSum), for every weight of the mean and for two claim-level rules,
each against NLI alone with a paired bootstrap interval (resampling pairs within each origin).

The rules (claim level, then the pair score as the NLI scorer aggregates: the mean over checkable claims):

* ``mean w``: the pair score ``w * NLI + (1 - w) * QA`` (QA's pair score over the claims it could check; a pair
  without one keeps NLI's) — what ``combine`` computes;
* ``veto t``: a claim NLI calls supported keeps NLI's score unless QA's score is below ``t`` (QA's scores run
  low: its threshold tuned on FRANK-valid is near 0.12, not 0.5), then it takes the lower of the two; claims QA
  cannot check keep NLI's.

Reads one run folder with ``nli`` and ``qa`` scorers (claims.jsonl, pairs.jsonl) and the dataset's file for the
origin field; with ``--twins`` (minimal pairs: BUMP) it reports twin wins instead (the faithful twin scored above
the edited one; ties count half), resampling twin pairs::

    python scripts/combined_weights.py RUN --data ../shared/data/dev/frank_valid.jsonl --dataset frank_valid
    python scripts/combined_weights.py RUN --twins --dataset bump
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.evaluation.metrics import auc_rows


def _load(run: Path, dataset: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, list[dict[str, Any]]]]]:
    pairs = {}
    for line in (run / "pairs.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["dataset"] == dataset and r["gold_label"] is not None:
            pairs[r["pair_id"]] = r
    claims: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for line in (run / "claims.jsonl").read_text().splitlines():
        c = json.loads(line)
        if c["pair_id"] in pairs:
            claims[c["pair_id"]][c["scorer"]].append(c)
    return pairs, claims


def _veto(nli: list[dict[str, Any]], qa: list[dict[str, Any]], below: float) -> float | None:
    by_index = {c["claim_index"]: c for c in qa}
    values = []
    for c in nli:
        if c["label"] == "not_checkable" or c["score"] is None:
            continue
        q = by_index.get(c["claim_index"])
        score = c["score"]
        if q is not None and q["score"] is not None and q["score"] < below and c["label"] == "supported":
            score = min(score, q["score"])
        values.append(score)
    return sum(values) / len(values) if values else None


def variants(pairs: dict[str, dict[str, Any]], claims: Any, weights: list[float],
             vetoes: list[float]) -> dict[str, dict[str, float]]:
    """pair id -> score, per variant name."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for pid, r in pairs.items():
        s = r["scores"]
        nli, qa = s["nli"]["score"], s["qa"]["score"]
        if nli is None:
            continue
        out["nli"][pid] = nli
        out["qa (NLI where none)"][pid] = qa if qa is not None else nli
        if "overlap" in s and s["overlap"]["score"] is not None:
            out["overlap"][pid] = s["overlap"]["score"]
        for w in weights:
            out[f"mean w={w:.2f}"][pid] = nli if qa is None else w * nli + (1 - w) * qa
        for t in vetoes:
            veto = _veto(claims[pid]["nli"], claims[pid]["qa"], t)
            out[f"veto t={t:.2f}"][pid] = nli if veto is None else veto
    return out


def twin_report(pairs: dict[str, dict[str, Any]], scores: dict[str, dict[str, float]], n_boot: int,
                seed: int) -> list[dict[str, Any]]:
    """Twin wins per variant, and its difference from NLI alone with a bootstrap interval over twin pairs."""
    twins: dict[str, dict[int, str]] = defaultdict(dict)
    for pid, r in pairs.items():
        if r.get("group") is not None:
            twins[str(r["group"])][int(r["gold_label"] >= 0.5)] = pid
    groups = [g for g, t in twins.items() if len(t) == 2 and all(t[k] in scores["nli"] for k in (0, 1))]
    rng = np.random.default_rng(seed)
    boot = rng.integers(0, len(groups), size=(n_boot, len(groups)))

    def wins(name: str) -> np.ndarray:
        s = scores[name]
        return np.array([1.0 if s[twins[g][1]] > s[twins[g][0]] else 0.5 if s[twins[g][1]] == s[twins[g][0]]
                         else 0.0 for g in groups])

    ref = wins("nli")
    print(f"{len(groups)} twin pairs")
    print(f"{'variant':<22}{'twin wins':>10}{'Δ vs nli (95%)':>24}")
    rows = []
    for name in scores:
        w = wins(name)
        d = (w - ref)[boot].mean(axis=1)
        lo, hi = np.percentile(d, [2.5, 97.5])
        rows.append({"variant": name, "twin_wins": float(w.mean()), "delta": float((w - ref).mean()),
                     "ci": [float(lo), float(hi)]})
        print(f"{name:<22}{w.mean():>10.3f}{(w - ref).mean():>+10.3f} ({lo:+.3f}…{hi:+.3f})")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--data", type=Path, default=None, help="the dataset's file, for --field (not with --twins)")
    ap.add_argument("--twins", action="store_true", help="twin wins over minimal pairs (the run's group column)")
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--field", default="origin")
    ap.add_argument("--weights", default="1,0.9,0.8,0.7,0.6,0.5,0.4,0.3")
    ap.add_argument("--vetoes", default="0.02,0.05,0.1,0.2")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    pairs, claims = _load(args.run, args.dataset)
    scores = variants(pairs, claims, [float(w) for w in args.weights.split(",")],
                      [float(t) for t in args.vetoes.split(",")])
    if args.twins:
        rows = twin_report(pairs, scores, args.n_boot, args.seed)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2) + "\n")
        return
    if args.data is None:
        ap.error("--data is needed for ranking within origins (or use --twins)")
    origin = {}
    for line in args.data.read_text().splitlines():
        row = json.loads(line)
        origin[str(row["id"])] = str(row.get(args.field))
    ids = sorted(scores["nli"])
    groups = sorted({origin[i] for i in ids})
    rng = np.random.default_rng(args.seed)
    by_group = {g: np.array([k for k, i in enumerate(ids) if origin[i] == g]) for g in groups}
    y = np.array([pairs[i]["gold_label"] >= 0.5 for i in ids], dtype=int)
    boot = {g: rng.integers(0, len(idx), size=(args.n_boot, len(idx))) for g, idx in by_group.items()}

    def per_group(name: str) -> dict[str, tuple[float, np.ndarray]]:
        s = np.array([scores[name].get(i, np.nan) for i in ids])
        out = {}
        for g, idx in by_group.items():
            f = auc_rows(y[idx], s[idx])
            out[g] = (float(f(np.arange(len(idx))[None, :])[0]), f(boot[g]))
        return out

    ref = per_group("nli")
    ref_mean = np.mean([ref[g][1] for g in groups], axis=0)
    rows = []
    print(f"{len(ids)} pairs of {args.dataset}: " + ", ".join(f"{g} {len(by_group[g])}" for g in groups))
    print(f"{'variant':<22}" + "".join(f"{g:>9}" for g in groups) + f"{'mean':>9}{'Δ mean vs nli (95%)':>26}")
    for name in scores:
        got = per_group(name)
        point = float(np.mean([got[g][0] for g in groups]))
        delta = np.mean([got[g][1] for g in groups], axis=0) - ref_mean
        lo, hi = np.nanpercentile(delta, [2.5, 97.5])
        d = point - float(np.mean([ref[g][0] for g in groups]))
        rows.append({"variant": name, **{g: got[g][0] for g in groups}, "mean": point, "delta": d,
                     "ci": [float(lo), float(hi)]})
        print(f"{name:<22}" + "".join(f"{got[g][0]:>9.3f}" for g in groups) +
              f"{point:>9.3f}{d:>+10.3f} ({lo:+.3f}…{hi:+.3f})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
