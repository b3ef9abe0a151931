"""The QA trainer's examples: SQuAD-format rows and cloze questions made from the NLI files (see
:mod:`harness.train.qa` for why), held-out splits by context, and a cache keyed by what determines them.

A pure function of the config and the seed, so a resumed run trains on the same examples."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.models.embedded_qa import cloze_question
from harness.scorers.answers import AnswerCandidate, extract_answers_many
from harness.train.data import group_weight, origin_group, read_jsonl
from harness.train.qa_config import QAConfig, QADataCfg
from harness.train.trainer import resolve

__all__ = [
    "KIND_WEIGHTS",
    "QAExample",
    "build_cloze",
    "build_examples",
    "cached_examples",
    "cloze_example",
    "examples_digest",
    "foreign_cloze",
    "occurrences",
    "split_by_context",
    "squad_examples",
]


ENGLISH_QA = ("en", "en")


# -------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class QAExample:
    """One question on one context; ``answers`` are character spans of ``context`` (empty = no answer)."""

    question: str
    context: str
    answers: tuple[tuple[int, int], ...]
    kind: str
    """QA origin, or ``cloze-answerable`` / ``cloze-unanswerable`` / ``cloze-foreign``."""

    @property
    def answer_texts(self) -> list[str]:
        return [self.context[a:b] for a, b in self.answers]


def squad_examples(rows: Iterable[dict[str, Any]]) -> list[QAExample]:
    """English-context, English-question rows as examples (every reference answer kept for evaluation)."""
    out = []
    for r in rows:
        if (r.get("lang_context"), r.get("lang_question")) != ENGLISH_QA:
            continue
        answers = () if r.get("is_impossible") else tuple(
            (int(a["start"]), int(a["start"]) + len(a["text"])) for a in r["answers"] if a["text"])
        if not r.get("is_impossible") and not answers:
            continue
        out.append(QAExample(r["question"], r["context"], answers, r["origin"]))
    return out


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of ``needle`` in ``text`` as a whole word sequence (not inside a longer word)."""
    return [m.start() for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", text)]


def cloze_example(premise: str, hypothesis: str, label: str, candidates: Sequence[AnswerCandidate],
                  rng: random.Random) -> QAExample | None:
    """One cloze question from an NLI pair (see the module docstring), or None when the pair gives none.

    Entailed: a candidate found exactly once in the premise (twice would make the answer position a guess).
    Not entailed: a candidate found in the premise is masked; the answer is none."""
    if label == "entailment":
        unique = [(c, occ[0]) for c in candidates if len(occ := occurrences(premise, c.text)) == 1]
        if not unique:
            return None
        cand, at = unique[_pick([c for c, _ in unique], rng)]
        return QAExample(cloze_question(hypothesis, cand.start, cand.end), premise,
                         ((at, at + len(cand.text)),), "cloze-answerable")
    shared = [c for c in candidates if occurrences(premise, c.text)]
    if not shared:
        return None
    cand = shared[_pick(shared, rng)]
    return QAExample(cloze_question(hypothesis, cand.start, cand.end), premise, (), "cloze-unanswerable")


KIND_WEIGHTS: dict[str, float] = {"date": 3.0, "number": 3.0, "entity": 2.0, "noun_phrase": 1.0}
"""Which candidate a pair's cloze question masks: names, numbers and dates (what the scorer asks about first
and where NLI is weakest) more often than common-noun phrases."""


def _pick(candidates: Sequence[AnswerCandidate], rng: random.Random) -> int:
    return rng.choices(range(len(candidates)), [KIND_WEIGHTS[c.kind] for c in candidates])[0]


def _weighted_order(rows: Sequence[dict[str, Any]], weights: dict[str, float], rng: random.Random) -> list[int]:
    """Row indices in a weighted random order (Efraimidis-Spirakis keys): taking a prefix is a weighted
    sample without replacement; weight 0 drops a group."""
    keyed = []
    for i, r in enumerate(rows):
        w = group_weight(origin_group(r["origin"]), weights)
        u = rng.random()
        if w > 0:
            keyed.append((u ** (1.0 / w), i))
    keyed.sort(reverse=True)
    return [i for _, i in keyed]


def build_cloze(rows: Sequence[dict[str, Any]], cfg: QADataCfg, rng: random.Random,
                answerable: int, unanswerable: int) -> list[QAExample]:
    """Cloze examples from English NLI rows until both counts are reached (or the rows run out).

    Candidates are extracted only for the rows actually visited, in chunks, so the cost follows the counts,
    not the size of the files."""
    eligible = [r for r in rows if r.get("lang", "en") == "en" and r["label"] in
                ("entailment", "contradiction", "neutral", "not_entailment")
                and len(r["hypothesis"].split()) <= cfg.max_hypothesis_words
                and len(r["premise"].split()) <= cfg.max_premise_words]
    order = _weighted_order(eligible, cfg.cloze_weights, rng)
    want = {"cloze-answerable": answerable, "cloze-unanswerable": unanswerable}
    made = dict.fromkeys(want, 0)

    def bucket(row: dict[str, Any]) -> str:
        return "cloze-answerable" if row["label"] == "entailment" else "cloze-unanswerable"

    out: list[QAExample] = []
    chunk = 512
    for s in range(0, len(order), chunk):
        if all(made[k] >= want[k] for k in want):
            break
        part = [r for r in (eligible[i] for i in order[s:s + chunk]) if made[bucket(r)] < want[bucket(r)]]
        cands = extract_answers_many([r["hypothesis"] for r in part], cfg.answer_extractor, None)
        for r, cs in zip(part, cands, strict=True):
            ex = cloze_example(r["premise"], r["hypothesis"], r["label"], cs, rng)
            if ex is None or made[ex.kind] >= want[ex.kind]:
                continue
            made[ex.kind] += 1
            out.append(ex)
    return out


def foreign_cloze(answerable: Sequence[QAExample], n: int, rng: random.Random) -> list[QAExample]:
    """Answerable cloze questions asked on another example's premise that lacks the answer: no answer."""
    out: list[QAExample] = []
    if len(answerable) < 2:
        return out
    for _ in range(n * 3):
        if len(out) >= n:
            break
        ex, other = rng.choice(answerable), rng.choice(answerable)
        if other.context == ex.context or any(t in other.context for t in ex.answer_texts):
            continue
        out.append(QAExample(ex.question, other.context, (), "cloze-foreign"))
    return out


def split_by_context(examples: Sequence[QAExample], n_heldout: int, seed: int) -> tuple[list[QAExample],
                                                                                         list[QAExample]]:
    """(train, held-out): whole contexts go to held-out, in a seeded hash order, until ``n_heldout`` questions."""
    if n_heldout <= 0:
        return list(examples), []
    contexts = sorted({ex.context for ex in examples},
                      key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest())
    held: set[str] = set()
    count = 0
    per_context: dict[str, int] = {}
    for ex in examples:
        per_context[ex.context] = per_context.get(ex.context, 0) + 1
    for c in contexts:
        if count >= n_heldout:
            break
        held.add(c)
        count += per_context[c]
    return [ex for ex in examples if ex.context not in held], [ex for ex in examples if ex.context in held]


def _sample(examples: list[QAExample], weights: dict[str, float], rng: random.Random) -> list[QAExample]:
    """Per origin: weight < 1 subsamples, > 1 repeats (integer part) plus a random remainder."""
    by_origin: dict[str, list[QAExample]] = {}
    for ex in examples:
        by_origin.setdefault(ex.kind, []).append(ex)
    out: list[QAExample] = []
    for origin in sorted(by_origin):
        rows, w = by_origin[origin], group_weight(origin, weights)
        out += rows * int(w)
        if w - int(w) > 0:
            out += rng.sample(rows, round(len(rows) * (w - int(w))))
    return out


def build_examples(cfg: QAConfig) -> tuple[list[QAExample], list[QAExample], dict[str, int]]:
    """(train examples, held-out examples, counts per kind). Deterministic for a given config."""
    rng = random.Random(cfg.seed)
    root = resolve(cfg.data.root)
    train: list[QAExample] = []
    heldout: list[QAExample] = []
    if cfg.data.qa_file:
        squad = squad_examples(read_jsonl(root / cfg.data.qa_file))
        qa_train, qa_held = split_by_context(squad, cfg.data.heldout_qa, cfg.seed)
        train += _sample(qa_train, cfg.data.qa_weights, rng)
        heldout += qa_held
    if cfg.data.cloze_files and (cfg.data.cloze_answerable or cfg.data.cloze_unanswerable):
        rows = [r for f in cfg.data.cloze_files for r in read_jsonl(root / f)]
        half = cfg.data.heldout_cloze // 2  # built on top of the training counts, then split off by premise
        cloze = build_cloze(rows, cfg.data, rng, cfg.data.cloze_answerable + half * bool(cfg.data.cloze_answerable),
                            cfg.data.cloze_unanswerable + half * bool(cfg.data.cloze_unanswerable))
        cloze_train, cloze_held = split_by_context(cloze, cfg.data.heldout_cloze, cfg.seed)
        train += cloze_train
        heldout += cloze_held
        answerable = [ex for ex in cloze_train if ex.answers]
        train += foreign_cloze(answerable, cfg.data.cloze_foreign, rng)
    rng.shuffle(train)
    counts: dict[str, int] = {}
    for ex in train:
        counts[ex.kind] = counts.get(ex.kind, 0) + 1
    for ex in heldout:
        counts[f"heldout:{ex.kind}"] = counts.get(f"heldout:{ex.kind}", 0) + 1
    return train, heldout, dict(sorted(counts.items()))


def cached_examples(cfg: QAConfig, train_dir: Path) -> tuple[list[QAExample], list[QAExample], dict[str, int]]:
    """:func:`build_examples`, kept in ``train_dir`` so that a resumed run does not extract candidates again.

    Keyed by the data config, the seed, the input files' sizes and times, and the extractor that runs here
    (spaCy or rules), so a changed input never reuses a stale file."""
    import gzip

    from harness.scorers.answers import active_extractor

    root = resolve(cfg.data.root)
    files = [f for f in [cfg.data.qa_file, *cfg.data.cloze_files] if f]
    stats = [(f, (root / f).stat().st_size, (root / f).stat().st_mtime_ns) for f in files]
    key = hashlib.sha256(json.dumps([cfg.data.model_dump(), cfg.seed, stats,
                                     active_extractor(cfg.data.answer_extractor)]).encode()).hexdigest()[:16]
    path = train_dir / f"examples-{key}.json.gz"
    if path.exists():
        saved = json.loads(gzip.decompress(path.read_bytes()))

        def load(rows: list[list[Any]]) -> list[QAExample]:
            return [QAExample(q, c, tuple((int(a), int(b)) for a, b in ans), k) for q, c, ans, k in rows]

        return load(saved["train"]), load(saved["heldout"]), saved["counts"]
    train, heldout, counts = build_examples(cfg)

    def dump(rows: list[QAExample]) -> list[list[Any]]:
        return [[ex.question, ex.context, ex.answers, ex.kind] for ex in rows]

    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(json.dumps({"train": dump(train), "heldout": dump(heldout),
                                              "counts": counts}).encode()))
    os.replace(tmp, path)
    return train, heldout, counts


def examples_digest(examples: Iterable[QAExample]) -> str:
    """sha256 of the examples (a checkpoint resumes only on the very same data)."""
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps([ex.question, ex.context, ex.answers, ex.kind]).encode())
    return h.hexdigest()
