"""Shared fixtures: offline hub settings, tiny NLI models saved like a user's local model folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HARNESS_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()
"""../shared/data beside the checkout; ``HARNESS_SHARED_DATA`` points elsewhere (worktrees one level deeper)."""


def save_tiny_nli(folder: Path, *, seed: int = 0, labels: tuple[str, ...] = ("entailment", "neutral",
                                                                                "contradiction")) -> Path:
    """A tiny BERT NLI cross-encoder with a tokenizer trained on the spot, saved with save_pretrained."""
    from harness.engine.tiny import build_tiny_bert, build_tiny_tokenizer

    tok = build_tiny_tokenizer()
    model = build_tiny_bert(len(tok), seed=seed, num_labels=len(labels))
    model.config.id2label = dict(enumerate(labels))
    model.config.label2id = {v: k for k, v in enumerate(labels)}
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_nli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_nli(tmp_path_factory.mktemp("tiny-nli"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "dev").is_dir():
        pytest.skip(f"needs ../shared/data (not found at {SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture()
def repo() -> Path:
    return REPO


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """A hidden-32 model is fastest on one thread; two threads stall on a busy CI box."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
