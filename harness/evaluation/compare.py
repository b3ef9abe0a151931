"""``python -m harness compare RUN_A RUN_B [...]``: metrics side by side with paired-bootstrap p-values,
and the claims whose label flipped. ``compare RUN`` (or ``--leaderboard``): one table, scorers as rows and
datasets as columns, each cell a metric with its bootstrap interval (configs/zoo.yaml's leaderboard).

Runs are compared only when they scored the same inputs, proven by the per-pair content hashes in
``pairs.jsonl``: a comparison of different pairs would report a "difference" that is really the data.
Every metric is recomputed on the pairs both runs scored, so the bootstrap can resample the *same* pairs
for both runs (paired), which is far more sensitive than comparing two independent intervals.
Each run keeps its own tuned threshold (from its ``run.json``) for ``balanced_accuracy@tuned``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness import cli_support as cli
from harness.evaluation import metrics as M
from harness.evaluation.meta import MACRO
from harness.evaluation.same_inputs import DataMismatchError, check_same_inputs
from harness.results.reader import Run, RunError, load_run, resolve_run
from harness.results.schema import PairRow
from harness.textsafe import cell, line

__all__ = [
    "Comparison",
    "DataMismatchError",
    "Flip",
    "Leaderboard",
    "MetricDelta",
    "check_same_inputs",
    "compare_runs",
    "find_flips",
    "leaderboard",
    "main",
]

HIGHER_IS_BETTER = {"roc_auc", "balanced_accuracy@0.5", "balanced_accuracy@tuned", "pearson", "spearman",
                    "kendall", "twin_wins"}


SHORT = {"roc_auc": "AUC", "balanced_accuracy@0.5": "BA@0.5", "balanced_accuracy@tuned": "BA@tuned",
         "twin_wins": "twin wins"}
"""Short metric names for narrow terminals."""


@dataclass(frozen=True)
class MetricDelta:
    dataset: str
    scorer: str
    """``name`` when both runs use the same scorer name, else ``name_a→name_b``."""
    metric: str
    n: int
    a: float | None
    b: float | None
    delta: float | None
    delta_ci: list[float] | None
    p: float | None
    note: str | None = None


@dataclass(frozen=True)
class Flip:
    dataset: str
    pair_id: str
    scorer: str
    claim_index: int
    text: str
    label_a: str
    label_b: str
    score_a: float | None
    score_b: float | None
    gold: float | None


@dataclass
class Comparison:
    run_a: str
    run_b: str
    rows: list[MetricDelta] = field(default_factory=list)
    flips: list[Flip] = field(default_factory=list)
    n_claims_compared: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"run_a": self.run_a, "run_b": self.run_b, "n_claims_compared": self.n_claims_compared,
                "rows": [asdict(r) for r in self.rows], "flips": [asdict(f) for f in self.flips]}


# ----------------------------------------------------------------------------------------- metrics


def _threshold(run: Run, dataset: str, scorer: str) -> float | None:
    t = run.record.thresholds.get(scorer)
    if isinstance(t, dict) and t.get("value") is not None:
        return float(t["value"])
    m = run.record.metrics.get(dataset, {}).get(scorer, {})
    return float(m["threshold"]) if m.get("threshold") is not None else None


def _aligned(pa: list[PairRow], pb: list[PairRow], sa: str, sb: str) -> tuple[np.ndarray, ...] | None:
    by_id = {p.pair_id: p for p in pb}
    gold, xa, xb, groups = [], [], [], []
    for p in pa:
        q = by_id.get(p.pair_id)
        if p.gold_label is None or q is None:
            continue
        ra, rb = p.scores.get(sa), q.scores.get(sb)
        if ra is None or rb is None or ra.score is None or rb.score is None:
            continue
        gold.append(float(p.gold_label))
        xa.append(float(ra.score))
        xb.append(float(rb.score))
        groups.append(p.group)
    if not gold:
        return None
    return np.asarray(gold), np.asarray(xa), np.asarray(xb), np.asarray(groups, dtype=object)


def _compare_metric(
    name: str, stat_a: M.RowStat, stat_b: M.RowStat, n: int, base: dict[str, str], n_boot: int, seed: int
) -> MetricDelta:
    full = np.arange(n)[None, :]
    va, vb = float(stat_a(full)[0]), float(stat_b(full)[0])
    if not (np.isfinite(va) and np.isfinite(vb)):
        return MetricDelta(**base, metric=name, n=n, a=None, b=None, delta=None, delta_ci=None, p=None,
                           note="undefined on these pairs (one class or constant scores)")
    p, ci = M.paired_bootstrap(stat_a, stat_b, n, n_boot=n_boot, seed=seed)
    return MetricDelta(**base, metric=name, n=n, a=va, b=vb, delta=vb - va, delta_ci=ci, p=p)


def compare_pair_metrics(
    a: Run, b: Run, datasets: Sequence[str], scorers: Sequence[tuple[str, str]], *, n_boot: int = 1000,
    seed: int = 0,
) -> list[MetricDelta]:
    by_ds_a: dict[str, list[PairRow]] = {}
    by_ds_b: dict[str, list[PairRow]] = {}
    for p in a.pairs:
        by_ds_a.setdefault(p.dataset, []).append(p)
    for p in b.pairs:
        by_ds_b.setdefault(p.dataset, []).append(p)
    rows: list[MetricDelta] = []
    for ds in datasets:
        for sa, sb in scorers:
            label = sa if sa == sb else f"{sa}→{sb}"
            al = _aligned(by_ds_a.get(ds, []), by_ds_b.get(ds, []), sa, sb)
            base = {"dataset": ds, "scorer": label}
            if al is None:
                rows.append(MetricDelta(**base, metric="roc_auc", n=0, a=None, b=None, delta=None,
                                        delta_ci=None, p=None, note="no labelled pairs scored by both runs"))
                continue
            gold, xa, xb, groups = al
            y = M.binarize(gold)
            n = len(y)
            kw: dict[str, Any] = {"base": base, "n_boot": n_boot, "seed": seed}

            if len(set(y.tolist())) < 2:
                rows.append(MetricDelta(**base, metric="roc_auc", n=n, a=None, b=None, delta=None,
                                        delta_ci=None, p=None, note="single class: ROC-AUC undefined"))
            else:
                rows.append(_compare_metric("roc_auc", M.auc_rows(y, xa), M.auc_rows(y, xb), n, **kw))
                rows.append(_compare_metric("balanced_accuracy@0.5", M.balanced_accuracy_rows(y, xa, 0.5),
                                            M.balanced_accuracy_rows(y, xb, 0.5), n, **kw))
                ta, tb = _threshold(a, ds, sa), _threshold(b, ds, sb)
                if ta is not None and tb is not None:
                    rows.append(_compare_metric("balanced_accuracy@tuned", M.balanced_accuracy_rows(y, xa, ta),
                                                M.balanced_accuracy_rows(y, xb, tb), n, **kw))
            if M.is_graded(gold):
                for kind, fn in (("pearson", M.pearson_rows), ("spearman", M.spearman_rows)):
                    rows.append(_compare_metric(kind, fn(gold, xa), fn(gold, xb), n, **kw))
            if any(g is not None for g in groups):
                twin_a, ng = M.twin_rows(list(groups), y, xa)
                twin_b, _ = M.twin_rows(list(groups), y, xb)
                if ng:
                    rows.append(_compare_metric("twin_wins", twin_a, twin_b, ng, **kw))
    return rows


def find_flips(a: Run, b: Run, datasets: Sequence[str], scorers: Sequence[tuple[str, str]]) -> tuple[list[Flip], int]:
    """Claims (same pair, same span of the rewrite) whose label differs between the runs."""
    want = set(datasets)
    smap = dict(scorers)
    gold = {p.pair_id: p.gold_label for p in a.pairs}
    left: dict[tuple[str, str, int, int], Any] = {}
    for c in a.iter_claims():
        if c.dataset in want and c.scorer in smap:
            left[(c.pair_id, smap[c.scorer], c.start, c.end)] = c
    flips: list[Flip] = []
    n = 0
    for c in b.iter_claims():
        ca = left.get((c.pair_id, c.scorer, c.start, c.end))
        if ca is None or c.dataset not in want:
            continue
        n += 1
        if ca.label != c.label:
            name = c.scorer if ca.scorer == c.scorer else f"{ca.scorer}→{c.scorer}"
            flips.append(Flip(dataset=c.dataset, pair_id=c.pair_id, scorer=name, claim_index=c.claim_index,
                              text=c.text, label_a=ca.label, label_b=c.label, score_a=ca.score, score_b=c.score,
                              gold=gold.get(c.pair_id)))
    return flips, n


def _scorer_pairs(a: Run, b: Run, wanted: Sequence[str] | None) -> list[tuple[str, str]]:
    def names(r: Run) -> list[str]:
        seen: dict[str, None] = {}
        for p in r.pairs[:50]:
            for k in p.scores:
                seen.setdefault(k, None)
        return list(seen) or [s.name for s in r.record.scorers]

    na, nb = names(a), names(b)
    if wanted:
        out = []
        for w in wanted:
            x, _, y = w.partition("=")
            y = y or x
            if x not in na:
                raise RunError(f"{a.path}: has no scorer {x!r} (has {', '.join(na)})")
            if y not in nb:
                raise RunError(f"{b.path}: has no scorer {y!r} (has {', '.join(nb)})")
            out.append((x, y))
        return out
    common = [s for s in na if s in nb]
    if common:
        return [(s, s) for s in common]
    ua = [s for s in na if s != "combined"]
    ub = [s for s in nb if s != "combined"]
    if len(ua) == 1 and len(ub) == 1:
        return [(ua[0], ub[0])]
    raise RunError(f"{a.path} and {b.path} share no scorer name; pass --scorer NAME_A=NAME_B")


def compare_runs(
    a: Run, b: Run, *, datasets: Sequence[str] | None = None, scorers: Sequence[str] | None = None,
    n_boot: int = 1000, seed: int = 0,
) -> Comparison:
    names = check_same_inputs(a, b, datasets)
    sp = _scorer_pairs(a, b, scorers)
    cmp = Comparison(run_a=a.run_id, run_b=b.run_id)
    cmp.rows = compare_pair_metrics(a, b, names, sp, n_boot=n_boot, seed=seed)
    cmp.flips, cmp.n_claims_compared = find_flips(a, b, names, sp)
    return cmp


# ----------------------------------------------------------------------------------------- printing


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _verdict(r: MetricDelta, alpha: float) -> str:
    if r.delta is None or r.p is None:
        return ""
    if r.delta == 0 or r.p >= alpha:
        return "[dim]n.s.[/dim]"
    better_b = (r.delta > 0) == (r.metric in HIGHER_IS_BETTER)
    return "[green]B better[/green]" if better_b else "[red]A better[/red]"


def print_comparison(console: Console, a: Run, b: Run, cmp: Comparison, *, alpha: float = 0.05,
                     max_flips: int = 20) -> None:
    # run ids, names, models, datasets, scorers, pair ids and claims are data: cell()/line() show them as text
    console.print(line("[bold]A[/bold] {}  ({}; {})", a.run_id, a.record.name, ", ".join(a.models()) or "no models"))
    console.print(line("[bold]B[/bold] {}  ({}; {})", b.run_id, b.record.name, ", ".join(b.models()) or "no models"))
    for ds in dict.fromkeys(r.dataset for r in cmp.rows):
        t = Table(title=cell(f"{ds}: B − A (paired bootstrap, two-sided)"), title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("scorer", "metric", "n", "A", "B", "Δ", "95% CI of Δ", "p", ""):
            t.add_column(col, justify="right" if col in {"n", "A", "B", "Δ", "p"} else "left",
                         no_wrap=col != "scorer",
                         min_width=min(16, max(len(r.scorer) for r in cmp.rows)) if col == "scorer" else None)
        for r in (x for x in cmp.rows if x.dataset == ds):
            ci = f"{r.delta_ci[0]:+.3f}…{r.delta_ci[1]:+.3f}" if r.delta_ci else "—"
            delta = "—" if r.delta is None else f"{r.delta:+.3f}"
            t.add_row(cell(r.scorer), cell(SHORT.get(r.metric, r.metric)), str(r.n), _f(r.a), _f(r.b), delta, ci,
                      _p(r.p), _verdict(r, alpha) or cell(r.note or ""))
        console.print(t)
    sig = [r for r in cmp.rows if r.p is not None and r.p < alpha and r.delta]
    wins_b = sum((r.delta or 0) > 0 for r in sig)
    console.print(f"[bold]verdict:[/bold] {len(sig)} of {sum(r.p is not None for r in cmp.rows)} metric "
                  f"differences significant at p<{alpha:g}: B better on {wins_b}, A better on {len(sig) - wins_b}")
    macro = _macro_lines(a, b, cmp)
    if macro:
        console.print(line("[bold]macro ROC-AUC[/bold] (stored per run): {}", "; ".join(macro)))
    console.print(f"[bold]{len(cmp.flips)}[/bold] of {cmp.n_claims_compared} claims changed label")
    if cmp.flips:
        t = Table(title=f"claims whose label flipped (first {min(max_flips, len(cmp.flips))})",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("dataset", "pair", "scorer", "gold", "A", "B", "claim"):
            t.add_column(col, overflow="fold")
        for f in cmp.flips[:max_flips]:
            gold = "—" if f.gold is None else f"{f.gold:g}"
            t.add_row(*(cell(v) for v in (f.dataset, f.pair_id, f.scorer, gold, f"{f.label_a} ({_f(f.score_a, 2)})",
                                          f"{f.label_b} ({_f(f.score_b, 2)})", f.text)))
        console.print(t)


def _macro_lines(a: Run, b: Run, cmp: Comparison) -> list[str]:
    out = []
    for sc in dict.fromkeys(r.scorer for r in cmp.rows):
        sa, _, sb = sc.partition("→")
        va = a.record.metrics.get(MACRO, {}).get(sa, {}).get("roc_auc")
        vb = b.record.metrics.get(MACRO, {}).get(sb or sa, {}).get("roc_auc")
        if va is not None and vb is not None:
            out.append(f"{sc}: A {va:.3f} / B {vb:.3f} ({vb - va:+.3f})")
    return out


# ------------------------------------------------------------------------------------------ leaderboard

BOARD_METRICS = ("roc_auc", "balanced_accuracy@tuned", "balanced_accuracy@0.5", "twin_wins")


@dataclass(frozen=True)
class BoardCell:
    value: float | None
    ci: list[float] | None
    n: int
    note: str | None = None


@dataclass
class Leaderboard:
    """Checkers as rows, datasets as columns: one metric with its 95% percentile-bootstrap interval per cell."""

    metric: str
    datasets: list[str]
    rows: list[tuple[str, dict[str, BoardCell]]] = field(default_factory=list)

    def mean(self, cells: dict[str, BoardCell]) -> float | None:
        vals = [c.value for c in cells.values() if c.value is not None]
        return sum(vals) / len(vals) if vals and len(vals) == len(self.datasets) else None

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "datasets": self.datasets,
                "rows": [{"scorer": name, "mean": self.mean(cells),
                          "cells": {d: asdict(c) for d, c in cells.items()}} for name, cells in self.rows]}


def _board_cell(run: Run, pairs: list[PairRow], dataset: str, scorer: str, metric: str, n_boot: int,
                seed: int) -> BoardCell:
    kept: list[tuple[float, float, str | None]] = []
    for p in pairs:
        r = p.scores.get(scorer)
        if p.gold_label is not None and r is not None and r.score is not None:
            kept.append((float(p.gold_label), float(r.score), p.group))
    if not kept:
        return BoardCell(None, None, 0, "no labelled pairs scored")
    gold = np.asarray([g for g, _, _ in kept])
    x = np.asarray([v for _, v, _ in kept])
    y = M.binarize(gold)
    n = len(y)
    stat: M.RowStat
    if metric == "twin_wins":
        stat, n = M.twin_rows([g for _, _, g in kept], y, x)
        if not n:
            return BoardCell(None, None, 0, "no minimal pairs")
    elif len(set(y.tolist())) < 2:
        return BoardCell(None, None, n, "single class")
    elif metric == "roc_auc":
        stat = M.auc_rows(y, x)
    else:
        t = 0.5 if metric == "balanced_accuracy@0.5" else _threshold(run, dataset, scorer)
        if t is None:
            return BoardCell(None, None, n, "no tuned threshold")
        stat = M.balanced_accuracy_rows(y, x, t)
    value = float(stat(np.arange(n)[None, :])[0])
    if not np.isfinite(value):
        return BoardCell(None, None, n, "undefined")
    return BoardCell(value, M.bootstrap_ci(stat, n, n_boot=n_boot, seed=seed), n)


def leaderboard(runs: Sequence[Run], *, metric: str = "roc_auc", datasets: Sequence[str] | None = None,
                n_boot: int = 1000, seed: int = 0) -> Leaderboard:
    """Every scorer of every run (``combined`` included) on every dataset; with several runs a row is
    ``run-id:scorer``. Rows are sorted by the mean over datasets (rows missing a dataset last)."""
    if metric not in BOARD_METRICS:
        raise RunError(f"leaderboard metric must be one of {', '.join(BOARD_METRICS)}; got {metric!r}")
    names: list[str] = list(datasets or [])
    if not names:
        for r in runs:
            for d in [x.name for x in r.record.datasets] or [p.dataset for p in r.pairs]:
                if d not in names:
                    names.append(d)
    board = Leaderboard(metric=metric, datasets=names)
    for run in runs:
        by_ds: dict[str, list[PairRow]] = {}
        for p in run.pairs:
            by_ds.setdefault(p.dataset, []).append(p)
        scorers: dict[str, None] = {}
        for p in run.pairs:
            for k in p.scores:
                scorers.setdefault(k, None)
        for sc in scorers:
            label = sc if len(runs) == 1 else f"{run.run_id}:{sc}"
            board.rows.append((label, {d: _board_cell(run, by_ds.get(d, []), d, sc, metric, n_boot, seed)
                                       for d in names}))
    board.rows.sort(key=lambda row: (board.mean(row[1]) is None, -(board.mean(row[1]) or 0.0)))
    return board


def print_leaderboard(console: Console, board: Leaderboard) -> None:
    t = Table(title=f"{SHORT.get(board.metric, board.metric)} by dataset (95% bootstrap CI)", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("#", justify="right")
    t.add_column("scorer", no_wrap=True)
    for d in board.datasets:
        t.add_column(cell(d), justify="right", no_wrap=True)
    t.add_column("mean", justify="right")
    for i, (name, cells) in enumerate(board.rows, 1):
        out: list[str | Text] = []
        for d in board.datasets:
            c = cells[d]
            if c.value is None:
                out.append(line("[dim]— ({})[/dim]", c.note) if c.note else "—")
            else:
                ci = f" [dim][{c.ci[0]:.3f}, {c.ci[1]:.3f}][/dim]" if c.ci else ""
                out.append(f"{c.value:.3f}{ci}")
        m = board.mean(cells)
        t.add_row(str(i), cell(name), *out, _f(m))
    console.print(t)
    counts = {d: max((c[d].n for _, c in board.rows), default=0) for d in board.datasets}
    what = "labelled pairs, minimal pairs" if board.metric == "twin_wins" else "labelled pairs"
    console.print(line("[dim]n ({}): {}[/dim]", what, ", ".join(f"{d} {n}" for d, n in counts.items())))


def main(argv: Sequence[str] | None = None) -> int:
    ap = cli.OneLineParser(prog="harness compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN", help="run folders or run ids (under --results); "
                    "the first is the baseline A, each other run is compared with it")
    ap.add_argument("--results", default="results", help="folder holding run folders (default: results)")
    ap.add_argument("--dataset", action="append", help="compare only this dataset (repeatable)")
    ap.add_argument("--scorer", action="append", help="NAME or NAME_A=NAME_B (repeatable; default: shared names)")
    ap.add_argument("--n-boot", type=cli.at_least(1), default=1000, help="bootstrap resamples (default 1000)")
    ap.add_argument("--seed", type=cli.at_least(0), default=0)
    ap.add_argument("--alpha", type=cli.fraction, default=0.05, help="significance level for the verdict column")
    ap.add_argument("--max-flips", type=cli.at_least(0), default=20, help="flipped claims to list (default 20)")
    ap.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    ap.add_argument("--leaderboard", action="store_true",
                    help="one table of every scorer of the given runs (rows) by dataset (columns), with CIs; "
                         "the default for a single run")
    ap.add_argument("--metric", default="roc_auc", choices=BOARD_METRICS, help="leaderboard metric (default AUC)")
    console = Console()
    try:
        args = ap.parse_args(list(argv) if argv is not None else None)
        if args.json:  # before any work: a comparison is not computed only to fail on its file
            cli.check_output_file(Path(args.json), "--json")
        runs = [load_run(resolve_run(r, args.results)) for r in args.runs]
        if args.leaderboard or len(runs) == 1:
            known = {d.name for r in runs for d in r.record.datasets} | {p.dataset for r in runs for p in r.pairs}
            for d in args.dataset or []:
                if d not in known:
                    raise RunError(f"no dataset {d!r} in {', '.join(str(r.path) for r in runs)}")
            board = leaderboard(runs, metric=args.metric, datasets=args.dataset, n_boot=args.n_boot, seed=args.seed)
            print_leaderboard(console, board)
            if args.json:
                cli.write_output_file(Path(args.json), json.dumps(board.to_json(), indent=1), "--json")
            return 0
        results = []
        for other in runs[1:]:
            cmp = compare_runs(runs[0], other, datasets=args.dataset, scorers=args.scorer,
                               n_boot=args.n_boot, seed=args.seed)
            print_comparison(console, runs[0], other, cmp, alpha=args.alpha, max_flips=args.max_flips)
            results.append(cmp.to_json())
        if args.json:
            out = results[0] if len(results) == 1 else results
            cli.write_output_file(Path(args.json), json.dumps(out, indent=1), "--json")
    except (RunError, cli.UsageError) as e:
        cli.print_error("[red]error:[/red]", e)
        return 2
    except Exception as e:  # a bug or I/O failure: one line, not a traceback
        cli.print_error("[red]compare failed:[/red]", f"{type(e).__name__}: {e}")
        return 1
    return 0
