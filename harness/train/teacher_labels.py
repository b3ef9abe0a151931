"""Step 1 of distillation (:mod:`harness.train.distill`): the teacher's 3-way probabilities for every example a
student's schedule will visit, through the engine, written to ``<train_dir>/teacher_labels.jsonl.gz``.

    python -m harness.train.teacher_labels CONFIG     # rerun to resume: the engine cache keeps finished batches
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

from harness.train import trainer
from harness.train.batches import encode
from harness.train.distill import teacher_labels_path, three_way, visited_indices
from harness.train.distill_config import DistillCfg

__all__ = ["label_command", "main"]


def _teacher(distill: DistillCfg) -> tuple[Any, dict[str, list[int]], Any]:
    """(model info, label index, engine backend) of the teacher, through the scorers' own loader."""
    from harness.engine.device import resolve_backend
    from harness.scorers.base import ScorerContext
    from harness.scorers.nli import load_nli_classifier

    t = distill.teacher
    if t.delta is not None:
        os.environ["HARNESS_EMBEDDED_LARGE_DIR"] = str(Path(t.delta).expanduser())
    backend_name, dtype = resolve_backend(t.backend, t.dtype, "cpu")
    from harness.engine.device import dtype_name

    ctx = ScorerContext(device="cpu", dtype=dtype_name(dtype), backend=backend_name)
    info, labels, backend = load_nli_classifier(t.model, ctx)
    if not labels.get("neutral") or not labels.get("contradiction"):
        raise ValueError(f"distill.teacher: {t.model.id!r} is not a 3-way NLI model (labels {sorted(labels)})")
    return info, labels, backend


def label_command(config_path: str | Path) -> Path:
    """Label every example the student will visit, and write ``teacher_labels.jsonl.gz`` (atomically)."""
    import torch

    from harness.engine.cache import OutputCache
    from harness.engine.runner import Engine

    cfg = trainer.load_config(config_path)
    if cfg.distill is None:
        raise SystemExit(f"{config_path}: no distill section; nothing to label")
    t0 = time.perf_counter()
    torch.set_num_threads(cfg.distill.teacher.threads)
    examples, _, counts = trainer.training_mix(cfg)
    _, tokenizer = trainer.build_model(cfg)
    lengths = [len(it["input_ids"]) for it in encode(examples, tokenizer, cfg.model.max_length)]
    steps_per_epoch, total = trainer.planned_steps(len(examples), cfg.train)
    needed = sorted(set(visited_indices(lengths, cfg.train.batch_size, cfg.seed, cfg.train.sort_chunk,
                                        steps_per_epoch, total)))
    pairs = list(dict.fromkeys((examples[i].premise, examples[i].hypothesis) for i in needed))
    info, label_index, backend = _teacher(cfg.distill)
    train_dir = trainer.resolve(cfg.output.train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    cache = OutputCache(train_dir / cfg.distill.cache_file)
    try:
        engine = Engine(cfg.distill.teacher.token_budget, cache=cache, progress=True)  # plain lines in a log
        print(f"[distill] teacher {info.id}@{info.revision} on {len(pairs)} pairs ({len(needed)} of "
              f"{len(examples)} examples, {total} steps)", flush=True)
        outputs = engine.run(backend, pairs, desc="teacher")
        stats = engine.stats.as_dict()
    finally:
        cache.close()
    out = teacher_labels_path(cfg.distill, train_dir)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            for (premise, hyp), o in zip(pairs, outputs, strict=True):
                probs = three_way(o, label_index, backend.labels)
                fh.write(json.dumps({"premise": premise, "hypothesis": hyp, "probs": probs}, ensure_ascii=False)
                         + "\n")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    record = {"teacher": info.model_dump(), "teacher_delta": cfg.distill.teacher.delta, "pairs": len(pairs),
              "examples_visited": len(needed), "examples": len(examples), "steps": total, "mix": counts,
              "seconds": round(time.perf_counter() - t0, 1), "engine": stats}
    (train_dir / "teacher_labels.json").write_text(json.dumps(record, indent=1, default=str) + "\n",
                                                   encoding="utf-8")
    print(f"[distill] wrote {out} ({len(pairs)} pairs, {record['seconds']} s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(prog="python -m harness.train.teacher_labels", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", help="a training config with a distill section")
    label_command(ap.parse_args(argv).config)
    return 0




if __name__ == "__main__":
    raise SystemExit(main())
