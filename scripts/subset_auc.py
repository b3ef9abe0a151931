"""ROC-AUC of one scorer's pair scores on a subset of a dataset's rows, run B against run A (paired bootstrap).

`harness compare` reports whole datasets; this answers "and on the abstractive rows alone?". The subset is the
rows whose field ``--field`` in the dataset's own file equals ``--value`` (FRANK's ``origin``: ``xsum`` or
``cnndm``; its ``model``: ``pgn``, ``bart``, ...). ``--error TYPE`` keeps, of those, the faithful rows and the
unfaithful ones annotated with that FRANK error type (``errors[TYPE] < 1``: EntE, CorefE, RelE, ...).
Example (docs/speed.md):

    python scripts/subset_auc.py --data ../shared/data/dev/frank_valid.jsonl --dataset frank_valid \
        --field origin --value xsum results/RUN_A results/RUN_B [results/RUN_C ...]

``--scorer nli=combined`` reads the reference run's ``nli`` against the other runs' ``combined`` (as ``harness
compare --scorer`` does).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score


def _lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def pair_scores(run: Path, dataset: str, scorer: str, ids: set[str]) -> dict[str, tuple[float, float]]:
    """pair id -> (gold label, score) for the run's scored pairs of ``dataset`` whose id is in ``ids``."""
    out = {}
    for line in _lines(run / "pairs.jsonl"):
        row = json.loads(line)
        score = (row["scores"].get(scorer) or {}).get("score")
        if row["dataset"] == dataset and row["pair_id"] in ids and score is not None and row["gold_label"] is not None:
            out[row["pair_id"]] = (float(row["gold_label"]), float(score))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path, help="run folders; the first is the reference A")
    ap.add_argument("--data", type=Path, required=True, help="the dataset's file (jsonl or jsonl.gz)")
    ap.add_argument("--dataset", required=True, help="the dataset's name in the runs")
    ap.add_argument("--field", default=None, help="keep the rows whose field equals --value (default: all rows)")
    ap.add_argument("--value", default=None)
    ap.add_argument("--error", default=None,
                    help="FRANK: keep the faithful rows and the unfaithful ones with this error type (EntE, ...)")
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--scorer", default="nli",
                    help="NAME, or NAME_A=NAME_B: the reference run's scorer and the other runs' (nli=combined)")
    ap.add_argument("--resamples", type=int, default=2000)
    args = ap.parse_args()

    rows = [json.loads(x) for x in _lines(args.data)]
    if (args.field is None) != (args.value is None):
        ap.error("--field and --value go together")
    if args.field is not None:
        rows = [r for r in rows if str(r.get(args.field)) == args.value]
    if args.error is not None:
        rows = [r for r in rows if r.get("label") == 1 or float((r.get("errors") or {}).get(args.error, 1.0)) < 1.0]
    ids = {str(r[args.id_field]) for r in rows}
    what = " and ".join(x for x in (f"{args.field}={args.value}" if args.field else "",
                                     f"error {args.error} (or faithful)" if args.error else "") if x) or "all rows"
    scorer_a, _, scorer_b = args.scorer.partition("=")
    ref = pair_scores(args.runs[0], args.dataset, scorer_a, ids)
    y_ref = [g for g, _ in ref.values()]
    print(f"{args.runs[0].name}: {len(ref)} pairs with {what} ({int(sum(y_ref))} positive), "
          f"ROC-AUC {roc_auc_score(y_ref, [s for _, s in ref.values()]):.3f}")
    for run in args.runs[1:]:
        other = pair_scores(run, args.dataset, scorer_b or scorer_a, ids)
        common = sorted(set(ref) & set(other))
        y = np.array([ref[i][0] for i in common])
        a, b = np.array([ref[i][1] for i in common]), np.array([other[i][1] for i in common])
        rng = np.random.default_rng(0)
        deltas = []
        for _ in range(args.resamples):
            k = rng.integers(0, len(common), len(common))
            if y[k].min() != y[k].max():
                deltas.append(roc_auc_score(y[k], b[k]) - roc_auc_score(y[k], a[k]))
        d = np.array(deltas)
        delta = roc_auc_score(y, b) - roc_auc_score(y, a)
        p = 2 * min(float((d <= 0).mean()), float((d >= 0).mean()))
        print(f"{run.name}: ROC-AUC {roc_auc_score(y, b):.3f}  Δ {delta:+.3f}  95% CI "
              f"[{np.quantile(d, 0.025):+.3f}, {np.quantile(d, 0.975):+.3f}]  p {min(p, 1.0):.2f}  (n={len(common)})")


if __name__ == "__main__":
    main()
