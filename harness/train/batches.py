"""Examples to padded batches, and the losses over them: shared by the NLI trainer, the QA trainer and the
distillation step (:mod:`harness.train.distill`), kept apart from the training loop so each stays readable."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

import torch

from harness.train.data import Example
from harness.train.labels import NO_GOLD, NOT_ENTAILMENT

__all__ = ["collate", "distill_loss", "encode", "epoch_batches", "nli_loss", "pad_batch", "scheduled_batches",
           "training_loss"]


def nli_loss(logits: torch.Tensor, labels: torch.Tensor, reduce: bool = True) -> torch.Tensor:
    """3-way cross-entropy; label 3 (not_entailment) = -log(P(neutral)+P(contradiction)). ``reduce=False`` gives
    one value per example (rows without gold, ``NO_GOLD``, get 0 there)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    three = labels.clamp(min=0, max=2)
    nll = -logp.gather(1, three[:, None]).squeeze(1)
    not_ent = -torch.logsumexp(logp[:, 1:], dim=-1)
    per = torch.where(labels == NOT_ENTAILMENT, not_ent, nll)
    per = torch.where(labels == NO_GOLD, torch.zeros_like(per), per)
    return per.mean() if reduce else per


def distill_loss(logits: torch.Tensor, labels: torch.Tensor, soft: torch.Tensor, gold_weight: float) -> torch.Tensor:
    """Knowledge distillation: KL(teacher || student) over the 3 classes for every example, mixed with the gold
    loss where a row has gold (``gold_weight`` of it): the teacher's soft labels carry how sure it is and what
    a two-way ``not_entailment`` row really is; the gold keeps the student honest where the teacher errs."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    teacher = soft.float().clamp_min(1e-8)
    kl = (teacher * (teacher.log() - logp)).sum(-1)
    gold = nli_loss(logits, labels, reduce=False)
    has_gold = labels != NO_GOLD
    per = torch.where(has_gold, gold_weight * gold + (1.0 - gold_weight) * kl, kl)
    return per.mean()


def training_loss(logits: torch.Tensor, batch: dict[str, torch.Tensor], gold_weight: float = 1.0) -> torch.Tensor:
    """The loss of one batch: gold only, or with the teacher's probabilities when the batch carries ``soft``."""
    if "soft" in batch:
        return distill_loss(logits, batch["labels"], batch["soft"], gold_weight)
    return nli_loss(logits, batch["labels"])


def encode(examples: list[Example], tokenizer: Any, max_length: int, segments: bool = True) -> list[dict[str, Any]]:
    """Token ids (and segment ids when ``segments`` and the tokenizer gives them) with the label and, for a
    distillation mix, the teacher's probabilities, per example."""
    enc = tokenizer(
        [e.premise for e in examples], [e.hypothesis for e in examples], truncation="longest_first",
        max_length=max_length,
    )
    types = enc.get("token_type_ids") if segments else None  # MPNet has no segment ids
    return [
        {"input_ids": enc["input_ids"][i], "label": ex.label, **({"token_type_ids": types[i]} if types else {}),
         **({"soft": ex.soft} if ex.soft is not None else {})}
        for i, ex in enumerate(examples)
    ]


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, sort_chunk: int = 4) -> list[list[int]]:
    """Shuffled batches, length-sorted only within small chunks: less padding on CPU, yet mixed sources
    (fully length-sorted batches are single-source and made the head oscillate between constant outputs).
    A pure function of (seed, epoch)."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * sort_chunk
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def scheduled_batches(lengths: list[int], batch_size: int, seed: int, sort_chunk: int, steps_per_epoch: int,
                      start: int, total: int) -> Iterator[list[int]]:
    """The example indices of training steps ``start``..``total``, in order: epoch ``step // steps_per_epoch``'s
    :func:`epoch_batches`, batch ``step % steps_per_epoch``. The one batch order of the trainers, of a resumed
    run and of the teacher labelling a distillation student's schedule."""
    order: tuple[int, list[list[int]]] = (-1, [])
    for step in range(start, total):
        epoch, idx = divmod(step, steps_per_epoch)
        if order[0] != epoch:
            order = (epoch, epoch_batches(lengths, batch_size, seed, epoch, sort_chunk))
        yield order[1][idx]


def pad_batch(items: Sequence[dict[str, Any]], pad_id: int, multiple: int = 16) -> dict[str, torch.Tensor]:
    """Right-pad ``input_ids``/``token_type_ids`` to a multiple of 16 so few distinct shapes reach oneDNN
    (bounded kernel cache and memory); with the attention mask. Shared by the NLI and QA trainers. Items
    without ``token_type_ids`` (MPNet) give a batch without them."""
    width = max(len(it["input_ids"]) for it in items)
    width = -(-width // multiple) * multiple
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    tt = torch.zeros((len(items), width), dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for i, it in enumerate(items):
        n = len(it["input_ids"])
        ids[i, :n] = torch.tensor(it["input_ids"])
        if "token_type_ids" in it:
            tt[i, :n] = torch.tensor(it["token_type_ids"])
        mask[i, :n] = 1
    if "token_type_ids" not in items[0]:
        return {"input_ids": ids, "attention_mask": mask}
    return {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}


def collate(items: list[dict[str, Any]], pad_id: int, multiple: int = 16) -> dict[str, torch.Tensor]:
    """A padded batch with its NLI labels, and ``soft`` (teacher probabilities) when every item has them."""
    batch = {**pad_batch(items, pad_id, multiple), "labels": torch.tensor([it["label"] for it in items])}
    if all("soft" in it for it in items):
        batch["soft"] = torch.tensor([it["soft"] for it in items], dtype=torch.float32)
    return batch
