"""The training journal: one JSON line per event (start, progress, checkpoint, dev evaluation, export) in the
run's training folder, appended and flushed as it happens, so a run that spans sessions and kills keeps its
history: examples seen, CPU-seconds spent (across every process that worked on it), loss, and the dev curve.

``python -m harness.train --status CONFIG`` prints it (:func:`status_lines`)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

JOURNAL_FILE = "journal.jsonl"


class Journal:
    """Appends events to ``folder/journal.jsonl``; CPU-seconds continue from what earlier processes recorded."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / JOURNAL_FILE
        if self.path.is_file() and self.path.stat().st_size:
            with self.path.open("rb+") as fh:  # a line cut off by a kill: end it so the next event starts afresh
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")
        events = read_journal(self.path)
        self.cpu_before = max((float(e.get("cpu_s", 0.0)) for e in events), default=0.0)
        self._cpu0 = 0.0  # process_time() counts from process start: loading the data and model counts too

    def cpu_seconds(self) -> float:
        """CPU-seconds of every process so far (this one's from its start; work lost to a kill still counts)."""
        return self.cpu_before + time.process_time() - self._cpu0

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        row = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "cpu_s": round(self.cpu_seconds(), 1), **fields}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return row


def read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's events; a line cut off by a kill is skipped."""
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return events


def status_lines(folder: Path, total_steps: int | None = None, batch_size: int | None = None) -> list[str]:
    """Where a run stands: last progress, last checkpoint, CPU-hours, and the dev curve (one line per eval)."""
    events = read_journal(folder / JOURNAL_FILE)
    if not events:
        return [f"no training journal in {folder} (not started)"]
    progress = [e for e in events if e["event"] == "progress"]
    ckpts = [e for e in events if e["event"] == "checkpoint"]
    evals = [e for e in events if e["event"] == "eval"]
    starts = [e for e in events if e["event"] == "start"]
    last = progress[-1] if progress else events[-1]
    cpu_h = max(float(e.get("cpu_s", 0.0)) for e in events) / 3600
    lines = [f"run folder: {folder}",
             f"processes started: {len(starts)}; CPU-hours so far: {cpu_h:.2f}"]
    if last.get("step") is not None:
        of = f"/{total_steps}" if total_steps else ""
        lines.append(f"last progress: step {last['step']}{of}, {last.get('examples', '?')} examples, "
                     f"loss {last.get('loss', float('nan')):.4f}, {last.get('s_per_example', float('nan')):.3f} "
                     f"s/example ({last['time']})")
    if ckpts:
        lines.append(f"last checkpoint: step {ckpts[-1]['step']} ({ckpts[-1]['time']}); a rerun resumes there")
    if evals:
        lines.append("dev curve (quick_eval subset: FRANK-valid ROC-AUC, its XSum / CNN-DM rows, BUMP twin wins):")
        lines.append(f"  {'examples':>9} {'cpu-h':>6} {'FRANK':>7} {'XSum':>7} {'CNN/DM':>7} {'BUMP':>7}  snapshot")
        for e in evals:
            cells = " ".join(f"{_num(e.get(k)):>7}" for k in ("frank_auc", "frank_auc_xsum", "frank_auc_cnndm",
                                                               "bump_twin_wins"))
            lines.append(f"  {e['examples']:>9} {e['cpu_s'] / 3600:>6.2f} {cells}  {e.get('snapshot', '')}")
    done = [e for e in events if e["event"] == "export"]
    if done:
        lines.append(f"exported: {done[-1]['path']} at step {done[-1]['step']}")
    return lines


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"
