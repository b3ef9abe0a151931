"""A sqlite index of the run folders under ``results/`` (for ``harness history``).

The run folders are the truth; the index is a cache of their ``run.json`` headlines. It is brought up
to date on every use: folders whose ``run.json`` changed (mtime or size) are re-read, vanished folders
are dropped, and a missing, corrupt or older-format index file is rebuilt from scratch.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.results.reader import RunError, list_runs, load_record
from harness.results.safe_io import refuse_link
from harness.textsafe import cell, line

__all__ = ["INDEX_FILE", "IndexedRun", "history_main", "history_rows", "query_runs", "sync_index"]

INDEX_FILE = "index.sqlite"
INDEX_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    folder TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    created TEXT NOT NULL,
    name TEXT NOT NULL,
    harness_version TEXT NOT NULL,
    git_commit TEXT,
    git_dirty INTEGER,
    config_hash TEXT NOT NULL,
    models TEXT NOT NULL,
    datasets TEXT NOT NULL,
    metrics TEXT NOT NULL,
    error TEXT
);
"""


@dataclass(frozen=True)
class IndexedRun:
    folder: str
    run_id: str
    created: str
    name: str
    harness_version: str
    git_commit: str | None
    git_dirty: bool | None
    config_hash: str
    models: dict[str, list[str]]
    """scorer name -> ["id@revision", ...]"""
    datasets: list[str]
    metrics: dict[str, Any]
    error: str | None = None


def _connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.executescript(_SCHEMA)
    row = con.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
        con.commit()
    elif row[0] != str(INDEX_VERSION):
        raise sqlite3.DatabaseError(f"index version {row[0]}")
    return con


def _open(results_dir: Path) -> sqlite3.Connection:
    path = results_dir / INDEX_FILE
    for name in (INDEX_FILE, *(INDEX_FILE + s for s in ("-journal", "-wal", "-shm"))):
        refuse_link(results_dir / name, "the results index")  # sqlite would write through it
    try:
        return _connect(path)
    except sqlite3.DatabaseError:  # corrupt or another format: it is only a cache, rebuild it
        path.unlink(missing_ok=True)
        return _connect(path)
    except OSError:
        return _connect(Path(":memory:"))


def _row(folder: Path, st: Any) -> tuple[Any, ...]:
    try:
        rec = load_record(folder)
    except RunError as e:
        return (folder.name, folder.name, st.st_mtime_ns, st.st_size, "", "", "", None, None, "", "{}",
                "[]", "{}", str(e))
    models = {s.name: [f"{m.id}@{m.revision}" if m.revision else m.id for m in s.models] for s in rec.scorers}
    return (folder.name, rec.run_id, st.st_mtime_ns, st.st_size, rec.created, rec.name, rec.harness_version,
            rec.git.commit, None if rec.git.dirty is None else int(rec.git.dirty), rec.config_hash,
            json.dumps(models), json.dumps([d.name for d in rec.datasets]), json.dumps(rec.metrics), None)


def sync_index(results_dir: Path | str) -> sqlite3.Connection:
    """Open (or rebuild) the index and bring it up to date with the run folders."""
    root = Path(results_dir)
    if not root.is_dir():
        raise RunError(f"{root}: no such results folder")
    con = _open(root)
    known = {f: (m, s) for f, m, s in con.execute("SELECT folder, mtime_ns, size FROM runs")}
    present = set()
    for folder in list_runs(root):
        st = (folder / "run.json").stat()
        present.add(folder.name)
        if known.get(folder.name) != (st.st_mtime_ns, st.st_size):
            con.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", _row(folder, st))
    for gone in set(known) - present:
        con.execute("DELETE FROM runs WHERE folder=?", (gone,))
    con.commit()
    return con


def query_runs(results_dir: Path | str, *, model: str | None = None, dataset: str | None = None) -> list[IndexedRun]:
    """Indexed runs, oldest first; ``model`` matches a substring of any model id, ``dataset`` a name."""
    con = sync_index(results_dir)
    try:
        rows = con.execute(
            "SELECT folder, run_id, created, name, harness_version, git_commit, git_dirty, config_hash, "
            "models, datasets, metrics, error FROM runs ORDER BY created, folder"
        ).fetchall()
    finally:
        con.close()
    out = []
    for r in rows:
        run = IndexedRun(folder=r[0], run_id=r[1], created=r[2], name=r[3], harness_version=r[4],
                         git_commit=r[5], git_dirty=None if r[6] is None else bool(r[6]), config_hash=r[7],
                         models=json.loads(r[8]), datasets=json.loads(r[9]), metrics=json.loads(r[10]),
                         error=r[11])
        if model and not any(model.lower() in m.lower() for ms in run.models.values() for m in ms):
            continue
        if dataset and dataset not in run.datasets:
            continue
        out.append(run)
    return out


