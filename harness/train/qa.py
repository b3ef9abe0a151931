"""Train the embedded extractive QA model (``model.id: embedded-qa``): LoRA on the pinned MiniLM-L6 base with
a span head, checkpointed and resumable, exported as a ``harness-lora-delta/1`` file.

Why this data: the SQuAD-format file (``train/qa_extractive.jsonl.gz``, English rows) teaches reading
questions with a no-answer option, but it is small; and the scorer asks *cloze* questions (the claim with one
answer span masked, :func:`harness.models.embedded_qa.cloze_question`), which no QA set contains. So the NLI
files in ``train/`` are turned into cloze questions (:func:`cloze_example`):

* an **entailed** pair whose hypothesis has an answer candidate (entity, number, date, noun phrase — the
  scorer's own extractor) occurring exactly once, verbatim, in the premise: the question is the hypothesis
  with that candidate masked, the answer its span in the premise;
* a **contradicted or neutral** pair: a candidate that *does* occur in the premise is masked, so the
  changed or added content stays in the question, and the answer is "none" (SQuAD 2.0's false-premise
  questions). Masking the changed span itself would have an answer we cannot locate, so it is never asked;
* **foreign** cloze questions: an entailed cloze question asked on another pair's premise, no answer.

Contexts are cut into windows with the scoring-time code (:meth:`ExtractiveQABackend.windows` and
``encode``), so the model trains on exactly the inputs it is run on; a window without the answer is a
no-answer example (SQuAD 2.0 convention). Everything is a pure function of the config and the seed, so a
killed run rerun with the same command resumes from its checkpoint and ends with the same weights.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from harness.models import embedded
from harness.models.embedded_qa import CLOZE_MASK, TASK, build_base_qa
from harness.models.qa_backends import ExtractiveQABackend
from harness.scorers.answers import normalize_answer, token_f1
from harness.train.batches import pad_batch, scheduled_batches
from harness.train.checkpoint import load_checkpoint, save_checkpoint, write_delta
from harness.train.qa_config import QAConfig, QADataCfg, QAModelCfg, load_qa_config
from harness.train.qa_examples import (
    QAExample,
    build_cloze,
    build_examples,
    cached_examples,
    cloze_example,
    examples_digest,
    foreign_cloze,
    split_by_context,
    squad_examples,
)
from harness.train.trainer import (
    TrainCfg,
    optimizer_and_schedule,
    optimizer_step,
    resolve,
    train_only_delta,
    use_bf16,
)

__all__ = [  # the config and example builders live in qa_config / qa_examples; kept importable from here
    "QAConfig",
    "QADataCfg",
    "QAExample",
    "QAModelCfg",
    "build_cloze",
    "build_examples",
    "build_qa_model",
    "cloze_example",
    "evaluate",
    "featurize",
    "foreign_cloze",
    "load_qa_config",
    "reader",
    "run_qa_training",
    "span_loss",
    "split_by_context",
    "squad_examples",
]

# ---------------------------------------------------------------------------------------- features
def reader(tokenizer: Any, cfg: QAModelCfg, model: Any = None) -> ExtractiveQABackend:
    """The scoring-time QA backend: its windows and encodings are what training feeds the model."""
    return ExtractiveQABackend(model, tokenizer, model_key="train", max_length=cfg.max_length,
                               max_answer_tokens=cfg.max_answer_tokens, max_question_tokens=cfg.max_question_tokens)


def featurize(ex: QAExample, backend: ExtractiveQABackend, doc_stride: int, max_negative_windows: int | None,
              rng: random.Random) -> list[dict[str, Any]]:
    """Model inputs for one example, one per context window, with start/end token targets (null = ``[CLS]``).

    A window holding the whole first answer is positive; others are no-answer windows, of which at most
    ``max_negative_windows`` are kept (chosen at random) per example."""
    answer = ex.answers[0] if ex.answers else None
    positive: list[dict[str, Any]] = []
    negative: list[dict[str, Any]] = []
    for a, b in backend.windows(ex.context, doc_stride):
        enc = backend.encode((ex.question, ex.context[a:b]))
        null = enc.null_index or 0
        start = end = null
        if answer is not None and a <= answer[0] and answer[1] <= b:
            s_char, e_char = answer[0] - a, answer[1] - a
            inside = [i for i, o in enumerate(enc.offsets) if o is not None and o[0] < e_char and o[1] > s_char]
            if not inside:
                continue  # the answer fell to truncation in this window: neither positive nor a fair negative
            start, end = inside[0], inside[-1]
        item = {"input_ids": enc.ids, "token_type_ids": enc.type_ids or [0] * len(enc.ids), "start": start,
                "end": end}
        (positive if start != null else negative).append(item)
    if max_negative_windows is not None and len(negative) > max_negative_windows + (0 if positive else 1):
        negative = rng.sample(negative, max_negative_windows + (0 if positive else 1))
    return positive + negative


def collate(items: Sequence[dict[str, Any]], pad_id: int, multiple: int = 16) -> dict[str, torch.Tensor]:
    """Right-padded batch (width a multiple of 16: few distinct shapes for oneDNN) with span targets."""
    return {**pad_batch(items, pad_id, multiple),
            "start_positions": torch.tensor([it["start"] for it in items]),
            "end_positions": torch.tensor([it["end"] for it in items])}


def span_loss(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor, starts: torch.Tensor,
              ends: torch.Tensor) -> torch.Tensor:
    """Mean of start and end cross-entropy over real tokens only (padding masked out, as decoding does)."""
    pad = mask == 0
    s = start_logits.float().masked_fill(pad, -1e4)
    e = end_logits.float().masked_fill(pad, -1e4)
    return (torch.nn.functional.cross_entropy(s, starts) + torch.nn.functional.cross_entropy(e, ends)) / 2


# ------------------------------------------------------------------------------------------- model
def build_qa_model(cfg: QAConfig) -> tuple[torch.nn.Module, Any]:
    """Base (verified embedded or seeded tiny) + fresh span head + LoRA; only delta tensors trainable."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    torch.manual_seed(cfg.seed)
    base_dir = embedded.base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    model: torch.nn.Module
    if cfg.model.base == "embedded":
        embedded.verify_base(base_dir)
        model = build_base_qa(base_dir)
    else:
        t = cfg.model.tiny
        bert_cfg = BertConfig(  # type: ignore[call-arg]  # transformers' stubs omit the **kwargs fields
            vocab_size=tokenizer.vocab_size, hidden_size=t.hidden_size, num_hidden_layers=t.num_hidden_layers,
            num_attention_heads=t.num_attention_heads, intermediate_size=t.intermediate_size,
            max_position_embeddings=512, num_labels=2,
        )
        model = BertForQuestionAnswering(bert_cfg)
    train_only_delta(model, cfg.lora)
    return model, tokenizer


