"""Ship one snapshot of a long run as the model's delta: ``python -m harness.train CONFIG --ship STEP``.

Why: a run that spans sessions keeps a delta at every dev evaluation (``snapshots/step-N``), and the one that
ships is chosen on the whole dev suite afterwards, not the last one trained. Shipping rewrites the snapshot's
header so that the shipped file says what it is: the release version, the step and examples it was taken at,
the CPU-hours spent up to it (from the journal), its quick dev numbers, and the snapshot's own sha256, then
writes it (atomically) where the loader looks, with the reference logits the regression test checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors import safe_open

from harness.models import embedded
from harness.train.checkpoint import save_delta, write_reference_logits
from harness.train.dev_curve import snapshot_dir
from harness.train.journal import JOURNAL_FILE, read_journal

__all__ = ["ShipError", "ship_snapshot", "snapshot_record"]


class ShipError(RuntimeError):
    """A snapshot that cannot be shipped (missing, or no destination); the message is one line."""


def snapshot_record(train_dir: Path, step: int, batch_size: int) -> dict[str, Any]:
    """What the journal knows about the snapshot at ``step``: examples, CPU-hours spent up to it (every process
    that worked on the run, lost work included), and its quick dev evaluation."""
    events = read_journal(train_dir / JOURNAL_FILE)
    evals = [e for e in events if e.get("event") == "eval" and e.get("step") == step]
    record: dict[str, Any] = {"step": step, "examples": step * batch_size}
    if evals:
        ev = evals[-1]
        record["cpu_hours"] = round(float(ev.get("cpu_s", 0.0)) / 3600, 2)
        record["quick_eval"] = {k: ev[k] for k in ("frank_auc", "frank_auc_xsum", "frank_auc_cnndm", "bump_twin_wins")
                                if ev.get(k) is not None}
    return record


def ship_snapshot(config_path: str | Path, step: int, *, to: str | Path | None = None,
                  version: str | None = None) -> Path:
    """Write snapshot ``step`` of the config's run as ``DIR/adapter.safetensors`` (DIR: ``to`` or the config's
    ``output.ship_dir``) with its header completed, plus ``reference_logits.json``; returns the adapter path."""
    from harness.train.trainer import load_config, resolve

    cfg = load_config(config_path)
    train_dir = resolve(cfg.output.train_dir)
    source = snapshot_dir(train_dir, step) / embedded.ADAPTER_FILE
    if not source.is_file():
        have = sorted(p.name for p in (train_dir / "snapshots").glob("step-*")) if train_dir.is_dir() else []
        raise ShipError(f"no snapshot at step {step} in {train_dir / 'snapshots'} "
                        f"(have: {', '.join(have) or 'none'})")
    target = to if to is not None else cfg.output.ship_dir
    if target is None:
        raise ShipError(f"{config_path}: say where the delta ships (output.ship_dir, or --to DIR)")
    dest_dir = resolve(str(target))

    with safe_open(str(source), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 (safe_open is not a mapping)
    training = json.loads(meta.get("training", "{}"))
    training.update(snapshot_record(train_dir, step, cfg.train.batch_size))
    training.update({"run_name": cfg.run_name, "seed": cfg.seed, "planned_steps": cfg.train.max_steps,
                     "lora_rank": cfg.lora.rank, "max_length": cfg.model.max_length, "base": cfg.model.base,
                     "snapshot_sha256": embedded.sha256_file(source)})
    meta["version"] = version or cfg.output.version
    meta["training"] = json.dumps(training, sort_keys=True)

    path = save_delta(tensors, dest_dir, meta)
    model_id = {"embedded": "embedded", "large": "embedded-large"}.get(cfg.model.base)
    if model_id is not None:  # a tiny test base has no loader of its own
        write_reference_logits(dest_dir, model_id=model_id)
    return path
