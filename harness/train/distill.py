"""Distil a teacher (``embedded-large``) into the small student: soft 3-way labels on every example the student
will see, plus unlabelled pairs shaped like what the scorer feeds the model, built from training documents.

Why: the large model ranks real summaries better but costs several times the default per pair; its probabilities
carry more than the gold labels (how sure it is, which way a two-way ``not_entailment`` row really leans, what a
window that does not hold the evidence deserves), so a student trained on them can keep part of the gain at the
default's speed. Two steps, each resumed by rerunning the same command:

    python -m harness.train.teacher_labels CONFIG  # teacher -> <train_dir>/teacher_labels.jsonl.gz
    python -m harness train CONFIG                 # the student, on gold + teacher (``distill.gold_weight``)

The teacher runs through the engine (batching, dedup, and an output cache in the run folder that keeps every
finished batch, so a killed labelling run loses at most one batch). Only the examples the student's schedule will
visit (``max_steps``) are labelled: the batch order is a pure function of the config.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.train.data import Example, content_words, origin_group, split_sentences
from harness.train.distill_config import DistillCfg
from harness.train.labels import NO_GOLD

__all__ = ["NLI_ORDER", "attach_teacher", "read_teacher_labels", "require_labels", "scoring_pairs",
           "teacher_labels_path", "three_way", "unlabelled_examples", "visited_indices"]

NLI_ORDER = ("entailment", "neutral", "contradiction")
_WINDOW_SIZES = (1, 2, 2, 2, 3, 3, 4, 5, 6)
_KINDS = ("distill-claim", "distill-inside", "distill-outside", "distill-other")
_KIND_WEIGHTS = (0.35, 0.25, 0.2, 0.2)


def _documents(rows: Iterable[dict], groups: Sequence[str]) -> tuple[list[list[str]], list[list[str]]]:
    """(documents as sentence lists, the hypotheses written about each) for English premises of ``groups`` with at
    least three sentences; labels are not read: the teacher decides."""
    wanted = set(groups)
    index: dict[str, int] = {}
    docs: list[list[str]] = []
    claims: list[list[str]] = []
    for r in rows:
        if r.get("lang", "en") != "en" or origin_group(r["origin"]) not in wanted:
            continue
        key = r["premise"]
        if key not in index:
            sents = [s for s in split_sentences(key) if 4 <= len(s.split()) <= 60]
            if len(sents) < 3:
                continue
            index[key] = len(docs)
            docs.append(sents)
            claims.append([])
        claims[index[key]] += [s for s in split_sentences(r["hypothesis"]) if 4 <= len(s.split()) <= 60]
    return docs, claims


def _best_window(doc: list[str], hypothesis: str, k: int) -> list[str]:
    """The ``k`` consecutive sentences sharing the most content words with ``hypothesis`` (earliest on ties)."""
    words = content_words(hypothesis)
    shared = [len(words & content_words(s)) for s in doc]
    start = max(range(len(doc) - k + 1), key=lambda i: (sum(shared[i : i + k]), -i))
    return doc[start : start + k]


def scoring_pairs(rows: Sequence[dict], groups: Sequence[str], n: int, seed: int,
                  max_words: int = 150) -> list[Example]:
    """``n`` unlabelled (window, hypothesis) pairs: a window of 1-6 consecutive sentences of a training document
    and, as hypothesis, a claim written about that document (mostly with the window sharing most words with it,
    as premise selection would pick), a sentence inside the window, a sentence of the document outside it, or a
    sentence of another document. Deterministic in ``seed``; no gold (``NO_GOLD``)."""
    docs, claims = _documents(rows, groups)
    if n <= 0 or not docs:
        return []
    rng = random.Random(seed)
    out: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for _ in range(n * 3):  # a bounded number of tries: duplicates are skipped, small inputs may give fewer
        if len(out) >= n:
            break
        d = rng.randrange(len(docs))
        doc = docs[d]
        k = min(len(doc), rng.choice(_WINDOW_SIZES))
        start = rng.randrange(len(doc) - k + 1)
        window = doc[start : start + k]
        while len(" ".join(window).split()) > max_words and len(window) > 1:
            window = window[1:] if rng.random() < 0.5 else window[:-1]
        kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        outside = [s for s in doc if s not in window]
        if kind == "distill-claim" and claims[d]:
            hyp = rng.choice(claims[d])
            if rng.random() < 0.6:  # most often the window the scorer would pick: the most shared words
                window = _best_window(doc, hyp, len(window))
        elif kind == "distill-outside" and outside:
            hyp = rng.choice(outside)
        elif kind == "distill-other" and len(docs) > 1:
            other = rng.randrange(len(docs) - 1)
            other += other >= d
            hyp = rng.choice(docs[other] + claims[other])
        else:
            kind, hyp = "distill-inside", rng.choice(window)
        premise = " ".join(window)
        if (premise, hyp) in seen:
            continue
        seen.add((premise, hyp))
        out.append(Example(premise, hyp, NO_GOLD, kind))
    return out


def unlabelled_examples(rows: Sequence[dict], distill: DistillCfg, seed: int) -> list[Example]:
    """The distillation mix's unlabelled pairs for a config (its seed; the same list in labelling and training)."""
    return scoring_pairs(rows, distill.unlabelled_groups, distill.unlabelled_pairs, seed)


def visited_indices(lengths: Sequence[int], batch_size: int, seed: int, sort_chunk: int, steps_per_epoch: int,
                    total: int, start: int = 0) -> list[int]:
    """The example indices the trainer's steps ``start``..``total`` will read, in order (its batch order)."""
    from harness.train.batches import scheduled_batches

    batches = scheduled_batches(list(lengths), batch_size, seed, sort_chunk, steps_per_epoch, start, total)
    return [i for batch in batches for i in batch]


def teacher_labels_path(distill: DistillCfg, train_dir: Path) -> Path:
    return train_dir / distill.labels_file


def read_teacher_labels(path: Path) -> dict[tuple[str, str], tuple[float, float, float]]:
    labels: dict[tuple[str, str], tuple[float, float, float]] = {}
    if not path.is_file():
        return labels
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            e, n, c = (float(x) for x in row["probs"])
            labels[(row["premise"], row["hypothesis"])] = (e, n, c)
    return labels


def attach_teacher(examples: Sequence[Example], distill: DistillCfg, train_dir: Path) -> list[Example]:
    """Each example with the teacher's probabilities where the labels file has its pair (others unchanged)."""
    labels = read_teacher_labels(teacher_labels_path(distill, train_dir))
    return [replace(e, soft=labels[(e.premise, e.hypothesis)]) if (e.premise, e.hypothesis) in labels else e
            for e in examples]


def require_labels(items: Sequence[dict[str, Any]], needed: Iterable[int], config_path: str | Path) -> None:
    """Refuse to train a distillation student while any example its schedule visits has no teacher label."""
    needed = set(needed)
    missing = sum(1 for i in needed if "soft" not in items[i])
    if missing:
        raise RuntimeError(f"{missing} of the {len(needed)} examples this run will see have no teacher label: run "
                           f"python -m harness.train.teacher_labels {config_path} first (rerun it to resume)")


def three_way(output: dict[str, float], label_index: dict[str, list[int]], names: Sequence[str]) -> list[float]:
    """A backend output (probability per model label) as (entailment, neutral, contradiction)."""
    probs = [sum(output[names[i]] for i in label_index.get(k, [])) for k in NLI_ORDER]
    total = sum(probs) or 1.0
    return [round(p / total, 6) for p in probs]
