"""``harness history``: every run as rows, an index that rebuilds itself."""

from __future__ import annotations

import json
import shutil

from _tiny_runs import write_run

from harness.results.index import INDEX_FILE, history_main, history_rows, query_runs


def _setup(tmp_path):
    write_run(tmp_path, "r1-weak", "weak", created="2025-01-01T10:00:00Z", version="0.1.0", commit="aaaa1111")
    write_run(tmp_path, "r2-good", "good", created="2025-02-01T10:00:00Z", version="0.2.0", commit="bbbb2222")
    return tmp_path


def test_history_lists_runs_with_metadata_and_metric_moves(tmp_path, capsys, monkeypatch) -> None:
    _setup(tmp_path)
    monkeypatch.setenv("COLUMNS", "220")
    assert history_main(["--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for text in ("r1-weak", "r2-good", "0.1.0", "0.2.0", "aaaa1111", "bbbb2222", "org/good-nli@r1", "0.938"):
        assert text in out
    assert "+0.344" in out  # frank ROC-AUC moved 0.594 -> 0.938 between versions
    cols, rows = history_rows(query_runs(tmp_path))
    assert cols == ["frank", "bump", "macro"]
    assert [r["run"] for r in rows] == ["r1-weak", "r2-good"]
    assert rows[1]["deltas"]["bump"] == 0.5


def test_history_filters_by_model_and_dataset(tmp_path, capsys) -> None:
    _setup(tmp_path)
    assert [r.folder for r in query_runs(tmp_path, model="weak")] == ["r1-weak"]
    assert query_runs(tmp_path, dataset="nope") == []
    assert history_main(["--results", str(tmp_path), "--dataset", "bump", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["run"] for r in rows} == {"r1-weak", "r2-good"} and set(rows[0]["values"]) == {"bump"}


def test_index_survives_deletion_corruption_and_tracks_folders(tmp_path) -> None:
    _setup(tmp_path)
    assert len(query_runs(tmp_path)) == 2
    assert (tmp_path / INDEX_FILE).is_file()
    (tmp_path / INDEX_FILE).unlink()
    assert len(query_runs(tmp_path)) == 2  # rebuilt from the folders
    (tmp_path / INDEX_FILE).write_bytes(b"this is not sqlite at all" * 100)
    assert len(query_runs(tmp_path)) == 2  # corrupt: rebuilt
    write_run(tmp_path, "r3-weak", "weak", created="2025-03-01T10:00:00Z")
    shutil.rmtree(tmp_path / "r1-weak")
    assert [r.folder for r in query_runs(tmp_path)] == ["r2-good", "r3-weak"]


def test_history_on_missing_folder_is_exit_2(tmp_path, capsys) -> None:
    assert history_main(["--results", str(tmp_path / "nope")]) == 2
    assert "no such results folder" in capsys.readouterr().err
