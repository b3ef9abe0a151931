"""The bad-input matrix: every case runs the CLI in-process and checks the exit code, that the error is ONE
line naming the file/field/row, and that nothing is left in the output folder. Inputs a user may
legitimately have (BOM, CRLF, a 1 MB line, a CSV with a quoted newline, a pickle-only model folder) must
instead run and keep their text exactly.

Cases without a model use the overlap scorer (no model is loaded); model cases use tiny local models.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.__main__ import main
from harness.results.schema import PairRow, RunRecord

Setup = Callable[[Path], tuple[Path, list[str]]]
"""tmp folder -> (config path, extra CLI args)."""

ROW = {"id": "a", "source": "The cat sat on the mat. It was sunny.", "rewrite": "The cat sat.", "label": 1}


def _config(tmp: Path, data: dict, *, scorers: list | None = None, extra: dict | None = None) -> Path:
    cfg = {
        "name": "bad",
        "data": data,
        "scorers": scorers or [{"type": "overlap"}],
        "checks": {"off_topic": False},
        "runtime": {"cache": None, "progress": False, "dtype": "fp32"},
        **(extra or {}),
    }
    p = tmp / "run.yaml"
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _jsonl_bytes(tmp: Path, payload: bytes, name: str = "d.jsonl") -> tuple[Path, list[str]]:
    f = tmp / name
    f.write_bytes(payload)
    return _config(tmp, {"name": "d", "type": "jsonl", "path": str(f)}), []


def _rows(*rows: dict) -> Setup:
    def setup(tmp: Path) -> tuple[Path, list[str]]:
        return _jsonl_bytes(tmp, "".join(json.dumps(r) + "\n" for r in rows).encode())

    return setup


def _raw(payload: bytes, name: str = "d.jsonl") -> Setup:
    return lambda tmp: _jsonl_bytes(tmp, payload, name)


def _csv(payload: bytes) -> Setup:
    def setup(tmp: Path) -> tuple[Path, list[str]]:
        f = tmp / "d.csv"
        f.write_bytes(payload)
        return _config(tmp, {"name": "d", "type": "csv", "path": str(f)}), []

    return setup


def _parquet(table: dict | None, garbage: bool = False) -> Setup:
    def setup(tmp: Path) -> tuple[Path, list[str]]:
        f = tmp / "d.parquet"
        if garbage:
            f.write_bytes(b"PAR1 this is not parquet")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table(table), f)
        return _config(tmp, {"name": "d", "type": "parquet", "path": str(f)}), []

    return setup


def _dir_as_file(tmp: Path) -> tuple[Path, list[str]]:
    (tmp / "folder.jsonl").mkdir()
    return _config(tmp, {"name": "d", "type": "jsonl", "path": str(tmp / "folder.jsonl")}), []


def _set(*overrides: str) -> Setup:
    def setup(tmp: Path) -> tuple[Path, list[str]]:
        cfg, _ = _rows(ROW)(tmp)
        return cfg, [a for o in overrides for a in ("--set", o)]

    return setup


def _yaml_bomb(tmp: Path) -> tuple[Path, list[str]]:
    cfg, _ = _rows(ROW)(tmp)
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    body = cfg.read_text(encoding="utf-8")
    cfg.write_text("\n".join(lines) + "\n" + body + "meta: *a8\n", encoding="utf-8")
    return cfg, []


def _self_as_data(tmp: Path) -> tuple[Path, list[str]]:
    cfg = tmp / "run.yaml"
    return _config(tmp, {"name": "d", "type": "jsonl", "path": str(cfg)}), []


def _config_is_a_folder(tmp: Path) -> tuple[Path, list[str]]:
    (tmp / "folder.jsonl").mkdir()
    return tmp / "folder.jsonl", []


def _output_under_file(tmp: Path) -> tuple[Path, list[str]]:
    cfg, _ = _rows(ROW)(tmp)
    (tmp / "afile").write_text("x")
    return cfg, ["--output", str(tmp / "afile" / "results")]


def _cache_under_file(tmp: Path) -> tuple[Path, list[str]]:
    cfg, _ = _rows(ROW)(tmp)
    (tmp / "afile").write_text("x")
    return cfg, ["--set", f"runtime.cache={tmp / 'afile' / 'cache.sqlite'}"]


def _model_cfg(tmp: Path, model_dir: Path) -> Path:
    f = tmp / "d.jsonl"
    f.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    return _config(tmp, {"name": "d", "type": "jsonl", "path": str(f)},
                   scorers=[{"type": "nli", "model": {"id": str(model_dir), "max_length": 64}}])


def _model_without_weights(tmp: Path) -> tuple[Path, list[str]]:
    d = tmp / "model"
    d.mkdir()
    (d / "config.json").write_text('{"model_type": "bert"}')
    return _model_cfg(tmp, d), []


def _tiny_model_with(tmp: Path, mutate: Callable[[Path], None]) -> Path:
    from conftest import save_tiny_nli

    d = save_tiny_nli(tmp / "model")
    mutate(d)
    return d


def _to_bin(d: Path) -> None:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(d / "model.safetensors"), d / "pytorch_model.bin")
    (d / "model.safetensors").unlink()


class _Boom:
    """Unpickling this would create a marker file: the weights-only loader must refuse it."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (self.marker, "w"))


