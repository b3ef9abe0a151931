"""Running a config: read the inputs in blocks, score them with an executor, write results per block.

``run`` is the same for both executors: it checks every input row first (bad input fails before anything
is written), skips the blocks a killed run of the same config already finished, hands the rest to the
executor (``local``: in this process; ``ray``: a Ray Data pipeline), writes each block as it comes back,
and at the end assembles the run folder atomically and computes the metrics by streaming the pair rows
back. Memory holds one block at a time (plus, for the metrics, a few numbers per pair).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config import RunConfig, config_hash
from harness.executors.blocks import Block, iter_blocks
from harness.results.blocks import BlockStore
from harness.results.schema import ClaimRow, DatasetInfo, RunRecord, ScorerInfo
from harness.results.writer import git_info, package_versions, write_run_folder

__all__ = ["EXECUTORS", "PairScores", "RunResult", "run"]

EXECUTORS = {"local": "harness.executors.local", "ray": "harness.executors.ray"}
SUMMARY_CLAIMS = 2000
"""Claim rows kept in memory for the terminal summary."""


@dataclass(slots=True)
class ScoreCell:
    score: float | None
    label: str


@dataclass(slots=True)
class PairScores:
    """What the metrics and the summary need of a pair row (texts dropped, so memory stays small)."""

    pair_id: str
    dataset: str
    gold_label: float | None
    group: str | None
    scores: dict[str, ScoreCell]


@dataclass
class RunResult:
    record: RunRecord
    folder: Path | None
    pairs: list[PairScores]
    """Every pair's scores (no texts; the full rows are in the run folder)."""
    claims: list[ClaimRow] = field(default_factory=list)
    """The first claim rows (at most :data:`SUMMARY_CLAIMS`), for the terminal summary."""


def _scan(cfg: RunConfig) -> list[DatasetInfo]:
    """Read and check every row once (streaming), before any model is loaded or file written."""
    from harness.data import iter_pairs

    out = []
    for dcfg in cfg.data:
        pairs, origin = iter_pairs(dcfg)
        h = hashlib.sha256()  # == types.content_hash(*pair hashes), computed incrementally
        n = labelled = 0
        for p in pairs:
            h.update(p.content_hash.encode("utf-8"))
            h.update(b"\x00")
            n += 1
            labelled += p.label is not None
        out.append(DatasetInfo(name=dcfg.name, role=dcfg.role, source=origin, n_pairs=n, labelled=labelled,
                               inputs_hash=h.hexdigest()[:16]))
    return out


def _executor(cfg: RunConfig) -> Any:
    module = importlib.import_module(EXECUTORS[cfg.runtime.executor])
    module.check_available(cfg)
    return module


def _work_key(cfg: RunConfig) -> str:
    """Blocks are reused only by a run of the same config (scores) and the same harness code."""
    git = git_info()
    return hashlib.sha256(f"{config_hash(cfg)}|{__version__}|{git.commit}".encode()).hexdigest()[:12]


def _pair_scores(row: dict[str, Any]) -> PairScores:
    return PairScores(row["pair_id"], row["dataset"], row.get("gold_label"), row.get("group"),
                      {k: ScoreCell(v["score"], v["label"]) for k, v in row["scores"].items()})


