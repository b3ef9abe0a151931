"""Render a run as one static, self-contained HTML page (inline CSS, JS and SVG; nothing fetched)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from harness.evaluation.meta import MACRO
from harness.report.assets import CSS, JS, LABEL_COLORS
from harness.report.plots import ScorerPlot
from harness.results.reader import Run
from harness.results.schema import ClaimRow, PairRow

__all__ = ["render_report", "rewrite_spans"]

_METRIC_COLS = [
    ("roc_auc", "ROC-AUC"),
    ("balanced_accuracy@0.5", "BA@0.5"),
    ("balanced_accuracy@tuned", "BA@tuned"),
    ("twin_wins", "twin wins"),
    ("pearson", "Pearson"),
    ("spearman", "Spearman"),
    ("kendall", "Kendall"),
]


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _label_css() -> str:
    return "\n".join(f".lab-{k} {{ background: {bg}; border-color: {bd}; }}" for k, (bg, bd) in LABEL_COLORS.items())


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return _e(v)


def _head(*cols: str) -> str:
    return "<tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>"


def _counts(per: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(per.items(), key=lambda x: -x[1]))


def _kv(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _meta_section(run: Run) -> str:
    r = run.record
    git = _e(r.git.commit or "—") + (" (dirty)" if r.git.dirty else "")
    head = _kv([
        ("run id", _e(r.run_id)), ("name", _e(r.name)), ("created", _e(r.created)),
        ("harness version", _e(r.harness_version)), ("git commit", git),
        ("config hash", f"<code>{_e(r.config_hash)}</code>"),
        ("device / dtype", f"{_e(r.device)} / {_e(r.dtype)}"), ("python", _e(r.python or "—")),
        ("timings (s)", _e(", ".join(f"{k} {v:.1f}" for k, v in r.timings.items()) or "—")),
        ("counts", _e(", ".join(f"{k} {v}" for k, v in r.counts.items()) or "—")),
        ("coverage", _e(", ".join(f"{k} {v:.3f}" for k, v in r.coverage.items()) or "—")),
        ("languages", _e(", ".join(f"{k}: {v}" for k, v in r.languages.items()) or "—")),
    ])
    ds_rows = "".join(
        f"<tr><td>{_e(d.name)}</td><td>{_e(d.role)}</td><td><code>{_e(d.source)}</code></td>"
        f'<td class="num">{d.n_pairs}</td><td class="num">{d.labelled}</td>'
        f"<td><code>{_e(d.inputs_hash)}</code></td></tr>"
        for d in r.datasets
    )
    sc_rows = "".join(
        f"<tr><td>{_e(s.name)}</td><td>{_e(s.type)}</td><td>{_e(m.role)}</td><td><code>{_e(m.id)}</code></td>"
        f"<td><code>{_e(m.revision or '—')}</code></td><td><code>{_e((m.weight_sha256 or '—')[:16])}</code></td>"
        f"<td>{_e(', '.join(m.languages) or '—')}</td></tr>"
        for s in r.scorers for m in s.models
    ) + "".join(f"<tr><td>{_e(s.name)}</td><td>{_e(s.type)}</td><td colspan=5>(no model)</td></tr>"
                for s in r.scorers if not s.models)
    thr = "".join(
        f"<tr><td>{_e(k)}</td><td class=num>{_fmt(v.get('value'))}</td><td>{_e(v.get('dataset', '—'))}</td>"
        f"<td>{_e(v.get('run', '') or v.get('note', ''))}</td></tr>"
        for k, v in r.thresholds.items() if isinstance(v, dict)
    )
    warns = "".join(f"<li class=warn>{_e(w)}</li>" for w in r.warnings)
    reasons = "".join(
        f"<tr><td>{_e(sc)}</td><td>{_e(_counts(per))}</td></tr>"
        for sc, per in r.reasons.items()
    )
    packages = _e(", ".join(f"{k} {v}" for k, v in sorted(r.packages.items())) or "—")
    return f"""
