"""The embedded extractive QA model (``model.id: embedded-qa``): the NLI model's pinned MiniLM-L6 base with a
span head, shipped as a delta like :mod:`harness.models.embedded`.

Why: QA-based consistency has to run offline, and the package already carries a verified base; a QA head on
it costs a few MB of delta instead of a second 90 MB model. The head is BertForQuestionAnswering's (start and
end logits per token) and no-answer is the ``[CLS]`` position, SQuAD 2.0 style, so "the source cannot answer
this" is a real signal. Trained by ``python -m harness train configs/train_qa.yaml`` (harness/train/qa.py).

Questions without a generator are cloze questions: the claim with one answer span replaced by
:data:`CLOZE_MASK` (:func:`cloze_question`). Training and scoring build them with the same function, so the
model is asked exactly what it was trained on.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from harness.models import embedded
from harness.models.errors import ModelUnavailableError

__all__ = [
    "CLOZE_CONTEXT_WORDS",
    "CLOZE_MASK",
    "EMBEDDED_QA_DIR",
    "MODEL_ID",
    "TRAIN_COMMAND",
    "build_base_qa",
    "cloze_question",
    "embedded_qa_available",
    "load_embedded_qa",
]

EMBEDDED_QA_DIR: Path = Path(__file__).resolve().with_name("embedded_qa")
MODEL_ID = "embedded-qa"
TASK = "question_answering"
TRAIN_COMMAND = "python -m harness train configs/train_qa.yaml"

CLOZE_MASK = "[MASK]"
"""What replaces the answer in a cloze question: BERT's mask token, which the base tokenizer keeps whole."""
CLOZE_CONTEXT_WORDS = 40
"""Words of the claim kept around the mask (a longer claim is cut to a window around it), so that the mask
always survives the scorer's ``max_question_tokens`` cut."""

_WORD = re.compile(r"\S+")


def cloze_question(text: str, start: int, end: int, *, max_words: int = CLOZE_CONTEXT_WORDS,
                   mask: str = CLOZE_MASK) -> str:
    """``text`` with ``text[start:end]`` replaced by ``mask``, cut to about ``max_words`` words around it.

    The cut keeps whole words and the characters touching the answer (``$[MASK]``, ``[MASK]'s``), and spends
    unused budget of one side on the other; whitespace is squashed to single spaces."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"answer span {start}:{end} outside a text of {len(text)} characters")
    glued_start, glued_end = start, end  # a word glued to the answer ("$" of "$40", "'s" of "Trump's") stays
    while glued_start > 0 and not text[glued_start - 1].isspace():
        glued_start -= 1
    while glued_end < len(text) and not text[glued_end].isspace():
        glued_end += 1
    left = [m.start() for m in _WORD.finditer(text, 0, glued_start)]
    right = [m.end() for m in _WORD.finditer(text, glued_end)]
    budget = max(0, max_words - 1)
    n_left = min(len(left), max(budget // 2, budget - len(right)))
    n_right = min(len(right), budget - n_left)
    a = left[-n_left] if n_left else glued_start
    b = right[n_right - 1] if n_right else glued_end
    return " ".join(f"{text[a:start]}{mask}{text[end:b]}".split())


def build_base_qa(base_dir: Path | None = None) -> torch.nn.Module:
    """BertForQuestionAnswering (two logits per token: start, end) on the verified base; the span head is
    untrained until a delta lands."""
    from transformers import BertForQuestionAnswering

    return embedded.build_from_base(BertForQuestionAnswering, base_dir, num_labels=2)


def embedded_qa_available(directory: Path | None = None) -> bool:
    """Cheap check (no hashing, no model build): adapter present and base package installed."""
    return embedded.embedded_available(EMBEDDED_QA_DIR if directory is None else Path(directory))


def load_embedded_qa(
    dtype: torch.dtype = torch.float32, *, directory: Path | None = None
) -> tuple[Any, Any, dict[str, Any]]:
    """Verified base + the QA delta -> (model in eval mode, tokenizer, info). Never touches the network.

    Raises :class:`harness.models.errors.ModelUnavailableError` (one line, with the training command) when
    the adapter has not been trained yet, or when the delta file holds another task's weights."""

    directory = EMBEDDED_QA_DIR if directory is None else Path(directory)
    adapter = directory / embedded.ADAPTER_FILE
    if adapter.is_file():  # a delta of another task would fail while merging, with a less useful message
        task = embedded.read_delta_metadata(adapter).get("task")
        if task != TASK:
            raise ModelUnavailableError(f"{adapter} is a {task or 'classification'} delta, not an extractive QA "
                                        f"one; train the QA model with: {TRAIN_COMMAND}")
    try:
        return embedded.load_delta_model(
            build_base_qa, directory, name=MODEL_ID, dtype=dtype,
            missing=f"model 'embedded-qa' is not trained yet: its adapter {{adapter}} is missing; train it with: "
                    f"{TRAIN_COMMAND} (rerun to resume), or give a hub/local extractive QA model id")
    except RuntimeError as exc:
        raise ModelUnavailableError(" ".join(str(exc).split())) from None
