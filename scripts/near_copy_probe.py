"""How well does an NLI model tell a copied sentence from a near copy whose agent comes from elsewhere in its window?

Builds N windows of train/ news and wiki documents per kind (harness.train.near_copy: an entity swapped within the
window, another sentence's named subject, a pronoun named wrongly or rightly) plus N plain copies, scores them all
through the engine, and prints per kind the mean P(entailment) and the ROC-AUC of copies against the negatives
(0.5 = blind). Deterministic for a seed; train/ only, never dev/ or held-out text.

    HF_HUB_OFFLINE=1 python scripts/near_copy_probe.py --model embedded
    HF_HUB_OFFLINE=1 python scripts/near_copy_probe.py --model embedded-large \
        --delta ~/.cache/harness-train/embedded-large/snapshots/step-001950
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC_FILES = ("train/summary_synthetic.jsonl.gz", "train/nli_pairs.jsonl.gz")
DOC_GROUPS = ("cogensumm", "factcc-synthetic", "fakesumm", "rte", "anli")


def probe_sets(data_root: Path, n: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """{kind: [(premise window, hypothesis)]}: "copy", each maker's negatives, "window_pronoun+" (its positives)."""
    from harness.train import near_copy
    from harness.train.data import _docs, _make_window, read_jsonl

    rows = [r for f in DOC_FILES for r in read_jsonl(data_root / f)]
    docs = _docs(rows, DOC_GROUPS)
    rng = random.Random(seed)
    sets: dict[str, list[tuple[str, str]]] = {"copy": [], **{k: [] for k in near_copy.MAKERS},
                                              "window_pronoun+": []}
    for _ in range(400 * n):
        if min(len(v) for v in sets.values()) >= n:
            break
        window = _make_window(docs, rng)
        if len(window) < 2:
            continue
        premise = " ".join(window)
        if len(sets["copy"]) < n:
            sets["copy"].append((premise, rng.choice(window)))
        for kind, maker in near_copy.MAKERS.items():
            made = maker(window, rng)
            if made is not None:
                key = kind + ("+" if made[1] == 0 else "")
                if len(sets[key]) < n:
                    sets[key].append((premise, made[0]))
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="embedded", help="an NLI model id the scorers load (default: embedded)")
    ap.add_argument("--delta", default=None, help="embedded-large: a folder holding adapter.safetensors")
    ap.add_argument("--n", type=int, default=120, help="pairs per kind (default 120)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if not (args.data / DOC_FILES[0]).is_file():
        print(f"near_copy_probe: no training data at {args.data} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    if args.delta:
        os.environ["HARNESS_EMBEDDED_LARGE_DIR"] = str(Path(args.delta).expanduser())

    import numpy as np
    import torch
    from sklearn.metrics import roc_auc_score

    from harness.config import ModelConfig
    from harness.engine.runner import Engine
    from harness.scorers.base import ScorerContext
    from harness.scorers.nli import load_nli_classifier
    from harness.train.distill import three_way

    torch.set_num_threads(args.threads)
    sets = probe_sets(args.data, args.n, args.seed)
    info, labels, backend = load_nli_classifier(ModelConfig(id=args.model), ScorerContext(device="cpu"))
    pairs = [p for v in sets.values() for p in v]
    outputs = Engine(4096).run(backend, pairs)
    p_e = iter(three_way(o, labels, backend.labels)[0] for o in outputs)
    scores = {k: np.array([next(p_e) for _ in v]) for k, v in sets.items()}
    result: dict[str, dict[str, float]] = {}
    for kind, s in scores.items():
        row = {"n": len(s), "mean_p_entail": round(float(s.mean()), 3)}
        if kind not in ("copy", "window_pronoun+"):
            y = [1] * len(scores["copy"]) + [0] * len(s)
            row["auc_vs_copy"] = round(float(roc_auc_score(y, np.r_[scores["copy"], s])), 3)
        result[kind] = row
    if len(scores["window_pronoun+"]) and len(scores["window_pronoun"]):
        y = [1] * len(scores["window_pronoun+"]) + [0] * len(scores["window_pronoun"])
        result["window_pronoun"]["auc_right_vs_wrong"] = round(float(roc_auc_score(
            y, np.r_[scores["window_pronoun+"], scores["window_pronoun"]])), 3)
    print(json.dumps({"model": info.id, "revision": info.revision, "weight_sha256": info.weight_sha256,
                      "delta": args.delta, "seed": args.seed, "n": args.n, "kinds": result}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
