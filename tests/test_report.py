"""``harness report``: one self-contained HTML file, checked in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _tiny_runs import SCORES, build_rows, write_run

from harness.report import main
from harness.report.render import rewrite_spans

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _report(tmp_path: Path, **kw) -> tuple[Path, str]:
    write_run(tmp_path, "run-good", "good", **kw)
    out = tmp_path / "report.html"
    assert main(["run-good", "--results", str(tmp_path), "--out", str(out)]) == 0
    return out, out.read_text(encoding="utf-8")


def test_report_is_self_contained_with_claims_plots_and_legend(tmp_path) -> None:
    _, html = _report(tmp_path)
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html), "the report must not fetch anything"
    assert "<link" not in html and html.count("<svg") >= 1
    assert html.count('class="claim lab-') >= 32  # 16 pairs x 2 claims (+ legend)
    assert 'class="claim lab-contradicted"' in html and 'class="claim lab-unsupported"' in html
    assert "Legend" in html and "ROC" in html and "demo-good" in html
    assert 'id="pair-f1"' in html and "The day was sunny." in html


def test_rewrite_is_rebuilt_from_claims_when_not_stored() -> None:
    _, claims = build_rows(SCORES["good"], with_text=False)
    f0 = [c for c in claims if c.pair_id == "f0"]
    text, runs = rewrite_spans(None, f0)
    assert text == "The cat sat on the mat. It was sunny."
    assert [c.claim_index for _, c in runs if c is not None] == [0, 1]


def test_report_without_stored_texts_still_renders(tmp_path) -> None:
    _, html = _report(tmp_path, with_text=False)
    assert "Source text not stored" in html and 'class="claim lab-supported"' in html


def test_report_bad_run_is_exit_2(tmp_path, capsys) -> None:
    assert main(["missing-run", "--results", str(tmp_path)]) == 2
    assert "missing-run" in capsys.readouterr().err


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(tmp_path) -> None:
    out, _ = _report(tmp_path)
    url = out.resolve().as_uri()
    dom = _chromium("--dump-dom", "--virtual-time-budget=2000", f"{url}#claim=f1:1", profile=tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert 'data-js="ready"' in html  # the inline script ran without errors
    assert len(re.findall(r'<span class="claim lab-(supported|contradicted|unsupported)', html)) >= 32
    assert "<svg" in html and "ROC" in html
    # the deep link opened claim 1 of f1: its evidence is marked in the source
    assert re.search(r'<mark class="evidence">It was a sunny day in Paris\.\s*</mark>', html)
    shot = tmp_path / "report.png"
    res = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", url,
                    profile=tmp_path / "p2")
    assert res.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000, res.stderr[-2000:]
    artifacts = os.environ.get("HARNESS_TEST_ARTIFACTS")  # CI can keep the screenshot
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "report.png")