def history_rows(
    runs: Sequence[IndexedRun], *, metric: str = "roc_auc", dataset: str | None = None,
    scorer: str | None = None, model: str | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per (run, scorer): the metric per dataset (+ macro) and its change since the previous run
    with the same scorer name. Returns the dataset columns and the rows."""
    cols: dict[str, None] = {}
    for r in runs:
        for d in r.datasets:
            if dataset is None or d == dataset:
                cols.setdefault(d, None)
    if dataset is None and any("macro" in r.metrics for r in runs):
        cols.setdefault("macro", None)
    rows: list[dict[str, Any]] = []
    last: dict[tuple[str, str], float] = {}
    for r in runs:
        names = dict.fromkeys(r.models)
        for per_sc in r.metrics.values():
            if isinstance(per_sc, dict):
                names.update(dict.fromkeys(per_sc))
        for sc in names or ["?"]:
            models = r.models.get(sc, [])
            if scorer and sc != scorer:
                continue
            if model and models and not any(model.lower() in m.lower() for m in models):
                continue
            values: dict[str, float | None] = {}
            deltas: dict[str, float | None] = {}
            for d in cols:
                v = r.metrics.get(d, {}).get(sc, {}).get(metric)
                values[d] = v
                prev = last.get((sc, d))
                deltas[d] = None if v is None or prev is None else v - prev
                if v is not None:
                    last[(sc, d)] = v
            combined = sc == "combined" and not models
            rows.append({"run": r.folder, "run_id": r.run_id, "created": r.created, "name": r.name,
                         "harness_version": r.harness_version, "git_commit": r.git_commit,
                         "git_dirty": r.git_dirty, "config_hash": r.config_hash, "scorer": sc,
                         "models": ["(all scorers)"] if combined else models, "metric": metric,
                         "values": values, "deltas": deltas, "error": r.error})
    return list(cols), rows


def _cell(v: float | None, d: float | None) -> str:
    if v is None:
        return "—"
    if d is None or abs(d) < 5e-4:
        return f"{v:.3f}"
    color = "green" if d > 0 else "red"
    return f"{v:.3f} [{color}]{d:+.3f}[/{color}]"  # numbers only: markup is safe here


def history_main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="harness history",
                                 description="Every run under a results folder, oldest first, with a metric.")
    ap.add_argument("--results", default="results", help="folder holding run folders (default: results)")
    ap.add_argument("--model", help="only runs using a model whose id contains this text")
    ap.add_argument("--dataset", help="only runs on this dataset (and only its column)")
    ap.add_argument("--scorer", help="only this scorer's rows")
    ap.add_argument("--metric", default="roc_auc",
                    help="metric to show (roc_auc, balanced_accuracy@0.5, balanced_accuracy@tuned, twin_wins, "
                         "pearson, spearman, kendall; default roc_auc)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args(list(argv) if argv is not None else None)
    console = Console()
    try:
        runs = query_runs(args.results, model=args.model, dataset=args.dataset)
        cols, rows = history_rows(runs, metric=args.metric, dataset=args.dataset, scorer=args.scorer,
                                  model=args.model)
    except RunError as e:  # names, paths and errors are data: harness.textsafe shows them as text
        Console(stderr=True).print(line("[red]error:[/red] {}", e, one_line=True), highlight=False, soft_wrap=True)
        return 2
    except Exception as e:
        Console(stderr=True).print(line("[red]history failed:[/red] {}: {}", type(e).__name__, e, one_line=True),
                                   highlight=False, soft_wrap=True)
        return 1
    if args.json:
        console.print_json(json.dumps(rows))
        return 0
    if not rows:
        console.print(line("no runs under {}" + (" match the filters" if args.model or args.dataset else ""),
                           args.results))
        return 0
    t = Table(title=cell(f"{len(runs)} run(s) under {args.results}: {args.metric} (change since the previous run "
                         "of the same scorer)"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("date", "run", "version", "commit", "config", "scorer", "models", *cols):
        t.add_column(cell(col), overflow="fold", no_wrap=col in {*cols, "date", "version", "commit", "config"})
    for r in rows:
        commit = (r["git_commit"] or "—")[:8] + ("*" if r["git_dirty"] else "")
        date = r["created"][:16].replace("T", " ") if r["created"] else "?"
        cells: list[str | Text] = [_cell(r["values"][c], r["deltas"][c]) for c in cols]
        if r["error"]:
            cells = [cell(r["error"], "red")] + [""] * (len(cols) - 1) if cols else []
        t.add_row(*(cell(v) for v in (date, r["run"], r["harness_version"] or "?", commit,
                                      (r["config_hash"] or "")[:8], r["scorer"], ", ".join(r["models"]) or "—")),
                  *cells)
    console.print(t)
    return 0
