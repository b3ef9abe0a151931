"""Near-copy hard negatives (harness.train.near_copy): the agent of a copied sentence taken from its own window."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from harness.train import data as D
from harness.train import near_copy as N
from harness.train import trainer as T
from harness.train.labels import LABEL_IDS, NOT_ENTAILMENT

REPO = Path(__file__).resolve().parents[1]

needs_spacy = pytest.mark.skipif(not N.available(), reason="the English spaCy pipeline is not installed")

WINDOW = [
    "Ruud Gullit controversially decided not to start Duncan Ferguson in 1999.",
    "John Carver was an assistant to the Dutch manager at Newcastle.",
]


def _all(maker, window: list[str], seeds: int = 40) -> list[tuple[str, int]]:
    return [r for seed in range(seeds) if (r := maker(window, random.Random(seed))) is not None]


@needs_spacy
def test_entity_swap_takes_a_same_type_name_from_another_sentence() -> None:
    made = _all(N.swap_window_entity, WINDOW)
    assert made and all(label == NOT_ENTAILMENT for _, label in made)
    hyps = {h for h, _ in made}
    assert "John Carver controversially decided not to start Duncan Ferguson in 1999." in hyps
    for hyp in hyps:  # a copied sentence with one name changed, the new name taken from the window
        assert hyp not in WINDOW
        assert any(len(set(hyp.split()) ^ set(s.split())) <= 6 for s in WINDOW)
    # one sentence, or nobody else of the type to swap in: nothing to make
    assert _all(N.swap_window_entity, WINDOW[:1]) == []
    assert _all(N.swap_window_entity, ["Ruud Gullit left.", "The club lost again on Sunday."]) == []


@needs_spacy
def test_subject_swap_only_swaps_names() -> None:
    window = ["Ruud Gullit dropped two strikers.", "Alan Shearer scored twice in the derby."]
    made = _all(N.swap_subject, window)
    assert {h for h, _ in made} == {"Alan Shearer dropped two strikers.", "Ruud Gullit scored twice in the derby."}
    assert all(label == NOT_ENTAILMENT for _, label in made)
    inside = ["On Monday, The Rolling Stones announced a tour.", "The Beatles played in Hyde Park."]
    assert "On Monday, the Beatles announced a tour." in {h for h, _ in _all(N.swap_subject, inside)}
    # a description ("the film", "the Newcastle manager") is often the other subject under another name, and
    # naming it is what a faithful summary does: never swapped, either way
    described = ["The film documents the accounts of soldiers.", "Winter Soldier was released in 1972."]
    assert _all(N.swap_subject, described) == []
    manager = ["The Newcastle manager dropped two strikers.", "Alan Shearer scored twice in the derby."]
    assert _all(N.swap_subject, manager) == []


@needs_spacy
def test_pronoun_named_rightly_and_wrongly() -> None:
    window = ["Maria Santos moved to Manila in 2012.", "She learned Tagalog to win a role opposite Jose Manalo."]
    made = dict((h, label) for h, label in _all(N.pronoun_to_name, window))
    right = "Maria Santos learned Tagalog to win a role opposite Jose Manalo."
    wrong = "Jose Manalo learned Tagalog to win a role opposite Jose Manalo."
    assert made == {right: LABEL_IDS["entailment"], wrong: NOT_ENTAILMENT}
    # two people named before the pronoun: the antecedent is uncertain, so nothing is made
    ambiguous = ["Angela Merkel met Barack Obama in 2012.", "She learned Tagalog."]
    assert _all(N.pronoun_to_name, ambiguous) == []


@needs_spacy
def test_mix_holds_the_near_copy_kinds() -> None:
    rows = D.read_jsonl(REPO / "tests" / "fixtures" / "nli_tiny.jsonl")
    cfg = D.MixConfig({}, {"window_entity": 3, "window_subject": 3, "window_pronoun": 3}, heldout_per_group=0,
                      fraction=1.0, seed=1, doc_windows=True,
                      doc_groups=tuple(sorted({D.origin_group(r["origin"]) for r in rows})))
    examples, _, counts = D.build_mix(rows, cfg)
    made = [ex for ex in examples if ex.kind.startswith("syn-window_")]
    assert made, counts
    for ex in made:
        assert ex.hypothesis not in D.split_sentences(ex.premise)
        assert ex.label in (LABEL_IDS["entailment"], NOT_ENTAILMENT)


def test_unknown_synthetic_kind_is_named_with_a_suggestion(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "configs" / "train_tiny.yaml").read_text())
    cfg["data"]["synthetic"] = {"window_entities": 10}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"unknown synthetic kind 'window_entities'.*did you mean 'window_entity'"):
        T.load_config(path)


def test_phase_two_continues_the_large_run() -> None:
    """The near-copy phase starts from a phase-1 snapshot of the same base, mix files and eval, and keeps its
    state outside the work tree."""
    large = T.load_config(REPO / "configs" / "train_embedded_large.yaml")
    phase2 = T.load_config(REPO / "configs" / "train_embedded_large_nc.yaml")
    assert phase2.model.base == large.model.base and phase2.model.max_length == large.model.max_length
    # it started from a run-1 snapshot (run 1 was lost with its machine; phase 2 is on hold)
    assert phase2.model.init_from and phase2.model.init_from.startswith("~/.cache/harness-train/embedded-large/")
    assert phase2.data.train_files == large.data.train_files
    assert phase2.eval == large.eval.model_copy(update={"every_examples": phase2.eval.every_examples})
    assert phase2.data.mix_seed != large.data.mix_seed
    assert set(N.MAKERS) <= set(phase2.data.synthetic)
    assert phase2.output.train_dir.startswith("~/.cache/harness-train/")
    assert phase2.output.train_dir != large.output.train_dir


def test_small_model_candidate_sees_the_same_near_copy_mix() -> None:
    """The v0.5 candidate trains the default on exactly the large model's phase-2 mix, from a v0.4.0 copy kept
    outside the work tree (shipping a new default cannot change what it started from)."""
    phase2 = T.load_config(REPO / "configs" / "train_embedded_large_nc.yaml")
    small = T.load_config(REPO / "configs" / "train_embedded_v5_nc.yaml")
    assert small.data == phase2.data and small.model.base == "embedded"
    assert small.model.init_from and small.model.init_from.startswith("~/.cache/harness-train/")
    assert small.lora.rank == 80 and small.output.train_dir.startswith("~/.cache/harness-train/")

