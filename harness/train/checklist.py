"""Behavioural checklist for an NLI scorer: generated cases per phenomenon, each with the score it must show.

Why: ROC-AUC on a benchmark says how often a model ranks right, not *what* it gets wrong. The checklist asks
the questions a user asks first — is a sentence copied from the source supported wherever it sits in a long
source? does a flipped verb, a changed number, a swapped name or role, an added detail move the score? — on
cases made from templates (seeded, so every run sees the same cases), scored through the real scoring path
(segmentation, premise selection, engine): ``score_block`` of a one-scorer run.

Two kinds of case:

* ``entailed`` — the claim is supported by the source (verbatim inside 1/2/5/20-sentence contexts, or a
  paraphrase): its claim score must reach ``min_score``.
* ``gap`` — an original claim and a minimally edited one, both against the same source (negation, antonym
  verb, number, date, entity swap, role swap, added unsupported detail, a hedge turned into a certainty): the
  original must score at least ``min_gap`` above the edit.

A phenomenon passes when at least ``PASS_RATE`` of its cases meet their criterion; the checklist passes when
every phenomenon does.

    python -m harness.train.checklist [--model embedded | DIR] [--n 40] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PASS_RATE = 0.8
"""Fraction of a phenomenon's cases that must meet their criterion."""
MIN_ENTAIL = 0.8
"""Claim score a verbatim copy of a source sentence must reach, whatever the context around it."""
MIN_PARAPHRASE = 0.5
"""Claim score a meaning-preserving rewording (voice, word order) must reach."""
MIN_GAP = 0.3
"""How far an edit that makes a claim unfaithful must lower its score below the original's."""

# ------------------------------------------------------------------------------------------ slot lists
_BODIES = ["city council", "board", "committee", "parliament", "school board", "union", "senate", "cabinet",
           "court", "club"]
_PLANS = ["budget", "proposal", "merger", "contract", "bill", "plan", "deal", "appeal", "reform", "project"]
# (past tense, base form, antonym past tense)
_VERBS = [("approved", "approve", "rejected"), ("accepted", "accept", "refused"), ("opened", "open", "closed"),
          ("supported", "support", "opposed"), ("confirmed", "confirm", "denied"), ("won", "win", "lost"),
          ("increased", "increase", "cut"), ("started", "start", "ended")]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PEOPLE = ["Maria Lopez", "John Carter", "Aiko Tanaka", "Peter Novak", "Fatima Hassan", "David Miller",
           "Olga Petrova", "James Wilson", "Chen Wei", "Sarah Johnson", "Luca Rossi", "Anna Schmidt"]
_CITIES = ["Lyon", "Denver", "Osaka", "Leeds", "Porto", "Krakow", "Austin", "Turin", "Bergen", "Quebec",
           "Seville", "Perth"]
_GOODS = ["cars", "tickets", "homes", "bikes", "phones", "books", "laptops", "boats"]
_COMPANIES = ["Norland Motors", "Vexa Systems", "Brightwell", "Calder Group", "Orion Foods", "Tessera Labs"]
_DETAILS = ["because of rising costs", "after a two-hour debate", "despite strong protests",
            "to attract foreign investors", "following a court order", "at the request of the mayor"]
_FILLER = [
    "Heavy rain is expected across the region later this week.",
    "The local football team lost its opening match of the season.",
    "A new bakery opened near the central station last month.",
    "Museum visitor numbers have doubled since the renovation.",
    "Traffic on the ring road was slow during the morning rush hour.",
    "The annual jazz festival will return to the old harbour in July.",
    "Farmers in the valley reported an early start to the harvest.",
    "A small earthquake was felt in the mountains but caused no damage.",
    "The library will extend its opening hours during the exam period.",
    "Several streets were closed for a marathon on the weekend.",
    "Researchers published a study on sleep patterns of teenagers.",
    "The zoo welcomed two red panda cubs in the spring.",
    "Petrol prices fell slightly over the past fortnight.",
    "A historic bridge is being repainted for the first time in decades.",
    "Students staged a play about the history of the town.",
    "The airport added a direct flight to a nearby island.",
    "Volunteers planted hundreds of trees along the river bank.",
    "A chess tournament drew players from twelve countries.",
    "The weather service warned of strong winds near the coast.",
    "An art exhibition on modern sculpture opens next week.",
    "The hospital installed new equipment in its cardiology ward.",
    "Fishermen said the catch this year was smaller than usual.",
    "A film about the region's mining past won a local award.",
    "The school canteen introduced a vegetarian menu on Fridays.",
]


@dataclass(frozen=True)
class Case:
    phenomenon: str
    source: str
    claim: str
    """Entailed cases: the claim that must score high. Gap cases: the original (faithful) claim."""
    edited: str | None = None
    """Gap cases: the edited (unfaithful) claim that must score ``MIN_GAP`` below ``claim``."""
    min_score: float | None = None


