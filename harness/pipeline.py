"""One run, end to end: config -> data -> segmentation -> checks -> engine/scorers -> aggregation -> results."""

from __future__ import annotations

import datetime as _dt
import platform
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import __version__
from harness.aggregate import aggregate_pair, claims_for_pair, combine_pair_scores, mark_unverified
from harness.config import NLIScorerConfig, RunConfig, config_hash
from harness.data import load_pairs
from harness.engine import Engine
from harness.engine.progress import progress
from harness.results.preflight import check_output_locations
from harness.results.schema import (
    ClaimRow,
    DatasetInfo,
    EvidenceRow,
    PairRow,
    PairScoreRow,
    RunRecord,
    ScorerInfo,
)
from harness.results.writer import git_info, package_versions, write_run
from harness.scorers.base import Scorer, ScorerContext, build_scorer
from harness.types import ClaimScore, PairScore, SegmentedPair, content_hash

__all__ = ["RunResult", "run"]

CLAIM_RESERVE_TOKENS = 96
"""Tokens kept free for the claim (and special tokens) when sizing premise units to the model window
(at most a quarter of the window, so small windows still get useful premises)."""


@dataclass
class RunResult:
    record: RunRecord
    folder: Path | None
    pairs: list[PairRow]
    claims: list[ClaimRow]
    segmented: list[SegmentedPair] = field(default_factory=list)


def _resolve_runtime(cfg: RunConfig) -> tuple[str, str]:
    from harness.engine.device import dtype_name, resolve_device, resolve_dtype, set_threads

    set_threads(cfg.runtime.threads)
    device = resolve_device(cfg.runtime.device)
    dtype = resolve_dtype(cfg.runtime.dtype, device)
    return str(device), dtype_name(dtype)


def _claim_row(c: ClaimScore, dataset: str) -> ClaimRow:
    ev = c.evidence
    return ClaimRow(
        pair_id=c.pair_id, dataset=dataset, scorer=c.scorer, claim_index=c.claim_index, text=c.text,
        start=c.start, end=c.end, score=c.score, label=c.label, reason=c.reason, probs=c.probs,
        evidence=None if ev is None else EvidenceRow(text=ev.text, start=ev.start, end=ev.end,
                                                     premise_index=ev.premise_index),
        detail=c.detail,
    )


def _score_row(p: PairScore) -> PairScoreRow:
    return PairScoreRow(score=p.score, label=p.label, n_claims=p.n_claims, n_checkable=p.n_checkable,
                        counts=p.counts)


