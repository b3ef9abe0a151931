"""``python -m harness report RUN``: one static HTML file for a run.

Per-pair view with the rewrite's claims highlighted by label (hover: score and evidence; click: the
evidence marked in the source), ROC curves and score histograms per scorer as inline SVG, metrics and run
metadata. Nothing is fetched from the network: CSS, JS and plots are inline, so the file can be mailed or
attached to a CI run as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from harness import cli_support as cli
from harness.report.plots import scorer_plots
from harness.report.render import render_report
from harness.results.reader import Run, RunError, load_run, resolve_run
from harness.results.schema import ClaimRow, PairRow
from harness.textsafe import line

__all__ = ["build_report", "main", "select_pairs"]


def select_pairs(pairs: Sequence[PairRow], max_pairs: int, dataset: str | None = None) -> list[PairRow]:
    """Up to ``max_pairs`` pairs (0 = all), split evenly across datasets so each one is represented."""
    chosen = [p for p in pairs if dataset is None or p.dataset == dataset]
    if max_pairs <= 0 or len(chosen) <= max_pairs:
        return chosen
    by_ds: dict[str, list[PairRow]] = {}
    for p in chosen:
        by_ds.setdefault(p.dataset, []).append(p)
    quota = max(1, max_pairs // len(by_ds))
    keep = {id(p) for rows in by_ds.values() for p in rows[:quota]}
    return [p for p in chosen if id(p) in keep][:max_pairs]


def _scorer_names(run: Run) -> list[str]:
    names: dict[str, None] = {}
    for p in run.pairs:
        names.update(dict.fromkeys(p.scores))
    for s in run.record.scorers:
        names.setdefault(s.name, None)
    return list(names)


def build_report(run: Run, out: Path, *, max_pairs: int = 300, dataset: str | None = None) -> Path:
    """Write the report for ``run`` to ``out`` (whole: a temp file beside it, then a rename) and return the path.
    Raises :class:`harness.cli_support.OutputFileError` when ``out`` cannot be written."""
    cli.check_output_file(out, "--out")  # before any work
    scorers = _scorer_names(run)
    thresholds = {k: (float(v["value"]) if isinstance(v, dict) and v.get("value") is not None else None)
                  for k, v in run.record.thresholds.items()}
    plots = scorer_plots(run.pairs if dataset is None else [p for p in run.pairs if p.dataset == dataset],
                         scorers, thresholds)
    shown = select_pairs(run.pairs, max_pairs, dataset)
    ids = {p.pair_id for p in shown}
    claims: dict[str, dict[str, list[ClaimRow]]] = {}
    for c in run.iter_claims():
        if c.pair_id in ids:
            claims.setdefault(c.pair_id, {}).setdefault(c.scorer, []).append(c)
    total = sum(1 for p in run.pairs if dataset is None or p.dataset == dataset)
    page = render_report(run, plots, shown, claims, scorers, total_pairs=total)
    cli.write_output_file(out, page, "--out")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = cli.OneLineParser(prog="harness report", description="Write a self-contained HTML report of a run.")
    ap.add_argument("run", metavar="RUN", help="run folder or run id (under --results)")
    ap.add_argument("--results", default="results", help="folder holding run folders (default: results)")
    ap.add_argument("--out", help="output file (default: RUN/report.html)")
    ap.add_argument("--max-pairs", type=cli.at_least(0), default=300, help="pairs to show (0 = all; default 300)")
    ap.add_argument("--dataset", help="only this dataset")
    console = Console()
    try:
        args = ap.parse_args(list(argv) if argv is not None else None)
        run = load_run(resolve_run(args.run, args.results))
        if args.dataset and args.dataset not in {d.name for d in run.record.datasets} | {p.dataset for p in run.pairs}:
            raise RunError(f"{run.path}: has no dataset {args.dataset!r}")
        out = Path(args.out) if args.out else run.path / "report.html"
        build_report(run, out, max_pairs=args.max_pairs, dataset=args.dataset)
    except (RunError, cli.UsageError) as e:
        cli.print_error("[red]error:[/red]", e)
        return 2
    except Exception as e:
        cli.print_error("[red]report failed:[/red]", f"{type(e).__name__}: {e}")
        return 1
    console.print(line("report written: {}", out.resolve().as_uri()), highlight=False, soft_wrap=True)
    return 0
