"""``embedded-large``: the opt-in 110M faithfulness cross-encoder — all-mpnet-base-v2 (from its PyPI parts, see
:mod:`harness.models.large_base`) plus a shipped delta, like ``embedded`` on its MiniLM-L6 base.

Why opt-in: it costs several times the default per pair on a CPU; it is the teacher the default is distilled
from and the choice for a GPU. ``HARNESS_EMBEDDED_LARGE_DIR`` points the loader at another delta folder (a
training snapshot under evaluation); run.json records the delta's version and sha256 either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from harness.models import embedded, large_base
from harness.models.errors import ModelUnavailableError

MODEL_ID = "embedded-large"
EMBEDDED_LARGE_DIR: Path = Path(__file__).resolve().with_name("embedded_large")
TRAIN_COMMAND = "python -m harness.train configs/train_embedded_large.yaml"


def delta_dir() -> Path:
    """The delta folder in use: ``$HARNESS_EMBEDDED_LARGE_DIR`` or the one shipped in the package."""
    return embedded.delta_dir("HARNESS_EMBEDDED_LARGE_DIR", EMBEDDED_LARGE_DIR)


def build_large_classifier(base_dir: Path) -> torch.nn.Module:
    """A 3-way MPNetForSequenceClassification on the verified large base; the head is untrained until a delta."""
    from transformers import MPNetForSequenceClassification

    return embedded.build_from_base(MPNetForSequenceClassification, base_dir, num_labels=3,
                                    id2label=dict(embedded.ID2LABEL), label2id=dict(embedded.LABEL2ID))


def load_embedded_large(
    dtype: torch.dtype = torch.float32, *, directory: Path | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """Verified large base + delta -> (model in eval mode, tokenizer, info). Never touches the network; one-line
    :class:`ModelUnavailableError` when the base parts or the delta are missing."""
    directory = delta_dir() if directory is None else Path(directory)
    adapter = directory / embedded.ADAPTER_FILE
    if not adapter.is_file():
        raise ModelUnavailableError(
            f"model '{MODEL_ID}' has no delta at {adapter}: it is trained with {TRAIN_COMMAND} (many CPU-hours; "
            "rerun to resume), or set HARNESS_EMBEDDED_LARGE_DIR to a folder holding one")
    try:
        base = (large_base.base_dir(), large_base.BASE_SHA256, large_base.BASE_NAME)
        model, tokenizer, info = embedded.load_delta_model(
            build_large_classifier, directory, name=MODEL_ID, dtype=dtype, base=base, missing="{adapter}")
    except (RuntimeError, large_base.LargeBaseError) as exc:
        raise ModelUnavailableError(" ".join(str(exc).split())) from None
    info["id2label"] = dict(model.config.id2label)
    return model, tokenizer, info
