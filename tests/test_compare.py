"""``harness compare``: paired significance, flipped claims, refusal on different inputs."""

from __future__ import annotations

import json

import pytest
from _tiny_runs import write_run

from harness.evaluation.compare import DataMismatchError, compare_runs, main
from harness.results.reader import load_run


@pytest.fixture()
def two_runs(tmp_path):
    write_run(tmp_path, "run-weak", "weak")
    write_run(tmp_path, "run-good", "good", created="2025-02-01T00:00:00Z")
    return tmp_path


def test_compare_finds_the_better_run_and_the_known_flip(two_runs) -> None:
    a, b = load_run(two_runs / "run-weak"), load_run(two_runs / "run-good")
    cmp = compare_runs(a, b, n_boot=500, seed=0)
    rows = {(r.dataset, r.metric): r for r in cmp.rows}
    auc = rows[("bump", "roc_auc")]
    assert (auc.a, auc.b) == (pytest.approx(0.5), pytest.approx(1.0))
    assert auc.delta == pytest.approx(0.5) and auc.p is not None and 0 < auc.p <= 1
    twin = rows[("bump", "twin_wins")]
    assert twin.delta == pytest.approx(0.625) and twin.p is not None and twin.p < 0.05
    flips = {(f.pair_id, f.label_a, f.label_b) for f in cmp.flips}
    assert ("f1", "unsupported", "supported") in flips  # 0.40 -> 0.80
    assert ("b0b", "supported", "contradicted") in flips  # 0.70 -> 0.20
    assert all(f.claim_index == 1 for f in cmp.flips)  # claim 0 is identical in both runs
    assert cmp.n_claims_compared == 32


def test_compare_against_itself_is_not_significant(two_runs) -> None:
    a = load_run(two_runs / "run-good")
    cmp = compare_runs(a, a, n_boot=200)
    assert not cmp.flips
    assert all(r.delta == 0 and r.p == 1.0 for r in cmp.rows if r.delta is not None)


def test_compare_cli_prints_table_flips_and_json(two_runs, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "cmp.json"
    rc = main(["run-weak", "run-good", "--results", str(two_runs), "--n-boot", "200", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "B better" in text and "The day was sunny." in text and "claims changed label" in text
    data = json.loads(out.read_text())
    assert data["run_a"] == "run-weak" and any(f["pair_id"] == "f1" for f in data["flips"])


def test_compare_refuses_runs_on_different_inputs(two_runs, capsys) -> None:
    write_run(two_runs, "run-other", "good", source="A different source document. It was a sunny day, really.")
    with pytest.raises(DataMismatchError, match="content hash"):
        compare_runs(load_run(two_runs / "run-good"), load_run(two_runs / "run-other"))
    rc = main(["run-good", "run-other", "--results", str(two_runs)])
    err = capsys.readouterr().err.strip()  # errors go to stderr
    assert rc == 2
    assert len(err.splitlines()) == 1 and "cannot compare" in err and "'frank'" in err


def test_compare_bad_run_id_is_exit_2(two_runs, capsys) -> None:
    assert main(["run-good", "run-gone", "--results", str(two_runs)]) == 2
    assert "run-gone" in capsys.readouterr().err


def test_leaderboard_ranks_scorers_by_dataset_with_cis(two_runs, tmp_path, capsys, monkeypatch) -> None:
    from harness.evaluation.compare import leaderboard

    a, b = load_run(two_runs / "run-weak"), load_run(two_runs / "run-good")
    board = leaderboard([a, b], n_boot=300)
    assert board.datasets == ["frank", "bump"]
    assert [name for name, _ in board.rows] == ["run-good:nli", "run-weak:nli"]
    cmp = {(r.dataset, r.metric): r for r in compare_runs(a, b, n_boot=50).rows}
    good = dict(board.rows)["run-good:nli"]
    weak = dict(board.rows)["run-weak:nli"]
    assert good["bump"].value == pytest.approx(cmp[("bump", "roc_auc")].b)
    assert weak["frank"].value == pytest.approx(cmp[("frank", "roc_auc")].a)
    assert good["frank"].n == 8 and good["frank"].ci is not None
    lo, hi = good["frank"].ci
    assert lo <= good["frank"].value <= hi
    twins = leaderboard([b], metric="twin_wins", n_boot=100)
    assert dict(twins.rows)["nli"]["bump"].n == 4 and dict(twins.rows)["nli"]["frank"].value is None

    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "board.json"
    rc = main(["run-good", "--results", str(two_runs), "--n-boot", "100", "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "AUC by dataset" in text and "frank" in text and "bump" in text
    data = json.loads(out.read_text())
    assert data["metric"] == "roc_auc" and data["rows"][0]["scorer"] == "nli"
    assert data["rows"][0]["cells"]["frank"]["value"] == pytest.approx(good["frank"].value)
