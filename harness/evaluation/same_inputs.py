"""Whether two runs scored the same inputs, proven by the per-pair content hashes in ``pairs.jsonl``.

A comparison of different pairs would report a "difference" that is really the data, so
:func:`harness.evaluation.compare.compare_runs` checks this first and refuses with one line."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results.reader import Run, RunError

__all__ = ["DataMismatchError", "check_same_inputs"]


class DataMismatchError(RunError):
    """The runs scored different inputs."""


def _hashes(run: Run) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for p in run.pairs:
        out.setdefault(p.dataset, {})[p.pair_id] = p.content_hash
    return out


def check_same_inputs(a: Run, b: Run, datasets: Sequence[str] | None = None) -> list[str]:
    """The datasets to compare; raises :class:`DataMismatchError` (one line) when the inputs differ."""
    ha, hb = _hashes(a), _hashes(b)
    names_a = [d.name for d in a.record.datasets] or list(ha)
    names_b = [d.name for d in b.record.datasets] or list(hb)
    where = f"{a.path} vs {b.path}"
    if datasets:
        for d in datasets:
            if d not in names_a or d not in names_b:
                missing = a.path if d not in names_a else b.path
                raise DataMismatchError(f"cannot compare: dataset {d!r} is not in {missing}")
        names = list(datasets)
    else:
        if set(names_a) != set(names_b):
            raise DataMismatchError(
                f"cannot compare {where}: different datasets ({sorted(names_a)} vs {sorted(names_b)}); "
                "pick common ones with --dataset"
            )
        names = names_a
    for d in names:
        pa, pb = ha.get(d, {}), hb.get(d, {})
        if not pa and not pb:
            ia = next((x.inputs_hash for x in a.record.datasets if x.name == d), None)
            ib = next((x.inputs_hash for x in b.record.datasets if x.name == d), None)
            if ia != ib:
                raise DataMismatchError(f"cannot compare {where}: dataset {d!r} inputs hash differs")
            continue
        if set(pa) != set(pb):
            only = sorted(set(pa) ^ set(pb))
            raise DataMismatchError(
                f"cannot compare {where}: dataset {d!r} has different pairs "
                f"({len(pa)} vs {len(pb)}; e.g. {only[0]!r} is in one run only)"
            )
        diff = [k for k in pa if pa[k] != pb[k]]
        if diff:
            raise DataMismatchError(
                f"cannot compare {where}: dataset {d!r} has {len(diff)} pair(s) whose source/rewrite "
                f"differ (content hash), e.g. {diff[0]!r}"
            )
    return names
