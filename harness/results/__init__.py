"""Results: the run record schema, atomic writers, readers and the history index."""

from harness.results.schema import RESULTS_VERSION, ClaimRow, PairRow, RunRecord
from harness.results.writer import write_run

__all__ = ["RESULTS_VERSION", "ClaimRow", "PairRow", "RunRecord", "write_run"]
