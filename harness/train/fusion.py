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


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def claim_rows(run: Path, sources: dict[str, str], scorer: str = "nli") -> dict[str, list[list[float]]]:
    """pair id -> feature rows of its scored claims (flagged and unscored claims are left out, as in scoring)."""
    facts: dict[str, SourceFacts] = {}
    out: dict[str, list[list[float]]] = defaultdict(list)
    for c in _read_jsonl(run / "claims.jsonl"):
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


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000)
    lr.fit((x - mean) / scale, y, sample_weight=w)
    return {"format": HEAD_FORMAT, "features": list(FEATURES), "mean": mean.tolist(), "scale": scale.tolist(),
            "coef": lr.coef_[0].tolist(), "intercept": float(lr.intercept_[0]), "c": c}


def pair_auc(rows: dict[str, list[list[float]]], labels: dict[str, int], head: FusionHead | None,
             groups: dict[str, str] | None = None) -> dict[str, float]:
    """ROC-AUC of the mean-over-claims pair score (the head's, or P(entail) alone when ``head`` is None)."""
    from sklearn.metrics import roc_auc_score

    ids = [p for p in rows if p in labels and rows[p]]
    scores = []
    for p in ids:
        feats = np.asarray(rows[p])
        s = head.predict(feats) if head else 1 / (1 + np.exp(-feats[:, 0]))
        scores.append(float(np.mean(s)))
    y = np.asarray([labels[p] for p in ids])
    sc = np.asarray(scores)
    out = {"all": round(float(roc_auc_score(y, sc)), 4)}
    for g in sorted(set((groups or {}).values())):
        m = np.asarray([(groups or {}).get(p) == g for p in ids])
        if len(set(y[m])) == 2:
            out[g] = round(float(roc_auc_score(y[m], sc[m])), 4)
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
    f.add_argument("--out", type=Path, default=None, help="write the head here (JSON)")
    f.add_argument("--version", default="0.1.0")
    f.add_argument("--dev-run", type=Path, default=None, help="a dev run folder to score (FRANK-valid, BUMP)")
    f.add_argument("--dev-pairs", type=Path, nargs="*", default=[],
                   help="the dev data files (id, source, label[, origin]) behind --dev-run")
    args = ap.parse_args(argv)
    if args.cmd == "pairs":
        pairs, config = write_pairs(args.data_root, args.out)
        print(f"{pairs}\n{config}")
        return 0
    train = _read_jsonl(args.pairs)
    sources = {r["id"]: r["source"] for r in train}
    labels = {r["id"]: int(r["label"]) for r in train}
    rows = claim_rows(args.run, sources)
    x, y, w = [], [], []
    for pid, feats in rows.items():
        for f_row in feats:
            x.append(f_row)
            y.append(labels[pid])
            w.append(1.0 / len(feats))
    if not x:
        print(f"error: no scored nli claims of the pairs in {args.run}", file=sys.stderr)
        return 2
    spec = fit(np.asarray(x), np.asarray(y), np.asarray(w), args.c)
    spec.update({"version": args.version, "training": {
        "pairs": len(rows), "claims": len(x), "file": TRAIN_FILE, "positive_pairs": sum(labels[p] for p in rows),
        "nli_model": "embedded", "labels": "summary label given to each of its claims, weight 1/claims"}})
    head = FusionHead(spec)
    print(json.dumps({"train_pair_auc": pair_auc(rows, labels, head),
                      "train_pair_auc_nli_alone": pair_auc(rows, labels, None),
                      "coef": dict(zip(FEATURES, [round(v, 3) for v in spec["coef"]], strict=True))}, indent=1))
    if args.dev_run:
        dev = [r for path in args.dev_pairs for r in _read_jsonl(path)]
        dev_sources = {str(r["id"]): r["source"] for r in dev}
        dev_labels = {str(r["id"]): int(r["label"]) for r in dev if r.get("label") is not None}
        groups = {str(r["id"]): str(r.get("origin", "")) for r in dev}
        dev_rows = claim_rows(args.dev_run, dev_sources)
        print(json.dumps({"dev_pair_auc": pair_auc(dev_rows, dev_labels, head, groups),
                          "dev_pair_auc_nli_alone": pair_auc(dev_rows, dev_labels, None, groups)}, indent=1))
    if args.out:
        head.save(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