<section id="meta"><h2>Run metadata</h2>{head}
<h3>Datasets</h3><table>{_head("name", "role", "source", "pairs", "labelled", "inputs hash")}{ds_rows}</table>
<h3>Scorers and models</h3>
<table>{_head("scorer", "type", "role", "model", "revision", "weights sha256", "languages")}{sc_rows}</table>
{f'<h3>Thresholds</h3><table>{_head("scorer", "value", "tuned on", "from / note")}{thr}</table>' if thr else ''}
{f'<h3>Claims per reason</h3><table>{reasons}</table>' if reasons else ''}
{f'<h3>Warnings</h3><ul>{warns}</ul>' if warns else ''}
<details><summary>packages</summary><p class=muted>{packages}</p></details>
<details><summary>resolved config</summary><pre class="config">{_e(json.dumps(r.config, indent=2))}</pre></details>
</section>"""


def _metrics_section(run: Run) -> str:
    m = run.record.metrics
    if not m:
        return '<section id="metrics"><h2>Metrics</h2><p class=muted>No metrics (no gold labels).</p></section>'
    used = [(k, t) for k, t in _METRIC_COLS if any(isinstance(s, dict) and s.get(k) is not None
                                                   for per in m.values() if isinstance(per, dict)
                                                   for s in per.values())]
    head = "".join(f"<th>{_e(t)}</th>" for _, t in used)
    body = []
    for ds, per in m.items():
        if not isinstance(per, dict):
            continue
        for sc, vals in per.items():
            if not isinstance(vals, dict):
                continue
            cells = []
            for k, _ in used:
                v = vals.get(k)
                ci = vals.get(f"{k}_ci")
                extra = f' <span class="ci">[{ci[0]:.3f}, {ci[1]:.3f}]</span>' if ci else ""
                if k == "balanced_accuracy@tuned" and vals.get("threshold") is not None:
                    extra += f' <span class="ci">t={vals["threshold"]:.3f} from {_e(vals.get("threshold_from"))}</span>'
                cells.append(f"<td class=num>{_fmt(v)}{extra}</td>")
            notes = vals.get("notes") or {}
            note = "; ".join(f"{k}: {v}" for k, v in notes.items())
            n = vals.get("n", "")
            label = f"<b>{_e(ds)}</b>" if ds == MACRO else _e(ds)
            body.append(f"<tr><td>{label}</td><td>{_e(sc)}</td><td class=num>{_e(n)}</td>{''.join(cells)}"
                        f"<td class=muted>{_e(note)}</td></tr>")
    return (f'<section id="metrics"><h2>Metrics against human labels</h2>'
            f"<p class=muted>95 % bootstrap intervals in brackets. BA = balanced accuracy; "
            f"“tuned” uses the threshold tuned on the dev dataset named after “from”.</p>"
            f"<table><tr><th>dataset</th><th>scorer</th><th>n</th>{head}<th>notes</th></tr>{''.join(body)}</table>"
            f"</section>")


def _plots_section(plots: Sequence[ScorerPlot]) -> str:
    figs = "".join(
        f'<figure class="plot" data-scorer="{_e(p.scorer)}">{p.svg}<figcaption>{_e(p.scorer)}: ROC curve per '
        f"dataset (left) and pair-score histogram by gold label (right)."
        f"{' ' + _e('; '.join(p.notes)) if p.notes else ''}</figcaption></figure>"
        for p in plots
    )
    body = figs or "<p class=muted>No scores.</p>"
    return f'<section id="plots"><h2>ROC curves and score histograms</h2>{body}</section>'


def rewrite_spans(rewrite: str | None, claims: Sequence[ClaimRow]) -> tuple[str, list[tuple[str, ClaimRow | None]]]:
    """Cut the rewrite into (text, claim-or-None) runs for highlighting. Without a stored rewrite, the
    text is rebuilt from the claims' offsets (gaps become spaces)."""
    ordered = sorted(claims, key=lambda c: (c.start, c.end))
    if rewrite is None:
        size = max((c.end for c in ordered), default=0)
        chars = [" "] * size
        for c in ordered:
            chars[c.start:c.end] = list(c.text[: c.end - c.start].ljust(c.end - c.start))
        rewrite = "".join(chars)
    out: list[tuple[str, ClaimRow | None]] = []
    pos = 0
    for c in ordered:
        if c.start < pos or c.end > len(rewrite):  # overlapping or out of range: keep the first one
            continue
        if c.start > pos:
            out.append((rewrite[pos:c.start], None))
        out.append((rewrite[c.start:c.end], c))
        pos = c.end
    if pos < len(rewrite):
        out.append((rewrite[pos:], None))
    return rewrite, out


def _claim_span(text: str, c: ClaimRow) -> str:
    info: dict[str, Any] = {"label": c.label, "score": c.score, "reason": c.reason, "probs": c.probs,
                            "detail": c.detail}
    if c.evidence is not None:
        info["ev"] = {"start": c.evidence.start, "end": c.evidence.end, "text": c.evidence.text}
    score = "—" if c.score is None else f"{c.score:.3f}"
    title = f"{c.label} · score {score} · {c.reason}"
    if c.evidence is not None:
        ev = c.evidence.text if len(c.evidence.text) <= 240 else c.evidence.text[:237] + "…"
        title += f"\nevidence: “{ev}”"
    gold = "" if c.gold_label is None else f' data-gold="{c.gold_label:g}"'
    return (f'<span class="claim lab-{_e(c.label)}" tabindex="0" data-i="{c.claim_index}" data-label="{_e(c.label)}"'
            f'{gold} title="{_e(title)}" data-info="{_e(json.dumps(info))}">{_e(text)}</span>')


