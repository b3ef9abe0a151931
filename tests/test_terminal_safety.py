"""Text from data is only ever text on the terminal (issue 29).

Dataset names, pair ids, claim text, model ids and paths may hold rich markup (``[/url]``, ``[b]``,
``[link=…]``, ``[citation needed]``), emoji codes (``:smile:``) or terminal escape sequences (clear screen,
colours, an OSC window title, a bare CR). Every command shows them as they are — markup literally, control
characters as their ``\\x1b``-style escape — and a run that has written its folder exits 0 even when its
summary cannot be printed. ``report`` and ``compare`` treat names as plain strings (no matplotlib mathtext)
and answer every usage or output-location error with exit 2 and one line, leaving nothing half-written.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from _tiny_runs import PAIRS, SCORES, SOURCE, build_rows, write_run_folder
from rich.console import Console

from harness.__main__ import main
from harness.evaluation import evaluate_run
from harness.results.schema import DatasetInfo, GitInfo, ModelInfo, RunRecord, ScorerInfo
from harness.textsafe import cell, line, visible
from harness.types import content_hash

NEWS = "news[/b]"
USD = "usd_$5_to_$10"
MARKUP = "[citation needed] [/url] [link=https://evil.example]click[/link] :smile:"
SEQS = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b[2J\rX\x9b2J\u202eZ"
RAW = ("\x1b[2J", "\x1b]0;", "\x1b]8;", "\x07", "\r", "\x9b", "\u202e", "\U0001f604")
"""What must never reach the terminal: the payloads' escape sequences, a hyperlink (OSC 8), a bell, a CR, a
one-byte CSI, a bidi override, and the emoji ``:smile:`` would become."""
SCORER = "nli[/b]"
MODEL = "org/\x1b]0;title\x07model"


def _assert_inert(text: str, *, styled: bool = False) -> None:
    """``styled``: rich itself draws on a terminal (colours; a live bar returns the cursor with a CR)."""
    for raw in RAW:
        if not (styled and raw == "\r"):
            assert raw not in text, f"{raw!r} reached the terminal"
    if not styled:
        assert "\x1b" not in text


# ------------------------------------------------------------------------------------------ the helper


@pytest.mark.parametrize("raw, shown", [("\x1b", "\\x1b"), ("\x07", "\\x07"), ("\r", "\\r"), ("\x00", "\\x00"),
                                         ("\x7f", "\\x7f"), ("\x9b", "\\x9b"), ("\u202e", "\\u202e"),
                                         ("\u2066", "\\u2066"), ("\ud800", "\\ud800")])
def test_control_characters_are_written_as_their_escape(raw: str, shown: str) -> None:
    assert visible(f"a{raw}b") == f"a{shown}b"
    assert visible(f"a{raw}b", one_line=True) == f"a{shown}b"


def test_newlines_and_tabs_are_kept_unless_one_line() -> None:
    assert visible("a\nb\tc") == "a\nb\tc"
    assert visible("a\nb\tc", one_line=True) == "a\\nb\\tc"
    assert visible("plain äöü 漢字 — text [x]") == "plain äöü 漢字 — text [x]"


def _render(*renderables: object, terminal: bool) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=terminal, color_system="truecolor" if terminal else None, width=300)
    for r in renderables:
        console.print(r)
    return buf.getvalue()


@pytest.mark.parametrize("terminal", [False, True])
def test_cell_line_and_markup_show_data_as_it_is(terminal: bool) -> None:
    data = f"{MARKUP} {SEQS}"
    out = _render(cell(data), line("[bold red]WARNING[/] {} and {}", data, "x"), terminal=terminal)
    _assert_inert(out, styled=terminal)
    plain = _render(cell(data), line("[bold red]WARNING[/] {}", data), terminal=False)
    assert plain.count(MARKUP) == 2 and plain.count("\\x1b[31mred") == 2 and "WARNING [citation" in plain


# ---------------------------------------------------------------------------------------- a real run


def _hostile_config(tmp: Path) -> Path:
    rows = [
        {"id": f"a{SEQS}", "source": "The cat sat on the mat. It was sunny.", "label": 1,
         "rewrite": "The cat [citation needed] sat. The mat [/url] was here. See [link=https://evil.example]it[/link]. "
                    f"It was {SEQS} sunny :smile:."},
        {"id": "b[/b]", "source": "The cat sat on the mat. It was sunny.", "rewrite": "It rained [b]hard.", "label": 0},
    ]
    data = tmp / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = {"name": "hostile", "data": [{"name": NEWS, "type": "jsonl", "path": str(data)}],
           "scorers": [{"type": "overlap"}], "checks": {"off_topic": False},
           "runtime": {"cache": None, "progress": False, "dtype": "fp32"}}
    path = tmp / "run.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


@pytest.mark.parametrize("terminal", [False, True])
def test_run_with_markup_and_escape_sequences_in_data_prints_them_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, terminal: bool) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    if terminal:  # rich as on a terminal: colours and hyperlinks would be live
        monkeypatch.setenv("FORCE_COLOR", "1")
    out = tmp_path / "results"
    assert main(["run", str(_hostile_config(tmp_path)), "--output", str(out)]) == 0
    printed = capsys.readouterr()
    _assert_inert(printed.out + printed.err, styled=terminal)
    if not terminal:
        for shown in ("[citation needed]", "[/url]", "[link=https://evil.example]it[/link]", NEWS, "b[/b]",
                      "[b]hard", ":smile:", "\\x1b[31mred"):
            assert shown in printed.out, shown
    # the run folder holds the data unchanged, and history and compare read it
    assert main(["history", "--results", str(out)]) == 0
    assert main(["compare", next(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")).name,
                 "--results", str(out), "--n-boot", "20"]) == 0
    printed = capsys.readouterr()
    _assert_inert(printed.out + printed.err, styled=terminal)
    assert printed.out.count(NEWS) >= 2 or terminal


@pytest.mark.parametrize("error", [RuntimeError, BrokenPipeError, KeyboardInterrupt])
def test_a_run_whose_summary_cannot_be_printed_exits_0_with_a_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        error: type[BaseException]) -> None:
    import harness.summary

    def broken(*a: object, **k: object) -> None:
        raise error("the terminal went away \x1b[2J")

    monkeypatch.setattr(harness.summary, "print_summary", broken)
    out = tmp_path / "results"
    assert main(["run", str(_hostile_config(tmp_path)), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    (warning,) = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert "summary" in warning and "the terminal went away \\x1b[2J" in warning
    _assert_inert(err)
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert str(folder) in warning and (folder / "run.json").is_file()


@pytest.mark.slow
def test_summary_into_a_closed_pipe_still_exits_0(tmp_path: Path) -> None:
    """``harness run cfg | head -c 1``: the reader goes away; the run is written and says so, exit 0 (not 1, and
    not Python's 120 for a failed flush of stdout at exit)."""
    import subprocess
    import sys

    out = tmp_path / "results"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", str(_hostile_config(tmp_path)), "--output",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads the summary
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert "BrokenPipeError" in err and "Traceback" not in err
    assert [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_summary_warnings_and_folder_are_shown_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.summary import print_summary

    rec = SimpleNamespace(warnings=[f"pair {SEQS} {MARKUP}"], scorers=[], counts={}, reasons={"o[/b]": {"x": 1}},
                          metrics={}, engine={}, device="cpu", dtype="fp32", timings={})
    result = SimpleNamespace(record=rec, claims=[], pairs=[], folder=Path(f"/tmp/x[/b]{SEQS}"))
    print_summary(result, Console(file=io.StringIO()))  # a console of its own: nothing raised
    buf = io.StringIO()
    print_summary(result, Console(file=buf, width=300))
    text = buf.getvalue()
    _assert_inert(text)
    assert MARKUP in text and "o[/b]" in text and "/tmp/x[/b]\\x1b[31mred" in text


def test_validate_and_error_lines_show_paths_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _hostile_config(tmp_path)
    odd = tmp_path / "c\x1b[2J[b].yaml"
    odd.write_text(cfg.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["validate", str(odd)]) == 0
    assert main(["run", str(tmp_path / "gone\x1b]0;t\x07.yaml")]) == 2
    printed = capsys.readouterr()
    _assert_inert(printed.out + printed.err)
    assert "c\\x1b[2J[b].yaml: ok" in printed.out and "gone\\x1b]0;t\\x07.yaml" in printed.err


# ------------------------------------------------------------------ hand-made runs for compare / report


def _hostile_run(root: Path, run_id: str, model: str, created: str) -> Path:
    """The two-dataset tiny run of ``_tiny_runs`` with hostile dataset, pair, scorer and model names and a
    claim text full of markup and escape sequences (the flipped claims show it)."""
    pairs, claims = build_rows(SCORES[model], scorer=SCORER)
    rename = {"frank": NEWS, "bump": USD}
    ids = {pid: f"{pid}{SEQS}" if pid in {"f1", "b0b"} else pid for pid, *_ in PAIRS}
    by_pair = {}
    for p in pairs:
        rewrite = f"{p.rewrite} {MARKUP} {SEQS}"
        by_pair[p.pair_id] = rewrite
        p.rewrite, p.dataset, p.pair_id = rewrite, rename[p.dataset], ids[p.pair_id]
        p.content_hash = content_hash(SOURCE, rewrite)
    for c in claims:
        if c.claim_index == 1:
            c.text, c.end = c.text + f" {MARKUP} {SEQS}", len(by_pair[c.pair_id])
        c.dataset, c.pair_id = rename[c.dataset], ids[c.pair_id]
    datasets = []
    for name in rename.values():
        rows = [p for p in pairs if p.dataset == name]
        datasets.append(DatasetInfo(name=name, role="dev", source=f"/data/{name}.jsonl", n_pairs=len(rows),
                                    labelled=len(rows), inputs_hash=content_hash(*(p.content_hash for p in rows))))
    metrics, thresholds = evaluate_run(pairs, datasets, n_boot=50, seed=0)
    record = RunRecord(
        run_id=run_id, name=f"demo[/b]-{model}", created=created, harness_version="0.1.0",
        git=GitInfo(commit="aaaaaaa1", dirty=False), config={"name": "x"}, config_hash=content_hash(model)[:12],
        datasets=datasets, scorers=[ScorerInfo(name=SCORER, type="nli", models=[ModelInfo(id=MODEL, revision="r1")])],
        device="cpu", dtype="fp32", metrics=metrics, thresholds=thresholds, warnings=[f"w {SEQS} {MARKUP}"],
    )
    return write_run_folder(root / run_id, record, pairs, claims)


@pytest.fixture()
def hostile_runs(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    _hostile_run(root, "run-weak", "weak", "2025-01-01T00:00:00Z")
    _hostile_run(root, "run-good", "good", "2025-02-01T00:00:00Z")
    return root


@pytest.mark.parametrize("terminal", [False, True])
def test_compare_and_history_show_hostile_names_as_text(hostile_runs: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch, terminal: bool) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
    results = str(hostile_runs)
    assert main(["compare", "run-weak", "run-good", "--results", results, "--n-boot", "20"]) == 0
    assert main(["compare", "run-weak", "run-good", "--results", results, "--leaderboard", "--n-boot", "20"]) == 0
    assert main(["history", "--results", results]) == 0
    printed = capsys.readouterr()
    assert not printed.err
    _assert_inert(printed.out, styled=terminal)
    if not terminal:
        text = printed.out
        assert text.count(NEWS) >= 3 and text.count(USD) >= 3 and text.count(SCORER) >= 3
        assert MARKUP in text and "\\x1b[31mred" in text and "f1\\x1b[31mred" in text and "demo[/b]-weak" in text
        assert "org/\\x1b]0;title\\x07model" in text
        assert main(["history", "--results", results, "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {r["name"] for r in rows} == {"demo[/b]-weak", "demo[/b]-good"}


def test_report_takes_dollar_signs_in_names_literally(hostile_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = hostile_runs.parent / "report.html"
    assert main(["report", "run-good", "--results", str(hostile_runs), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert f"{USD} (AUC" in html  # the plot legend: text, not mathtext
    assert f"ROC — {SCORER}" in html
    _assert_inert(capsys.readouterr().out)


# ------------------------------------------------------------------ usage and output-location errors


def _one_line_err(capsys: pytest.CaptureFixture[str], *names: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_report_out_an_existing_folder_is_exit_2_and_writes_nothing(hostile_runs: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = hostile_runs.parent / "existing"
    target.mkdir()
    before = _files(hostile_runs.parent)
    assert main(["report", "run-good", "--results", str(hostile_runs), "--out", str(target)]) == 2
    _one_line_err(capsys, str(target), "--out")
    assert _files(hostile_runs.parent) == before


def test_report_out_under_a_file_is_exit_2(hostile_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = hostile_runs.parent / "afile"
    afile.write_text("keep", encoding="utf-8")
    before = _files(hostile_runs.parent)
    assert main(["report", "run-good", "--results", str(hostile_runs), "--out", str(afile / "x.html")]) == 2
    _one_line_err(capsys, str(afile))
    assert _files(hostile_runs.parent) == before and afile.read_text(encoding="utf-8") == "keep"


def test_report_that_fails_while_writing_leaves_nothing(hostile_runs: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import harness.report

    monkeypatch.setattr(harness.report, "render_report", lambda *a, **k: "<html>\ud800")  # cannot be encoded
    out = hostile_runs.parent / "sub" / "r.html"
    before = _files(hostile_runs.parent)
    assert main(["report", "run-good", "--results", str(hostile_runs), "--out", str(out)]) == 1
    _one_line_err(capsys)
    assert not out.exists()
    assert {f for f in _files(hostile_runs.parent) - before if not f.endswith("sub")} == set()


@pytest.mark.parametrize("where", ["folder", "under_file", "device", "proc"])
def test_compare_json_that_cannot_be_written_is_exit_2_one_line(hostile_runs: Path, capsys: pytest.CaptureFixture[str],
                                                                where: str) -> None:
    afile = hostile_runs.parent / "afile"
    afile.write_text("keep", encoding="utf-8")
    target = {"folder": hostile_runs.parent, "under_file": afile / "x.json", "device": Path("/dev/full"),
              "proc": Path("/proc/harness-cannot-write-here.json")}[where]
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("needs /proc")
    before = _files(hostile_runs.parent)
    assert main(["compare", "run-weak", "run-good", "--results", str(hostile_runs), "--n-boot", "20",
                 "--json", str(target)]) == 2
    _one_line_err(capsys, str(target), "--json")
    assert _files(hostile_runs.parent) == before and afile.read_text(encoding="utf-8") == "keep"


def test_compare_json_is_written_whole(hostile_runs: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "cmp.json"
    assert main(["compare", "run-weak", "run-good", "--results", str(hostile_runs), "--n-boot", "20",
                 "--json", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {f["dataset"] for f in data["flips"]} <= {NEWS, USD} and data["flips"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["cmp.json"]


@pytest.mark.parametrize("argv, names", [
    (["compare"], ["RUN"]),
    (["compare", "run-weak", "run-good", "--n-boot", "0"], ["--n-boot"]),
    (["compare", "run-weak", "run-good", "--n-boot", "many"], ["--n-boot"]),
    (["compare", "run-weak", "run-good", "--alpha", "1.5"], ["--alpha"]),
    (["compare", "run-weak", "run-good", "--max-flips", "-1"], ["--max-flips"]),
    (["compare", "run-weak", "--dataset", "nope[/b]"], ["nope[/b]"]),
    (["compare", "gone[/b]\x1b[2J"], ["gone[/b]\\x1b[2J"]),
    (["compare", "run-weak", "--bogus"], ["--bogus"]),
    (["report"], ["RUN"]),
    (["report", "run-weak", "--max-pairs", "-1"], ["--max-pairs"]),
    (["report", "run-weak", "--dataset", "nope[/b]"], ["nope[/b]"]),
    (["report", "gone[/b]\x1b[2J"], ["gone[/b]\\x1b[2J"]),
    (["report", "run-weak", "--bogus"], ["--bogus"]),
    (["history", "--results", "/nonexistent[/b]\x1b[2J"], ["/nonexistent[/b]\\x1b[2J"]),
])
def test_usage_errors_are_exit_2_with_one_line(hostile_runs: Path, capsys: pytest.CaptureFixture[str],
                                               argv: list[str], names: list[str]) -> None:
    full = [*argv, "--results", str(hostile_runs)] if len(argv) > 1 and argv[0] != "history" else argv
    try:
        rc = main(full)
    except SystemExit as e:  # argparse's own exit counts too, as long as it is 2 with one line
        rc = e.code  # type: ignore[assignment]
    assert rc == 2
    line_ = _one_line_err(capsys, *names)
    _assert_inert(line_)
    assert "Traceback" not in line_


# ------------------------------------------------------------------------------------------ progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [False, True])
def test_progress_descriptions_are_text(tty: bool) -> None:
    from harness.engine.progress import LineProgress, progress

    desc = f"{SCORER} premise-claim pairs {MARKUP} {SEQS}"
    stream = _Tty() if tty else io.StringIO()
    with progress(3, desc, stream=stream) as advance, progress(2, f"inner {MARKUP}", stream=stream) as inner:
        advance(3)
        inner(2)
    lines = LineProgress(2, desc, stream=stream, clock=iter([0.0, 5.0, 9.0]).__next__)
    lines.advance(2)
    lines.close()
    text = stream.getvalue()
    _assert_inert(text, styled=tty)
    assert f"[progress] {SCORER} premise-claim pairs {MARKUP} \\x1b[31mred" in text