def _premise_budget(cfg: RunConfig, scorers: list[Scorer]) -> tuple[int | None, Any]:
    """Premise units must fit the tightest NLI model window (minus room for the claim)."""
    best: tuple[int | None, Any] = (None, None)
    for sc_cfg, sc in zip(cfg.scorers, scorers, strict=True):
        if isinstance(sc_cfg, NLIScorerConfig) and hasattr(sc, "count_tokens"):
            window = sc_cfg.model.max_length
            limit = max(16, window - min(CLAIM_RESERVE_TOKENS, window // 4))
            if best[0] is None or limit < best[0]:
                best = (limit, sc.count_tokens)
    return best


def _quote_entailer(scorers: list[Scorer], engine: Engine) -> Any:
    """Cross-lingual quotes are checked by NLI only with a model that declares several languages."""
    for s in scorers:
        langs = s.languages()
        if hasattr(s, "entail") and langs is not None and len(langs) > 1:
            return lambda items: s.entail(items, engine)
    return None


def _language_gap(sp: SegmentedPair, s: Scorer, cfg: RunConfig) -> str | None:
    """Why scorer ``s`` cannot judge this pair's languages (None = it can)."""
    if not cfg.checks.language:
        return None
    langs = {sp.source_lang, sp.rewrite_lang} - {"und"}
    cross = len(langs) == 2
    declared = s.languages()
    if declared is not None and not langs <= declared:
        return "cross_lingual_unscored" if cross else "language_unscored"
    if cross and not getattr(s, "cross_lingual", True):
        return "cross_lingual_unscored"
    return None


def _language_warnings(
    segmented: list[SegmentedPair], scorers: list[Scorer], gaps: dict[str, dict[str, str]]
) -> list[str]:
    out = []
    by_id = {sp.pair.id: sp for sp in segmented}
    for s in scorers:
        if not gaps[s.name]:
            continue
        combos = Counter(f"{by_id[p].source_lang}->{by_id[p].rewrite_lang}" for p in gaps[s.name])
        which = ", ".join(f"{k}: {v}" for k, v in sorted(combos.items()))
        declared = s.languages()
        langs = ", ".join(sorted(declared)) if declared else "same-language pairs only"
        out.append(
            f"LANGUAGE: {s.name} supports {langs}; {len(gaps[s.name])} of {len(segmented)} pairs ({which}) are "
            f"outside that, so their claims are marked {'/'.join(sorted(set(gaps[s.name].values())))} and their "
            f"scores are NOT counted (shown as unverified). Use a multilingual model: configs/multilingual.yaml"
        )
    return out


def run(cfg: RunConfig, *, write: bool = True, thresholds_from: dict[str, Any] | None = None,
        console: Any = None) -> RunResult:
    t0 = time.perf_counter()
    check_output_locations(cfg.output_dir if write else None, cfg.runtime.cache)  # before any model work
    timings: dict[str, float] = {}
    warnings: list[str] = []
    random.seed(cfg.runtime.seed)
    created = _dt.datetime.now(_dt.UTC)

    # data
    datasets: list[DatasetInfo] = []
    pairs = []
    for dcfg in cfg.data:
        loaded, origin = load_pairs(dcfg)
        pairs.extend(loaded)
        datasets.append(DatasetInfo(
            name=dcfg.name, role=dcfg.role, source=origin, n_pairs=len(loaded),
            labelled=sum(p.label is not None for p in loaded),
            inputs_hash=content_hash(*(p.content_hash for p in loaded)),
        ))
    timings["load_data"] = time.perf_counter() - t0

    # models
    t = time.perf_counter()
    device, dtype = _resolve_runtime(cfg)
    try:
        import torch

        torch.manual_seed(cfg.runtime.seed)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    ctx = ScorerContext(device=device, dtype=dtype)
    scorers = [build_scorer(s, ctx) for s in cfg.scorers]
    timings["load_models"] = time.perf_counter() - t

    cache = None
    if cfg.runtime.cache:
        from harness.engine.cache import OutputCache

        cache = OutputCache(Path(cfg.runtime.cache))
    engine = Engine(cfg.runtime.token_budget, cache=cache, progress=cfg.runtime.progress)

    # segmentation + checks
    t = time.perf_counter()
    from harness.segment import segment_pair

    max_tokens, count_tokens = _premise_budget(cfg, scorers)
    with progress(len(pairs), "segment", enabled=cfg.runtime.progress) as advance:
        segmented = []
        for p in pairs:
            segmented.append(segment_pair(p, cfg.segmentation, max_premise_tokens=max_tokens,
                                          count_tokens=count_tokens))
            advance(1)
    timings["segment"] = time.perf_counter() - t
    t = time.perf_counter()
    from harness.checks import run_checks

    with progress(len(segmented), "checks", enabled=cfg.runtime.progress) as advance:
        done = [0]

        def checked(n: int) -> None:  # run_checks reports how many pairs are done so far
            advance(n - done[0])
            done[0] = n

        segmented, check_warnings = run_checks(segmented, cfg.checks, entail_fn=_quote_entailer(scorers, engine),
                                               progress=checked)
    warnings.extend(check_warnings)
    unsupported = {s.name: {sp.pair.id: r for sp in segmented if (r := _language_gap(sp, s, cfg))} for s in scorers}
    warnings.extend(_language_warnings(segmented, scorers, unsupported))
    timings["checks"] = time.perf_counter() - t

    # scoring
    t = time.perf_counter()
    scored = {s.name: s.score(segmented, engine) for s in scorers}
    timings["score"] = time.perf_counter() - t
    for s in scorers:
        warnings.extend(getattr(s, "run_warnings", list)())
        truncated = getattr(s, "truncated", 0)
        if truncated:
            warnings.append(
                f"{s.name}: {truncated} claims met a premise window too long for the model (inputs truncated)"
            )

    # aggregation
    t = time.perf_counter()
    claim_rows: list[ClaimRow] = []
    pair_rows: list[PairRow] = []
    reasons: dict[str, Counter[str]] = {s.name: Counter() for s in scorers}
    for sp in segmented:
        scores: dict[str, PairScoreRow] = {}
        parts: list[tuple[PairScore, float]] = []
        for s, s_cfg in zip(scorers, cfg.scorers, strict=True):
            claims = claims_for_pair(sp, s.name, scored[s.name])
            gap = unsupported[s.name].get(sp.pair.id)
            if gap:
                claims = mark_unverified(claims, gap)
            reasons[s.name].update(c.reason for c in claims)
            claim_rows.extend(_claim_row(c, sp.pair.dataset) for c in claims)
            ps = aggregate_pair(sp.pair.id, s.name, claims, s_cfg.pair_aggregation)
            scores[s.name] = _score_row(ps)
            parts.append((ps, s_cfg.weight))
        if cfg.combine.enabled and len(scorers) > 1:
            scores[cfg.combine.name] = _score_row(
                combine_pair_scores(sp.pair.id, cfg.combine.name, parts, cfg.combine.threshold)
            )
        pair_warnings = [f"source has {sp.source_lang}, rewrite {sp.rewrite_lang}"] \
            if sp.source_lang != sp.rewrite_lang and "und" not in (sp.source_lang, sp.rewrite_lang) else []
        pair_rows.append(PairRow(
            pair_id=sp.pair.id, dataset=sp.pair.dataset, content_hash=sp.pair.content_hash,
            source=sp.pair.source, rewrite=sp.pair.rewrite,
            gold_label=sp.pair.label, group=sp.pair.group, source_lang=sp.source_lang,
            rewrite_lang=sp.rewrite_lang, coverage=round(sp.coverage, 6), warnings=pair_warnings, scores=scores,
        ))
    timings["aggregate"] = time.perf_counter() - t

    # meta-evaluation
    metrics: dict[str, Any] = {}
    thresholds: dict[str, Any] = {}
    if any(d.labelled for d in datasets):
        from harness.evaluation import evaluate_run

        metrics, thresholds = evaluate_run(pair_rows, datasets, thresholds=thresholds_from,
                                           seed=cfg.runtime.seed, claims=claim_rows)
    timings["total"] = time.perf_counter() - t0

    coverages = [sp.coverage for sp in segmented]
    record = RunRecord(
        run_id=f"{created:%Y%m%d-%H%M%S}-{cfg.name}-{config_hash(cfg)[:6]}",
        name=cfg.name, created=created.isoformat(timespec="seconds"), harness_version=__version__,
        git=git_info(), packages=package_versions(), python=platform.python_version(),
        config=cfg.model_dump(mode="json"), config_hash=config_hash(cfg), datasets=datasets,
        scorers=[ScorerInfo(name=s.name, type=s.type, models=s.models()) for s in scorers],
        device=device, dtype=dtype, timings={k: round(v, 3) for k, v in timings.items()},
        counts={
            "pairs": len(segmented),
            "claims": sum(len(sp.claims) for sp in segmented),
            "checkable_claims": sum(c.checkable for sp in segmented for c in sp.claims),
            "premises": sum(len(sp.premises) for sp in segmented),
            "claim_rows": len(claim_rows),
        },
        engine=engine.stats.as_dict(),
        coverage={"min": round(min(coverages), 6), "mean": round(sum(coverages) / len(coverages), 6)},
        languages=dict(Counter(f"{sp.source_lang}->{sp.rewrite_lang}" for sp in segmented)),
        warnings=warnings, reasons={k: dict(v) for k, v in reasons.items()},
        metrics=metrics, thresholds=thresholds,
    )
    folder = write_run(Path(cfg.output_dir), record, pair_rows, claim_rows) if write else None
    if cache is not None:
        cache.close()
    return RunResult(record, folder, pair_rows, claim_rows, segmented)
