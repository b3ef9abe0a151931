"""What a QA setting reads and how it ranks: one row per run folder of the same labelled set.

Per run: the QA scorer's pair ROC-AUC (pooled, and within each origin: FRANK-valid's CNN/DM and XSum rows, with
their mean), its model inputs per question (source windows read, plus one claim-side answer per question when
``claim_answers`` is ``model``), the share of questions that widened to every window, and the ``combined``
score's ROC-AUC. The runs are ``harness run`` of one config with ``--set scorers.N.KEY=VALUE`` changes and a
shared cache (docs/qa.md lists them), so only the first computes anything::

    python scripts/qa_variants.py --data ../shared/data/dev/frank_valid.jsonl every=RUN_A w1=RUN_B ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.evaluation.metrics import roc_auc


def _auc(y: list[float], s: list[float]) -> float:
    return roc_auc([int(v >= 0.5) for v in y], s)


def row(run: Path, origin: dict[str, str], scorer: str = "qa") -> dict[str, Any]:
    """One run's numbers (see the module docstring)."""
    rec = json.loads((run / "run.json").read_text())
    pairs = [json.loads(x) for x in (run / "pairs.jsonl").read_text().splitlines()]
    questions: list[dict[str, Any]] = []
    claim_side = False
    for line in (run / "claims.jsonl").read_text().splitlines():
        c = json.loads(line)
        if c["scorer"] == scorer and c.get("detail"):
            questions += c["detail"].get("questions", [])
            claim_side = claim_side or c["detail"].get("claim_answers", "model") == "model"
    asked = [q for q in questions if not q.get("absent_from_source")]
    windows: list[list[int]] = [q["windows_read"] for q in asked if q.get("windows_read") is not None]
    first_windows = next((s.get("source_windows") for s in rec["config"]["scorers"] if s["name"] == scorer
                          or s["type"] == scorer), None)
    if len(windows) == len(asked):  # runs before windows_read was recorded read every window
        read = sum(w[0] for w in windows)
        widened = float("nan") if first_windows is None else \
            sum(1 for w in windows if w[0] > first_windows and w[0] == w[1]) / max(len(asked), 1)
    else:
        read, widened = -1, float("nan")
    scored = [p for p in pairs if p["scores"][scorer]["score"] is not None and p["gold_label"] is not None]
    out: dict[str, Any] = {"auc": _auc([p["gold_label"] for p in scored], [p["scores"][scorer]["score"]
                                                                            for p in scored])}
    groups = sorted({origin.get(p["pair_id"], "all") for p in scored})
    for g in groups:
        sub = [p for p in scored if origin.get(p["pair_id"], "all") == g]
        out[g] = _auc([p["gold_label"] for p in sub], [p["scores"][scorer]["score"] for p in sub])
    out["origin_mean"] = float(np.mean([out[g] for g in groups]))
    inputs = read + (len(asked) if claim_side else 0) if read >= 0 else -1
    out.update(questions=len(questions), asked=len(asked), inputs=inputs,
               inputs_per_question=inputs / max(len(questions), 1), widened=widened,
               combined=next((m["combined"]["roc_auc"] for ds, m in rec["metrics"].items()
                              if ds != "macro" and "combined" in m), float("nan")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="NAME=RUN")
    ap.add_argument("--data", type=Path, required=True, help="the dataset's file (its origin field)")
    ap.add_argument("--field", default="origin")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    origin = {}
    for line in args.data.read_text().splitlines():
        r = json.loads(line)
        origin[str(r["id"])] = str(r.get(args.field))
    rows = {}
    for item in args.runs:
        name, _, folder = item.partition("=")
        rows[name] = row(Path(folder), origin)
    first = next(iter(rows.values()))
    groups = [k for k in first if k not in ("auc", "origin_mean", "questions", "asked", "inputs",
                                            "inputs_per_question", "widened", "combined")]
    print(f"{'variant':<18}{'QA AUC':>8}" + "".join(f"{g:>8}" for g in groups) +
          f"{'mean':>8}{'inputs':>8}{'/quest.':>8}{'× ref':>7}{'widened':>8}{'comb.':>7}")
    for name, r in rows.items():
        print(f"{name:<18}{r['auc']:>8.3f}" + "".join(f"{r[g]:>8.3f}" for g in groups) +
              f"{r['origin_mean']:>8.3f}{r['inputs']:>8}{r['inputs_per_question']:>8.2f}"
              f"{r['inputs'] / max(first['inputs'], 1):>7.2f}"
              f"{'—' if r['widened'] != r['widened'] else format(r['widened'], '.1%'):>8}{r['combined']:>7.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