def _code_in_bin(tmp: Path) -> tuple[Path, list[str]]:
    def mutate(d: Path) -> None:
        import torch

        _to_bin(d)
        torch.save({"payload": _Boom(str(tmp / "PWNED"))}, d / "pytorch_model.bin")

    return _model_cfg(tmp, _tiny_model_with(tmp, mutate)), []


def _remote_code(tmp: Path) -> tuple[Path, list[str]]:
    def mutate(d: Path) -> None:
        cfg = json.loads((d / "config.json").read_text())
        cfg.update(model_type="evil_bert", architectures=["EvilModel"],
                   auto_map={"AutoConfig": "evil.EvilConfig",
                             "AutoModelForSequenceClassification": "evil.EvilModel"})
        (d / "config.json").write_text(json.dumps(cfg))
        (d / "evil.py").write_text(f"open({str(tmp / 'PWNED')!r}, 'w').close()\n")

    return _model_cfg(tmp, _tiny_model_with(tmp, mutate)), []


def _fifo(tmp: Path) -> tuple[Path, list[str]]:
    os.mkfifo(tmp / "d.jsonl")  # read twice (check, then scoring) it would hang forever
    return _config(tmp, {"name": "d", "type": "jsonl", "path": str(tmp / "d.jsonl")}), []


def _device(tmp: Path) -> tuple[Path, list[str]]:
    return _config(tmp, {"name": "d", "type": "jsonl", "path": "/dev/zero"}), []  # endless, no line end


def _duplicate_key(tmp: Path) -> tuple[Path, list[str]]:
    cfg, _ = _rows(ROW)(tmp)
    cfg.write_text(cfg.read_text(encoding="utf-8") + "name: again\n", encoding="utf-8")
    return cfg, []


def _corrupt_cache(tmp: Path) -> tuple[Path, list[str]]:
    cfg, _ = _rows(ROW)(tmp)
    (tmp / "afile").write_bytes(b"this is not an sqlite database" * 100)
    return cfg, ["--set", f"runtime.cache={tmp / 'afile'}"]


