"""Distillation: the loss, the unlabelled scoring-shaped pairs, and label -> train on tiny models (seconds)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
import yaml

from harness.train import batches as B
from harness.train import distill as DS
from harness.train import teacher_labels as TL
from harness.train import trainer as T
from harness.train.labels import NO_GOLD

TINY_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train_tiny.yaml"
WORDS = "council budget river mayor school bridge police court judge harbour museum storm market".split()


def _doc_rows(n_docs: int = 12, seed: int = 1) -> list[dict]:
    """Multi-sentence 'news' premises, each with a claim about it, plus short NLI rows."""
    rng = random.Random(seed)
    rows = []
    for d in range(n_docs):
        sents = [f"The {rng.choice(WORDS)} of town {d} met the {rng.choice(WORDS)} on day {i}." for i in range(5)]
        rows.append({"premise": " ".join(sents), "hypothesis": f"Town {d} had a meeting.", "label": "entailment",
                     "origin": "cogensumm"})
    rows += [{"premise": "A man plays a guitar.", "hypothesis": "A man plays music.", "label": "entailment",
              "origin": "sick"},
             {"premise": "A dog runs.", "hypothesis": "A cat sleeps.", "label": "contradiction", "origin": "sick"}]
    return rows


def test_distill_loss_is_kl_to_the_teacher_and_mixes_gold_only_where_there_is_gold() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.5]])
    student = torch.softmax(logits, -1)
    assert B.distill_loss(logits, torch.tensor([NO_GOLD, NO_GOLD]), student, 0.5).item() == pytest.approx(0, abs=1e-6)
    teacher = torch.tensor([[0.1, 0.8, 0.1], [0.6, 0.2, 0.2]])
    kl = (teacher * (teacher.log() - torch.log_softmax(logits, -1))).sum(-1)
    gold = torch.tensor([0, NO_GOLD])
    got = B.distill_loss(logits, gold, teacher, 0.25)
    want = (0.25 * B.nli_loss(logits[:1], gold[:1]) + 0.75 * kl[0] + kl[1]) / 2
    assert got.item() == pytest.approx(want.item(), rel=1e-5)
    assert B.nli_loss(logits, torch.tensor([NO_GOLD, NO_GOLD])).item() == 0.0  # no gold, nothing to learn from it
    batch = {"labels": gold, "soft": teacher}
    assert B.training_loss(logits, batch, 0.25).item() == pytest.approx(got.item())
    assert B.training_loss(logits, {"labels": torch.tensor([0, 1])}).item() == pytest.approx(
        B.nli_loss(logits, torch.tensor([0, 1])).item())


def test_scoring_pairs_are_windows_of_documents_with_hypotheses_of_each_kind() -> None:
    rows = _doc_rows()
    pairs = DS.scoring_pairs(rows, ["cogensumm"], 200, seed=3)
    assert pairs == DS.scoring_pairs(rows, ["cogensumm"], 200, seed=3)
    assert len(pairs) == 200 and len({(p.premise, p.hypothesis) for p in pairs}) == 200
    assert all(p.label == NO_GOLD and p.soft is None for p in pairs)
    kinds = {p.kind for p in pairs}
    assert kinds == {"distill-claim", "distill-inside", "distill-outside", "distill-other"}
    docs = [r["premise"] for r in rows if r["origin"] == "cogensumm"]
    for p in pairs:
        (home,) = [d for d in docs if p.premise in d]  # every premise is a window of one document
        if p.kind == "distill-inside":
            assert p.hypothesis in p.premise
        elif p.kind == "distill-outside":
            assert p.hypothesis in home and p.hypothesis not in p.premise
        elif p.kind == "distill-claim":
            assert p.hypothesis.startswith("Town ") and p.hypothesis.split()[1] in home.split()
    assert DS.scoring_pairs(rows, ["sick"], 50, seed=3) == []  # one-sentence premises are not documents


def _distill_config(tmp_path: Path, teacher: Path, **distill: object) -> Path:
    root = tmp_path / "data"
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _doc_rows()), encoding="utf-8")
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["data"].update(root=str(root), train_file="train.jsonl", synthetic={"doc_entail": 4},
                       doc_groups=["cogensumm"], perturb_groups=[])
    cfg["train"].update(epochs=1, max_steps=6, checkpoint_every=3)
    cfg["output"] = {"train_dir": str(tmp_path / "run"), "export_dir": str(tmp_path / "export")}
    cfg["distill"] = {"teacher": {"model": {"id": str(teacher), "max_length": 64}, "backend": "torch",
                                  "dtype": "fp32"},
                      "unlabelled_pairs": 30, "unlabelled_groups": ["cogensumm"], **distill}
    path = tmp_path / "distill.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_student_waits_for_labels_then_trains_on_what_the_teacher_said(
        tmp_path: Path, tiny_nli_dir: Path, one_torch_thread: None, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _distill_config(tmp_path, tiny_nli_dir)
    with pytest.raises(RuntimeError, match=r"python -m harness\.train\.teacher_labels"):
        T.run_training(path)

    out = TL.label_command(path)
    labels = DS.read_teacher_labels(out)
    record = json.loads((tmp_path / "run" / "teacher_labels.json").read_text())
    assert record["pairs"] == len(labels) > 0 and record["engine"]["computed"] == len(labels)
    assert record["mix"]["distill-claim"] + record["mix"]["distill-inside"] > 0
    assert all(sum(p) == pytest.approx(1, abs=1e-5) for p in labels.values())
    # exactly the pairs the student's 6 steps will visit: 6 x 4 examples at most, deduplicated
    cfg = T.load_config(path)
    examples, _, _ = T.training_mix(cfg)
    assert len(labels) <= 6 * cfg.train.batch_size < len(examples)

    out.unlink()  # a rerun (e.g. after a kill) takes every finished batch from the engine cache
    TL.label_command(path)
    again = json.loads((tmp_path / "run" / "teacher_labels.json").read_text())
    assert again["engine"]["computed"] == 0 and again["engine"]["cache_hits"] == len(labels)
    assert DS.read_teacher_labels(out) == labels

    seen: list[torch.Tensor] = []
    original = B.distill_loss

    def spy(logits: torch.Tensor, labels_: torch.Tensor, soft: torch.Tensor, gold_weight: float) -> torch.Tensor:
        seen.append(soft)
        return original(logits, labels_, soft, gold_weight)

    monkeypatch.setattr(B, "distill_loss", spy)
    adapter = T.run_training(path)
    assert adapter.is_file() and len(seen) == 6  # every step trained on the teacher's probabilities
    said = torch.tensor(list(labels.values()))
    for row in torch.cat(seen):  # each soft target is one of the teacher's labels
        assert (said - row).abs().max(dim=1).values.min() < 1e-6


def test_labels_file_is_complete_or_absent(tmp_path: Path, tiny_nli_dir: Path, one_torch_thread: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = _distill_config(tmp_path, tiny_nli_dir)

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(TL, "three_way", broken)
    with pytest.raises(OSError):
        TL.label_command(path)
    run = tmp_path / "run"
    assert not (run / "teacher_labels.jsonl.gz").exists()
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


def test_a_two_way_teacher_is_refused(tmp_path: Path, one_torch_thread: None) -> None:
    from conftest import save_tiny_nli

    two = save_tiny_nli(tmp_path / "two", labels=("entailment", "not_entailment"))
    path = _distill_config(tmp_path, two)
    with pytest.raises(ValueError, match="not a 3-way NLI model"):
        TL.label_command(path)


def test_configs_without_distill_keep_their_checkpoints_fingerprint(tmp_path: Path, tiny_nli_dir: Path) -> None:
    """Adding the distill section must not invalidate the checkpoints of runs that predate it (a many-hour run
    would refuse to resume); a distillation config's fingerprint does name its teacher."""
    plain = T.load_config(TINY_CONFIG)
    assert "distill" not in json.loads(T.config_fingerprint(plain))
    with_teacher = T.load_config(_distill_config(tmp_path, tiny_nli_dir))
    assert json.loads(T.config_fingerprint(with_teacher))["distill"]["teacher"]["model"]["id"] == str(tiny_nli_dir)
