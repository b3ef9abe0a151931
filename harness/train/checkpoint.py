"""What both trainers (NLI: :mod:`harness.train.trainer`, QA: :mod:`harness.train.qa`) write: resumable
checkpoints of the trainable state, and the shipped delta (LoRA factors + fully-trained small tensors).

Writes are atomic (tmp + rename): a run may be killed at any time and a rerun of the same command resumes."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from harness.models import embedded
from harness.train.bases import accepts_segments
from harness.train.lora import lora_modules, plain_name

__all__ = ["delta_tensors", "load_checkpoint", "save_checkpoint", "save_delta", "trainable_state", "write_delta",
           "write_reference_logits"]


# ------------------------------------------------------------------------------------- checkpoints
def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(path: Path, model: torch.nn.Module, opt: Any, sched: Any, step: int, elapsed: float,
                    fingerprint: str) -> None:
    """Atomic write (tmp + rename) so a kill mid-save never leaves a corrupt checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "step": step, "elapsed": elapsed, "fingerprint": fingerprint, "model": trainable_state(model),
        "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _without_max_steps(fingerprint: str) -> str:
    """A fingerprint with ``train.max_steps`` dropped (checkpoints written before it was left out carry it), and
    the unused ``model.tiny`` section of a real base (it gained fields since; they cannot change such a run)."""
    try:
        dump = json.loads(fingerprint)
    except json.JSONDecodeError:
        return fingerprint
    for holder in (dump, dump.get("config", {})):  # the NLI trainer's shape and the QA trainer's
        if isinstance(holder, dict) and isinstance(holder.get("train"), dict):
            holder["train"].pop("max_steps", None)
        if isinstance(holder, dict) and isinstance(holder.get("model"), dict) and holder["model"].get("base") != "tiny":
            holder["model"].pop("tiny", None)
    return json.dumps(dump, sort_keys=True)


def load_checkpoint(path: Path, model: torch.nn.Module, opt: Any, sched: Any, fingerprint: str) -> tuple[int, float]:
    state = torch.load(path, map_location="cpu", weights_only=False)
    if _without_max_steps(state["fingerprint"]) != _without_max_steps(fingerprint):
        raise RuntimeError(f"checkpoint {path} was made with a different config; delete it or use --no-resume")
    missing = set(trainable_state(model)) - set(state["model"])
    if missing:
        raise RuntimeError(f"checkpoint {path} lacks {sorted(missing)[:3]}...")
    model.load_state_dict(state["model"], strict=False)
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"]["torch"])
    np.random.set_state(state["rng"]["numpy"])
    random.setstate(state["rng"]["python"])
    return int(state["step"]), float(state["elapsed"])


# ------------------------------------------------------------------------------------------ export
def delta_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """What ships: LoRA factors (scale folded into B, fp16) + fully-trained small tensors (fp32)."""
    out: dict[str, torch.Tensor] = {}
    for name, mod in lora_modules(model).items():
        a, b = mod.delta()
        out[f"lora.{name}.A"] = a.to(torch.float16).contiguous()
        out[f"lora.{name}.B"] = b.to(torch.float16).contiguous()
    for name, p in model.named_parameters():
        if p.requires_grad and "lora_" not in name:
            out[f"full.{plain_name(name)}"] = p.detach().float().contiguous()
    return out


def write_delta(model: torch.nn.Module, export_dir: Path, meta: dict[str, str]) -> Path:
    """The trainable tensors of ``model`` as ``export_dir/adapter.safetensors`` (atomic: tmp + rename)."""
    return save_delta(delta_tensors(model), export_dir, meta)


def save_delta(tensors: dict[str, torch.Tensor], export_dir: Path, meta: dict[str, str]) -> Path:
    """Delta tensors with header ``meta`` as ``export_dir/adapter.safetensors`` (atomic: tmp + rename)."""
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / embedded.ADAPTER_FILE
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    tmp.chmod(0o644)
    os.replace(tmp, path)
    return path


REFERENCE_INPUTS: list[tuple[str, str]] = [
    ("The company reported a profit of 3 million dollars in 2019.", "The company made a profit in 2019."),
    ("The company reported a profit of 3 million dollars in 2019.", "The company reported a loss in 2019."),
    ("A man is playing a guitar on stage.", "The man is singing a song about the sea."),
    ("Der Hund schläft im Garten.", "Ein Tier schläft draußen."),
]


@torch.inference_mode()
def write_reference_logits(export_dir: Path, model_id: str = "embedded") -> Path:
    """Logits of the *loaded* (merged, fp32) shipped model on fixed inputs: a regression anchor for tests.
    ``model_id``: ``embedded`` (MiniLM-L6 base) or ``embedded-large`` (the 110M base)."""
    if model_id == "embedded-large":
        from harness.models.embedded_large import load_embedded_large

        model, tokenizer, info = load_embedded_large(torch.float32, directory=export_dir)
    else:
        model, tokenizer, info = embedded.load_embedded(torch.float32, directory=export_dir)
    enc = tokenizer([p for p, _ in REFERENCE_INPUTS], [h for _, h in REFERENCE_INPUTS], padding=True,
                    truncation=True, return_tensors="pt")
    if not accepts_segments(model):
        enc.pop("token_type_ids", None)  # MPNet takes none
    logits = model(**enc).logits.tolist()
    out = export_dir / "reference_logits.json"
    out.write_text(json.dumps({"adapter_sha256": info["adapter_sha256"], "dtype": "float32",
                               "inputs": [list(x) for x in REFERENCE_INPUTS],
                               "logits": [[round(v, 5) for v in row] for row in logits]}, indent=2) + "\n")
    return out