def _long_line(tmp: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[Path, list[str]]:
    import harness.data.readers as readers

    readers.MAX_RECORD_BYTES = 1000  # restored by the fixture below (the limit itself is 256 MiB)
    return _jsonl_bytes(tmp, (json.dumps(ROW) + "\n" + json.dumps({**ROW, "id": "b", "source": "x" * 2000})
                              + "\n").encode())


@pytest.fixture(autouse=True)
def _restore_record_limit() -> object:
    import harness.data.readers as readers

    limit = readers.MAX_RECORD_BYTES
    yield
    readers.MAX_RECORD_BYTES = limit


@dataclass(frozen=True)
class Bad:
    setup: Setup
    expect: tuple[str, ...]
    """Substrings of the one error line (file name, field, row, what is wrong)."""
    code: int = 2


LONG = "The cat sat on the mat. " * 44_000  # ~1 MB on one line

BAD: dict[str, Bad] = {
    "empty source": Bad(_rows({**ROW, "source": ""}), ("d.jsonl", "line 1", "field 'source'", "empty")),
    "whitespace-only rewrite": Bad(_rows({**ROW, "rewrite": " \n\t "}),
                                   ("d.jsonl", "line 1", "field 'rewrite'", "whitespace only")),
    "missing field": Bad(_rows(ROW, {"id": "b", "source": "S."}), ("d.jsonl", "line 2", "missing field 'rewrite'")),
    "number as text": Bad(_rows({**ROW, "source": 5}), ("line 1", "field 'source'", "must be text, got int")),
    "null text": Bad(_rows({**ROW, "rewrite": None}), ("line 1", "field 'rewrite'", "empty (null)")),
    "list as label": Bad(_rows({**ROW, "label": [1]}), ("line 1", "field 'label'", "value [1] is not a label")),
    "label yes": Bad(_rows(ROW, {**ROW, "id": "b", "label": "yes"}),
                     ("d.jsonl", "line 2", "field 'label'", "'yes' is not a label", "allowed:")),
    "label inf": Bad(_rows({**ROW, "label": "inf"}), ("line 1", "'inf' is not a label")),
    "id as list": Bad(_rows({**ROW, "id": [1]}), ("line 1", "field 'id'", "text or a number")),
    "duplicate ids": Bad(_rows(ROW, ROW), ("d.jsonl", "line 2", "duplicate id 'a'")),
    "NUL byte": Bad(_rows({**ROW, "source": "The cat\x00 sat."}), ("line 1", "field 'source'", "NUL")),
    "lone surrogate": Bad(_raw(b'{"id": "a", "source": "x \\ud800 y", "rewrite": "r"}\n'),
                          ("line 1", "field 'source'", "surrogate")),
    "invalid UTF-8": Bad(_raw(json.dumps(ROW).encode() + b'\n{"id": "b", "source": "caf\xe9", "rewrite": "r"}\n'),
                         ("d.jsonl", "line 2", "not valid UTF-8", "0xe9")),
    "truncated last line": Bad(_raw(json.dumps(ROW).encode() + b'\n{"id": "b", "source": "The do'),
                               ("d.jsonl", "line 2", "not valid JSON", "truncated")),
    "not an object": Bad(_raw(b"[1, 2]\n"), ("d.jsonl", "line 1", "expected a JSON object")),
    "empty file": Bad(_raw(b""), ("d.jsonl", "no pairs found")),
    "directory as file": Bad(_dir_as_file, ("folder.jsonl", "is a folder")),
    "csv extra values": Bad(_csv(b"id,source,rewrite\na,S one.,R one.,oops\n"),
                            ("d.csv", "row 1 (line 2)", "more values")),
    "blank lines keep line numbers": Bad(_raw(json.dumps(ROW).encode() + b"\n\n\n" + json.dumps(ROW).encode() + b"\n"),
                                         ("d.jsonl", "line 4", "duplicate id 'a'")),
    "csv quoted newline keeps line numbers": Bad(_csv(b'id,source,rewrite\na,"S\none.",R.\nb,S.,\n'),
                                                 ("d.csv", "row 2 (line 4)", "field 'rewrite'", "empty")),
    "csv invalid UTF-8": Bad(_csv(b"id,source,rewrite\na,caf\xe9.,R.\n"), ("d.csv", "not valid UTF-8")),
    "parquet wrong schema": Bad(_parquet({"id": ["a"], "text": ["S."], "summary": ["R."]}),
                                ("d.parquet", "row 1", "missing field 'source'")),
    "parquet garbage": Bad(_parquet(None, garbage=True), ("d.parquet", "not a readable Parquet file")),
    "unknown --set key": Bad(_set("runtime.dtyp=fp32"), ("--set runtime.dtyp", "unknown key", "did you mean 'dtype'")),
    "--set into a list by name": Bad(_set("scorers.overlap.weight=2"), ("--set scorers.overlap.weight=2", "index")),
    "--set bad YAML value": Bad(_set("runtime.threads=[1"), ("run.yaml", "bad --set value")),
    "YAML alias bomb": Bad(_yaml_bomb, ("run.yaml", "aliases expand", "bomb")),
    "config is a folder": Bad(_config_is_a_folder, ("folder.jsonl", "cannot read the config")),
    "config not found": Bad(lambda tmp: (tmp / "nope.yaml", []), ("nope.yaml", "config file not found")),
    "config names itself as data": Bad(_self_as_data, ("run.yaml", "data.0.path", "config file itself")),
    "output folder under a file": Bad(_output_under_file, ("output_dir", "afile", "is a file")),
    "cache under a file": Bad(_cache_under_file, ("runtime.cache", "afile", "is a file")),
    "model folder without weights": Bad(_model_without_weights, ("model", "has no weights")),
    "pickle with code in .bin": Bad(_code_in_bin, ("cannot load model", "weights-only", "safetensors")),
    "model needing remote code": Bad(_remote_code, ("cannot load model", "trust_remote_code")),
    # hardening round 2 (issue 21)
    "run name is a path": Bad(_set("name=../../../../X"), ("--set name", "not a path", "'../../../../X'")),
    "run name with a slash": Bad(_set("name=a/b"), ("--set name", "not a path")),
    "run name too long": Bad(_set("name=" + "a" * 300), ("--set name", "at most 80", "300 chars")),
    "negative seed": Bad(_set("runtime.seed=-1"), ("--set runtime.seed", "greater than or equal to 0")),
    "seed beyond numpy": Bad(_set("runtime.seed=4294967296"), ("--set runtime.seed", "less than or equal")),
    "duplicate YAML key": Bad(_duplicate_key, ("run.yaml", "key 'name' repeats the key of line")),
    "FIFO as data": Bad(_fifo, ("data.0.path", "d.jsonl", "not a regular file")),
    "device as data": Bad(_device, ("data.0.path", "/dev/zero", "not a regular file")),
    "line over the record limit": Bad(_long_line, ("d.jsonl", "line 2", "longer than")),
    "ray key suggested from its own section": Bad(_set("runtime.ray.actor=2"),
                                                  ("--set runtime.ray.actor", "did you mean 'actors'")),
    "corrupt cache": Bad(_corrupt_cache, ("afile", "output cache cannot be used", "delete it", "--no-cache")),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_input_is_one_line_right_code_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = BAD[case]
    monkeypatch.chdir(tmp_path)  # a default relative cache/results path would land here, not in the repo
    cfg, args = bad.setup(tmp_path)
    capsys.readouterr()
    out = tmp_path / "results"
    if "--output" not in args:
        args = [*args, "--output", str(out)]
    code = main(["run", str(cfg), *args])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("Loading weights", "Writing"))]
    assert code == bad.code, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for want in bad.expect:
        assert want in lines[0], (want, lines[0])
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
    assert not (tmp_path / "PWNED").exists(), "model loading ran code from the model folder"
    leftovers = {p.name for p in tmp_path.iterdir()} - {"run.yaml", "d.jsonl", "d.csv", "d.parquet", "model",
                                                         "folder.jsonl", "afile", "afile-wal", "afile-shm"}
    assert not list(tmp_path.parent.glob("X")), "a run name escaped the output folder"
    assert not leftovers, leftovers


