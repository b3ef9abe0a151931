"""AlignScore checkpoints (Zha et al., ACL 2023; yuh-zha/AlignScore, MIT) as a plain RoBERTa + heads, loaded
without running pickled code.

The published ``AlignScore-{base,large}.ckpt`` files are PyTorch Lightning checkpoints of ``BERTAlignModel``:
``state_dict`` holds ``base_model.*`` (a ``RobertaModel`` with pooler), ``mlm_head.*`` (unused at inference),
``bin_layer`` Linear(H,2), ``tri_layer`` Linear(H,3) and ``reg_layer`` Linear(H,1), all on the pooler output.
They are read with ``torch.load(weights_only=True)`` (tensors and plain containers only); a checkpoint that
needs anything else is refused. Keys are mapped into :class:`AlignScoreHeads`; every RoBERTa and head weight
must be present (the reference loads with ``strict=False`` and would silently keep random ones).
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from harness.config import ModelConfig
from harness.models.loading import DTYPES, ModelUnavailableError, resolve_source
from harness.results.schema import ModelInfo

__all__ = ["AlignScoreHeads", "LoadedAlignScore", "load_alignscore", "read_checkpoint_state"]

HEAD_LABELS = {
    "nli": {0: "aligned", 1: "neutral", 2: "contradiction"},
    "bin": {0: "not_aligned", 1: "aligned"},
}
"""Class names per head: the 3-way head's index 0 is "aligned" (trained from NLI entailment); the 2-way head's 1."""


@dataclass
class _Logits:
    logits: torch.Tensor


class AlignScoreHeads(nn.Module):
    """RoBERTa (with pooler) + AlignScore's heads; ``forward`` returns the chosen head's logits (``.logits``) so
    that the engine's pair-classifier backend can run it like any sequence classifier."""

    def __init__(self, config: Any, head: str = "nli") -> None:
        super().__init__()
        from transformers import RobertaModel

        self.base_model = RobertaModel(config, add_pooling_layer=True)
        h = config.hidden_size
        self.bin_layer = nn.Linear(h, 2)
        self.tri_layer = nn.Linear(h, 3)
        self.reg_layer = nn.Linear(h, 1)
        self.head = head
        cfg = copy.deepcopy(config)
        cfg.id2label = dict(HEAD_LABELS[head])
        cfg.label2id = {v: k for k, v in cfg.id2label.items()}
        cfg.num_labels = len(cfg.id2label)
        self.config = cfg

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> _Logits:
        pooled = self.base_model(input_ids=input_ids, attention_mask=attention_mask,
                                 token_type_ids=token_type_ids).pooler_output
        layer = self.tri_layer if self.head == "nli" else self.bin_layer
        return _Logits(layer(pooled))


def read_checkpoint_state(path: Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of a Lightning checkpoint (or a bare state dict), tensor-only."""
    try:
        try:  # memory-mapped: the 4.9 GB large checkpoint is mostly optimizer state we never touch
            ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e):
                raise
            ckpt = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except Exception as e:  # an unpickling refusal or a broken file: one line, never a retry without the guard
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelUnavailableError(
            f"AlignScore checkpoint {path}: cannot be read tensor-only (weights_only=True): {first}") from None
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelUnavailableError(f"AlignScore checkpoint {path}: no state_dict of tensors")
    return state


def map_state(state: dict[str, torch.Tensor], model: AlignScoreHeads, path: Path) -> None:
    """Copy ``base_model.*`` and the three heads into ``model``; fail on anything missing or unexpected."""
    ignored = ("mlm_head.", "base_model.embeddings.position_ids")
    wanted = {k: v for k, v in state.items() if not k.startswith(ignored)}
    result = model.load_state_dict(wanted, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
    if missing or result.unexpected_keys:
        raise ModelUnavailableError(
            f"AlignScore checkpoint {path} does not match a RoBERTa of this config + heads: missing "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected {result.unexpected_keys[:5]}")


@dataclass(frozen=True)
class LoadedAlignScore:
    model: AlignScoreHeads
    tokenizer: Any
    info: ModelInfo


def _checkpoint_path(cfg: ModelConfig, filename: str) -> Path:
    folder = Path(cfg.id).expanduser()
    if folder.is_dir():
        path = folder / filename
        if not path.is_file():
            raise ModelUnavailableError(f"AlignScore checkpoint {path} not found")
        return path
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(cfg.id, filename, revision=cfg.revision)
    if isinstance(cached, str):
        return Path(cached)
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        raise ModelUnavailableError(
            f"AlignScore checkpoint {cfg.id}/{filename} is not available offline: `huggingface-cli download "
            f"{cfg.id} {filename}` where the hub is reachable, or point checkpoint.id at a folder holding it")
    try:
        return Path(hf_hub_download(cfg.id, filename, revision=cfg.revision))
    except Exception as e:
        raise ModelUnavailableError(f"cannot download AlignScore checkpoint {cfg.id}/{filename}: {e}") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_alignscore(checkpoint: ModelConfig, filename: str, base: ModelConfig, head: str = "nli",
                    dtype: str = "fp32", device: str = "cpu") -> LoadedAlignScore:
    """RoBERTa config + tokenizer from ``base`` (``roberta-large`` for AlignScore-large), weights from the
    checkpoint file ``filename`` in ``checkpoint`` (hub repo ``yzha/AlignScore`` or a folder)."""
    from transformers import AutoConfig, AutoTokenizer

    source, local_only = resolve_source(base, need_weights=False)
    kwargs: dict[str, Any] = {"revision": base.revision, "local_files_only": local_only}
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    except OSError as e:
        raise ModelUnavailableError(f"cannot load AlignScore base {base.id!r}: {str(e).splitlines()[0]}") from None
    if config.model_type != "roberta":
        raise ModelUnavailableError(f"AlignScore base {base.id!r} is {config.model_type!r}, not roberta")
    path = _checkpoint_path(checkpoint, filename)
    state = read_checkpoint_state(path)
    model = AlignScoreHeads(config, head)
    map_state(state, model, path)
    model = model.to(getattr(torch, DTYPES[dtype])).to(device).eval()
    info = ModelInfo(
        role="nli", id=f"{checkpoint.id}/{filename}", revision=checkpoint.revision, weight_sha256=_sha256(path),
        languages=list(checkpoint.languages or ("en",)), labels={str(k): v for k, v in HEAD_LABELS[head].items()},
    )
    return LoadedAlignScore(model, tokenizer, info)
