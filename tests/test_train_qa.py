"""QA trainer: cloze data from NLI pairs, SQuAD rows, windowed span targets, and the train CLI on a tiny random
BERT with a kill-and-resume equivalence check (seconds)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
import yaml

from harness.models.embedded_qa import CLOZE_MASK
from harness.scorers.answers import AnswerCandidate, extract_answers
from harness.train import qa as Q
from harness.train.data import read_jsonl

FIXTURES = Path(__file__).parent / "fixtures"
TINY_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train_qa_tiny.yaml"
PREMISE = "The company, founded in 1998 in Oslo, makes ships. It employs 300 people in Oslo and Bergen."


def _tiny_config(tmp_path: Path, **train: object) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["data"]["root"] = str(FIXTURES)
    cfg["output"]["train_dir"] = str(tmp_path / "run")
    cfg["output"]["export_dir"] = str(tmp_path / "export")
    cfg["train"].update(train)
    path = tmp_path / "tiny_qa.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _cands(text: str) -> list[AnswerCandidate]:
    return extract_answers(text, "rules")


# ------------------------------------------------------------------------------------------- cloze data

def test_entailed_pair_gives_an_answerable_cloze_with_the_span_in_the_premise() -> None:
    hyp = "The company was founded in 1998."
    ex = Q.cloze_example(PREMISE, hyp, "entailment", _cands(hyp), random.Random(0))
    assert ex is not None and ex.kind == "cloze-answerable"
    assert ex.question == f"The company was founded in {CLOZE_MASK}."
    assert ex.context == PREMISE and ex.answer_texts == ["1998"]


def test_ambiguous_or_absent_answers_give_no_answerable_cloze() -> None:
    hyp = "The company is in Oslo."  # "Oslo" occurs twice in the premise: which one is the answer is a guess
    assert Q.cloze_example(PREMISE, hyp, "entailment", _cands(hyp), random.Random(0)) is None
    hyp = "The company was founded in Paris."  # nothing of the hypothesis is in the premise
    assert Q.cloze_example(PREMISE, hyp, "entailment", _cands(hyp), random.Random(0)) is None


def test_not_entailed_pair_masks_a_shared_span_and_has_no_answer() -> None:
    hyp = "In 1998 the company moved to Paris."  # contradicted: "1998" is shared, "Paris" is the change
    for seed in range(5):
        ex = Q.cloze_example(PREMISE, hyp, "contradiction", _cands(hyp), random.Random(seed))
        assert ex is not None and ex.kind == "cloze-unanswerable" and ex.answers == ()
        assert ex.question == f"In {CLOZE_MASK} the company moved to Paris."  # never the changed span
    assert Q.cloze_example(PREMISE, "Paris is large.", "neutral", _cands("Paris is large."),
                           random.Random(0)) is None


def test_build_cloze_is_deterministic_and_respects_counts() -> None:
    rows = read_jsonl(FIXTURES / "nli_tiny.jsonl")
    cfg = Q.QADataCfg(answer_extractor="rules")
    a = Q.build_cloze(rows, cfg, random.Random(3), 3, 2)
    assert a == Q.build_cloze(rows, cfg, random.Random(3), 3, 2)
    kinds = [ex.kind for ex in a]
    assert kinds.count("cloze-answerable") <= 3 and kinds.count("cloze-unanswerable") <= 2 and kinds
    for ex in a:
        assert CLOZE_MASK in ex.question
        for s, e in ex.answers:
            assert ex.context[s:e] and ex.context[s:e] not in ex.question
    assert all("Der " not in ex.context for ex in a), "German rows are not cloze material"
    dropped = Q.build_cloze(rows, Q.QADataCfg(answer_extractor="rules", cloze_weights={"*": 0.0}),
                            random.Random(3), 3, 2)
    assert dropped == []
    foreign = Q.foreign_cloze([ex for ex in a if ex.answers], 2, random.Random(0))
    for ex in foreign:
        assert ex.kind == "cloze-foreign" and ex.answers == ()


def test_squad_rows_keep_english_and_every_reference() -> None:
    exs = Q.squad_examples(read_jsonl(FIXTURES / "qa_tiny.jsonl"))
    assert len(exs) == 15 and all("Hafen" not in ex.context for ex in exs)
    ribbon = next(ex for ex in exs if ex.question == "Who cut the ribbon?")
    assert ribbon.answer_texts == ["Ingrid Dahl", "The mayor, Ingrid Dahl"]
    assert sum(not ex.answers for ex in exs) == 3


def test_held_out_split_keeps_contexts_whole() -> None:
    exs = Q.squad_examples(read_jsonl(FIXTURES / "qa_tiny.jsonl"))
    train, held = Q.split_by_context(exs, 3, seed=1)
    assert len(held) >= 3 and len(train) + len(held) == len(exs)
    assert not {ex.context for ex in train} & {ex.context for ex in held}
    assert Q.split_by_context(exs, 3, seed=1) == (train, held)


def test_windows_carry_span_targets_and_no_answer_elsewhere() -> None:
    from transformers import AutoTokenizer

    from harness.models.embedded import base_model_dir

    tok = AutoTokenizer.from_pretrained(base_model_dir(), local_files_only=True)
    backend = Q.reader(tok, Q.QAModelCfg(max_length=48, max_question_tokens=12))
    context = " ".join(["The weather was calm that week."] * 8) + " The ferry left Bergen at noon."
    at = context.index("Bergen")
    ex = Q.QAExample("Where did the ferry leave from?", context, ((at, at + 6),), "test")
    items = Q.featurize(ex, backend, 8, None, random.Random(0))
    assert len(items) > 2
    positive = [it for it in items if it["start"] != 0]
    assert len(positive) == 1
    ids = positive[0]["input_ids"][positive[0]["start"]:positive[0]["end"] + 1]
    assert tok.decode(ids) == "bergen"
    capped = Q.featurize(ex, backend, 8, 1, random.Random(0))
    assert len(capped) == 2 and sum(it["start"] != 0 for it in capped) == 1
    none = Q.featurize(Q.QAExample("Who?", context, (), "test"), backend, 8, 1, random.Random(0))
    assert len(none) == 2 and all(it["start"] == it["end"] == 0 for it in none)


def test_span_loss_ignores_padding() -> None:
    logits = torch.tensor([[1.0, 2.0, 50.0]])
    mask = torch.tensor([[1, 1, 0]])
    expected = -torch.log_softmax(torch.tensor([1.0, 2.0]), -1)[1]
    got = Q.span_loss(logits, logits, mask, torch.tensor([1]), torch.tensor([1]))
    assert torch.allclose(got, expected)


# --------------------------------------------------------------------------------------------- training

def test_train_cli_stop_and_resume_matches_uninterrupted_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`python -m harness train` on the tiny config: stopped at step 3 and rerun, it ends identical to a
    straight run, and records counts, CPU time and held-out EM/F1/no-answer accuracy."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    from harness.__main__ import main

    straight = _tiny_config(tmp_path / "a")
    assert main(["train", str(straight), "--no-resume"]) == 0
    resumed = _tiny_config(tmp_path / "b")
    assert main(["train", str(resumed), "--stop-after", "3"]) == 0
    ckpt = tmp_path / "b" / "run" / "checkpoint.pt"
    assert torch.load(ckpt, weights_only=False)["step"] == 3
    capsys.readouterr()
    assert main(["train", str(resumed)]) == 0
    assert "resumed from" in capsys.readouterr().out
    a = load_file(str(tmp_path / "a" / "export" / "adapter.safetensors"))
    b = load_file(str(tmp_path / "b" / "export" / "adapter.safetensors"))
    assert a.keys() == b.keys() and any(k.startswith("full.qa_outputs") for k in a)
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k

    info = json.loads((tmp_path / "b" / "run" / "training_info.json").read_text())
    assert info == json.loads((tmp_path / "b" / "export" / "training_info.json").read_text())
    assert info["steps"] == info["planned_steps"] > 3
    assert info["train_cpu_seconds"] > 0 and info["counts"]["cloze-answerable"] > 0
    assert info["counts"]["squad2-dev-cs224n"] > 0 and "windows" in info["counts"]
    overall = info["heldout"]["all"]
    assert overall["n"] > 0 and {"exact", "f1", "no_answer_accuracy"} <= set(overall)
    with safe_open(str(tmp_path / "b" / "export" / "adapter.safetensors"), framework="pt") as fh:
        meta = fh.metadata()
    assert meta["task"] == "question_answering" and meta["cloze_mask"] == CLOZE_MASK
    assert json.loads(meta["training"])["heldout"] == info["heldout"]


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path: Path) -> None:
    cfg = _tiny_config(tmp_path)
    Q.run_qa_training(cfg, stop_after=2)
    changed = yaml.safe_load(cfg.read_text())
    changed["lora"]["rank"] = 8
    cfg.write_text(yaml.safe_dump(changed))
    with pytest.raises(RuntimeError, match="different config"):
        Q.run_qa_training(cfg)


def test_real_data_builds_cloze_and_squad_examples(shared_data: Path, tmp_path: Path) -> None:
    """On ../shared/data (skipped without it): English QA rows with a held-out split, and cloze questions."""
    cfg = Q.QAConfig.model_validate({
        "data": {"root": str(shared_data), "heldout_qa": 50, "cloze_files": ["train/nli_pairs.jsonl.gz"],
                 "cloze_answerable": 40, "cloze_unanswerable": 20, "cloze_foreign": 10, "heldout_cloze": 10,
                 "answer_extractor": "rules"},
    })
    train, held, counts = Q.build_examples(cfg)
    assert counts["cloze-answerable"] > 0 and counts["cloze-unanswerable"] > 0
    assert counts["cloze-foreign"] == 10
    assert sum(v for k, v in counts.items() if k.startswith("heldout:")) == len(held) >= 50
    assert not any(k.endswith(("xquad-de", "mlqa-dev-de-de", "mlqa-dev-de-en", "mlqa-dev-en-de"))
                   for k in counts)
    assert not {ex.context for ex in train if ex.kind.startswith("squad")} & {ex.context for ex in held}
    for ex in train:
        for s, e in ex.answers:
            assert 0 <= s < e <= len(ex.context)