def test_validate_checks_the_output_location_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = _rows(ROW)(tmp_path)
    (tmp_path / "afile").write_text("x")
    assert main(["validate", str(cfg)]) == 0
    assert main(["validate", str(cfg), "--set", f"output_dir={tmp_path / 'afile' / 'results'}"]) == 2
    assert "output_dir" in capsys.readouterr().err


def test_output_location_is_checked_before_any_model_is_loaded(tmp_path: Path, tiny_nli_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.stages as stages

    def no_models(*a: object, **k: object) -> None:
        raise AssertionError("a model was built before the output location was checked")

    monkeypatch.setattr(stages, "build_scorer", no_models)
    cfg = _model_cfg(tmp_path, tiny_nli_dir)
    (tmp_path / "afile").write_text("x")
    assert main(["run", str(cfg), "--output", str(tmp_path / "afile" / "sub")]) == 2


# ------------------------------------------------------------------------------------- inputs that must run


def _run_ok(tmp: Path, cfg: Path, args: list[str] | None = None) -> tuple[RunRecord, list[PairRow]]:
    out = tmp / "results"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0", *(args or [])]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    pairs = [PairRow.model_validate_json(ln) for ln in (folder / "pairs.jsonl").read_text().splitlines()]
    return rec, pairs


def test_bom_and_crlf_jsonl_load_with_text_intact(tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "id": "b", "rewrite": "Line one.\r\nLine two.", "label": "Faithful"}]
    payload = "\ufeff" + "".join(json.dumps(r) + "\r\n" for r in rows)
    cfg, _ = _jsonl_bytes(tmp_path, payload.encode("utf-8"))
    _, pairs = _run_ok(tmp_path, cfg)
    assert [p.pair_id for p in pairs] == ["a", "b"]
    assert pairs[1].rewrite == "Line one.\r\nLine two." and pairs[1].gold_label == 1.0


def test_csv_with_bom_crlf_and_a_quoted_newline(tmp_path: Path) -> None:
    payload = ('\ufeffid,source,rewrite,label\r\na,"The cat sat.\r\nIt was sunny.","The cat, it sat.",true\r\n'
               'b,The dog ran.,"A dog\nran.",0\r\n')
    cfg, _ = _csv(payload.encode("utf-8"))(tmp_path)
    _, pairs = _run_ok(tmp_path, cfg)
    assert [(p.pair_id, p.gold_label) for p in pairs] == [("a", 1.0), ("b", 0.0)]
    assert pairs[0].source == "The cat sat.\r\nIt was sunny." and pairs[1].rewrite == "A dog\nran."


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_one_megabyte_line_loads(tmp_path: Path, kind: str) -> None:
    if kind == "jsonl":
        cfg, _ = _rows({**ROW, "source": LONG})(tmp_path)
    else:
        cfg, _ = _csv(f'id,source,rewrite\na,"{LONG}",The cat sat.\n'.encode())(tmp_path)
    rec, pairs = _run_ok(tmp_path, cfg, ["--set", "checks.quotes=false", "--set", "checks.language=false"])
    assert len(pairs[0].source or "") == len(LONG) and rec.counts["claims"] == 1