def run(cfg: RunConfig, *, write: bool = True, thresholds_from: dict[str, Any] | None = None,
        console: Any = None) -> RunResult:
    """Score the config's pairs and (``write``) write ``<output_dir>/<run-id>/``."""
    from harness.results.preflight import check_output_locations
    from harness.stages import merge_stats

    t0 = time.perf_counter()
    created = _dt.datetime.now(_dt.UTC)
    check_output_locations(cfg.output_dir if write else None, cfg.runtime.cache)  # before any model work
    executor = _executor(cfg)
    datasets = _scan(cfg)
    timings: dict[str, float] = {"load_data": time.perf_counter() - t0}

    with tempfile.TemporaryDirectory(prefix="harness-run-") as scratch:
        root = Path(cfg.output_dir) if write else Path(scratch)
        with BlockStore(root / f".work-{cfg.name}-{_work_key(cfg)}", cfg.output_formats) as store:
            stats: dict[int, dict[str, Any]] = {}

            resumed = {"blocks_reused": 0, "pairs_reused": 0, "blocks_computed": 0}

            def todo() -> Iterator[Block]:
                for block in iter_blocks(cfg):
                    done = store.finished(block.index, block.digest)
                    if done is None:
                        resumed["blocks_computed"] += 1
                        yield block
                    else:
                        stats[block.index] = done
                        resumed["blocks_reused"] += 1
                        resumed["pairs_reused"] += int(done.get("counts", {}).get("pairs", 0))

            t = time.perf_counter()
            info: dict[str, Any] = {}
            timings["write_blocks"] = 0.0
            from harness.engine.progress import progress

            try:
                with progress(sum(d.n_pairs for d in datasets), "pairs", enabled=cfg.runtime.progress) as advance:
                    for block, out in executor.run_blocks(cfg, todo(), info):
                        tw = time.perf_counter()
                        store.write(block.index, block.digest, out.claims, out.pairs, out.stats)
                        timings["write_blocks"] += time.perf_counter() - tw
                        stats[block.index] = out.stats
                        advance(len(out.pairs))
            except BaseException:
                if not stats:  # nothing worth resuming: leave no trace; else keep the blocks for a rerun
                    store.remove()
                raise
            timings["blocks"] = time.perf_counter() - t
            if resumed["blocks_reused"]:  # a rerun of a killed run: say what it did not recompute
                print(f"resumed: reused {resumed['blocks_reused']} finished block(s) ({resumed['pairs_reused']} "
                      f"pairs) from {store.folder.name}, computed {resumed['blocks_computed']}", file=sys.stderr)
            n_blocks = len(stats)
            if sorted(stats) != list(range(n_blocks)):  # pragma: no cover - an executor lost a block
                raise RuntimeError(f"blocks missing after the run: {sorted(set(range(n_blocks)) - set(stats))}")
            merged = merge_stats([stats[i] for i in range(n_blocks)])

            t = time.perf_counter()
            pairs = [_pair_scores(r) for r in store.iter_pairs(n_blocks)]
            metrics: dict[str, Any] = {}
            thresholds: dict[str, Any] = {}
            if any(d.labelled for d in datasets):
                from harness.evaluation import evaluate_run

                metrics, thresholds = evaluate_run(pairs, datasets, thresholds=thresholds_from,  # type: ignore[arg-type]
                                                   seed=cfg.runtime.seed)
                if cfg.combine.enabled and len(cfg.scorers) > 1:
                    from harness.evaluation.guard import combined_warnings

                    members = [s["name"] for s, s_cfg in zip(merged["scorers"], cfg.scorers, strict=True)
                               if s_cfg.weight > 0]
                    merged["warnings"] = [*merged["warnings"],
                                          *combined_warnings(metrics, datasets, cfg.combine.name, members)]
            timings["metrics"] = time.perf_counter() - t
            timings.update({k: v for k, v in merged["timings"].items()})
            executor_info = info.pop("executor", None) or {"name": cfg.runtime.executor}
            timings.update(info)  # load_models (local), ray_init and ray_first_block (ray)
            timings["total"] = time.perf_counter() - t0

            chash = config_hash(cfg)
            record = RunRecord(
                run_id=f"{created:%Y%m%d-%H%M%S}-{cfg.name}-{chash[:6]}",
                name=cfg.name, created=created.isoformat(timespec="seconds"), harness_version=__version__,
                git=git_info(), packages=package_versions(), python=platform.python_version(),
                config=cfg.model_dump(mode="json"), config_hash=chash, datasets=datasets,
                scorers=[ScorerInfo.model_validate({k: v for k, v in s.items()
                                                    if k not in ("languages", "cross_lingual")})
                         for s in merged["scorers"]],
                device=merged["device"], dtype=merged["dtype"], cpu=merged["cpu"],
                timings={k: round(v, 3) for k, v in timings.items()},
                counts={**merged["counts"], **resumed}, executor=executor_info, engine=merged["engine"],
                coverage=merged["coverage"],
                languages=merged["languages"], routes=merged["routes"], warnings=merged["warnings"],
                reasons=merged["reasons"],
                metrics=metrics, thresholds=thresholds,
            )
            claims = [ClaimRow.model_validate(c) for c in store.first_claims(SUMMARY_CLAIMS)]
            folder = None
            if write:  # (assembly time is not in run.json: the record is written with the files)
                folder = write_run_folder(root, record, lambda tmp: store.assemble(tmp, n_blocks))
                if folder.name != record.run_id:  # the id was taken: the folder got a suffix
                    record = record.model_copy(update={"run_id": folder.name})
            store.remove()
    return RunResult(record, folder, pairs, claims)
