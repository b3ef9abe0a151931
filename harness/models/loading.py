"""Load a model by hub id (with revision), local directory, or a shipped one: ``embedded`` (the NLI
cross-encoder) and ``embedded-qa`` (the extractive QA model of the offline QA scorer).

Offline and not cached must fail fast and say what to do, instead of letting the hub client retry for
most of a minute: we check the local cache first and only then the network (with a short timeout).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from harness.config import ModelConfig
from harness.models.errors import ModelUnavailableError
from harness.results.schema import ModelInfo

__all__ = [
    "DTYPES",
    "LoadedModel",
    "ModelUnavailableError",
    "Task",
    "WeightsFormat",
    "files_sha256",
    "load_model",
    "loaded_weights",
    "model_type",
    "resolve_source",
    "weights_sha256",
]

Task = Literal["classification", "question_answering", "seq2seq"]
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


WeightsFormat = Literal["safetensors", "pickle-weights-only"]
"""How weights were read: ``safetensors`` (plain tensors, no code) or a pickle ``.bin`` read with torch's
weights-only unpickler (refuses anything but tensors and plain containers). Never full pickle."""


_LOAD_ORDER: tuple[tuple[str, WeightsFormat], ...] = (
    ("model.safetensors", "safetensors"),
    ("model.safetensors.index.json", "safetensors"),
    ("pytorch_model.bin", "pickle-weights-only"),
    ("pytorch_model.bin.index.json", "pickle-weights-only"),
)
"""The files transformers' ``from_pretrained`` looks for in a model folder, in its order (the first present
wins; other ``*.safetensors`` files in the folder are never read)."""


def _format_of(name: str) -> WeightsFormat:
    return "safetensors" if name.endswith((".safetensors", ".safetensors.index.json")) else "pickle-weights-only"


def loaded_weights(folder: Path) -> tuple[WeightsFormat, str, list[str]] | None:
    """What transformers loads from ``folder``: (format, the file it opens, the weight files read), with its
    precedence: ``transformers_weights`` in config.json, then :data:`_LOAD_ORDER`. A sharded checkpoint is
    opened through its ``*.index.json``; its shards are the distinct files of ``weight_map``, sorted. None: no
    weights transformers would load."""
    import json

    try:
        explicit = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("transformers_weights")
    except (OSError, ValueError, AttributeError):
        explicit = None
    order = list(_LOAD_ORDER)
    if isinstance(explicit, str) and explicit:
        order.insert(0, (explicit, _format_of(explicit)))
    for name, fmt in order:
        f = folder / name
        if not f.is_file():
            continue
        if not name.endswith(".index.json"):
            return fmt, name, [name]
        try:
            weight_map = json.loads(f.read_text(encoding="utf-8")).get("weight_map") or {}
            shards = sorted({str(v) for v in weight_map.values()})
        except (OSError, ValueError, AttributeError):
            shards = []
        return fmt, name, shards
    return None


def weights_format(folder: Path) -> WeightsFormat | None:
    """The format transformers will load from ``folder`` (see :func:`loaded_weights`)."""
    found = loaded_weights(folder)
    return found[0] if found else None


def _remote_code_note(folder: Path) -> str:
    import json

    try:
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if isinstance(cfg, dict) and cfg.get("auto_map"):
        return ("; its config.json asks for the model's own Python code (auto_map), which harness never runs "
                "(trust_remote_code stays off): use a model with a built-in transformers architecture")
    return ""


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    tokenizer: Any
    info: ModelInfo


def weights_sha256(folder: Path) -> str | None:
    """sha256 of the weights transformers loads from ``folder`` (the proof of which weights scored a run): of
    the one file, or of a sharded checkpoint's shards read one after another in name order."""
    found = loaded_weights(folder)
    return files_sha256([folder / name for name in found[2]]) if found else None


def files_sha256(files: list[Path]) -> str:
    """sha256 of ``files`` read one after another (1 MiB at a time)."""
    h = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


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


_SHIPPED_HINT: dict[str, str] = {
    "classification": "or use `model.id: embedded` (ships with harness)",
    "question_answering": "or use `id: embedded-qa` (ships with harness)",
    "seq2seq": "or leave `models.question_generation` out: the QA scorer then asks cloze questions, offline",
}


def _how_to(model_id: str, task: Task | None = None) -> str:
    return (
        f"model {model_id!r} is not available offline: download it where the hub is reachable "
        f"(`huggingface-cli download {model_id}`) and copy the HF cache, or point `model.id` at a local "
        f"directory with config.json + weights, {_SHIPPED_HINT[task or 'classification']}"
    )