def test_label_vocabulary(tmp_path: Path) -> None:
    labels = [1, 0, 1.0, 0.5, "1", "0", " TRUE ", "false", True, False, "faithful", "Unfaithful", "consistent",
              "inconsistent", "supported", "unsupported", None, "", "NaN"]
    rows = [{**ROW, "id": str(i), "label": v} for i, v in enumerate(labels)]
    cfg, _ = _rows(*rows)(tmp_path)
    from harness.config import load_config
    from harness.data import load_pairs

    pairs, _ = load_pairs(load_config(cfg).data[0])
    assert [p.label for p in pairs] == [1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0,
                                        1.0, 0.0, None, None, None]


def test_pickle_only_model_folder_loads_weights_only_and_says_so(tmp_path: Path) -> None:
    d = _tiny_model_with(tmp_path, _to_bin)
    rec, _ = _run_ok(tmp_path, _model_cfg(tmp_path, d))
    (model,) = rec.scorers[0].models
    assert model.weights_format == "pickle-weights-only" and model.weight_sha256


def test_safetensors_model_folder_says_so(tmp_path: Path, tiny_nli_dir: Path) -> None:
    rec, _ = _run_ok(tmp_path, _model_cfg(tmp_path, tiny_nli_dir))
    assert rec.scorers[0].models[0].weights_format == "safetensors"


