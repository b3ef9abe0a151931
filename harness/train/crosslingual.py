"""Train the cross-lingual entailment head (``python -m harness train configs/train_crosslingual.yaml``).

Training rows come from ``train/`` only (never from ``dev/``):

* ``xnli_de_en.jsonl.gz`` — German premise, English hypothesis, human 3-way labels (CC BY-NC 4.0);
* ``grounding_true.jsonl.gz``, its ``true-paws`` rows — English PAWS pairs (same words, different order or
  roles; not paraphrase -> contradiction), for the word-order feature;
* ``parallel_de_en.jsonl.gz`` — Europarl sentence pairs, grouped into pseudo-documents of consecutive
  lines. The English side of a line is a faithful claim about its German document (entailment); edited
  copies are not: one number/date changed, a negation added or removed, a name swapped for one from a
  neighbouring line, two names or numbers trading places (contradiction), a name from another document or
  a sentence of another document (neutral). The edit rules are written here from scratch and are generic
  (any number, any auxiliary, any capitalised name).

Every row is turned into features exactly as at scoring time (:func:`harness.scorers.crosslingual.candidates`
with the claim's most similar passage), through the engine and its cache; the head is multinomial
logistic regression (scikit-learn) on standardised features, written as JSON.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from harness.engine import Engine
from harness.engine.cache import OutputCache
from harness.engine.sentence_encoder import embed, multilingual_encoder
from harness.models.crosslingual import CLASSES, FEATURES, HEAD_FORMAT, CrossLingualHead
from harness.scorers.crosslingual import candidates, passages
from harness.scorers.evidence import EVIDENCE_LANGUAGES, name_tokens, number_mentions

__all__ = ["Example", "build_examples", "perturb", "train_head"]


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    claim: str
    label: str
    kind: str


def _read(path: Path) -> Iterator[dict[str, Any]]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


_AUX = re.compile(r"\b(is|are|was|were|will|would|can|could|should|must|has|have|had|may|might|does|do|did)\b")
_NEG = re.compile(r"\b(?:is|are|was|were|will|would|could|should|must|has|have|had|may|might|does|do|did)"
                  r"(?: not|n't)\b|\bcannot\b|\bwon't\b")


def _negate(text: str) -> str | None:
    m = _NEG.search(text)
    if m:
        s = m.group()
        fixed = {"cannot": "can", "won't": "will"}.get(s) or s.replace(" not", "").replace("n't", "")
        return text[: m.start()] + fixed + text[m.end():]
    m = _AUX.search(text)
    if m is None:
        return None
    word = m.group()
    rep = "cannot" if word == "can" else f"{word} not"
    return text[: m.start()] + rep + text[m.end():]


_MONTHS_EN = "January February March April May June July August September October November December".split()
_DAYS_EN = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_WORDS_EN = "two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty".split()


def _change_number(text: str, rng: random.Random) -> str | None:
    mentions = number_mentions(text)
    if not mentions:
        return None
    m = rng.choice(mentions)
    at = text.find(m.text)
    if at < 0:
        return None
    t = m.text
    if t.isdigit():
        v = int(t)
        if 1900 <= v <= 2100:
            new = str(v + rng.choice([-3, -2, -1, 1, 2, 3]))
        elif v <= 31:
            new = str(rng.choice([x for x in range(1, 32) if x != v]))
        else:
            new = str(max(1, int(v * rng.choice([0.5, 0.7, 1.5, 2, 3]))))
    elif t.capitalize() in _MONTHS_EN:
        new = rng.choice([x for x in _MONTHS_EN if x.lower() != t.lower()])
    elif t.capitalize() in _DAYS_EN:
        new = rng.choice([x for x in _DAYS_EN if x.lower() != t.lower()])
    elif t.lower() in _WORDS_EN:
        new = rng.choice([x for x in _WORDS_EN if x != t.lower()])
    elif any(c.isdigit() for c in t):
        digits = [i for i, c in enumerate(t) if c.isdigit()]
        i = rng.choice(digits)
        new = t[:i] + str((int(t[i]) + rng.randint(1, 8)) % 10) + t[i + 1:]
    else:
        return None
    return text[:at] + new + text[at + len(t):] if new != t else None


def _swap_name(text: str, pool: list[str], rng: random.Random, avoid: str) -> str | None:
    names = name_tokens(text)
    pool = [p for p in pool if p not in names and p.lower() not in avoid.lower()]
    if not names or not pool:
        return None
    old = rng.choice(names)
    at = text.find(old)
    return text[:at] + rng.choice(pool) + text[at + len(old):]


def _swap_roles(text: str, rng: random.Random) -> str | None:
    """Two different names (or numbers) of the claim trade places: same words, reversed roles."""
    anchors = list(dict.fromkeys([*name_tokens(text), *(m.text for m in number_mentions(text))]))
    spans = sorted((text.find(a), a) for a in anchors if text.count(a) == 1)
    if len(spans) < 2:
        return None
    i, j = sorted(rng.sample(range(len(spans)), 2))
    (a0, a), (b0, b) = spans[i], spans[j]
    if a0 + len(a) > b0:
        return None
    return text[:a0] + b + text[a0 + len(a): b0] + a + text[b0 + len(b):]


def perturb(claim: str, doc_de: str, same_doc_en: list[str], other_doc_en: list[str],
            rng: random.Random) -> tuple[str, str, str] | None:
    """One edited, unfaithful copy of ``claim``: (text, label, kind), or None when no rule applies."""
    kinds = ["number", "negation", "swap", "extrinsic", "other", "roles"]
    rng.shuffle(kinds)
    # rules that rarely apply (a claim with a number or a name) go first when they can, so every kind is
    # well represented; the others follow in random order
    kinds.sort(key=lambda k: k not in ("number", "swap", "extrinsic", "roles") or rng.random() < 0.3)
    for kind in kinds:
        if kind == "number":
            new = _change_number(claim, rng)
            label = "contradiction"
        elif kind == "negation":
            new = _negate(claim)
            label = "contradiction"
        elif kind == "swap":
            pool = [n for s in same_doc_en if s != claim for n in name_tokens(s)]
            new = _swap_name(claim, pool, rng, avoid="")
            label = "contradiction"
        elif kind == "roles":
            new = _swap_roles(claim, rng)
            label = "contradiction"
        elif kind == "extrinsic":
            pool = [n for s in other_doc_en for n in name_tokens(s)]
            new = _swap_name(claim, pool, rng, avoid=doc_de + " " + " ".join(same_doc_en))
            label = "neutral"
        else:
            new = rng.choice(other_doc_en) if other_doc_en else None
            label = "neutral"
        if new and new != claim:
            return new, label, kind
    return None


def build_examples(cfg: dict[str, Any], root: Path) -> list[Example]:
    rng = random.Random(cfg.get("seed", 0))
    data = cfg["data"]
    out: list[Example] = []
    xnli = list(_read(root / data["xnli_file"]))
    rng.shuffle(xnli)
    for r in xnli[: data.get("xnli_rows", len(xnli))]:
        out.append(Example(r["premise"], r["hypothesis"], r["label"], "xnli"))
    if data.get("paws_rows"):
        paws = [r for r in _read(root / data["grounding_file"]) if r["origin"] == "true-paws"]
        rng.shuffle(paws)
        for r in paws[: data["paws_rows"]]:
            label = "entailment" if r["label"] == "entailment" else "contradiction"
            out.append(Example(r["premise"], r["hypothesis"], label, "paws"))
    lines = [r for r in _read(root / data["parallel_file"])]
    size = data.get("doc_lines", 10)
    docs = [lines[i: i + size] for i in range(0, len(lines) - size + 1, size)]
    rng.shuffle(docs)
    docs = docs[: data.get("parallel_docs", len(docs))]
    per_doc = data.get("claims_per_doc", 6)
    for d, doc in enumerate(docs):
        source = " ".join(r["de"] for r in doc)
        en = [r["en"] for r in doc]
        other = docs[(d + 1 + rng.randrange(len(docs) - 1)) % len(docs)] if len(docs) > 1 else []
        other_en = [r["en"] for r in other]
        picks = rng.sample(range(len(doc)), min(per_doc, len(doc)))
        for k, i in enumerate(picks):
            claim = en[i]
            if k % 2 == 0:
                if i + 1 < len(en) and rng.random() < data.get("joined_share", 0.15):
                    claim = f"{en[i]} {en[i + 1]}"
                out.append(Example(source, claim, "entailment", "parallel"))
            else:
                edit = perturb(claim, source, en, other_en, rng)
                if edit is not None:
                    out.append(Example(source, edit[0], edit[1], edit[2]))
    return out


def example_rows(examples: list[Example], engine: Engine) -> np.ndarray:
    """Feature rows (claim vs its most similar passage), computed as the scorer does."""
    encoder = multilingual_encoder()
    units_of = {s: passages(s) for s in dict.fromkeys(e.source for e in examples)}
    texts = list(dict.fromkeys([e.claim for e in examples] + [u.text for us in units_of.values() for u in us]))
    vecs = embed(engine, encoder, texts, desc=f"embed {len(texts)} training texts")
    at = {t: i for i, t in enumerate(texts)}
    rows = []
    for e in examples:
        units = units_of[e.source]
        cands = candidates([e.claim], vecs[[at[e.claim]]], units, vecs[[at[u.text] for u in units]], e.source, 1)
        rows.append(cands[0].row)
    return np.asarray(rows, dtype=np.float64)


def fit_head(x: np.ndarray, y: np.ndarray, c: float) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit((x - mean) / scale, y)
    order = [list(model.classes_).index(k) for k in range(len(CLASSES))]
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": model.coef_[order].tolist(),
            "intercept": model.intercept_[order].tolist()}


def train_head(config_path: str | Path) -> Path:
    """Build rows, fit, report held-out accuracy, write the head JSON; returns its path."""
    config_path = Path(config_path)
    cfg = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    root = (config_path.parent / cfg["data"]["root"]).resolve()
    t0 = time.perf_counter()
    examples = build_examples(cfg, root)
    cache = OutputCache(Path(cfg.get("cache", "results/cache.sqlite")))
    engine = Engine(cfg.get("token_budget", 8192), cache=cache, progress=False)
    x = example_rows(examples, engine)
    y = np.asarray([CLASSES.index(e.label) for e in examples])
    rng = np.random.default_rng(cfg.get("seed", 0))
    held = rng.random(len(y)) < cfg.get("heldout_share", 0.1)
    params = fit_head(x[~held], y[~held], cfg.get("C", 1.0))
    probe = CrossLingualHead({"format": HEAD_FORMAT, "features": list(FEATURES), "classes": list(CLASSES),
                              **params})
    acc = float((probe.predict_proba(x[held]).argmax(axis=1) == y[held]).mean()) if held.any() else None
    params = fit_head(x, y, cfg.get("C", 1.0))  # final head on every row
    spec = {
        "format": HEAD_FORMAT, "version": cfg["version"], "features": list(FEATURES), "classes": list(CLASSES),
        **params,
        "languages": list(cfg.get("languages", EVIDENCE_LANGUAGES)),
        "training": {
            "config": str(config_path), "rows": len(y), "rows_by_kind": dict(Counter(e.kind for e in examples)),
            "rows_by_label": dict(Counter(e.label for e in examples)), "heldout_accuracy": acc,
            "heldout_rows": int(held.sum()), "C": cfg.get("C", 1.0), "seconds": round(time.perf_counter() - t0, 1),
            "date": _dt.date.today().isoformat(),
        },
    }
    out = Path(cfg.get("output", "harness/models/crosslingual/head.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    cache.close()
    print(json.dumps(spec["training"], indent=1))
    return out
