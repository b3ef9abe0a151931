"""Benchmarks (``harness bench ...``): one module per benchmark over a small shared core.

* :mod:`~harness.bench.cli` – ``main``: picks the benchmark from the first arguments;
* :mod:`~harness.bench.engine` – the engine against the usual ways of running a cross-encoder (the default),
  with :mod:`~harness.bench.strategies` (models, metering, the compared runners) and
  :mod:`~harness.bench.workloads` (synthetic and FRANK pair workloads);
* :mod:`~harness.bench.encoder`, :mod:`~harness.bench.profile`, :mod:`~harness.bench.generate`,
  :mod:`~harness.bench.scale`, :mod:`~harness.bench.sources` – ``harness bench encoder | profile | generate |
  rss | executors | --source-sweep``;
* :mod:`~harness.bench.core` – paths, atomic JSON reports, load, peak memory and matmul rooflines.

Benchmark modules import the core and the workloads, never one another (``tests/test_architecture.py``).
"""

from harness.bench.cli import main
from harness.bench.engine import DEFAULT_STRATEGIES, STRATEGIES, run_benchmark
from harness.bench.workloads import Case, Workload, frank_workload, synthetic_workload

__all__ = [
    "DEFAULT_STRATEGIES",
    "STRATEGIES",
    "Case",
    "Workload",
    "frank_workload",
    "main",
    "run_benchmark",
    "synthetic_workload",
]
