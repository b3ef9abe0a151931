"""Training mix for the embedded cross-encoder, built from train/ only (never dev/).

Why: the raw NLI mix is mostly short captions (SICK) and German (XNLI); faithfulness scoring asks
"is this summary sentence supported by a 2-sentence window of a news article?". So we down-weight
SICK/German and add document-like pairs and hard negatives synthesised from the English train/ texts.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.train import near_copy
from harness.train.labels import LABEL_IDS, NOT_ENTAILMENT
from harness.train.perturb import compress, entities, fuse, perturb

SYNTHETIC_KINDS = ("doc_entail", "doc_perturb", "hyp_perturb", "doc_foreign", "doc_fuse", "doc_extrinsic",
                   "context_pad", *near_copy.MAKERS)
"""The keys of ``data.synthetic``: how many pairs of each made kind the mix holds (see ``_synthesise``)."""
MAX_HYPOTHESIS_WORDS = 60  # with fit_premise_words: longer hypotheses are skipped (claims are sentences)


@dataclass(frozen=True)
class Example:
    premise: str
    hypothesis: str
    label: int
    kind: str  # origin for real rows, "syn-*" for synthetic ones, "distill-*" for unlabelled teacher pairs
    soft: tuple[float, float, float] | None = None
    """The teacher's (entailment, neutral, contradiction) probabilities in a distillation mix."""


# ----------------------------------------------------------------------------------------------- text
_SPLIT = re.compile(r"(?<=[.!?])\s+")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Gen|Col|Lt|Sgt|Rep|Sen|Gov|No|vs|etc|Inc|Co|Corp|Ltd|Jan|Feb|Aug|"
    r"Sept|Sep|Oct|Nov|Dec|Mt|Ft|approx)|\b[A-Za-z]|\b(?:[A-Za-z]\.)+[A-Za-z])\.$"
)


