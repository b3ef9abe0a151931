"""Writes (issue 29): no write follows a symbolic link, nothing is written outside ``--output`` (and the cache
path), ``--output`` is a literal path, ``runtime.cache`` must be a regular file, and run.json names the weights
file that was loaded. Tiny runs: the ``overlap`` scorer, no model, one pair."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.__main__ import main

ROW = {"id": "a", "source": "The cat sat on the mat. It was sunny.", "rewrite": "The cat sat.", "label": 1}
PRECIOUS = "another user's file\n"


def _config(tmp: Path, runtime: dict | None = None) -> Path:
    data = tmp / "d.jsonl"
    data.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    cfg = {"name": "safe", "data": {"name": "d", "type": "jsonl", "path": str(data)},
           "scorers": [{"type": "overlap"}], "checks": {"off_topic": False},
           "runtime": {"progress": False, "dtype": "fp32", **(runtime if runtime is not None else {"cache": None})}}
    p = tmp / "run.yaml"
    p.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return p


def _victim(tmp: Path, name: str = "victim.txt") -> Path:
    v = tmp / name
    v.write_text(PRECIOUS, encoding="utf-8")
    return v


def _work_folder(cfg_path: Path, out: Path) -> Path:
    from harness.config import load_config
    from harness.executors import _work_key

    cfg = load_config(cfg_path)
    return out / f".work-{cfg.name}-{_work_key(cfg)}"


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _run(cfg: Path, out: Path, *extra: str) -> int:
    return main(["run", str(cfg), "--output", str(out), "--show-claims", "0", *extra])


def _run_folders(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.is_dir() and (p / "run.json").is_file()]


# ------------------------------------------------------------------------------------------ no write via a link


def test_a_link_at_the_work_folders_lock_is_refused_and_its_target_kept(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg, out, victim = _config(tmp_path), tmp_path / "results", _victim(tmp_path)
    work = _work_folder(cfg, out)
    work.mkdir(parents=True)
    (work / "lock").symlink_to(victim)
    capsys.readouterr()
    assert _run(cfg, out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert str(work / "lock") in line and "symbolic link" in line
    assert victim.read_text(encoding="utf-8") == PRECIOUS
    assert not _run_folders(out)


def test_a_link_at_the_work_folder_itself_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, out = _config(tmp_path), tmp_path / "results"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    work = _work_folder(cfg, out)
    out.mkdir()
    work.symlink_to(elsewhere)
    capsys.readouterr()
    assert _run(cfg, out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert work.name in line and "symbolic link" in line
    assert not list(elsewhere.iterdir())


@pytest.mark.parametrize("name", [".000000.claims.jsonl.tmp", ".000000.pairs.jsonl.tmp", ".000000.json.tmp",
                                  "000000.claims.parquet.tmp", "000000.pairs.parquet.tmp"])
def test_links_at_old_block_temp_names_are_never_written_through(tmp_path: Path, name: str) -> None:
    """The temp names used to be fixed (computable from the config); now they are mkstemp's."""
    cfg, out, victim = _config(tmp_path), tmp_path / "results", _victim(tmp_path)
    work = _work_folder(cfg, out)
    work.mkdir(parents=True)
    (work / name).symlink_to(victim)
    _run(cfg, out)
    assert victim.read_text(encoding="utf-8") == PRECIOUS


