"""The behavioural checklist (harness/train/checklist.py): generated cases, criteria, and the shipped model.

A random model must fail the checklist; the shipped model must keep what it passes (the whole checklist is a
target it does not meet yet: a strict xfail, so that passing it is noticed).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.train import checklist
from harness.train.checklist import MIN_GAP, Case, evaluate, make_cases, run_checklist


def test_cases_are_deterministic_and_cover_every_phenomenon() -> None:
    a, b = make_cases(6, seed=3), make_cases(6, seed=3)
    assert a == b and a != make_cases(6, seed=4)
    counts = Counter(c.phenomenon for c in a)
    assert set(counts) == {
        "verbatim_in_1_sentences", "verbatim_in_2_sentences", "verbatim_in_5_sentences", "verbatim_in_20_sentences",
        "paraphrase", "negation", "antonym_verb", "number", "date", "entity_swap", "role_swap", "added_detail",
        "hedge_to_certainty",
    }
    assert set(counts.values()) == {6}


def test_cases_mean_what_they_say() -> None:
    for c in make_cases(10, seed=0):
        if c.phenomenon.startswith("verbatim_in_"):
            size = int(c.phenomenon.split("_")[2])
            assert c.claim in c.source and c.edited is None
            assert c.source.count(". ") + 1 == size  # the fact among size - 1 unrelated sentences
        elif c.edited is not None:
            assert c.edited != c.claim and c.claim in c.source and c.edited not in c.source


def test_evaluate_applies_each_criterion() -> None:
    cases = [Case("verbatim", "S.", "S.", min_score=0.8), Case("verbatim", "S.", "S.", min_score=0.8),
             Case("negation", "S.", "S.", "not S."), Case("negation", "S.", "S.", "not S.")]
    # originals in case order, then the edits of the gap phenomenon
    scores = [0.9, 0.5, 0.9, 0.8, 0.1, 0.9 - MIN_GAP / 2]
    by_name = {r.phenomenon: r for r in evaluate(cases, scores)}
    assert (by_name["verbatim"].passed, by_name["verbatim"].cases) == (1, 2)
    assert (by_name["negation"].passed, by_name["negation"].mean_edited) == (1, round((0.1 + 0.9 - MIN_GAP / 2) / 2, 3))
    assert not by_name["verbatim"].ok and not by_name["negation"].ok


@pytest.mark.slow
def test_a_random_model_fails_the_checklist(tiny_nli_dir: Path) -> None:
    results = run_checklist(n=6, model={"id": str(tiny_nli_dir), "max_length": 128}, threads=1)
    assert sum(r.ok for r in results) <= len(results) // 2


SHIPPED_PASSES = {"verbatim_in_1_sentences", "verbatim_in_2_sentences", "verbatim_in_5_sentences",
                  "verbatim_in_20_sentences", "paraphrase", "negation", "number", "date", "added_detail",
                  "entity_swap"}
"""Phenomena the shipped v0.4.0 passes with the default premise selection (n=40: 85-100% of cases). A copied
sentence scores >= 0.803 in every context here, in bf16 and in fp32 (v0.3.0's ceiling was ~0.81, so it
passed verbatim-in-context only about 3 times in 4). Not passed: antonym verbs (68% at n=40; 83% in this
fixture's smaller sample, so it is not asserted), role swaps and hedges (model card, "Behavioural checklist")."""


@pytest.fixture(scope="module")
def shipped_results() -> list:
    return run_checklist(n=12, seed=1, threads=2)


@pytest.mark.slow
def test_the_shipped_model_keeps_the_phenomena_it_passes(shipped_results: list) -> None:
    passing = {r.phenomenon for r in shipped_results if r.ok}
    assert passing >= SHIPPED_PASSES, checklist.format_table(shipped_results)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the checklist target is not met yet: see SHIPPED_PASSES and the model card")
def test_the_shipped_model_passes_the_whole_checklist(shipped_results: list) -> None:
    failed = {r.phenomenon: f"{r.rate:.0%}" for r in shipped_results if not r.ok}
    assert not failed, (failed, checklist.format_table(shipped_results))
