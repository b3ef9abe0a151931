"""``harness bench executors``: the local and Ray runs write the same files, and every Ray actor gets blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ray", reason='needs Ray: pip install "harness[ray]"')
pytestmark = pytest.mark.slow


def test_bench_executors_reports_every_actor_busy_and_identical_files(tmp_path: Path) -> None:
    from harness.bench.scale import bench_executors

    report = bench_executors(24, 6, [2], tmp_path, scorer="overlap", threads=1)
    assert report["identical"] is True
    (ray_row,) = [r for r in report["rows"] if r["executor"] == "ray"]
    per_actor = ray_row["per_actor"]
    assert len(per_actor) == 2 and ray_row["actors_busy"] == 2  # 4 blocks, 2 actors: both work (issue 22)
    assert sorted(b for a in per_actor for b in a["blocks"]) == [0, 1, 2, 3]
    assert all(a["restarts"] == 0 and a["busy_s"] > 0 for a in per_actor)