@pytest.mark.parametrize("name", ["000000.json", "000000.claims.jsonl", "000000.pairs.parquet"])
def test_a_link_at_a_block_file_is_refused(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    cfg, out, victim = _config(tmp_path), tmp_path / "results", _victim(tmp_path)
    work = _work_folder(cfg, out)
    work.mkdir(parents=True)
    (work / name).symlink_to(victim)
    capsys.readouterr()
    assert _run(cfg, out) == 2
    assert name in _one_error_line(capsys.readouterr().err)
    assert victim.read_text(encoding="utf-8") == PRECIOUS


def test_a_link_at_the_run_folders_name_is_refused(tmp_path: Path) -> None:
    from harness.results.safe_io import UnsafeWriteError
    from harness.results.writer import write_run_folder

    cfg, out = _config(tmp_path), tmp_path / "results"
    assert _run(cfg, out) == 0
    (done,) = _run_folders(out)
    from harness.results.schema import RunRecord

    record = RunRecord.model_validate_json((done / "run.json").read_text(encoding="utf-8"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    record = record.model_copy(update={"run_id": "planted"})
    (out / "planted").symlink_to(elsewhere)
    with pytest.raises(UnsafeWriteError, match="planted"):
        write_run_folder(out, record, lambda tmp: None)
    assert not list(elsewhere.iterdir())
    assert [p.name for p in out.iterdir() if p.name.startswith(".planted")] == []


def _finished_run(tmp: Path) -> Path:
    from _tiny_runs import write_run

    return write_run(tmp / "results", "r1", "good", n_boot=20)


def test_report_never_writes_through_a_link_at_its_temp_name(tmp_path: Path) -> None:
    run, victim = _finished_run(tmp_path), _victim(tmp_path)
    (run / "report.html.tmp").symlink_to(victim)
    assert main(["report", str(run)]) == 0
    assert victim.read_text(encoding="utf-8") == PRECIOUS
    assert "<html" in (run / "report.html").read_text(encoding="utf-8").lower()


def test_report_refuses_a_link_at_report_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, victim = _finished_run(tmp_path), _victim(tmp_path)
    (run / "report.html").symlink_to(victim)
    capsys.readouterr()
    assert main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert "report.html" in err and "symbolic link" in err
    assert victim.read_text(encoding="utf-8") == PRECIOUS
    assert (run / "report.html").is_symlink()


def test_history_refuses_a_link_at_the_results_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = _finished_run(tmp_path)
    victim = tmp_path / "empty.db"
    victim.write_bytes(b"")
    (run.parent / "index.sqlite").symlink_to(victim)
    capsys.readouterr()
    assert main(["history", "--results", str(run.parent)]) == 2
    err = capsys.readouterr().err
    assert "index.sqlite" in err and "symbolic link" in err
    assert victim.read_bytes() == b""


def test_a_link_at_the_cache_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "empty.db"
    victim.write_bytes(b"")
    (tmp_path / "cache.sqlite").symlink_to(victim)
    cfg = _config(tmp_path, {"cache": str(tmp_path / "cache.sqlite")})
    capsys.readouterr()
    assert main(["validate", str(cfg)]) == 2
    assert "cache.sqlite" in _one_error_line(capsys.readouterr().err)
    assert _run(cfg, tmp_path / "results") == 2
    assert victim.read_bytes() == b""


def test_a_link_at_the_kept_onnx_exports_is_refused(tmp_path: Path) -> None:
    from harness.engine.onnx_backend import OnnxPairClassifierBackend
    from harness.results.safe_io import UnsafeWriteError

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "onnx").symlink_to(elsewhere)
    with pytest.raises(UnsafeWriteError, match="onnx"):  # refused before anything is exported
        OnnxPairClassifierBackend._kept_export(None, tmp_path / "onnx", "weights-key")  # type: ignore[arg-type]
    assert not list(elsewhere.iterdir())


def test_rays_log_in_the_temp_folder_is_never_written_through_a_link(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from harness.executors.ray import NOISE_LOG, _ray_noise_to_log
    from harness.results.safe_io import UnsafeWriteError

    monkeypatch.delenv("HARNESS_DEBUG", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    victim = _victim(tmp_path)
    (tmp_path / NOISE_LOG.format(uid=os.getuid())).symlink_to(victim)
    with pytest.raises(UnsafeWriteError, match="symbolic link"), _ray_noise_to_log():
        pass
    assert victim.read_text(encoding="utf-8") == PRECIOUS


def test_safe_io_primitives(tmp_path: Path) -> None:
    from harness.results.safe_io import UnsafeWriteError, atomic_write_text, ensure_dir, open_lock, open_new

    victim = _victim(tmp_path)
    (tmp_path / "link").symlink_to(victim)
    with pytest.raises(UnsafeWriteError, match="link"):
        open_new(tmp_path / "link")
    with pytest.raises(UnsafeWriteError, match="link"):
        open_lock(tmp_path / "link")
    with pytest.raises(UnsafeWriteError, match="link"):
        atomic_write_text(tmp_path / "link", "x")
    with pytest.raises(UnsafeWriteError, match="link"):
        ensure_dir(tmp_path / "link")
    assert victim.read_text(encoding="utf-8") == PRECIOUS
    with pytest.raises(FileExistsError):
        open_new(victim)
    atomic_write_text(tmp_path / "sub" / "new.txt", "hello")
    assert (tmp_path / "sub" / "new.txt").read_text(encoding="utf-8") == "hello"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["new.txt"]
    lock = tmp_path / "lock"
    lock.write_text("kept")
    open_lock(lock).close()
    assert lock.read_text() == "kept"  # opening the lock never truncates


# ------------------------------------------------------------------------------- nothing outside --output


def test_default_cache_follows_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path, {})  # no runtime.cache: the default
    out = tmp_path / "elsewhere" / "out"
    assert _run(cfg, out) == 0
    assert (out / "cache.sqlite").is_file()
    assert not (tmp_path / "results").exists()
    (folder,) = _run_folders(out)
    rec = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert rec["config"]["runtime"]["cache"] == str(out / "cache.sqlite")


def test_default_cache_follows_output_dir_and_an_explicit_cache_stays(tmp_path: Path) -> None:
    from harness.config import load_config

    cfg = _config(tmp_path, {})
    assert load_config(cfg).runtime.cache == str(Path("results") / "cache.sqlite")
    assert load_config(cfg, ["output_dir=x/y"]).runtime.cache == str(Path("x/y") / "cache.sqlite")
    cfg = _config(tmp_path, {"cache": "mine.sqlite"})
    assert load_config(cfg, ["output_dir=x/y"]).runtime.cache == "mine.sqlite"
    cfg = _config(tmp_path, {"cache": None})
    assert load_config(cfg, ["output_dir=x/y"]).runtime.cache is None


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def test_git_info_takes_no_lock_in_the_repository(tmp_path: Path) -> None:
    """``git status`` refreshes and rewrites the index (taking .git/index.lock) when a file's stat changed;
    the commit must be read without that."""
    from harness.results.writer import git_info

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "f.txt").write_text("a\n")
    _git(repo, "add", "f.txt")
    _git(repo, "commit", "-qm", "x")
    index = repo / ".git" / "index"
    before = index.stat()
    later = before.st_mtime_ns + 5_000_000_000
    os.utime(repo / "f.txt", ns=(later, later))  # same content, new mtime: a plain `git status` rewrites the index
    info = git_info(repo)
    after = index.stat()
    assert info.commit == _git(repo, "rev-parse", "HEAD").strip() and info.dirty is False
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not (repo / ".git" / "index.lock").exists()


# ------------------------------------------------------------------------------------ --output is a path


@pytest.mark.parametrize("name", ["run #3", "2024", "null", "[a, b]", "x: y", "'q'", "&a"])
def test_output_is_a_literal_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = _config(tmp_path)
    assert main(["run", str(cfg), "--output", name, "--show-claims", "0"]) == 0
    assert len(_run_folders(tmp_path / name)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"run.yaml", "d.jsonl", name})


# ------------------------------------------------------------------------- runtime.cache is a regular file


def _special_cache(kind: str, tmp: Path) -> str:
    if kind == "device":
        return "/dev/null"
    if kind == "folder":
        (tmp / "cachedir").mkdir()
        return str(tmp / "cachedir")
    os.mkfifo(tmp / "fifo")
    return str(tmp / "fifo")


@pytest.mark.parametrize("kind", ["device", "folder", "fifo"])
def test_cache_must_be_a_regular_file(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = _special_cache(kind, tmp_path)
    cfg = _config(tmp_path, {"cache": path})
    capsys.readouterr()
    assert main(["validate", str(cfg)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "runtime.cache" in line and path in line and "delete" not in line
    out = tmp_path / "results"
    assert _run(cfg, out) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "runtime.cache" in line and "delete" not in line
    assert not out.exists()


# ------------------------------------------------------------------------- the weights file that was loaded


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_json_names_the_weights_file_transformers_loaded(tmp_path: Path) -> None:
    """A .bin model folder with an unrelated *.safetensors: transformers loads the .bin, and says so."""
    import torch
    from conftest import save_tiny_nli
    from safetensors.torch import load_file, save_file

    from harness.config import ModelConfig
    from harness.models.loading import load_model

    d = save_tiny_nli(tmp_path / "model")
    torch.save(load_file(d / "model.safetensors"), d / "pytorch_model.bin")
    (d / "model.safetensors").unlink()
    save_file({"unrelated": torch.zeros(2)}, d / "adapter_extra.safetensors")
    info = load_model(ModelConfig(id=str(d)), "classification").info
    assert info.weights_format == "pickle-weights-only"
    assert info.weights_file == "pytorch_model.bin"
    assert info.weight_sha256 == _sha(d / "pytorch_model.bin")


def test_weights_file_follows_transformers_precedence(tmp_path: Path) -> None:
    from harness.models.loading import loaded_weights

    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text("{}")
    assert loaded_weights(d) is None
    (d / "other.safetensors").write_bytes(b"x")
    assert loaded_weights(d) is None  # transformers would not load it either
    (d / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": {"a": "pytorch_model-1.bin"}}))
    assert loaded_weights(d) == ("pickle-weights-only", "pytorch_model.bin.index.json", ["pytorch_model-1.bin"])
    (d / "pytorch_model.bin").write_bytes(b"x")
    assert loaded_weights(d) == ("pickle-weights-only", "pytorch_model.bin", ["pytorch_model.bin"])
    shards = {"a": "model-2.safetensors", "b": "model-1.safetensors", "c": "model-2.safetensors"}
    (d / "model.safetensors.index.json").write_text(json.dumps({"weight_map": shards}))
    assert loaded_weights(d) == ("safetensors", "model.safetensors.index.json",
                                 ["model-1.safetensors", "model-2.safetensors"])
    (d / "model.safetensors").write_bytes(b"x")
    assert loaded_weights(d) == ("safetensors", "model.safetensors", ["model.safetensors"])
    (d / "config.json").write_text(json.dumps({"transformers_weights": "other.safetensors"}))
    assert loaded_weights(d) == ("safetensors", "other.safetensors", ["other.safetensors"])


def test_files_made_through_temp_names_get_the_umask_mode_not_a_private_one(tmp_path: Path) -> None:
    """mkstemp/mkdtemp create 0600/0700; a report or run folder in a shared results folder must stay readable by
    whoever the user's umask lets read it, as a plain create would."""
    import os
    import stat

    from harness.results.safe_io import atomic_write_text, shared_mode

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<html></html>")
        assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
        folder = tmp_path / "made"
        folder.mkdir(mode=0o700)
        shared_mode(folder, folder=True)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.html", "x")
        assert stat.S_IMODE((tmp_path / "private.html").stat().st_mode) == 0o600
    finally:
        os.umask(old)