def param_groups(model: torch.nn.Module, cfg: TrainCfg) -> list[dict[str, Any]]:
    """LoRA factors at ``lr``, the fresh span head at ``head_lr``, other full tensors at ``full_lr``."""
    lora: list[torch.nn.Parameter] = []
    head: list[torch.nn.Parameter] = []
    full: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (lora if "lora_" in name else head if name.startswith("qa_outputs") else full).append(p)
    return [{"params": lora, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": head, "lr": cfg.head_lr, "weight_decay": cfg.weight_decay},
            {"params": full, "lr": cfg.full_lr, "weight_decay": 0.0}]


# -------------------------------------------------------------------------------------- evaluation
@torch.inference_mode()
def evaluate(model: torch.nn.Module, tokenizer: Any, examples: Sequence[QAExample], cfg: QAConfig) -> dict[str, Any]:
    """SQuAD 2.0-style EM/F1 and no-answer accuracy, decoded exactly as the scorer decodes (windows, best span
    over windows, P(no answer) against ``eval.no_answer_threshold``); overall and per kind."""
    from harness.engine import Engine
    from harness.scorers.qa import answer_questions

    if not examples:
        return {}
    was_training = model.training
    model.eval()
    backend = reader(tokenizer, cfg.model, model)
    answers = answer_questions(Engine(token_budget=cfg.eval.token_budget), backend,
                               [ex.question for ex in examples], [ex.context for ex in examples],
                               cfg.model.doc_stride, desc="held-out")
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for ex, ans in zip(examples, answers, strict=True):
        abstain = not ans.has_span or ans.p_no_answer >= cfg.eval.no_answer_threshold
        pred = "" if abstain else ex.context[ans.start:ans.end]
        golds = ex.answer_texts or [""]
        exact = max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds)
        f1 = max(token_f1(pred, g) for g in golds)
        row = (exact, f1, float(abstain == (not ex.answers)))
        for key in ("all", ex.kind, "has_answer" if ex.answers else "no_answer"):
            rows.setdefault(key, []).append(row)
    if was_training:
        model.train()

    def summary(vals: list[tuple[float, float, float]]) -> dict[str, float]:
        n = len(vals)
        return {"n": n, "exact": round(100 * sum(v[0] for v in vals) / n, 2),
                "f1": round(100 * sum(v[1] for v in vals) / n, 2),
                "no_answer_accuracy": round(100 * sum(v[2] for v in vals) / n, 2)}

    return {key: summary(vals) for key, vals in sorted(rows.items())}


