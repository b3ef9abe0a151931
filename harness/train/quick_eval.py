"""Quick SummaC-ZS-style evaluation on dev/ for model selection and the model card (never for training).

Each summary sentence (claim) is scored against every window of 2 consecutive source sentences; claim score
= max over windows of P(entail) (or of P(entail) - P(contradict)); summary score = mean (or min) over claims.
Reported beside a unigram-overlap baseline and a simple mean(NLI, overlap) combination, because CNN/DM
summaries are largely extractive and overlap alone is a strong baseline there.

    python -m harness.train.quick_eval [--adapter-dir DIR] [--limit N] [--json OUT]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from harness.models import embedded
from harness.train.data import read_jsonl, split_sentences

DATA_ROOT = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
_WORD = re.compile(r"\w+", re.UNICODE)


# ---------------------------------------------------------------------------------------- units
def claims(summary: str) -> list[str]:
    sents = [s for s in split_sentences(summary) if len(_WORD.findall(s)) >= 3]
    return sents or [summary.strip()]


def premises(source: str, window: int = 2) -> list[str]:
    sents = split_sentences(source)
    if len(sents) <= window:
        return [" ".join(sents) or source]
    return [" ".join(sents[i : i + window]) for i in range(len(sents) - window + 1)]


def overlap(source: str, summary: str) -> float:
    """Fraction of summary word tokens that occur in the source (lower-cased)."""
    src = set(_WORD.findall(source.lower()))
    toks = _WORD.findall(summary.lower())
    return sum(t in src for t in toks) / len(toks) if toks else 0.0


# ---------------------------------------------------------------------------------------- scoring
@torch.inference_mode()
def nli_probs(model: Any, tokenizer: Any, pairs: list[tuple[str, str]], *, max_length: int = 256,
              batch_tokens: int = 8192, bf16: bool = True, progress: bool = True) -> np.ndarray:
    """P(entail, neutral, contradict) per (premise, hypothesis); length-sorted, token-budget batches."""
    if not pairs:
        return np.zeros((0, 3), dtype=np.float32)
    enc = tokenizer([p for p, _ in pairs], [h for _, h in pairs], truncation="only_first", max_length=max_length)
    ids = enc["input_ids"]
    takes_segments = "token_type_ids" in inspect.signature(model.forward).parameters  # MPNet has none
    tts = enc.get("token_type_ids") if takes_segments else None
    order = sorted(range(len(pairs)), key=lambda i: len(ids[i]))
    out = np.zeros((len(pairs), 3), dtype=np.float32)
    pad = tokenizer.pad_token_id
    start, done, t0 = 0, 0, time.perf_counter()
    while start < len(order):
        end = start
        while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= batch_tokens:
            end += 1
        end = max(end, start + 1)
        idx = order[start:end]
        width = len(ids[idx[-1]])
        x = torch.full((len(idx), width), pad, dtype=torch.long)
        tt = torch.zeros_like(x)
        mask = torch.zeros_like(x)
        for r, i in enumerate(idx):
            n = len(ids[i])
            x[r, :n] = torch.tensor(ids[i])
            if tts:
                tt[r, :n] = torch.tensor(tts[i])
            mask[r, :n] = 1
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            segments = {"token_type_ids": tt} if tts else {}
            logits = model(input_ids=x, attention_mask=mask, **segments).logits
        out[idx] = torch.softmax(logits.float(), dim=-1).numpy()
        done += len(idx)
        start = end
        if progress and (done % 5000 < len(idx) or done == len(order)):
            print(f"  scored {done}/{len(order)} pairs ({time.perf_counter() - t0:.0f}s)", flush=True)
    return out


def top_windows(claim: str, windows: list[str], k: int | None) -> list[str]:
    """The k windows sharing most word types with the claim (all when k is None): a CPU-time shortcut,
    since the max-entailment window is almost always a high-overlap one."""
    if k is None or len(windows) <= k:
        return windows
    cw = set(_WORD.findall(claim.lower()))
    ranked = sorted(range(len(windows)), key=lambda i: -len(cw & set(_WORD.findall(windows[i].lower()))))
    return [windows[i] for i in sorted(ranked[:k])]


def score_docs(model: Any, tokenizer: Any, docs: list[dict], top_k: int | None = None,
               **kw: Any) -> dict[str, np.ndarray]:
    """Per-summary scores for every claim-score x aggregation combination, plus overlap."""
    uniq: dict[tuple[str, str], int] = {}
    layout = []
    for d in docs:
        prem = premises(d["source"])
        cl = claims(d["summary"])
        layout.append([[uniq.setdefault((p, c), len(uniq)) for p in top_windows(c, prem, top_k)] for c in cl])
    probs = nli_probs(model, tokenizer, list(uniq), **kw)
    ent, con = probs[:, 0], probs[:, 2]
    res: dict[str, list[float]] = {k: [] for k in ("ent_mean", "ent_min", "diff_mean", "diff_min")}
    for claim_rows in layout:
        e = [float(ent[ix].max()) for ix in claim_rows]
        df = [float((ent[ix] - con[ix]).max()) for ix in claim_rows]
        res["ent_mean"].append(float(np.mean(e)))
        res["ent_min"].append(float(np.min(e)))
        res["diff_mean"].append((float(np.mean(df)) + 1) / 2)
        res["diff_min"].append((float(np.min(df)) + 1) / 2)
    out = {k: np.asarray(v) for k, v in res.items()}
    out["overlap"] = np.asarray([overlap(d["source"], d["summary"]) for d in docs])
    for k in ("ent_mean", "ent_min", "diff_mean", "diff_min"):
        out[f"combo_{k}"] = (out[k] + out["overlap"]) / 2
    return out


# ---------------------------------------------------------------------------------------- metrics
def balanced_acc_best(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Best balanced accuracy over all thresholds (score >= t -> faithful), and that threshold."""
    best, best_t = 0.0, 0.5
    pos, neg = labels == 1, labels == 0
    for t in np.unique(scores):
        pred = scores >= t
        bacc = 0.5 * (pred[pos].mean() + (~pred[neg]).mean())
        if bacc > best:
            best, best_t = float(bacc), float(t)
    return best, best_t


