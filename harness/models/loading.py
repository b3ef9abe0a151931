"""Load a model by hub id (with revision), local directory, or the shipped ``embedded`` default.

Offline and not cached must fail fast and say what to do, instead of letting the hub client retry for
most of a minute: we check the local cache first and only then the network (with a short timeout).
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from harness.config import ModelConfig
from harness.results.schema import ModelInfo

__all__ = [
    "DTYPES",
    "LoadedModel",
    "ModelUnavailableError",
    "Task",
    "load_model",
    "model_type",
    "resolve_source",
    "weights_sha256",
]

Task = Literal["classification", "question_answering", "seq2seq"]
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class ModelUnavailableError(RuntimeError):
    """A model that cannot be loaded here; the message is one line saying which and how to provide it."""


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    tokenizer: Any
    info: ModelInfo


def weights_sha256(folder: Path) -> str | None:
    """sha256 of the first weight file found (the proof of which weights scored a run)."""
    for name in _WEIGHT_FILES:
        f = folder / name
        if f.exists():
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            return h.hexdigest()
    shards = sorted(folder.glob("model-*.safetensors"))
    if shards:
        h = hashlib.sha256()
        for s in shards:
            h.update(s.read_bytes())
        return h.hexdigest()
    return None


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def _hub_reachable(timeout: float = 1.5) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _how_to(model_id: str) -> str:
    return (
        f"model {model_id!r} is not available offline: download it where the hub is reachable "
        f"(`huggingface-cli download {model_id}`) and copy the HF cache, or point `model.id` at a local "
        "directory with config.json + weights, or use `model.id: embedded` (ships with harness)"
    )


def resolve_source(cfg: ModelConfig) -> tuple[str, bool]:
    """Return (path-or-id, local_files_only). Raises ModelUnavailableError quickly if it cannot load."""
    p = Path(cfg.id).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise ModelUnavailableError(f"model directory {p} has no config.json")
        return str(p.resolve()), True
    if cfg.id.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"model directory {cfg.id} does not exist")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(cfg.id, "config.json", revision=cfg.revision)
    if isinstance(cached, str):
        return cfg.id, _offline() or not _hub_reachable()
    if _offline() or not _hub_reachable():
        raise ModelUnavailableError(_how_to(cfg.id + (f"@{cfg.revision}" if cfg.revision else "")))
    return cfg.id, False


def _auto_class(task: Task) -> Any:
    import transformers

    return {
        "classification": transformers.AutoModelForSequenceClassification,
        "question_answering": transformers.AutoModelForQuestionAnswering,
        "seq2seq": transformers.AutoModelForSeq2SeqLM,
    }[task]


def load_model(cfg: ModelConfig, task: Task, dtype: str = "fp32", device: str = "cpu") -> LoadedModel:
    """Load tokenizer + model in eval mode on ``device`` with an explicit ``dtype`` (fp32 | bf16 | fp16)."""
    import torch

    torch_dtype = getattr(torch, DTYPES[dtype])
    if cfg.id == "embedded":
        if task != "classification":
            raise ModelUnavailableError("the embedded model is an NLI classifier; set a QA/QG model id")
        from harness.models.embedded import load_embedded

        model, tokenizer, meta = load_embedded(dtype=torch_dtype)
        info = ModelInfo(
            role="nli", id="embedded", revision=str(meta.get("version")),
            weight_sha256=meta.get("adapter_sha256"), languages=list(cfg.languages or ("en",)),
            labels={str(k): v for k, v in model.config.id2label.items()},
        )
        return LoadedModel(model.to(device).eval(), tokenizer, info)

    source, local_only = resolve_source(cfg)
    from transformers import AutoTokenizer

    kwargs: dict[str, Any] = {"revision": cfg.revision, "local_files_only": local_only}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = _auto_class(task).from_pretrained(source, dtype=torch_dtype, **kwargs)
    except OSError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailableError(f"cannot load model {cfg.id!r}: {first}") from None
    folder = Path(source) if Path(source).is_dir() else _cached_folder(cfg)
    info = ModelInfo(
        role={"classification": "nli", "question_answering": "question_answering",
              "seq2seq": "question_generation"}[task],
        id=cfg.id,
        revision=cfg.revision or getattr(model.config, "_commit_hash", None),
        weight_sha256=weights_sha256(folder) if folder else None,
        languages=list(cfg.languages or ("en",)),
        labels={str(k): v for k, v in (getattr(model.config, "id2label", None) or {}).items()},
    )
    return LoadedModel(model.to(device).eval(), tokenizer, info)


def model_type(cfg: ModelConfig) -> str:
    """The ``model_type`` in a model's config.json (``roberta``, ``deberta-v2``, ``t5``, ...), without its weights."""
    if cfg.id == "embedded":
        return "embedded"
    source, local_only = resolve_source(cfg)
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source, revision=cfg.revision, local_files_only=local_only)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailableError(f"cannot read the config of model {cfg.id!r}: {first}") from None
    return str(config.model_type)


def _cached_folder(cfg: ModelConfig) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(cfg.id, "config.json", revision=cfg.revision)
    return Path(cached).parent if isinstance(cached, str) else None