# ------------------------------------------------------------------------------------------ export
def export_delta(model: torch.nn.Module, cfg: QAConfig, export_dir: Path, training: dict[str, Any]) -> Path:
    """Write the QA delta (atomic) with what loading and scoring need in its metadata."""
    meta = {
        "format": embedded.DELTA_FORMAT, "task": TASK, "version": cfg.output.version,
        "max_length": str(cfg.model.max_length), "max_question_tokens": str(cfg.model.max_question_tokens),
        "doc_stride": str(cfg.model.doc_stride), "cloze_mask": CLOZE_MASK, "lora_rank": str(cfg.lora.rank),
        "base_sha256": embedded.BASE_SHA256 if cfg.model.base == "embedded" else "tiny-random",
        "training": json.dumps(training, sort_keys=True),
    }
    return write_delta(model, export_dir, meta)


REFERENCE_INPUTS: list[tuple[str, str]] = [
    ("The council approved the budget on [MASK].", "The council approved the new budget on Monday. "
     "Taxes will rise by 2 percent next year."),
    ("Taxes will rise by [MASK] percent next year.", "The council approved the new budget on Monday."),
    ("Who approved the budget?", "The council approved the new budget on Monday."),
]


@torch.inference_mode()
def write_reference_outputs(export_dir: Path) -> Path:
    """Start/end logits of the *loaded* (merged, fp32) model on fixed inputs: a regression anchor for tests."""
    from harness.models.embedded_qa import load_embedded_qa

    model, tokenizer, info = load_embedded_qa(torch.float32, directory=export_dir)
    enc = tokenizer([q for q, _ in REFERENCE_INPUTS], [c for _, c in REFERENCE_INPUTS], padding=True,
                    return_tensors="pt")
    out = model(**enc)
    path = export_dir / "reference_outputs.json"
    path.write_text(json.dumps({
        "adapter_sha256": info["adapter_sha256"], "dtype": "float32", "inputs": [list(x) for x in REFERENCE_INPUTS],
        "start_logits": [[round(v, 4) for v in row] for row in out.start_logits.tolist()],
        "end_logits": [[round(v, 4) for v in row] for row in out.end_logits.tolist()],
    }, indent=1) + "\n")
    return path


# -------------------------------------------------------------------------------------------- main
def _fingerprint(cfg: QAConfig, data_digest: str) -> str:
    dump = cfg.model_dump(exclude={"train": {"checkpoint_every", "log_every", "threads", "max_steps"},
                                   "output": True, "eval": True})
    return json.dumps({"config": dump, "data": data_digest}, sort_keys=True)


def _cpu_file(train_dir: Path) -> Path:
    return train_dir / "cpu_seconds.json"


def _save(ckpt: Path, model: torch.nn.Module, opt: Any, sched: Any, step: int, wall: float, cpu: float,
          fingerprint: str) -> None:
    save_checkpoint(ckpt, model, opt, sched, step, wall, fingerprint)
    side = _cpu_file(ckpt.parent)
    tmp = side.with_suffix(".tmp")
    tmp.write_text(json.dumps({"step": step, "cpu_seconds": round(cpu, 2)}))
    os.replace(tmp, side)


