"""Progress in non-interactive logs: plain lines on a schedule (clock injected, no sleeps)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from harness.engine import Engine
from harness.engine.progress import LineProgress, format_duration, progress


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _lines(buf: io.StringIO) -> list[str]:
    return buf.getvalue().splitlines()


def test_lines_every_n_seconds_with_rate_and_time_left() -> None:
    clock, buf = FakeClock(), io.StringIO()
    lp = LineProgress(1000, "nli", stream=buf, clock=clock, every_seconds=10, every_percent=50)
    for _ in range(9):  # 9 s, 90 items: no line yet (neither 10 s nor 50 %)
        clock.t += 1
        lp.advance(10)
    assert _lines(buf) == []
    clock.t += 1
    lp.advance(10)  # 10 s, 100 items: 10/s, 900 left -> 90 s
    assert _lines(buf) == ["[progress] nli: 100/1,000 (10%) 10.0/s, 1m30s left"]


def test_lines_every_n_percent_but_not_more_often_than_min_seconds() -> None:
    clock, buf = FakeClock(), io.StringIO()
    lp = LineProgress(100, "checks", stream=buf, clock=clock, every_seconds=1e9, every_percent=25, min_seconds=1)
    lp.advance(30)  # 30 % at t=0: due by percent, but not a second has passed
    assert _lines(buf) == []
    clock.t += 2
    lp.advance(1)  # 31 % at 2 s -> a line
    clock.t += 2
    lp.advance(1)  # still in the 25-50 % bucket -> no line
    clock.t += 2
    lp.advance(20)  # 52 % -> a line
    out = _lines(buf)
    assert len(out) == 2
    assert out[0].startswith("[progress] checks: 31/100 (31%)") and out[1].startswith("[progress] checks: 52/100 (52%)")


def test_close_prints_a_final_line_only_for_stages_worth_it() -> None:
    clock, buf = FakeClock(), io.StringIO()
    quick = LineProgress(5, "quick", stream=buf, clock=clock, min_seconds=1)
    quick.advance(5)
    quick.close()
    assert _lines(buf) == []  # a sub-second stage adds no noise
    slow = LineProgress(4, "slow", stream=buf, clock=clock, every_seconds=1e9, every_percent=100)
    clock.t += 125
    slow.advance(4)
    slow.close()
    assert _lines(buf) == ["[progress] slow: 4/4 (100%) 0.0/s, done in 2m05s"]


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.4, 59, 61, 3599, 7440)] == ["0s", "59s", "1m01s", "59m59s", "2h04m"]


def test_context_manager_uses_lines_when_the_stream_is_not_a_terminal() -> None:
    buf = io.StringIO()
    with progress(3, "stage", stream=buf) as advance:
        advance(3)
    assert buf.getvalue() == ""  # instant stage: nothing to say
    with progress(3, "stage", stream=buf, enabled=False) as advance:
        advance(3)
    assert buf.getvalue() == ""


def test_no_done_line_when_the_stage_is_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_PROGRESS_SECONDS", "0.1")
    buf = io.StringIO()
    with pytest.raises(KeyboardInterrupt), progress(3, "stage", stream=buf) as advance:
        advance(1)
        raise KeyboardInterrupt
    assert "done in" not in buf.getvalue()


def test_engine_prints_progress_lines_to_a_log(monkeypatch: pytest.MonkeyPatch, tiny_nli_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A real engine run with stderr captured (not a terminal) leaves plain lines, not bar escapes."""
    import harness.engine.progress as prog
    from harness.config import ModelConfig
    from harness.engine.hf_backend import PairClassifierBackend
    from harness.models.loading import load_model

    ticks = iter(range(0, 10_000, 5))  # every clock read is 5 s later: each batch is "due"
    monkeypatch.setattr(prog.time, "monotonic", lambda: float(next(ticks)))
    loaded = load_model(ModelConfig(id=str(tiny_nli_dir), max_length=64), "classification")
    backend = PairClassifierBackend(loaded.model, loaded.tokenizer, max_length=64, cache_key="t")
    engine = Engine(256, progress=True, max_batch_size=4)
    items = [(f"premise number {i} about cats", f"claim {i}") for i in range(20)]
    engine.run(backend, items, desc="nli")
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("[progress]")]
    assert lines, err
    assert "\x1b[" not in err
    pat = re.compile(r"\[progress\] nli: [\d,]+/20 \(\d+%\) [\d.,]+/s, (\d+s|\d+m\d\ds) left")
    assert all(pat.fullmatch(ln) for ln in lines[:-1]), lines
    assert re.fullmatch(r"\[progress\] nli: 20/20 \(100%\) [\d.,]+/s, done in .*", lines[-1])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_stage_inside_a_stage_on_a_terminal_shares_one_display() -> None:
    """rich allows one live display: the engine reporting inside the checks stage must not raise."""
    term = _Terminal()
    with progress(2, "checks", stream=term) as outer:
        with progress(5, "engine", stream=term) as inner:
            inner(5)
        outer(2)
    with progress(1, "again", stream=term) as again:  # the display is released afterwards
        again(1)
