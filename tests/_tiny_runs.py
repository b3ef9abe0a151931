"""Builders for fake run folders in the documented results schema (deterministic, hand-made scores).

Two datasets: ``frank`` (role dev, binary labels) and ``bump`` (role test, minimal-pair twins). Each pair
has a two-sentence rewrite; claim 1's label depends on the pair score, so changing scores flips labels.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.evaluation import evaluate_run
from harness.results.schema import (
    ClaimRow,
    DatasetInfo,
    EvidenceRow,
    GitInfo,
    ModelInfo,
    PairRow,
    PairScoreRow,
    RunRecord,
    ScorerInfo,
)
from harness.types import content_hash

SOURCE = "The cat sat on the mat. It was a sunny day in Paris. The dog slept."

# (pair_id, dataset, gold, group, rewrite second sentence)
PAIRS: list[tuple[str, str, float, str | None, str]] = [
    ("f0", "frank", 1, None, "It was sunny."),
    ("f1", "frank", 1, None, "The day was sunny."),
    ("f2", "frank", 1, None, "Paris was sunny."),
    ("f3", "frank", 1, None, "The dog slept."),
    ("f4", "frank", 0, None, "It rained in Rome."),
    ("f5", "frank", 0, None, "The dog barked."),
    ("f6", "frank", 0, None, "It was night."),
    ("f7", "frank", 0, None, "The cat ran away."),
    ("b0a", "bump", 1, "g0", "It was a sunny day."),
    ("b0b", "bump", 0, "g0", "It was a rainy day."),
    ("b1a", "bump", 1, "g1", "The dog slept."),
    ("b1b", "bump", 0, "g1", "The dog ate."),
    ("b2a", "bump", 1, "g2", "It was in Paris."),
    ("b2b", "bump", 0, "g2", "It was in Lyon."),
    ("b3a", "bump", 1, "g3", "The cat sat."),
    ("b3b", "bump", 0, "g3", "The cat stood."),
]

# Scores of model "good" rank every faithful pair above every unfaithful one except one swap (f3/f4);
# model "weak" is noisier. Chosen by hand so metrics can be checked on paper.
SCORES = {
    "good": {"f0": 0.9, "f1": 0.8, "f2": 0.7, "f3": 0.4, "f4": 0.65, "f5": 0.3, "f6": 0.2, "f7": 0.1,
             "b0a": 0.9, "b0b": 0.2, "b1a": 0.8, "b1b": 0.3, "b2a": 0.7, "b2b": 0.4, "b3a": 0.6, "b3b": 0.5},
    "weak": {"f0": 0.6, "f1": 0.4, "f2": 0.7, "f3": 0.3, "f4": 0.6, "f5": 0.5, "f6": 0.2, "f7": 0.45,
             "b0a": 0.6, "b0b": 0.7, "b1a": 0.5, "b1b": 0.5, "b2a": 0.7, "b2b": 0.4, "b3a": 0.3, "b3b": 0.55},
}


def _label(score: float) -> str:
    if score >= 0.5:
        return "supported"
    return "contradicted" if score < 0.25 else "unsupported"


def build_rows(scores: dict[str, float], scorer: str = "nli", *, source: str = SOURCE,
               with_text: bool = True) -> tuple[list[PairRow], list[ClaimRow]]:
    pairs: list[PairRow] = []
    claims: list[ClaimRow] = []
    for pid, ds, gold, group, second in PAIRS:
        first = "The cat sat on the mat."
        rewrite = f"{first} {second}"
        s = scores[pid]
        ev_start = max(0, source.find("It was"))
        c0 = ClaimRow(pair_id=pid, dataset=ds, scorer=scorer, claim_index=0, text=first, start=0,
                      end=len(first), score=0.95, label="supported", reason="entailed",
                      probs={"entailment": 0.95}, evidence=EvidenceRow(text=first, start=0, end=len(first)))
        c1 = ClaimRow(pair_id=pid, dataset=ds, scorer=scorer, claim_index=1, text=second,
                      start=len(first) + 1, end=len(rewrite), score=s, label=_label(s),
                      reason="entailed" if s >= 0.5 else "no_evidence", probs={"entailment": s},
                      evidence=EvidenceRow(text=source[ev_start:ev_start + 29], start=ev_start,
                                           end=ev_start + 29, premise_index=1))
        assert rewrite[c1.start:c1.end] == second
        claims += [c0, c1]
        counts = {"supported": 1 + (c1.label == "supported")}
        pairs.append(PairRow(
            pair_id=pid, dataset=ds, content_hash=content_hash(source, rewrite), gold_label=gold, group=group,
            scores={scorer: PairScoreRow(score=s, label=_label(s), n_claims=2, n_checkable=2,
                                         counts=counts)},
            source=source if with_text else None, rewrite=rewrite if with_text else None,
        ))
    return pairs, claims


def datasets_for(pairs: list[PairRow]) -> list[DatasetInfo]:
    out = []
    for name, role in (("frank", "dev"), ("bump", "test")):
        rows = [p for p in pairs if p.dataset == name]
        out.append(DatasetInfo(name=name, role=role, source=f"/data/{name}.jsonl", n_pairs=len(rows),
                               labelled=len(rows), inputs_hash=content_hash(*(p.content_hash for p in rows))))
    return out


def write_run(root: Path, run_id: str, model: str = "good", *, created: str = "2025-01-01T00:00:00Z",
              version: str = "0.1.0", commit: str = "aaaaaaa1", source: str = SOURCE,
              n_boot: int = 200, with_text: bool = True) -> Path:
    """A complete run folder ``root/run_id`` scored by the hand-made ``model`` scores."""
    pairs, claims = build_rows(SCORES[model], source=source, with_text=with_text)
    datasets = datasets_for(pairs)
    metrics, thresholds = evaluate_run(pairs, datasets, n_boot=n_boot, seed=0)
    record = RunRecord(
        run_id=run_id, name=f"demo-{model}", created=created, harness_version=version,
        git=GitInfo(commit=commit, dirty=False), config={"name": f"demo-{model}"},
        config_hash=content_hash(model)[:12], datasets=datasets,
        scorers=[ScorerInfo(name="nli", type="nli", models=[ModelInfo(id=f"org/{model}-nli", revision="r1")])],
        device="cpu", dtype="fp32", metrics=metrics, thresholds=thresholds,
    )
    return write_run_folder(root / run_id, record, pairs, claims)


def write_run_folder(d: Path, record: RunRecord, pairs: list[PairRow], claims: list[ClaimRow]) -> Path:
    """A run folder as ``harness run`` leaves it: run.json, pairs.jsonl and claims.jsonl."""
    d.mkdir(parents=True)
    (d / "run.json").write_text(record.model_dump_json(indent=1), encoding="utf-8")
    (d / "pairs.jsonl").write_text("".join(p.model_dump_json() + "\n" for p in pairs), encoding="utf-8")
    (d / "claims.jsonl").write_text("".join(c.model_dump_json() + "\n" for c in claims), encoding="utf-8")
    return d


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