def _pair_article(p: PairRow, claims: dict[str, list[ClaimRow]], scorers: Sequence[str], active: str) -> str:
    chips = []
    if p.gold_label is not None:
        chips.append(f'<span class="chip">gold {p.gold_label:g}</span>')
    if p.group is not None:
        chips.append(f'<span class="chip">group {_e(p.group)}</span>')
    for sc, row in p.scores.items():
        chips.append(f'<span class="chip lab-{_e(row.label)}" title="{_e(row.counts)}">{_e(sc)}: '
                     f"{_fmt(row.score)} {_e(row.label)}</span>")
    if p.coverage < 1.0:
        chips.append(f'<span class="chip warn">source coverage {p.coverage:.2f}</span>')
    chips += [f'<span class="chip warn">{_e(w)}</span>' for w in p.warnings]
    blocks = []
    for sc in scorers:
        rows = claims.get(sc, [])
        if not rows and sc not in p.scores:
            continue
        _, runs = rewrite_spans(p.rewrite, rows)
        inner = "".join(_e(t) if c is None else _claim_span(t, c) for t, c in runs)
        if not rows:
            inner = _e(p.rewrite or "") + '<span class="muted"> (no claim rows for this scorer)</span>'
        hidden = "" if sc == active else " hidden"
        blocks.append(f'<div class="rewrite" data-scorer="{_e(sc)}"{hidden}>{inner}</div>')
    if p.source is not None:
        source = (f'<details><summary>source ({len(p.source)} characters; click a claim to mark its evidence)'
                  f'</summary><div class="source" data-full="1">{_e(p.source)}</div></details>')
    else:
        source = '<p class="muted">Source text not stored in this run; evidence spans are shown on click.</p>'
    gold = "" if p.gold_label is None else f"{p.gold_label:g}"
    return (f'<article class="pair" id="pair-{_e(p.pair_id)}" data-dataset="{_e(p.dataset)}" data-gold="{gold}">'
            f'<h3>{_e(p.pair_id)} <span class="muted">· {_e(p.dataset)} · '
            f"{_e(p.source_lang)}→{_e(p.rewrite_lang)}</span></h3>"
            f'<div class="chips">{"".join(chips)}</div>{"".join(blocks)}'
            f'<div class="detail" hidden></div>{source}</article>')


def _legend() -> str:
    items = "".join(f'<span class="claim lab-{k}">{k.replace("_", " ")}</span>' for k in LABEL_COLORS)
    return (f'<div class="legend"><b>Legend</b>{items}<span class="muted">hover a claim for its score and '
            f"evidence; click it to mark the evidence in the source</span></div>")


def render_report(
    run: Run, plots: Sequence[ScorerPlot], pairs: Sequence[PairRow], claims: dict[str, dict[str, list[ClaimRow]]],
    scorers: Sequence[str], *, total_pairs: int,
) -> str:
    """The whole page. ``claims`` is {pair_id: {scorer: [rows]}} for the pairs shown."""
    active = next((s for s in scorers if s != "combined"), scorers[0] if scorers else "")
    claim_scorers = [s for s in scorers if any(s in c for c in claims.values())] or list(scorers)
    active = active if active in claim_scorers else (claim_scorers[0] if claim_scorers else "")
    datasets = list(dict.fromkeys(p.dataset for p in pairs))
    opt = lambda v, t, sel=False: f'<option value="{_e(v)}"{" selected" if sel else ""}>{_e(t)}</option>'  # noqa: E731
    controls = (
        '<div class="controls">'
        '<label>claims of <select id="f-scorer">'
        f'{"".join(opt(s, s, s == active) for s in claim_scorers)}</select></label>'
        f'<label>dataset <select id="f-dataset">{opt("", "all")}{"".join(opt(d, d) for d in datasets)}</select></label>'
        f'<label>gold <select id="f-gold">{opt("", "any")}{opt("1", "faithful (1)")}'
        f'{opt("0", "unfaithful (0)")}</select></label>'
        '<label><input type="checkbox" id="f-flagged"> only pairs with unsupported/contradicted claims</label>'
        '<label>search <input type="search" id="f-search" placeholder="text"></label>'
        f'<span class="muted"><span id="shown">{len(pairs)}</span> shown</span></div>'
    )
    shown_note = "" if len(pairs) == total_pairs else (
        f'<p class="muted">Showing {len(pairs)} of {total_pairs} pairs (use --max-pairs 0 for all).</p>')
    articles = "".join(_pair_article(p, claims.get(p.pair_id, {}), claim_scorers, active) for p in pairs)
    r = run.record
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness report — {_e(r.run_id)}</title><style>{CSS.replace("%LABEL_CSS%", _label_css())}</style></head>
<body data-scorer="{_e(active)}">
<header><h1>Faithfulness report: {_e(r.name)} <span class="muted">{_e(r.run_id)}</span></h1>
<p class="muted">harness {_e(r.harness_version)} · {_e(r.created)} · {len(r.datasets)} dataset(s) · scorers:
{_e(", ".join(s.name for s in r.scorers) or "—")}</p>{_legend()}</header>
{_metrics_section(run)}
{_plots_section(plots) if any(p.gold_label is not None for p in run.pairs) else ""}
<section id="pairs"><h2>Pairs</h2>{shown_note}{controls}{_legend()}{articles}</section>
{_meta_section(run)}
<script>{JS}</script>
</body></html>
"""
