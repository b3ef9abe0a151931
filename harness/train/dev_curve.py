"""The dev curve of a training run: score the dev subset with the model as it trains, journal the numbers, and
keep the delta as a snapshot so the best point on the curve can be exported afterwards (chosen on dev, never
trained on it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel

from harness.train.checkpoint import write_delta
from harness.train.journal import Journal

__all__ = ["EvalCfg", "dev_evaluation", "snapshot_dir"]


class EvalCfg(BaseModel):
    """Dev evaluation during training (:mod:`harness.train.quick_eval`, top-k windows): the dev curve in the
    journal, and a delta snapshot per evaluation so the best point can be chosen on dev afterwards."""

    every_examples: int | None = None
    """Evaluate after every this many training examples (None: no evaluation during training)."""
    limit: int = 200
    """FRANK-valid documents (BUMP pairs: half) in the fixed random subset."""
    top_k: int = 3
    batch_tokens: int = 4096
    data_root: str | None = None
    """The folder holding ``dev/`` (default: ``data.root``)."""


def snapshot_dir(train_dir: Path, step: int) -> Path:
    """Where the delta of the dev evaluation at ``step`` is kept (``--ship STEP`` reads it from there)."""
    return train_dir / "snapshots" / f"step-{step:06d}"


def dev_evaluation(model: torch.nn.Module, tokenizer: Any, cfg: EvalCfg, *, step: int, examples: int,
                   data_root: Path, bf16: bool, max_length: int, journal: Journal, snapshot: Path,
                   meta: dict[str, str]) -> dict[str, Any]:
    """Score ``cfg``'s dev subset (:mod:`harness.train.quick_eval`, top-k windows), journal it, write the delta
    to ``snapshot`` with header ``meta``; the model is left in eval mode."""
    from harness.train import quick_eval

    model.eval()
    t = time.perf_counter()
    report = quick_eval.evaluate(model, tokenizer, data_root=data_root, limit=cfg.limit, top_k=cfg.top_k,
                                 batch_tokens=cfg.batch_tokens, bf16=bf16, max_length=max_length, progress=False)
    frank, bump = report["frank"].get("ent_mean", {}), report["bump"].get("ent_mean", {})
    write_delta(model, snapshot, meta)
    row = journal.write("eval", step=step, examples=examples,
                        frank_auc=frank.get("roc_auc"), frank_auc_xsum=frank.get("roc_auc_xsum"),
                        frank_auc_cnndm=frank.get("roc_auc_cnndm"), frank_bacc=frank.get("bacc"),
                        bump_twin_wins=bump.get("twin_wins"), n_frank=report["n_frank"],
                        n_bump_rows=report["n_bump_rows"], seconds=round(time.perf_counter() - t, 1),
                        snapshot=str(snapshot))
    print(f"[train] dev at step {step}: FRANK {row['frank_auc']} (XSum {row['frank_auc_xsum']}, CNN/DM "
          f"{row['frank_auc_cnndm']}), BUMP {row['bump_twin_wins']} in {row['seconds']}s", flush=True)
    return row
