"""Workloads: (document, summary) cases flattened into the (premise, claim) pairs an NLI scorer hands the
engine: seeded synthetic ones calibrated to FRANK, or FRANK validation rows."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Case", "Workload", "frank_workload", "sentence", "sentence_words", "synthetic_workload"]


@dataclass(frozen=True, slots=True)
class Case:
    """One (document, summary): premises are source sentences, claims are summary sentences."""

    premises: tuple[str, ...]
    claims: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    cases: tuple[Case, ...]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Scorer order: per case, per claim, every premise (what an NLI scorer hands the engine)."""
        return [(p, c) for case in self.cases for c in case.claims for p in case.premises]

    def subset(self, n_pairs: int) -> Workload:
        """Leading cases until at least ``n_pairs`` pairs (for the linearity sweep)."""
        cases: list[Case] = []
        total = 0
        for case in self.cases:
            if total >= n_pairs:
                break
            cases.append(case)
            total += len(case.premises) * len(case.claims)
        return Workload(f"{self.name}[:{total}]", tuple(cases))


def sentence(rng: random.Random, n_words: int) -> str:
    from harness.engine.tiny import WORDS

    words = [str(rng.randint(2, 2024)) if rng.random() < 0.06 else rng.choice(WORDS) for _ in range(n_words)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def sentence_words(rng: random.Random) -> int:
    """Long-tailed like FRANK source sentences (median ~23 words, p95 ~100, a few run-ons of hundreds)."""
    if rng.random() < 0.03:
        return rng.randint(110, 330)
    return max(4, min(110, round(rng.lognormvariate(math.log(22), 0.7))))


def synthetic_workload(
    n_pairs: int, seed: int = 0, *, doc_sentences: int | None = None, claims_per_summary: int | None = None,
    summaries_per_doc: int | None = None,
) -> Workload:
    """Seeded documents (short 4-8 / medium 10-20 / long 25-40 sentences) with 1-5 summaries each of
    1-5 claims, until the premise×claim grids hold at least ``n_pairs`` pairs.

    Duplication is calibrated to FRANK (about 7% of grid pairs repeat): a few sentences repeat inside a
    document and some claims are shared between summaries of the same document."""
    rng = random.Random(seed)
    cases: list[Case] = []
    total = 0
    while total < n_pairs:
        if doc_sentences is not None:
            n_sent = doc_sentences
        else:
            kind = rng.choices(("short", "medium", "long"), weights=(0.35, 0.45, 0.20))[0]
            n_sent = {"short": rng.randint(4, 8), "medium": rng.randint(10, 20), "long": rng.randint(25, 40)}[kind]
        sentences: list[str] = []
        for _ in range(n_sent):
            if sentences and rng.random() < 0.02:
                sentences.append(rng.choice(sentences))
            else:
                sentences.append(sentence(rng, sentence_words(rng)))
        doc_claims: list[str] = []
        n_summaries = summaries_per_doc or rng.randint(1, 5)
        for _ in range(n_summaries):
            k = claims_per_summary or rng.choices((1, 2, 3, 4, 5), weights=(43, 8, 35, 11, 3))[0]
            claims: list[str] = []
            for _ in range(k):
                if doc_claims and rng.random() < 0.06:
                    claims.append(rng.choice(doc_claims))
                    continue
                src = rng.choice(sentences).rstrip(".").split()
                span = rng.randint(min(6, len(src)), min(25, len(src)))
                start = rng.randint(0, len(src) - span)
                words = src[start : start + span]
                words[rng.randrange(len(words))] = sentence(rng, 1).rstrip(".").lower()
                claims.append(" ".join(words) + ".")
            doc_claims.extend(claims)
            cases.append(Case(tuple(sentences), tuple(claims)))
            total += len(sentences) * len(claims)
            if total >= n_pairs:
                break
    return Workload(f"synthetic(seed={seed})", tuple(cases))


def _split_sentences(text: str) -> list[str]:
    """Crude splitter (the benchmark needs realistic lengths, not linguistics); drops fragments <= 10
    characters as SummaC does."""
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if len(s) > 10]


def frank_workload(path: Path, n_pairs: int) -> Workload:
    """FRANK validation rows (source, summary sentences) until ``n_pairs`` pairs."""
    cases: list[Case] = []
    total = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            premises = tuple(_split_sentences(row["source"]))
            claims = tuple(s for s in row["summary_sentences"] if s.strip())
            if not premises or not claims:
                continue
            cases.append(Case(premises, claims))
            total += len(premises) * len(claims)
            if total >= n_pairs:
                break
    return Workload("frank_valid", tuple(cases))