def run_qa_training(config_path: str | Path, *, resume: bool = True, stop_after: int | None = None,
                    export_only: bool = False) -> Path:
    """Train (or resume) per the YAML config and export the delta; returns the adapter path.

    ``stop_after`` checkpoints and stops after that many global steps, like a kill (tests); ``export_only``
    exports the latest checkpoint as it is."""
    cfg = load_qa_config(config_path)
    torch.set_num_threads(cfg.train.threads)
    random.seed(cfg.seed)
    train_dir = resolve(cfg.output.train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    ckpt = train_dir / "checkpoint.pt"

    t_data = time.perf_counter()
    train_examples, heldout, counts = cached_examples(cfg, train_dir)
    model, tokenizer = build_qa_model(cfg)
    backend = reader(tokenizer, cfg.model)
    feat_rng = random.Random(cfg.seed + 1)
    items = [f for ex in train_examples for f in featurize(ex, backend, cfg.model.doc_stride,
                                                           cfg.data.max_negative_windows, feat_rng)]
    if not items:
        raise RuntimeError("no training examples: check data.root and the data counts in the config")
    counts["windows"] = len(items)
    counts["windows_no_answer"] = sum(it["start"] == 0 for it in items)
    data_seconds = time.perf_counter() - t_data
    print(f"[train-qa] data in {data_seconds:.0f}s: {counts}", flush=True)

    lengths = [len(it["input_ids"]) for it in items]
    steps_per_epoch, total, opt, sched = optimizer_and_schedule(len(items), param_groups(model, cfg.train), cfg.train)
    fingerprint = _fingerprint(cfg, examples_digest(train_examples))
    step, wall, cpu = 0, 0.0, 0.0
    if resume and ckpt.exists():
        step, wall = load_checkpoint(ckpt, model, opt, sched, fingerprint)
        side = _cpu_file(train_dir)
        if side.exists():
            saved = json.loads(side.read_text())
            cpu = float(saved["cpu_seconds"]) if saved.get("step") == step else 0.0
        print(f"[train-qa] resumed from {ckpt} at step {step}/{total}", flush=True)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"[train-qa] {len(items)} windows, {total} steps, {n_train / 1e6:.2f}M trainable params", flush=True)
    if export_only:
        if step == 0:
            raise RuntimeError(f"no checkpoint to export in {train_dir}")
        total = step
    if stop_after is not None and step >= stop_after and step < total:
        return ckpt

    model.train()
    t0, c0 = time.perf_counter(), time.process_time()
    run_loss = 0.0
    batches = scheduled_batches(lengths, cfg.train.batch_size, cfg.seed, cfg.train.sort_chunk, steps_per_epoch,
                                step, total)
    for run_n, batch_ids in enumerate(batches, start=1):
        batch = collate([items[i] for i in batch_ids], tokenizer.pad_token_id)
        starts, ends = batch.pop("start_positions"), batch.pop("end_positions")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16(cfg.train)):
            out = model(**batch)
        loss = span_loss(out.start_logits, out.end_logits, batch["attention_mask"], starts, ends)
        optimizer_step(model, loss, opt, sched, cfg.train.grad_clip)
        step += 1
        run_loss += loss.item()
        now_wall, now_cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
        if step % cfg.train.log_every == 0 or step == total:
            rate = (time.perf_counter() - t0) / run_n
            print(f"[train-qa] step {step}/{total} loss {run_loss / run_n:.4f} {rate:.2f}s/step "
                  f"cpu {now_cpu / 3600:.2f}h eta {rate * (total - step) / 60:.1f}min", flush=True)
        stopping = stop_after is not None and step >= stop_after and step < total
        if step % cfg.train.checkpoint_every == 0 or step == total or stopping:
            _save(ckpt, model, opt, sched, step, now_wall, now_cpu, fingerprint)
        if stopping:
            print(f"[train-qa] stopping at step {step} (simulated kill)", flush=True)
            return ckpt
    wall += time.perf_counter() - t0
    cpu += time.process_time() - c0

    t_eval = time.perf_counter()
    metrics = evaluate(model, tokenizer, heldout, cfg)
    training = {
        "run_name": cfg.run_name, "seed": cfg.seed, "steps": total, "planned_steps": steps_per_epoch * cfg.train.epochs,
        "examples": len(train_examples), "counts": counts, "train_seconds": round(wall, 1),
        "train_cpu_seconds": round(cpu, 1), "cpu_hours": round(cpu / 3600, 3), "threads": cfg.train.threads,
        "data_seconds": round(data_seconds, 1), "eval_seconds": round(time.perf_counter() - t_eval, 1),
        "heldout": metrics, "lora_rank": cfg.lora.rank, "max_length": cfg.model.max_length,
        "doc_stride": cfg.model.doc_stride, "cloze_mask": CLOZE_MASK, "answer_extractor": cfg.data.answer_extractor,
        "bf16": cfg.train.bf16, "batch_size": cfg.train.batch_size,
    }
    print(f"[train-qa] done: {wall / 60:.1f} min wall, {cpu / 3600:.2f} CPU-hours; held-out "
          f"{json.dumps(metrics.get('all', {}))}", flush=True)
    export_dir = resolve(cfg.output.export_dir)
    path = export_delta(model, cfg, export_dir, training)
    info = json.dumps(training, indent=2, sort_keys=True) + "\n"
    (train_dir / "training_info.json").write_text(info)
    (export_dir / "training_info.json").write_text(info)
    if cfg.model.base == "embedded":
        write_reference_outputs(export_dir)
    print(f"[train-qa] exported {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    return path