def twin_wins(rows: list[dict], scores: np.ndarray) -> dict[str, float]:
    """BUMP: fraction of minimal pairs where the faithful twin scores strictly higher (ties reported apart)."""
    by_pair: dict[str, dict[int, float]] = {}
    for r, s in zip(rows, scores, strict=True):
        by_pair.setdefault(r["pair_id"], {})[int(r["label"])] = float(s)
    pairs = [p for p in by_pair.values() if 0 in p and 1 in p]
    wins = sum(p[1] > p[0] for p in pairs)
    ties = sum(p[1] == p[0] for p in pairs)
    return {"twin_wins": round(wins / len(pairs), 4), "ties": round(ties / len(pairs), 4), "pairs": len(pairs)}


def evaluate(model: Any, tokenizer: Any, *, data_root: Path = DATA_ROOT, limit: int | None = None,
             batch_tokens: int = 8192, bf16: bool = True, top_k: int | None = None,
             sets: tuple[str, ...] = ("frank", "bump"), max_length: int = 256, progress: bool = True) -> dict[str, Any]:
    frank = read_jsonl(data_root / "dev" / "frank_valid.jsonl")
    bump = read_jsonl(data_root / "dev" / "bump.jsonl.gz")
    if limit:
        rng = np.random.default_rng(0)
        frank = [frank[i] for i in sorted(rng.choice(len(frank), min(limit, len(frank)), replace=False))]
        groups = sorted({r["pair_id"] for r in bump})
        keep = set(rng.choice(groups, min(limit // 2, len(groups)), replace=False).tolist())
        bump = [r for r in bump if r["pair_id"] in keep]
    frank = frank if "frank" in sets else []
    bump = bump if "bump" in sets else []
    report: dict[str, Any] = {"frank": {}, "bump": {}, "n_frank": len(frank), "n_bump_rows": len(bump),
                              "top_k": top_k, "limit": limit}
    t0 = time.perf_counter()
    kw = {"batch_tokens": batch_tokens, "bf16": bf16, "max_length": max_length, "progress": progress}
    fs = score_docs(model, tokenizer, frank, top_k=top_k, **kw) if frank else {}
    y = np.asarray([int(r["label"]) for r in frank])
    origins = np.asarray([r.get("origin", "") for r in frank])
    for k, s in fs.items():
        bacc, thr = balanced_acc_best(y, s)
        entry = {"roc_auc": round(float(roc_auc_score(y, s)), 4), "bacc": round(bacc, 4), "threshold": round(thr, 4)}
        for o in sorted(set(origins)):
            m = origins == o
            if len(set(y[m])) == 2:
                entry[f"roc_auc_{o}"] = round(float(roc_auc_score(y[m], s[m])), 4)
        report["frank"][k] = entry
    report["frank_seconds"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    bs = score_docs(model, tokenizer, bump, top_k=top_k, **kw) if bump else {}
    for k, s in bs.items():
        report["bump"][k] = twin_wins(bump, s)
    report["bump_seconds"] = round(time.perf_counter() - t0, 1)
    return report


def print_table(report: dict[str, Any]) -> None:
    print(f"\nFRANK valid (n={report['n_frank']}), BUMP ({report['n_bump_rows']} rows)")
    print(f"{'scorer':<20}{'AUC':>8}{'AUC cnndm':>11}{'AUC xsum':>10}{'bAcc':>8}{'thr':>8}{'BUMP wins':>11}{'ties':>7}")
    nan = float("nan")
    for k in report["frank"] or report["bump"]:
        f = report["frank"].get(k, {})
        b = report["bump"].get(k, {})
        print(f"{k:<20}{f.get('roc_auc', nan):>8.4f}{f.get('roc_auc_cnndm', nan):>11.4f}"
              f"{f.get('roc_auc_xsum', nan):>10.4f}{f.get('bacc', nan):>8.4f}{f.get('threshold', nan):>8.3f}"
              f"{b.get('twin_wins', nan):>11.4f}{b.get('ties', nan):>7.3f}")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(prog="python -m harness.train.quick_eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter-dir", type=Path, default=None, help="directory with adapter.safetensors "
                    "(default: the shipped harness/models/embedded)")
    ap.add_argument("--data-root", type=Path, default=DATA_ROOT)
    ap.add_argument("--limit", type=int, default=None, help="fixed random subset (FRANK docs; BUMP pairs=limit/2)")
    ap.add_argument("--batch-tokens", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fp32", action="store_true", help="disable bf16 autocast")
    ap.add_argument("--top-k", type=int, default=None,
                    help="score only the k highest-overlap windows per claim (default: all windows)")
    ap.add_argument("--sets", default="frank,bump", help="comma list of: frank, bump")
    ap.add_argument("--json", type=Path, default=None, help="write the full report here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, tok, info = embedded.load_embedded(directory=args.adapter_dir)
    report = evaluate(model, tok, data_root=args.data_root.resolve(), limit=args.limit,
                      batch_tokens=args.batch_tokens, bf16=not args.fp32, top_k=args.top_k,
                      sets=tuple(args.sets.split(",")))
    report["model"] = {k: v for k, v in info.items() if k != "training"}
    print_table(report)
    print(f"(FRANK {report['frank_seconds']}s, BUMP {report['bump_seconds']}s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
