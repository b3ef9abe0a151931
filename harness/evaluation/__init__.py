"""Meta-evaluation against human labels, run comparison and history.

- :func:`evaluate_run` — metrics per dataset and scorer (ROC-AUC, balanced accuracy at 0.5 and at a
  dev-tuned threshold, correlations for graded labels, minimal-pair wins, bootstrap intervals).
- :func:`thresholds_from` — the thresholds recorded in another run (``--thresholds-from RUN``).
- ``harness.evaluation.compare.main`` / ``harness.evaluation.history.main`` — the CLI commands.
- ``harness/evaluation/metric/faithfulness.py`` — the same metrics as a Hugging Face ``evaluate`` module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.evaluation.meta import MACRO, SCALAR_METRICS, evaluate_claims, evaluate_run
from harness.evaluation.metrics import MetricUndefined

__all__ = [
    "MACRO",
    "SCALAR_METRICS",
    "MetricUndefined",
    "evaluate_claims",
    "evaluate_run",
    "metric_path",
    "thresholds_from",
]


def thresholds_from(run: str | Path, results_dir: str | Path = "results") -> dict[str, Any]:
    """The tuned thresholds stored in another run's ``run.json`` (a path or a run id under ``results_dir``),
    each tagged with that run's id; raises :class:`harness.results.reader.RunError` when it has none."""
    from harness.results.reader import RunError, load_record, resolve_run

    path = resolve_run(str(run), results_dir)
    record = load_record(path)
    usable = {k: dict(v, run=record.run_id) for k, v in record.thresholds.items()
              if isinstance(v, dict) and v.get("value") is not None}
    if not usable:
        raise RunError(f"{path / 'run.json'}: has no tuned thresholds (was it run on labelled data?)")
    return usable


def metric_path() -> Path:
    """Path of the ``evaluate`` module script: ``evaluate.load(str(metric_path()))``."""
    return Path(__file__).parent / "metric" / "faithfulness.py"
