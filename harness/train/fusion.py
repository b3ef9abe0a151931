"""Fit the English evidence-fusion head (:mod:`harness.scorers.fusion`) on claim-level labels from ``train/``.

How: run the harness (NLI + overlap, the default premise selection) over document/claim pairs from
``train/summary_synthetic`` (FactCC-style claims and FakeSumm summaries against their news articles), read each
claim's NLI probabilities and evidence from the run's ``claims.jsonl``, compute the fusion features against the
pair's source, and fit a logistic regression. A summary's label is given to each of its claims, weighted
1/claims so every pair counts once. ``--dev-run`` scores a dev run's claims with the fitted head (pair score =
mean over claims, as the scorer does) beside the NLI score alone, for choosing ``--c`` and the features; the
decision itself is made with ``harness run`` + ``harness compare`` on the dev suite (docs/model.md).

    python -m harness.train.fusion pairs --out ~/.cache/harness-train/fusion     # pairs + run config
    python -m harness run ~/.cache/harness-train/fusion/train_run.yaml --output ~/.cache/harness-train/fusion/runs
    python -m harness.train.fusion fit --run RUN_DIR --pairs PAIRS.jsonl --out harness/models/fusion/head.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.scorers.fusion import FEATURES, HEAD_FORMAT, FusionHead, SourceFacts, claim_features
from harness.train.data import read_jsonl

DATA_ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TRAIN_FILE = "train/summary_synthetic.jsonl.gz"


def write_pairs(data_root: Path, out: Path) -> tuple[Path, Path]:
    """``train_pairs.jsonl`` (id, source, rewrite, label 1/0, origin) and ``train_run.yaml`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    pairs = out / "train_pairs.jsonl"
    seen: set[tuple[str, str]] = set()
    with gzip.open(data_root / TRAIN_FILE, "rt", encoding="utf-8") as fh, pairs.open("w", encoding="utf-8") as w:
        for i, line in enumerate(fh):
            r = json.loads(line)
            if (r["premise"], r["hypothesis"]) in seen:
                continue
            seen.add((r["premise"], r["hypothesis"]))
            w.write(json.dumps({"id": f"{r['origin']}-{i}", "source": r["premise"], "rewrite": r["hypothesis"],
                                "label": int(r["label"] == "entailment"), "origin": r["origin"]}) + "\n")
    config = out / "train_run.yaml"
    config.write_text(f"""# claim-level features for the fusion head (python -m harness.train.fusion)
name: fusion_train
data:
  - name: summary_synthetic
    type: jsonl
    path: {pairs}
    fields: {{id: id, source: source, rewrite: rewrite, label: label}}
    role: dev
scorers:
  - type: nli
    model: {{id: embedded}}
  - type: overlap
checks:
  claim_worthiness: false
  quotes: false
  off_topic: false
""", encoding="utf-8")
    return pairs, config


def claim_rows(run: Path, sources: dict[str, str], scorer: str = "nli") -> dict[str, list[list[float]]]:
    """pair id -> feature rows of its scored claims (flagged and unscored claims are left out, as in scoring)."""
    facts: dict[str, SourceFacts] = {}
    out: dict[str, list[list[float]]] = defaultdict(list)
    for c in read_jsonl(run / "claims.jsonl"):
        if c["scorer"] != scorer or c.get("score") is None or c["label"] == "not_checkable" or not c.get("probs"):
            continue
        if c.get("detail", {}).get("flags"):
            continue
        pid = c["pair_id"]
        if pid not in sources:
            continue
        if pid not in facts:
            facts[pid] = SourceFacts.of(sources[pid])
        evidence = (c.get("evidence") or {}).get("text", "")
        out[pid].append(claim_features(c["text"], c["probs"], evidence, facts[pid]))
    return out


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float, use: tuple[str, ...] = FEATURES) -> dict[str, Any]:
    """Logistic regression on the standardised ``use`` columns of ``x``; the other features get weight 0 (the head
    still reads every feature, so one file format serves any subset)."""
    from sklearn.linear_model import LogisticRegression

    cols = [FEATURES.index(f) for f in use]
    mean = np.zeros(len(FEATURES))
    scale = np.ones(len(FEATURES))
    coef = np.zeros(len(FEATURES))
    mean[cols] = x[:, cols].mean(axis=0)
    scale[cols] = x[:, cols].std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((x[:, cols] - mean[cols]) / scale[cols], y, sample_weight=w)
    coef[cols] = lr.coef_[0]
    return {"format": HEAD_FORMAT, "features": list(FEATURES), "used": list(use), "mean": mean.tolist(),
            "scale": scale.tolist(), "coef": coef.tolist(), "intercept": float(lr.intercept_[0]), "c": c}


def pair_scores(rows: dict[str, list[list[float]]], head: FusionHead | None) -> dict[str, float]:
    """Mean-over-claims pair score: the head's P(supported), or P(entail) alone when ``head`` is None."""
    out = {}
    for pid, feats in rows.items():
        if feats:
            x = np.asarray(feats)
            out[pid] = float(np.mean(head.predict(x) if head else 1 / (1 + np.exp(-x[:, 0]))))
    return out


def report(scores: dict[str, float], pairs: list[dict[str, Any]]) -> dict[str, float]:
    """ROC-AUC over all pairs with a label and per ``origin``; twin wins over ``group`` (BUMP's minimal pairs)."""
    from sklearn.metrics import roc_auc_score

    out: dict[str, float] = {}
    labelled = [r for r in pairs if str(r["id"]) in scores and r.get("label") is not None and not r.get("group")]
    for name, part in [("auc", labelled), *((f"auc_{o}", [r for r in labelled if r.get("origin") == o])
                                           for o in sorted({str(r.get("origin", "")) for r in labelled}))]:
        y = [int(r["label"]) for r in part]
        if len(set(y)) == 2:
            out[name] = round(float(roc_auc_score(y, [scores[str(r["id"])] for r in part])), 4)
    twins: dict[str, dict[int, float]] = defaultdict(dict)
    for r in pairs:
        if r.get("group") and str(r["id"]) in scores:
            twins[str(r["group"])][int(r["label"])] = scores[str(r["id"])]
    both = [t for t in twins.values() if 0 in t and 1 in t]
    if both:
        out["twin_wins"] = round(sum(t[1] > t[0] for t in both) / len(both), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.train.fusion", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pairs", help="write the training pairs and the run config")
    p.add_argument("--data-root", type=Path, default=DATA_ROOT)
    p.add_argument("--out", type=Path, required=True)
    f = sub.add_parser("fit", help="fit the head from a run over the training pairs")
    f.add_argument("--run", type=Path, required=True, help="run folder of the training pairs (claims.jsonl)")
    f.add_argument("--pairs", type=Path, required=True, help="the training pairs (train_pairs.jsonl)")
    f.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    f.add_argument("--features", nargs="+", choices=FEATURES, default=list(FEATURES),
                   help="the features the head may use (the others get weight 0)")
    f.add_argument("--origins", nargs="+", default=None,
                   help="train on these origins of the pairs only (e.g. fakesumm)")
    f.add_argument("--out", type=Path, default=None, help="write the head here (JSON)")
    f.add_argument("--version", default="0.1.0")
    f.add_argument("--dev-run", type=Path, default=None, help="a dev run folder to score (FRANK-valid, BUMP)")
    f.add_argument("--dev-pairs", type=Path, nargs="*", default=[],
                   help="the dev data (id, source, label[, origin, group]) behind --dev-run, e.g. from dev-pairs")
    args = ap.parse_args(argv)
    if args.cmd == "pairs":
        pairs, config = write_pairs(args.data_root, args.out)
        print(f"{pairs}\n{config}")
        return 0
    train = read_jsonl(args.pairs)
    sources = {r["id"]: r["source"] for r in train}
    labels = {r["id"]: int(r["label"]) for r in train}
    rows = claim_rows(args.run, sources)
    if args.origins:
        keep = {r["id"] for r in train if r["origin"] in args.origins}
        rows = {p: f for p, f in rows.items() if p in keep}
        train = [r for r in train if r["id"] in keep]
    x, y, w = [], [], []
    for pid, feats in rows.items():
        for f_row in feats:
            x.append(f_row)
            y.append(labels[pid])
            w.append(1.0 / len(feats))
    if not x:
        print(f"error: no scored nli claims of the pairs in {args.run}", file=sys.stderr)
        return 2
    spec = fit(np.asarray(x), np.asarray(y), np.asarray(w), args.c, tuple(args.features))
    spec.update({"version": args.version, "training": {
        "pairs": len(rows), "claims": len(x), "file": TRAIN_FILE, "positive_pairs": sum(labels[p] for p in rows),
        "origins": args.origins or "all",
        "nli_model": "embedded", "labels": "summary label given to each of its claims, weight 1/claims"}})
    head = FusionHead(spec)
    print(json.dumps({"train": report(pair_scores(rows, head), train),
                      "train_nli_alone": report(pair_scores(rows, None), train),
                      "coef": dict(zip(FEATURES, [round(v, 3) for v in spec["coef"]], strict=True))}))
    if args.dev_run:
        dev = [r for path in args.dev_pairs for r in read_jsonl(path)]
        dev_rows = claim_rows(args.dev_run, {str(r["id"]): r["source"] for r in dev})
        print(json.dumps({"dev": report(pair_scores(dev_rows, head), dev),
                          "dev_nli_alone": report(pair_scores(dev_rows, None), dev)}))
    if args.out:
        head.save(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