def test_trust_remote_code_is_never_passed_as_true(tmp_path: Path, tiny_nli_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Every from_pretrained call made while loading gets trust_remote_code=False explicitly."""
    import transformers

    from harness.config import ModelConfig
    from harness.models.loading import load_model

    seen: list[object] = []
    for cls in (transformers.AutoTokenizer, transformers.AutoModelForSequenceClassification):
        orig = cls.from_pretrained

        def spy(*a: object, _orig: Callable = orig, **k: object) -> object:
            seen.append(k.get("trust_remote_code", "missing"))
            return _orig(*a, **k)

        monkeypatch.setattr(cls, "from_pretrained", spy)
    load_model(ModelConfig(id=str(tiny_nli_dir)), "classification")
    assert seen == [False, False]


@pytest.mark.slow
def test_interrupt_exits_130_writes_no_run_and_keeps_the_cache_consistent(
    tmp_path: Path, tiny_nli_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C after two committed batches: exit 130, no run folder, the cache holds exactly the finished
    batches (sqlite integrity ok), and a rerun completes with the same scores as an uninterrupted run."""
    import sqlite3

    from harness.engine.hf_backend import PairClassifierBackend

    rows = [{"id": str(i), "source": f"The cat number {i} sat on the mat. It was sunny in town {i}.",
             "rewrite": f"Cat {i} sat. It was sunny.", "label": i % 2} for i in range(40)]
    f = tmp_path / "d.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cache = tmp_path / "cache.sqlite"
    cfg = _config(tmp_path, {"name": "d", "type": "jsonl", "path": str(f)},
                  scorers=[{"type": "nli", "model": {"id": str(tiny_nli_dir), "max_length": 64}}],
                  extra={"runtime": {"cache": str(cache), "progress": False, "dtype": "fp32", "token_budget": 64}})
    orig = PairClassifierBackend.collate  # every forward pass (PyTorch or ONNX Runtime) collates its batch first
    calls = {"n": 0}

    def interrupted(self: PairClassifierBackend, batch: list) -> dict:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return orig(self, batch)

    monkeypatch.setattr(PairClassifierBackend, "collate", interrupted)
    out = tmp_path / "results"
    assert main(["run", str(cfg), "--output", str(out)]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: interrupted") and "cache" in err[-1]
    assert not _run_folders(out)  # finished blocks may stay in the hidden .work-* folder, for resume
    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n_cached = db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0]
    db.close()
    assert n_cached > 0

    monkeypatch.setattr(PairClassifierBackend, "collate", orig)
    rec, pairs = _run_ok(tmp_path, cfg)
    assert rec.engine["cache_hits"] == n_cached
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    _, fresh_pairs = _run_ok(fresh, cfg, ["--no-cache"])
    assert [p.scores["nli"].score for p in pairs] == [p.scores["nli"].score for p in fresh_pairs]


@pytest.mark.slow
def test_real_ctrl_c_exits_130_and_leaves_no_run_folder(tmp_path: Path, tiny_nli_dir: Path) -> None:
    """SIGINT to a real `python -m harness run` process once it reports progress (no sleeps: we wait for
    its first progress line)."""
    import signal
    import subprocess
    import sys

    rows = [{"id": str(i), "source": f"The cat number {i} sat on the mat. It was sunny in town {i}. " * 3,
             "rewrite": f"Cat {i} sat on a mat. It was sunny in town {i}."} for i in range(800)]
    f = tmp_path / "d.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cache = tmp_path / "cache.sqlite"
    cfg = _config(tmp_path, {"name": "d", "type": "jsonl", "path": str(f)},
                  scorers=[{"type": "nli", "model": {"id": str(tiny_nli_dir), "max_length": 64}}],
                  extra={"checks": {"off_topic": False, "quotes": False, "claim_worthiness": False},
                         "runtime": {"cache": str(cache), "progress": True, "dtype": "fp32", "token_budget": 512}})
    out = tmp_path / "results"
    env = {**os.environ, "HARNESS_PROGRESS_SECONDS": "0.2", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(cfg), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("[progress]"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert code == 130, "".join(seen) + rest
    assert rest.strip().splitlines()[-1].startswith("error: interrupted"), rest
    assert not _run_folders(out)  # finished blocks may stay in the hidden .work-* folder, for resume
    import sqlite3

    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def _run_folders(out: Path) -> list[Path]:
    """Visible run folders under ``out`` (an interrupted run keeps its finished blocks in ``.work-*``)."""
    return [p for p in out.iterdir() if not p.name.startswith(".work-")] if out.exists() else []


def test_gzip_named_jsonl_is_read_by_its_magic_bytes(tmp_path: Path) -> None:
    import gzip

    cfg, _ = _jsonl_bytes(tmp_path, gzip.compress((json.dumps(ROW) + "\n").encode()))
    _, pairs = _run_ok(tmp_path, cfg)
    assert [p.pair_id for p in pairs] == ["a"] and pairs[0].rewrite == ROW["rewrite"]


def test_sigterm_unwinds_like_ctrl_c(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    import harness.stages as stages

    def terminated(*a: object, **k: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # what `timeout` or a scheduler sends mid-run

    monkeypatch.setattr(stages, "score_block", terminated)
    monkeypatch.chdir(tmp_path)
    cfg, _ = _rows(ROW)(tmp_path)
    out = tmp_path / "results"
    code = main(["run", str(cfg), "--output", str(out), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 143, err
    assert "terminated (SIGTERM)" in err and "cache" not in err  # --no-cache: no cache to point at
    assert not [p for p in out.rglob("lock")], "the run lock was left behind"
    assert not [p for p in out.iterdir() if not p.name.startswith(".work-")] if out.exists() else True
    assert signal.getsignal(signal.SIGTERM) is not None


def test_unreadable_run_json_is_named_and_other_runs_still_listed(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = _rows(ROW)(tmp_path)
    out = tmp_path / "results"
    for name in ("one", "two"):
        assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0", "--set", f"name={name}"]) == 0
    broken, _good = sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    (broken / "run.json").write_bytes(b"\xff\xfe\x00garbage")
    capsys.readouterr()
    assert main(["history", "--results", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2  # the good run is still listed; the broken one is named with what is wrong
    assert sum("not UTF-8" in (r.get("error") or "") for r in rows) == 1
    assert main(["report", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "run.json" in err and "not UTF-8" in err


def test_compare_refuses_a_run_without_its_claims(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = _rows(ROW)(tmp_path)
    out = tmp_path / "results"
    for name in ("one", "two"):
        assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0", "--set", f"name={name}"]) == 0
    a, b = sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    for f in b.glob("claims.*"):
        f.unlink()
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == 2
    captured = capsys.readouterr()
    assert "claims.jsonl" in captured.err and "0 of 0" not in captured.out


def test_no_suggestion_from_another_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, _ = _rows(ROW)(tmp_path)
    assert main(["validate", str(cfg), "--set", "runtime.ray.batch_size=2"]) == 2
    err = capsys.readouterr().err
    assert "unknown key" in err and "chunk_size" not in err  # a key of another model is no suggestion here


def test_validate_refuses_the_ray_executor_without_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    cfg, _ = _rows(ROW)(tmp_path)
    assert main(["validate", str(cfg), "--set", "runtime.executor=ray"]) == 2
    assert "harness[ray]" in capsys.readouterr().err


def test_ctrl_c_under_ray_does_not_promise_a_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The Ray executor keeps finished blocks but no output cache: the Ctrl-C line says only what is kept."""
    import harness.pipeline

    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps({"id": "1", "source": "A cat sat.", "rewrite": "A cat sat."}) + "\n")
    cfg = _config(tmp_path, {"name": "d", "type": "jsonl", "path": str(f)},
                  extra={"runtime": {"cache": str(tmp_path / "cache.sqlite"), "progress": False}})

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(harness.pipeline, "run", interrupted)
    for executor, says_cache in (("local", True), ("ray", False)):
        assert main(["run", str(cfg), "--output", str(tmp_path / "o"), "--set", f"runtime.executor={executor}"]) == 130
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert last.startswith("error: interrupted") and "rerun resumes" in last
        assert ("cache" in last) == says_cache, (executor, last)


# ------------------------------------------------------------------------ hardening round 3 (issue 29): inputs


def _config_text(tmp: Path, extra: str) -> tuple[Path, list[str]]:
    """The one-row config with ``extra`` YAML text appended."""
    cfg, _ = _rows(ROW)(tmp)
    cfg.write_text(cfg.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return cfg, []


def _merge_key_bomb(tmp: Path) -> tuple[Path, list[str]]:
    lines = ["b0: &b0 {k0: 1, k1: 2, k2: 3}"]
    lines += [f"b{i}: &b{i} {{<<: [" + ", ".join([f"*b{i - 1}"] * 9) + "]}" for i in range(1, 12)]
    return _config_text(tmp, "\n".join(lines) + "\n")


def _csv_bad_byte_far_down(tmp: Path) -> tuple[Path, list[str]]:
    rows = b"".join(b"r%d,The cat sat.,The cat sat.\n" % i for i in range(3000))
    return _csv(b"id,source,rewrite\n" + rows + b"z,caf\xe9 au lait.,R.\n")(tmp)


def _hf_local(payload: bytes) -> Setup:
    def setup(tmp: Path) -> tuple[Path, list[str]]:
        f = tmp / "d.jsonl"
        f.write_bytes(payload)
        return _config(tmp, {"name": "d", "type": "hf", "path": str(f)}), []

    return setup


DEEP = '{"id": "b", "source": "S.", "rewrite": "R.", "unused": ' + "[" * 100_000 + "]" * 100_000 + "}"

INPUTS: dict[str, Bad] = {
    "YAML merge-key bomb": Bad(_merge_key_bomb, ("run.yaml", "aliases expand", "bomb")),
    "NUL byte in the config": Bad(lambda tmp: _config_text(tmp, "meta: a\x00b\n"),
                                  ("run.yaml", "line 14", "U+0000", "column 8")),
    "alias inside itself": Bad(lambda tmp: _config_text(tmp, "loop: &l [1, *l]\n"),
                               ("run.yaml", "line 14", "refers to the value that contains it")),
    "YAML nested too deeply": Bad(lambda tmp: _config_text(tmp, "meta: " + "[" * 5000 + "]" * 5000 + "\n"),
                                  ("run.yaml", "line 14", "nested too deeply")),
    "deeply nested JSON value": Bad(_raw((json.dumps(ROW) + "\n" + DEEP + "\n").encode()),
                                    ("d.jsonl", "line 2", "nested too deeply")),
    "duplicate JSON key": Bad(_raw(b'{"id": "a", "source": "S.", "rewrite": "R.", "source": "T."}\n'),
                              ("d.jsonl", "line 1", "key 'source' appears twice", "columns 13 and 46")),
    "duplicate JSON key across lines of a JSON list": Bad(
        _hf_local(b'[\n {"id": "a", "source": "S.", "rewrite": "R."},\n {"id": "b",\n  "id": "c"}\n]\n'),
        ("d.jsonl", "key 'id' appears twice", "line 3 column 3 and line 4 column 3")),
    "csv invalid UTF-8 on line 3,002": Bad(_csv_bad_byte_far_down, ("d.csv", "line 3002", "not valid UTF-8",
                                                                    "0xe9", "column 6")),
    "duplicate CSV column": Bad(_csv(b"id,source,rewrite,source\na,S.,R.,T.\n"),
                                ("d.csv", "line 1", "column 'source' appears twice", "columns 2 and 4")),
    "hf local file with a bad line": Bad(_hf_local(json.dumps(ROW).encode() + b'\n{"id": "b", "source": \n'),
                                         ("d.jsonl", "line 2", "not valid JSON")),
    "hf local file with a bad label": Bad(_hf_local(json.dumps(ROW).encode() + b"\n"
                                                    + json.dumps({**ROW, "id": "b", "label": "yes"}).encode()),
                                          ("d.jsonl", "line 2", "'yes' is not a label")),
    "label nested deeply": Bad(_rows({**ROW, "label": [[[[[[[[1]]]]]]]] * 40}),
                               ("d.jsonl", "line 1", "field 'label'", "is not a label")),
}


@pytest.mark.parametrize("case", list(INPUTS), ids=list(INPUTS))
def test_refused_input_is_one_line_naming_file_and_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "datasets", None)  # local files never go through `datasets`
    bad = INPUTS[case]
    monkeypatch.chdir(tmp_path)
    cfg, args = bad.setup(tmp_path)
    capsys.readouterr()
    out = tmp_path / "results"
    code = main(["run", str(cfg), *args, "--output", str(out)])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == bad.code, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) < 600, err
    for want in bad.expect:
        assert want in lines[0], (want, lines[0])
    assert not out.exists() or not any(out.iterdir())


def test_yaml_merge_keys_load(tmp_path: Path) -> None:
    """``<<: *defaults`` is standard YAML (1.1): merged keys arrive, keys written beside the merge override them,
    and only a key written twice in the mapping itself is a duplicate."""
    from harness.config import load_config

    f = tmp_path / "d.jsonl"
    f.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"""name: merged
data: {{name: d, type: jsonl, path: {f}}}
scorers:
  - &base {{type: overlap, name: a, weight: 2.0, supported_threshold: 0.3}}
  - <<: *base
    name: b
runtime:
  <<: {{dtype: fp32, progress: false, seed: 7}}
  seed: 8
  cache: null
""", encoding="utf-8")
    loaded = load_config(cfg)
    a, b = loaded.scorers
    assert (a.name, b.name) == ("a", "b") and b.weight == 2.0 and b.supported_threshold == 0.3
    assert loaded.runtime.dtype == "fp32" and loaded.runtime.seed == 8 and loaded.runtime.progress is False


def _aliases_against_values(tmp_path: Path, capsys: pytest.CaptureFixture[str], n_values: int) -> None:
    cfg, _ = _config_text(tmp_path, "")
    values = ", ".join(f"zz{i}" for i in range(n_values))
    text = cfg.read_text(encoding="utf-8").replace("checks:\n", f"checks:\n  extra_meta_patterns: [{values}]\n")
    cfg.write_text(text, encoding="utf-8")
    assert main(["validate", str(cfg)]) == 0, capsys.readouterr().err
    side = int(n_values ** 0.5) + 2  # side * side aliased values: more than the limit
    bomb, _ = _config_text(tmp_path, f"x0: &x0 [{', '.join(['v'] * side)}]\nx1: &x1 [{', '.join(['*x0'] * side)}]\n")
    assert main(["validate", str(bomb)]) == 2
    assert "aliases expand" in capsys.readouterr().err


def test_a_long_plain_list_is_no_alias_bomb(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard counts what aliases add, not values: more values than the limit written out are fine; the same
    count made by aliases is refused (the limit scaled down here; the real one below)."""
    import harness.config.loading as loading

    monkeypatch.setattr(loading, "MAX_CONFIG_VALUES", 1_000)
    _aliases_against_values(tmp_path, capsys, 1_500)


@pytest.mark.slow
def test_a_list_of_150000_values_is_no_alias_bomb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _aliases_against_values(tmp_path, capsys, 150_000)


def test_hf_type_reads_local_files_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``type: hf`` with a local JSON Lines, JSON list or CSV file is read by the harness's readers: the
    ``datasets`` library (and its Arrow copy under ~/.cache/huggingface) is never involved."""
    import sys

    from harness.config import DataConfig
    from harness.data import load_pairs

    monkeypatch.setitem(sys.modules, "datasets", None)  # importing it would fail
    rows = [ROW, {**ROW, "id": "b", "label": 0}]
    files = {"l.jsonl": "".join(json.dumps(r) + "\n" for r in rows),
             "a.json": json.dumps(rows, indent=2),
             "c.csv": "id,source,rewrite,label\n" + "".join(f"{r['id']},{r['source']},{r['rewrite']},{r['label']}\n"
                                                           for r in rows)}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        pairs, origin = load_pairs(DataConfig(name="h", type="hf", path=str(tmp_path / name)))
        assert [(p.id, p.label) for p in pairs] == [("a", 1.0), ("b", 0.0)], name
        assert origin == str(tmp_path / name)
    head, _ = load_pairs(DataConfig(name="h", type="hf", path=str(tmp_path / "l.jsonl"), split="train[:1]"))
    assert [p.id for p in head] == ["a"]