def split_sentences(text: str) -> list[str]:
    """Regex sentence split with an abbreviation guard; good enough for news and Wikipedia prose."""
    out: list[str] = []
    for part in _SPLIT.split(text.strip()):
        part = part.strip()
        if not part:
            continue
        if out and (_ABBREV.search(out[-1]) or len(part) < 4 or not re.search(r"[A-Za-z0-9]", part[:2])):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def read_jsonl(path: Path) -> list[dict]:
    """Read .jsonl or .jsonl.gz."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# ------------------------------------------------------------------------------------------ the mix
@dataclass(frozen=True)
class MixConfig:
    origin_weights: dict[str, float]
    synthetic: dict[str, int]
    heldout_per_group: int
    fraction: float
    seed: int
    mix_seed: int | None = None
    """Seed for sampling and synthesis after the held-out split (default: ``seed``). A continued run uses a
    new one to see fresh samples while keeping the same held-out rows."""
    doc_groups: tuple[str, ...] = ("rte", "anli", "cogensumm")
    """Origin groups whose premises become the documents of the synthetic pairs."""
    perturb_groups: tuple[str, ...] = ("rte", "anli", "cogensumm")
    """Origin groups whose entailed hypotheses get minimal edits (``hyp_perturb``) and whose pairs get
    unrelated context around the premise (``context_pad``)."""
    doc_windows: bool = False
    """Synthetic premises are runs of 1-6 consecutive sentences from anywhere in a document (the shape of a
    scoring-time premise unit), instead of a whole short text cut to 150 words from its ends."""
    fit_premise_words: int | None = None
    """Real premises longer than this many words are cut to the sentences that share most words with the
    hypothesis (what premise selection does at scoring time) instead of being truncated blindly."""
    pad_sentences: tuple[int, ...] = (1,)
    """How many unrelated sentences ``context_pad`` puts around a premise (one drawn per pair)."""


def origin_group(origin: str) -> str:
    return "anli" if origin.startswith("anli") else origin


def group_weight(group: str, weights: dict[str, float]) -> float:
    """A group's sampling weight: its own entry, else the first glob pattern that matches (``curriculum-*``,
    ``*``), else 1.0."""
    if group in weights:
        return weights[group]
    for pattern, weight in weights.items():
        if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(group, pattern):
            return weight
    return 1.0


_CONTENT = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    "a an the of to in on at for by with from and or but is are was were be been being has have had it its this "
    "that these those as he she they we i you his her their our not no".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in (t.lower() for t in _CONTENT.findall(text)) if w not in _STOP}


def fit_premise(premise: str, hypothesis: str, max_words: int) -> str:
    """Cut a long premise to the sentences sharing most content words with the hypothesis, in document
    order, within ``max_words`` (what scoring-time premise selection feeds the model); short ones unchanged.
    Ties keep earlier sentences; each picked sentence brings its successor when the budget allows, so the
    result reads like a window of the source, not a bag of sentences."""
    if len(premise.split()) <= max_words:
        return premise
    sents = split_sentences(premise)
    if len(sents) <= 1:
        return " ".join(premise.split()[:max_words])
    hyp = content_words(hypothesis)
    ranked = sorted(range(len(sents)), key=lambda i: (-len(content_words(sents[i]) & hyp), i))
    keep: set[int] = set()
    used = 0
    for i in ranked:
        for j in (i, i + 1):
            if j >= len(sents) or j in keep:
                continue
            n = len(sents[j].split())
            if used + n > max_words and keep:
                continue
            keep.add(j)
            used += n
        if used >= max_words:
            break
    return " ".join(sents[i] for i in sorted(keep))


def _sample_rows(rows: list[dict], weight: float, rng: random.Random) -> list[dict]:
    """weight < 1 subsamples, > 1 repeats (integer part) plus a random remainder."""
    whole, frac = int(weight), weight - int(weight)
    out = rows * whole
    if frac > 0:
        out += rng.sample(rows, round(len(rows) * frac))
    return out


def _docs(rows: Iterable[dict], groups: tuple[str, ...] = ("rte", "anli", "cogensumm")) -> list[list[str]]:
    """English documents as sentence lists (unique premises of the ``groups``)."""
    seen: set[str] = set()
    docs = []
    wanted = set(groups)
    for r in rows:
        if r.get("lang", "en") != "en" or origin_group(r["origin"]) not in wanted:
            continue
        if r["premise"] in seen:
            continue
        seen.add(r["premise"])
        sents = [s for s in split_sentences(r["premise"]) if 4 <= len(s.split()) <= 60]
        if sents:
            docs.append(sents)
    return docs


_WINDOW_SIZES = (1, 2, 2, 2, 2, 3, 3, 4, 5, 6)


def _make_window(docs: list[list[str]], rng: random.Random, max_words: int = 150) -> list[str]:
    """A scoring-shaped premise: 1-6 consecutive sentences from anywhere in one document (2 most often,
    the default premise unit), so that the hypothesis sentence sits at any position inside its context."""
    doc = rng.choice(docs)
    k = min(len(doc), rng.choice(_WINDOW_SIZES))
    start = rng.randrange(len(doc) - k + 1)
    window = list(doc[start : start + k])
    while len(" ".join(window).split()) > max_words and len(window) > 1:
        window.pop(0 if rng.random() < 0.5 else -1)
    return window


def _make_doc(docs: list[list[str]], rng: random.Random, max_words: int = 150, windows: bool = False) -> list[str]:
    """A document-like premise: one source text, sometimes joined with another (mimics article windows)."""
    if windows and rng.random() < 0.8:
        return _make_window(docs, rng, max_words)
    doc = list(rng.choice(docs))
    if len(doc) < 3 and rng.random() < 0.5:
        other = rng.choice(docs)
        doc = doc + other if rng.random() < 0.5 else other + doc
    while len(" ".join(doc).split()) > max_words and len(doc) > 1:
        doc.pop(0 if rng.random() < 0.5 else -1)
    return doc


def summary_sentence_rows(rows: list[dict], seed: int, per_summary: int = 2) -> list[dict]:
    """Multi-sentence summary rows (FakeSumm) as sentence-level claims, the unit the scorer judges.

    A correct summary's sentences are entailed. An incorrect summary is wrong somewhere, not everywhere: its
    sentences that share least with the correct twin (``pair_id``) carry the error and become
    ``not_entailment``; a fabricated summary (``error_family: fabrication``) is wrong throughout."""
    rng = random.Random(seed)
    correct = {r.get("pair_id"): r["hypothesis"] for r in rows if r["label"] == "entailment" and r.get("pair_id")}
    out: list[dict] = []
    for r in rows:
        sents = [x for x in split_sentences(r["hypothesis"]) if len(x.split()) >= 5]
        if len(sents) <= 1:
            out.append(r)
            continue
        if r["label"] == "entailment":
            picked = rng.sample(sents, min(per_summary, len(sents)))
        else:
            twin = content_words(correct.get(r.get("pair_id"), ""))
            if r.get("error_family") == "fabrication" or not twin:
                picked = rng.sample(sents, min(per_summary, len(sents)))
            else:
                novelty = [len(content_words(x) - twin) / max(1, len(content_words(x))) for x in sents]
                best = max(range(len(sents)), key=lambda i: novelty[i])
                if novelty[best] < 0.3:
                    continue  # no sentence clearly carries the error: drop rather than guess
                picked = [sents[best]]
        out += [{**r, "hypothesis": x} for x in picked]
    return out


def build_mix(rows: list[dict], cfg: MixConfig) -> tuple[list[Example], list[Example], dict[str, int]]:
    """Return (train examples, held-out train/ rows for monitoring, counts per kind). Deterministic."""
    rng = random.Random(cfg.seed)
    multi = [r for r in rows if r["origin"] == "fakesumm"]
    if multi:
        rows = [r for r in rows if r["origin"] != "fakesumm"] + summary_sentence_rows(multi, cfg.seed)
    by_group: dict[str, list[dict]] = {}
    for r in rows:
        by_group.setdefault(origin_group(r["origin"]), []).append(r)
    train_rows: list[dict] = []
    heldout: list[Example] = []
    for group in sorted(by_group):
        grp = list(by_group[group])
        rng.shuffle(grp)
        n_hold = min(cfg.heldout_per_group, len(grp) // 5)
        heldout += [Example(r["premise"], r["hypothesis"], LABEL_IDS[r["label"]], group) for r in grp[:n_hold]]
        train_rows += grp[n_hold:]
    if cfg.mix_seed is not None:
        rng = random.Random(cfg.mix_seed)

    if cfg.fraction < 1.0:
        train_rows = rng.sample(train_rows, max(1, round(len(train_rows) * cfg.fraction)))
    scale = cfg.fraction

    examples: list[Example] = []
    grouped: dict[str, list[dict]] = {}
    for r in train_rows:
        grouped.setdefault(origin_group(r["origin"]), []).append(r)
    for group in sorted(grouped):
        weight = group_weight(group, cfg.origin_weights)
        for r in _sample_rows(grouped[group], weight, rng):
            premise = r["premise"]
            if cfg.fit_premise_words and len(r["hypothesis"].split()) > MAX_HYPOTHESIS_WORDS:
                continue  # a paragraph-long claim: not what the scorer asks, and it crowds out the premise
            if cfg.fit_premise_words:
                premise = fit_premise(premise, r["hypothesis"], cfg.fit_premise_words)
            examples.append(Example(premise, r["hypothesis"], LABEL_IDS[r["label"]], group))

    docs = _docs(train_rows, cfg.doc_groups)
    syn = {k: round(v * scale) for k, v in cfg.synthetic.items()}
    if docs:
        entity_pool = sorted({e for d in docs for s in d for e in entities(s)})
        examples += _synthesise(train_rows, docs, entity_pool, syn, rng, cfg)

    rng.shuffle(examples)
    counts: dict[str, int] = {}
    for ex in examples:
        counts[ex.kind] = counts.get(ex.kind, 0) + 1
    return examples, heldout, dict(sorted(counts.items()))


def _synthesise(
    rows: list[dict], docs: list[list[str]], pool: list[str], n: dict[str, int], rng: random.Random,
    cfg: MixConfig | None = None,
) -> list[Example]:
    out: list[Example] = []
    ent, neu = LABEL_IDS["entailment"], LABEL_IDS["neutral"]
    windows = cfg.doc_windows if cfg else False
    perturb_groups = set(cfg.perturb_groups if cfg else ("rte", "anli", "cogensumm"))
    pad_sizes = cfg.pad_sentences if cfg else (1,)
    fit_words = cfg.fit_premise_words if cfg else None

    def make_doc() -> list[str]:
        return _make_doc(docs, rng, windows=windows)

    # 1. copy/compress a sentence from inside a document-like premise -> entailment
    for _ in range(n.get("doc_entail", 0)):
        doc = make_doc()
        sent = rng.choice(doc)
        hyp = compress(sent, rng) if rng.random() < 0.5 else None
        out.append(Example(" ".join(doc), hyp or sent, ent, "syn-compress" if hyp else "syn-copy"))

    # 2. perturbed sentence from inside the premise -> contradiction / not_entailment (hard negatives)
    made, attempts = 0, 0
    while made < n.get("doc_perturb", 0) and attempts < 20 * max(1, n.get("doc_perturb", 0)):
        attempts += 1
        doc = make_doc()
        sent = rng.choice(doc)
        base = compress(sent, rng) if rng.random() < 0.3 else None
        local_pool = [e for s in doc for e in entities(s)]
        res = perturb(base or sent, rng, local_pool if local_pool and rng.random() < 0.6 else pool)
        if res is None:
            continue
        hyp, label, op = res
        out.append(Example(" ".join(doc), hyp, label, f"syn-perturb-{op}"))
        made += 1

    # 3. perturbed *entailed* hypotheses of real pairs -> hard negatives on real premises
    entailed = [r for r in rows if r["label"] == "entailment" and r.get("lang", "en") == "en"
                and origin_group(r["origin"]) in perturb_groups and len(r["hypothesis"].split()) <= 60]
    made, attempts = 0, 0
    while entailed and made < n.get("hyp_perturb", 0) and attempts < 20 * max(1, n.get("hyp_perturb", 0)):
        attempts += 1
        r = rng.choice(entailed)
        res = perturb(r["hypothesis"], rng, entities(r["premise"]) or pool)
        if res is None:
            continue
        hyp, label, op = res
        premise = fit_premise(r["premise"], r["hypothesis"], fit_words) if fit_words else r["premise"]
        out.append(Example(premise, hyp, label, f"syn-hyp-{op}"))
        made += 1

    # 4. a sentence from a different document -> neutral
    for _ in range(n.get("doc_foreign", 0)):
        doc = make_doc()
        other = rng.choice(docs)
        if other is doc or set(other) & set(doc):
            continue
        out.append(Example(" ".join(doc), rng.choice(other), neu, "syn-foreign"))

    # 5. two sentences of the document fused into one (summaries fuse) -> entailment
    for _ in range(n.get("doc_fuse", 0)):
        doc = make_doc()
        if len(doc) < 2:
            continue
        i, j = sorted(rng.sample(range(len(doc)), 2))
        out.append(Example(" ".join(doc), fuse(doc[i], doc[j]), ent, "syn-fuse"))

    # 6. a document sentence with a clause from another document attached (extrinsic addition,
    #    the commonest abstractive-summary error) -> not_entailment
    for _ in range(n.get("doc_extrinsic", 0)):
        doc = make_doc()
        other = rng.choice(docs)
        if set(other) & set(doc):
            continue
        sent, foreign = rng.choice(doc), rng.choice(other)
        if len(foreign.split()) > 18 and len(foreign.split(",")[0].split()) >= 5:
            foreign = foreign.split(",")[0]  # keep the addition short: a clause, not a second story
        hyp = fuse(sent, foreign) if rng.random() < 0.5 else fuse(foreign, sent)
        out.append(Example(" ".join(doc), hyp, NOT_ENTAILMENT, "syn-extrinsic"))

    # 7. real English pairs with unrelated sentences around the premise -> same label (evidence search)
    real = [r for r in rows if r.get("lang", "en") == "en" and origin_group(r["origin"]) in perturb_groups
            and (pad_sizes == (1,) or len(r["premise"].split()) <= 80)]
    for _ in range(n.get("context_pad", 0) if real else 0):
        r = rng.choice(real)
        k = rng.choice(pad_sizes)
        if pad_sizes == (1,):
            pad = rng.sample(rng.choice(docs), 1)
            prem = " ".join([*pad, r["premise"]]) if rng.random() < 0.5 else " ".join([r["premise"], *pad])
        else:  # k unrelated consecutive sentences, the real premise at a random position among them
            pad = _make_window(docs, rng, max_words=110)[:k]
            cut = rng.randint(0, len(pad))
            prem = " ".join([*pad[:cut], r["premise"], *pad[cut:]])
        out.append(Example(prem, r["hypothesis"], LABEL_IDS[r["label"]], "syn-pad"))

    # 8. near copies whose agent comes from elsewhere in the same window (harness.train.near_copy)
    for key, maker in near_copy.MAKERS.items():
        made, attempts = 0, 0
        while made < n.get(key, 0) and attempts < 20 * n.get(key, 0):
            attempts += 1
            window = _make_window(docs, rng)
            if len(window) < 2:
                continue
            near = maker(window, rng)
            if near is None:
                continue
            out.append(Example(" ".join(window), near[0], near[1], f"syn-{key}"))
            made += 1
    near_copy.release()
    return out