@dataclass
class PhenomenonResult:
    phenomenon: str
    kind: str
    cases: int
    passed: int
    criterion: str
    mean_score: float
    """Entailed: mean claim score. Gap: mean original score."""
    mean_edited: float | None = None
    mean_gap: float | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.cases if self.cases else 0.0

    @property
    def ok(self) -> bool:
        return self.rate >= PASS_RATE


def _context(rng: random.Random, fact: str, n_sentences: int) -> str:
    """``fact`` at a random position among ``n_sentences - 1`` unrelated sentences."""
    filler = rng.sample(_FILLER, min(len(_FILLER), n_sentences - 1))
    while len(filler) < n_sentences - 1:
        filler.append(rng.choice(_FILLER))
    at = rng.randint(0, len(filler))
    return " ".join([*filler[:at], fact, *filler[at:]])


def _fact(rng: random.Random) -> dict[str, str]:
    past, base, anto = rng.choice(_VERBS)
    return {"body": rng.choice(_BODIES), "plan": rng.choice(_PLANS), "past": past, "base": base, "anto": anto,
            "day": rng.choice(_DAYS)}


def make_cases(n: int = 40, seed: int = 0) -> list[Case]:
    """``n`` cases per phenomenon, deterministic in ``seed``."""
    rng = random.Random(seed)
    cases: list[Case] = []

    def sentence(f: dict[str, str], verb: str | None = None) -> str:
        return f"The {f['body']} {verb or f['past']} the {f['plan']} on {f['day']}."

    for size in (1, 2, 5, 20):
        for _ in range(n):
            f = _fact(rng)
            fact = sentence(f)
            cases.append(Case(f"verbatim_in_{size}_sentences", _context(rng, fact, size), fact, min_score=MIN_ENTAIL))
    for _ in range(n):
        f = _fact(rng)
        para = f"On {f['day']}, the {f['plan']} was {f['past']} by the {f['body']}."
        cases.append(Case("paraphrase", _context(rng, sentence(f), 3), para, min_score=MIN_PARAPHRASE))

    def gap(name: str, fact: str, original: str, edited: str, size: int = 3) -> None:
        cases.append(Case(name, _context(rng, fact, size), original, edited))

    for _ in range(n):
        f = _fact(rng)
        gap("negation", sentence(f), sentence(f), f"The {f['body']} did not {f['base']} the {f['plan']} on {f['day']}.")
    for _ in range(n):
        f = _fact(rng)
        gap("antonym_verb", sentence(f), sentence(f), sentence(f, f["anto"]))
    for _ in range(n):
        who, company, goods = rng.choice(_PEOPLE), rng.choice(_COMPANIES), rng.choice(_GOODS)
        num, year = rng.randint(12, 950), rng.randint(1995, 2024)
        other = num + rng.choice([-1, 1]) * rng.randint(3, max(4, num // 2))
        fact = f"{who} said {company} sold {num} {goods} in {year}."
        gap("number", fact, fact, fact.replace(f" {num} ", f" {other} "))
        if len([c for c in cases if c.phenomenon == "date"]) < n:
            new_year = year + rng.choice([-3, -2, -1, 1, 2, 3])
            gap("date", fact, fact, fact.replace(str(year), str(new_year)))
    for _ in range(n):
        a, b, c = rng.sample(_PEOPLE, 3)
        city, other_city = rng.sample(_CITIES, 2)
        fact = f"{a} met {b} in {city} on {rng.choice(_DAYS)}."
        if rng.random() < 0.5:
            gap("entity_swap", fact, fact, fact.replace(city, other_city))
        else:
            gap("entity_swap", fact, fact, fact.replace(b, c))
    for _ in range(n):
        a, b = rng.sample(_PEOPLE, 2)
        city = rng.choice(_CITIES)
        fact = f"{a} defeated {b} in the final in {city}."
        gap("role_swap", fact, fact, f"{b} defeated {a} in the final in {city}.")
    for _ in range(n):
        f = _fact(rng)
        gap("added_detail", sentence(f), sentence(f), sentence(f)[:-1] + f" {rng.choice(_DETAILS)}.")
    for _ in range(n):
        f = _fact(rng)
        hedged = f"The {f['body']} may {f['base']} the {f['plan']} on {f['day']}."
        gap("hedge_to_certainty", hedged, hedged, sentence(f))
    return cases


# ----------------------------------------------------------------------------------------------- scoring
def score_claims(items: Sequence[tuple[str, str]], model: dict[str, Any] | None = None,
                 threads: int | None = None, scorer: dict[str, Any] | None = None,
                 premises: dict[str, Any] | None = None) -> list[float]:
    """Claim score of each (source, claim) through the real scoring path: a one-claim rewrite per pair,
    segmented and scored by an ``nli`` scorer (default config, ``model`` overriding the embedded model,
    ``premises`` the premise units, e.g. ``{"unit": "sentence+window"}``)."""
    from harness.config import RunConfig
    from harness.stages import build_context, score_block
    from harness.types import Pair

    nli: dict[str, Any] = {"type": "nli", "model": model or {"id": "embedded"}, **(scorer or {})}
    cfg = RunConfig.model_validate({
        "name": "checklist",
        "data": [{"name": "checklist", "type": "jsonl", "path": "checklist.jsonl"}],
        "scorers": [nli],
        "checks": {"claim_worthiness": False, "quotes": False, "off_topic": False},
        "segmentation": {"claims": "whole", **({"premises": premises} if premises else {})},
        "runtime": {"progress": False},
    })
    ctx = build_context(cfg, cache=None, threads=threads, progress=False)
    pairs = [Pair(id=f"c{i}", source=s, rewrite=c, dataset="checklist") for i, (s, c) in enumerate(items)]
    out = score_block(ctx, pairs)
    by_pair: dict[str, float] = {}
    for row in out.claims:
        if row["score"] is not None:
            by_pair[row["pair_id"]] = float(row["score"])
    return [by_pair.get(p.id, float("nan")) for p in pairs]


def evaluate(cases: Sequence[Case], scores: Sequence[float]) -> list[PhenomenonResult]:
    """Apply each case's criterion to its scores (one per claim, then one per edit, in ``cases`` order)."""
    it = iter(scores)
    per: dict[str, list[tuple[Case, float, float | None]]] = {}
    for c in cases:
        s = next(it)
        per.setdefault(c.phenomenon, []).append((c, s, None))
    for c_list in per.values():
        for i, (c, s, _) in enumerate(c_list):
            if c.edited is not None:
                c_list[i] = (c, s, next(it))
    results = []
    for name, rows in per.items():
        gap_kind = rows[0][0].edited is not None
        passed, failures = 0, list[dict[str, Any]]()
        for c, s, e in rows:
            ok = (s - e >= MIN_GAP) if gap_kind and e is not None else s >= (c.min_score or MIN_ENTAIL)
            passed += ok
            if not ok and len(failures) < 3:
                failures.append({"source": c.source[:160], "claim": c.claim, "edited": c.edited,
                                 "score": round(s, 3), "edited_score": None if e is None else round(e, 3)})
        mean = sum(s for _, s, _ in rows) / len(rows)
        if gap_kind:
            edits = [e for _, _, e in rows if e is not None]
            mean_e = sum(edits) / len(edits)
            crit = f"original - edit >= {MIN_GAP}"
            results.append(PhenomenonResult(name, "gap", len(rows), passed, crit, round(mean, 3), round(mean_e, 3),
                                            round(mean - mean_e, 3), failures))
        else:
            crit = f"score >= {rows[0][0].min_score}"
            results.append(PhenomenonResult(name, "entailed", len(rows), passed, crit, round(mean, 3),
                                            failures=failures))
    return results


def run_checklist(n: int = 40, seed: int = 0, model: dict[str, Any] | None = None,
                  threads: int | None = None, scorer: dict[str, Any] | None = None,
                  premises: dict[str, Any] | None = None) -> list[PhenomenonResult]:
    cases = make_cases(n, seed)
    items = [(c.source, c.claim) for c in cases]
    # edits after all originals, in case order: evaluate() reads them back the same way
    items += [(c.source, c.edited or c.claim) for c in _edit_order(cases)]  # _edit_order: edited is set
    return evaluate(cases, score_claims(items, model=model, threads=threads, scorer=scorer,
                                             premises=premises))


def _edit_order(cases: Sequence[Case]) -> list[Case]:
    """Gap cases grouped by phenomenon in first-appearance order (the order evaluate() consumes edits)."""
    order: dict[str, list[Case]] = {}
    for c in cases:
        order.setdefault(c.phenomenon, []).append(c)
    return [c for group in order.values() for c in group if c.edited is not None]


def format_table(results: Sequence[PhenomenonResult]) -> str:
    lines = ["| phenomenon | cases | criterion | passed | mean score | mean edited | mean gap | ok |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        edited = "" if r.mean_edited is None else f"{r.mean_edited:.3f}"
        gap = "" if r.mean_gap is None else f"{r.mean_gap:+.3f}"
        lines.append(f"| {r.phenomenon} | {r.cases} | {r.criterion} | {r.rate:.0%} | {r.mean_score:.3f} | {edited} "
                     f"| {gap} | {'pass' if r.ok else 'FAIL'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(prog="python -m harness.train.checklist", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="embedded", help="'embedded' (shipped) or a local model directory")
    ap.add_argument("--n", type=int, default=40, help="cases per phenomenon")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--premise-unit", default=None, help="segmentation.premises.unit (default: the config's)")
    ap.add_argument("--json", default=None, help="write the results here as JSON")
    args = ap.parse_args(argv)
    results = run_checklist(args.n, args.seed, model={"id": args.model}, threads=args.threads,
                            premises={"unit": args.premise_unit} if args.premise_unit else None)
    print(format_table(results))
    n_ok = sum(r.ok for r in results)
    print(f"\n{n_ok}/{len(results)} phenomena pass (a phenomenon passes at >= {PASS_RATE:.0%} of its cases)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([asdict(r) | {"rate": r.rate, "ok": r.ok} for r in results], f, indent=2)
    return 0 if n_ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
