"""Inline CSS and JavaScript of the report (kept here so the HTML stays one self-contained file)."""

from __future__ import annotations

__all__ = ["CSS", "JS", "LABEL_COLORS"]

LABEL_COLORS = {
    "supported": ("#d3f2d3", "#2e7d32"),
    "contradicted": ("#ffd0d0", "#c62828"),
    "unsupported": ("#ffe7b0", "#b26a00"),
    "not_checkable": ("#ececec", "#8a8a8a"),
}
"""label -> (background, border)."""

CSS = """
:root { --fg:#1d1d1f; --muted:#666; --line:#ddd; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       margin: 0; background: var(--bg); }
header, section { max-width: 1200px; margin: 0 auto; padding: 12px 20px; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 18px; border-bottom: 1px solid var(--line);
       padding-bottom: 4px; } h3 { font-size: 15px; margin: 0 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; background: #fff; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted, .ci { color: var(--muted); font-size: 12px; }
.kv td:first-child { font-weight: 600; white-space: nowrap; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.config { max-height: 320px; overflow: auto; background: #fff; border: 1px solid var(--line); padding: 8px; }
figure.plot { background: #fff; border: 1px solid var(--line); margin: 10px 0; padding: 8px; }
figure.plot svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12px; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; align-items: center; margin: 6px 0; }
.legend .claim { cursor: default; }
.controls { position: sticky; top: 0; background: var(--bg); padding: 8px 0; z-index: 2;
            display: flex; gap: 12px; flex-wrap: wrap; align-items: center; border-bottom: 1px solid var(--line); }
.pair { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; padding: 10px 14px; }
.pair .chips { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 6px; }
.chip { font-size: 12px; border-radius: 10px; padding: 0 8px; border: 1px solid var(--line); background: #f6f6f6; }
.rewrite, .source { white-space: pre-wrap; overflow-wrap: anywhere; }
.rewrite { font-size: 15px; line-height: 1.9; }
.claim { border-radius: 3px; padding: 1px 0; border-bottom: 2px solid; cursor: pointer; }
.claim.active { outline: 2px solid #1565c0; outline-offset: 1px; }
%LABEL_CSS%
.detail { margin: 8px 0; padding: 8px 10px; border-left: 4px solid #1565c0; background: #f3f7fc; font-size: 13px; }
.detail .evtext { font-style: italic; }
.source { max-height: 260px; overflow: auto; background: #fcfcfc; border: 1px solid var(--line); padding: 8px;
          font-size: 13px; }
mark.evidence { background: #fff176; outline: 1px solid #c9a400; }
details > summary { cursor: pointer; color: #1565c0; }
.warn { color: #b26a00; }
"""

JS = """
(function () {
  const $ = (s, r) => (r || document).querySelector(s);
  const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text; return e; }

  function setScorer(name) {
    $$('.rewrite').forEach(r => { r.hidden = r.dataset.scorer !== name; });
    $$('.detail').forEach(d => { d.hidden = true; });
    applyFilters();
  }

  function applyFilters() {
    const ds = $('#f-dataset').value, gold = $('#f-gold').value, flagged = $('#f-flagged').checked;
    const q = $('#f-search').value.trim().toLowerCase(), sc = $('#f-scorer').value;
    let shown = 0;
    $$('.pair').forEach(p => {
      let ok = (!ds || p.dataset.dataset === ds) && (!gold || p.dataset.gold === gold);
      if (ok && flagged) ok = !!p.querySelector('.rewrite[data-scorer="' + CSS.escape(sc) +
                                              '"] .claim.lab-contradicted, .rewrite[data-scorer="' +
                                              CSS.escape(sc) + '"] .claim.lab-unsupported');
      if (ok && q) ok = p.textContent.toLowerCase().includes(q);
      p.hidden = !ok; if (ok) shown++;
    });
    $('#shown').textContent = shown;
  }

  function showClaim(c) {
    const pair = c.closest('.pair');
    $$('.claim.active', pair).forEach(x => x.classList.remove('active'));
    c.classList.add('active');
    const d = $('.detail', pair), data = JSON.parse(c.dataset.info);
    d.replaceChildren();
    const head = el('div');
    head.append(el('b', null, data.label), ' · score ', el('code', null, data.score === null ? '—' :
                data.score.toFixed(3)), ' · reason ', el('code', null, data.reason));
    d.append(head);
    if (data.probs && Object.keys(data.probs).length) {
      d.append(el('div', 'muted', 'probabilities: ' + Object.entries(data.probs)
        .map(([k, v]) => k + ' ' + Number(v).toFixed(3)).join(', ')));
    }
    const src = $('.source', pair);
    if (src && src._text === undefined) src._text = src.textContent;
    if (data.ev) {
      const ev = el('div'); ev.append('evidence (source chars ' + data.ev.start + '–' + data.ev.end + '): ',
                                      el('span', 'evtext', '“' + data.ev.text + '”'));
      d.append(ev);
      if (src && src.dataset.full === '1') {
        const t = src._text;
        const mark = el('mark', 'evidence', t.slice(data.ev.start, data.ev.end));
        src.replaceChildren(t.slice(0, data.ev.start), mark, t.slice(data.ev.end));
        const det = src.closest('details'); if (det) det.open = true;
        src.scrollTop = Math.max(0, mark.offsetTop - src.offsetTop - 40);
      }
    } else {
      d.append(el('div', 'muted', 'no evidence span (the claim was not matched to the source)'));
      if (src && src.dataset.full === '1') src.replaceChildren(src._text);
    }
    if (data.detail && Object.keys(data.detail).length)
      d.append(el('div', 'muted', 'detail: ' + JSON.stringify(data.detail)));
    d.hidden = false;
  }

  document.addEventListener('click', e => { const c = e.target.closest('.rewrite .claim'); if (c) showClaim(c); });
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && e.target.classList && e.target.classList.contains('claim')) showClaim(e.target);
  });
  ['#f-dataset', '#f-gold', '#f-flagged', '#f-search'].forEach(s => {
    const x = $(s); if (x) x.addEventListener('input', applyFilters); });
  const sel = $('#f-scorer'); if (sel) sel.addEventListener('input', () => setScorer(sel.value));
  // Deep link: report.html#claim=PAIR_ID:CLAIM_INDEX opens that claim's evidence.
  if (location.hash.startsWith('#claim=')) {
    const ref = decodeURIComponent(location.hash.slice(7)), cut = ref.lastIndexOf(':');
    const pair = document.getElementById('pair-' + ref.slice(0, cut));
    const c = pair && $('.rewrite:not([hidden]) .claim[data-i="' + ref.slice(cut + 1) + '"]', pair);
    if (c) { showClaim(c); c.scrollIntoView({block: 'center'}); }
  }
  document.body.dataset.js = 'ready';
})();
"""
