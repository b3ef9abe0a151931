"""Cross-lingual dev evaluation: ROC-AUC overall and per error type, beside two baselines.

``python -m harness.train.xling_eval [--sets xling pawsx] [--head PATH] [--top-k K]``

* ``xling``: ``dev/xling_news_dev.jsonl`` (German news document -> English claim; the unfaithful claims are
  rule-made, ``error_type`` names the rule). AUC per error type = faithful claims vs that type's claims.
* ``pawsx``: ``dev/pawsx_de_en_dev.jsonl`` (German sentence vs English sentence: paraphrase or not).

Scorers, all from the same passages and embeddings (claims segmented as a run segments them; pair score =
mean over claims): the shipped head (max P(entail) over the top-k passages, k = 1 by default, as in the
scorer); ``cosine`` = encoder cosine
to the most similar passage; ``names_numbers`` = share of the claim's names and numbers found in the
source (1.0 when it has none). Numbers go to stdout as a table and to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.engine import Engine
from harness.engine.cache import OutputCache
from harness.engine.sentence_encoder import embed, multilingual_encoder
from harness.evaluation.metrics import roc_auc
from harness.models.crosslingual import FEATURES, load_head
from harness.scorers.crosslingual import candidates, passages
from harness.segment import claim_units

__all__ = ["evaluate_set", "main"]

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev"
SETS = {"xling": "xling_news_dev.jsonl", "pawsx": "pawsx_de_en_dev.jsonl"}


def evaluate_set(rows: list[dict[str, Any]], engine: Engine, head_path: str | None, top_k: int) -> dict[str, Any]:
    head = load_head(head_path)
    encoder = multilingual_encoder()
    claims_of = [[c.text for c in claim_units(r["summary"], "sentence", 3) if c.checkable] or [r["summary"]]
                 for r in rows]
    units_of = {s: passages(s) for s in dict.fromkeys(r["source"] for r in rows)}
    texts = list(dict.fromkeys([c for cs in claims_of for c in cs] + [u.text for us in units_of.values() for u in us]))
    vecs = embed(engine, encoder, texts, desc=f"embed {len(texts)} texts")
    at = {t: i for i, t in enumerate(texts)}
    miss = [FEATURES.index(k) for k in ("names_missing_document", "numbers_missing_document")]
    count = [FEATURES.index(k) for k in ("n_names", "n_numbers")]
    scores: dict[str, list[float]] = defaultdict(list)
    for r, claims in zip(rows, claims_of, strict=True):
        units = units_of[r["source"]]
        cands = candidates(claims, vecs[[at[c] for c in claims]], units, vecs[[at[u.text] for u in units]],
                           r["source"], top_k)
        probs = head.predict_proba([c.row for c in cands])
        per_claim: dict[str, list[float]] = defaultdict(list)
        for ci in range(len(claims)):
            js = [j for j, c in enumerate(cands) if c.claim == ci]
            top = cands[js[0]].row
            per_claim["head"].append(float(max(probs[j, 0] for j in js)))
            per_claim["cosine"].append(cands[js[0]].cos)
            n = sum(top[i] for i in count)
            per_claim["names_numbers"].append(1.0 - sum(top[i] for i in miss) / n if n else 1.0)
        for k, v in per_claim.items():
            scores[k].append(float(np.mean(v)))
    labels = np.asarray([r["label"] for r in rows], dtype=float)
    types = [r.get("error_type") for r in rows]
    out: dict[str, Any] = {"n": len(rows)}
    for name, vals in scores.items():
        s = np.asarray(vals)
        res: dict[str, float] = {"overall": roc_auc(labels, s)}
        for t in sorted({t for t in types if t}):
            keep = np.asarray([lab == 1 or ty == t for lab, ty in zip(labels, types, strict=True)])
            res[t] = roc_auc(labels[keep], s[keep])
        out[name] = res
    return out


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(prog="python -m harness.train.xling_eval", description=__doc__)
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--data", default=str(DATA), help="folder with the dev files (default ../shared/data/dev)")
    ap.add_argument("--head", default=None, help="head JSON (default: the shipped one)")
    ap.add_argument("--top-k", type=int, default=1, help="passages per claim (the scorer's default: 1)")
    ap.add_argument("--cache", default="results/cache.sqlite")
    ap.add_argument("--json", default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    engine = Engine(8192, cache=OutputCache(args.cache) if args.cache else None)
    report: dict[str, Any] = {}
    for name in args.sets:
        path = Path(args.data) / SETS[name]
        rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        report[name] = evaluate_set(rows, engine, args.head, args.top_k)
        res = report[name]
        cols = list(res["head"])
        print(f"\n{name} ({res['n']} rows) ROC-AUC")
        print(f"{'scorer':<16}" + "".join(f"{c:>18}" for c in cols))
        for scorer_name in ("head", "cosine", "names_numbers"):
            print(f"{scorer_name:<16}" + "".join(f"{res[scorer_name][c]:>18.3f}" for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