def resolve_source(cfg: ModelConfig, *, need_weights: bool = True, task: Task | None = None) -> tuple[str, bool]:
    """Return (path-or-id, local_files_only). Raises ModelUnavailableError quickly if it cannot load.
    ``need_weights=False`` for a folder that only supplies config and tokenizer (AlignScore's base model,
    whose weights come from the checkpoint); ``task`` picks the shipped model the error suggests."""
    p = Path(cfg.id).expanduser()
    if p.is_dir():
        if not (p / "config.json").exists():
            raise ModelUnavailableError(f"model directory {p} has no config.json")
        if need_weights and weights_format(p) is None:
            raise ModelUnavailableError(
                f"model directory {p} has no weights transformers would load (model.safetensors, "
                "model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json); save the model "
                "there with save_pretrained"
            )
        return str(p.resolve()), True
    if p.exists():
        raise ModelUnavailableError(f"model {cfg.id!r} is a file; model.id needs a folder (config.json + weights), "
                                    "a hub id or 'embedded'")
    if cfg.id.startswith((".", "/", "~")):
        raise ModelUnavailableError(f"model directory {cfg.id} does not exist")
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(cfg.id, "config.json", revision=cfg.revision)
    if isinstance(cached, str):
        return cfg.id, _offline() or not _hub_reachable()
    if _offline() or not _hub_reachable():
        raise ModelUnavailableError(_how_to(cfg.id + (f"@{cfg.revision}" if cfg.revision else ""), task))
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
    if cfg.id in _SHIPPED:
        return _load_shipped(cfg, task, torch_dtype, device)

    source, local_only = resolve_source(cfg, task=task)
    from transformers import AutoTokenizer

    # Never run a model repository's own code, never unpickle arbitrary objects: both explicit here so that
    # a transformers default changing cannot turn them on.
    kwargs: dict[str, Any] = {"revision": cfg.revision, "local_files_only": local_only, "trust_remote_code": False}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = _auto_class(task).from_pretrained(source, dtype=torch_dtype, weights_only=True, **kwargs)
    except (OSError, ValueError, pickle.UnpicklingError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, pickle.UnpicklingError) or "Weights only load failed" in str(e):
            first = ("its pytorch_model.bin holds more than plain tensors, and harness reads .bin files only with "
                     "torch's weights-only loader; convert the model to safetensors")
        folder = Path(source) if Path(source).is_dir() else None
        note = _remote_code_note(folder) if folder is not None else ""
        raise ModelUnavailableError(f"cannot load model {cfg.id!r}: {first[:300]}{note}") from None
    folder = Path(source) if Path(source).is_dir() else _cached_folder(cfg)
    weights = loaded_weights(folder) if folder else None
    info = ModelInfo(
        role={"classification": "nli", "question_answering": "question_answering",
              "seq2seq": "question_generation"}[task],
        id=cfg.id,
        revision=cfg.revision or getattr(model.config, "_commit_hash", None),
        weight_sha256=weights_sha256(folder) if folder else None,
        weights_format=weights[0] if weights else None,
        weights_file=weights[1] if weights else None,
        languages=list(cfg.languages or ("en",)),
        labels={str(k): v for k, v in (getattr(model.config, "id2label", None) or {}).items()},
    )
    return LoadedModel(model.to(device).eval(), tokenizer, info)


_SHIPPED: dict[str, tuple[str, str, str]] = {
    "embedded": ("classification", "nli", "the embedded model is an NLI classifier; for question answering use "
                 "id: embedded-qa, for question generation a seq2seq model id"),
    "embedded-qa": ("question_answering", "question_answering", "embedded-qa is an extractive QA model; use it as "
                    "models.question_answering (for NLI use id: embedded)"),
    "embedded-large": ("classification", "nli", "embedded-large is an NLI classifier; for question answering use "
                       "id: embedded-qa, for question generation a seq2seq model id"),
}
"""Models shipped inside the package (base package + delta): id -> (task, role, error for any other task)."""


def _load_shipped(cfg: ModelConfig, task: Task, torch_dtype: Any, device: str) -> LoadedModel:
    """A shipped model (one-line error when asked for another task, or when the QA delta is not trained yet)."""
    want, role, wrong_task = _SHIPPED[cfg.id]
    if task != want:
        raise ModelUnavailableError(wrong_task)
    if cfg.id == "embedded":
        from harness.models.embedded import load_embedded

        model, tokenizer, meta = load_embedded(dtype=torch_dtype)
    elif cfg.id == "embedded-large":
        from harness.models.embedded_large import load_embedded_large

        model, tokenizer, meta = load_embedded_large(dtype=torch_dtype)
    else:
        from harness.models.embedded_qa import load_embedded_qa

        model, tokenizer, meta = load_embedded_qa(dtype=torch_dtype)
    info = ModelInfo(
        role=role, id=cfg.id, revision=str(meta.get("version")),
        weight_sha256=meta.get("adapter_sha256"), weights_format="safetensors",
        languages=list(cfg.languages or ("en",)),
        labels={str(k): v for k, v in model.config.id2label.items()} if role == "nli" else {},
    )
    return LoadedModel(model.to(device).eval(), tokenizer, info)


def model_type(cfg: ModelConfig) -> str:
    """The ``model_type`` in a model's config.json (``roberta``, ``deberta-v2``, ``t5``, ...), without its weights."""
    if cfg.id in _SHIPPED:
        return cfg.id
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
