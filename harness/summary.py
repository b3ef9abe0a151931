"""The terminal summary of a run (rich): warnings first, then per-claim verdicts, reasons and metrics.

Everything taken from the run (ids, claim and evidence text, dataset, scorer and model names, warnings, the
folder) goes through :mod:`harness.textsafe`: markup is shown literally, control characters as escapes."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.textsafe import cell, line

__all__ = ["print_summary"]

_STYLE = {"supported": "green", "contradicted": "red", "unsupported": "yellow", "not_checkable": "dim"}


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _score_cell(row: Any) -> Text:
    if row is None:
        return Text("—")
    if row.score is None and row.detail.get("unverified_score") is not None:
        return Text(f"({row.detail['unverified_score']:.2f}?)", style="dim")
    return cell(_fmt(row.score))


def print_summary(result: Any, console: Console | None = None, *, max_claims: int = 60) -> None:
    console = console or Console()
    rec = result.record
    for w in rec.warnings:
        console.print(line("[bold red]WARNING[/] {}", w))

    scorer_names = [s.name for s in rec.scorers]
    # per-claim table (first scorer is the primary one; others shown as extra score columns)
    if max_claims > 0 and result.claims:
        by_key: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
        for c in result.claims:
            by_key[(c.pair_id, c.claim_index)][c.scorer] = c
        total = rec.counts.get("claims", len(by_key))  # result.claims holds only the first rows of a big run
        t = Table(title=f"claims ({min(max_claims, len(by_key))} of {total})", show_lines=False)
        one_pair = len({pid for pid, _ in by_key}) == 1
        if not one_pair:
            t.add_column("pair", overflow="fold", max_width=14)
        t.add_column("#", justify="right")
        t.add_column("claim", max_width=60)
        for name in scorer_names:
            t.add_column(cell(name), justify="right")
        t.add_column("label / reason", max_width=36)
        t.add_column("evidence (source)", max_width=34)
        off_topic_block: list[int] = []
        for n, ((pid, idx), per) in enumerate(by_key.items()):
            if n >= max_claims:
                break
            primary = per[scorer_names[0]]
            if primary.reason == "off_topic":
                off_topic_block.append(idx)
            style = _STYLE.get(primary.label, "")
            t.add_row(
                *([] if one_pair else [cell(_short(pid, 14))]), str(idx), cell(_short(primary.text, 60)),
                *[_score_cell(per.get(s)) for s in scorer_names],
                Text.assemble(cell(primary.label, style), " / ", cell(primary.reason)),
                cell(_short(primary.evidence.text, 34)) if primary.evidence else "",
            )
        console.print(t)
        if any(c.detail.get("unverified_score") is not None for c in result.claims):
            console.print("[dim](0.12?) = unverified: the scorer does not support this pair's languages; "
                          "not counted in any score[/]")
        if off_topic_block:
            console.print(f"[yellow]off-topic block[/]: claims {off_topic_block[0]}–{off_topic_block[-1]} "
                          "look unrelated to the source (appended content)")

    # reasons, grouped
    for name, counts in rec.reasons.items():
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        console.print(line("[bold]{}[/] claims by reason — {}", name, parts))

    # per dataset
    t = Table(title="pairs")
    t.add_column("dataset")
    t.add_column("pairs", justify="right")
    names = list(result.pairs[0].scores) if result.pairs else []
    for name in names:
        t.add_column(cell(f"{name} mean"), justify="right")
        t.add_column(cell(f"{name} labels"))
    by_ds: dict[str, list[Any]] = defaultdict(list)
    for p in result.pairs:
        by_ds[p.dataset].append(p)
    for ds, rows in by_ds.items():
        cells = [cell(ds), cell(len(rows))]
        for name in names:
            vals = [r.scores[name].score for r in rows if r.scores[name].score is not None]
            cells.append(cell(_fmt(sum(vals) / len(vals)) if vals else "—"))
            labels = Counter(r.scores[name].label for r in rows)
            cells.append(cell(" ".join(f"{k}:{v}" for k, v in labels.most_common())))
        t.add_row(*cells)
    console.print(t)

    if rec.metrics:
        m = Table(title="meta-evaluation (gold labels)")
        for col in ("dataset", "scorer", "n", "ROC-AUC", "bal.acc@tuned", "threshold", "twin wins"):
            m.add_column(col)
        for ds, per in rec.metrics.items():
            if not isinstance(per, dict):
                continue
            for scorer, vals in per.items():
                if not isinstance(vals, dict):
                    continue
                m.add_row(*(cell(v) for v in (ds, scorer, _fmt(vals.get("n")), _fmt(vals.get("roc_auc")),
                                              _fmt(vals.get("balanced_accuracy@tuned")), _fmt(vals.get("threshold")),
                                              _fmt(vals.get("twin_wins")))))
        console.print(m)
    e = rec.engine
    console.print(cell(
        f"{rec.counts.get('pairs', 0)} pairs, {rec.counts.get('claims', 0)} claims, "
        f"{e.get('inputs', 0)} model inputs ({e.get('unique', 0)} unique, {e.get('cache_hits', 0)} cached), "
        f"{rec.device}/{rec.dtype}, {rec.timings.get('total', 0):.1f}s", "dim"))
    if result.folder is not None:
        console.print(line("results: [bold]{}[/]", result.folder))
