"""A run as pure functions over a block of pairs: segment -> check -> score -> aggregate -> rows.

No file I/O and no executor knowledge: the local executor calls :func:`score_block` block after block in
its own process, the Ray executor calls it inside an actor. What is built once per process (scorers, the
engine, the premise budget) lives in a :class:`StageContext`. A block's output is plain JSON data
(:class:`BlockOutput`), so it can cross a process boundary and be written by one writer.
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.aggregate import aggregate_pair, claims_for_pair, combine_pair_scores, mark_unverified
from harness.config import ConfigError, NLIScorerConfig, RunConfig
from harness.engine import Engine
from harness.results.schema import ClaimRow, EvidenceRow, PairRow, PairScoreRow, ScorerInfo
from harness.routing import Routes, known_languages, pair_unreadable, score_with_routes
from harness.scorers.base import Scorer, ScorerContext, build_scorer
from harness.types import ClaimScore, Pair, PairScore, SegmentedPair

__all__ = ["CLAIM_RESERVE_TOKENS", "BlockOutput", "StageContext", "build_context", "kept_export_folder",
           "language_warnings", "merge_stats", "score_block", "unreadable_warning"]

CLAIM_RESERVE_TOKENS = 96
"""Tokens kept free for the claim (and special tokens) when sizing premise units to the model window
(at most a quarter of the window, so small windows still get useful premises)."""


def _resolve_runtime(cfg: RunConfig, threads: int | None = None) -> tuple[str, str, str]:
    """Device, dtype name and pair-classifier backend (``runtime.backend: auto`` decided here)."""
    from harness.engine.device import dtype_name, resolve_backend, resolve_device, set_threads

    set_threads(cfg.runtime.threads or threads)
    device = resolve_device(cfg.runtime.device)
    try:
        backend, dtype = resolve_backend(cfg.runtime.backend, cfg.runtime.dtype, device)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return str(device), dtype_name(dtype), backend


def _seed(seed: int) -> None:
    """Seeded at the start of every block, so a block's result does not depend on which blocks a process
    ran before it (Ray actors each see a different subset)."""
    random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


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


class _Entailer:
    """(premise, hypothesis) pairs -> P(entail) from one scorer's model, with the languages it declares (the
    checks use it only for pairs in those languages)."""

    def __init__(self, scorer: Any, engine: Engine, languages: frozenset[str]) -> None:
        self.scorer, self.engine, self.languages = scorer, engine, languages

    def __call__(self, items: list[tuple[str, str]]) -> list[float]:
        out: list[float] = self.scorer.entail(items, self.engine)
        return out


def _quote_entailer(scorers: list[Scorer], engine: Engine) -> Any:
    """Cross-lingual quotes are checked by NLI only with a model that declares several languages."""
    for s in scorers:
        langs = s.languages()
        if hasattr(s, "entail") and langs is not None and len(langs) > 1:
            return _Entailer(s, engine, langs)
    return None


def _language_gaps(
    segmented: list[SegmentedPair], scorers: list[Scorer], gaps: dict[str, dict[str, str]]
) -> dict[str, dict[str, Any]]:
    """The part of a run's language warning that one block contributes: per scorer, the language combos
    of the pairs it cannot judge and the reasons given (summed over blocks by :func:`merge_stats`)."""
    by_id = {sp.pair.id: sp for sp in segmented}
    return {
        s.name: {
            "combos": dict(Counter(f"{by_id[p].source_lang}->{by_id[p].rewrite_lang}" for p in gaps[s.name])),
            "reasons": sorted(set(gaps[s.name].values())),
        }
        for s in scorers if gaps[s.name]
    }


def _language_advice(s: dict[str, Any]) -> str:
    if s.get("type") == "qa":  # its answers are spans of the source, compared with the claim's own words
        return (f"{s['name']} compares answers taken from the source with the claim's, which cannot match across "
                "languages; an nli scorer with routing.cross_lingual on judges these pairs (configs/nli_qa.yaml).")
    if not s.get("cross_lingual", True):
        return f"{s['name']} compares words, which cannot match across languages; model scorers carry these pairs."
    return ("Use a model that declares these languages (configs/multilingual.yaml), or keep routing.cross_lingual "
            "on for nli scorers.")


def unreadable_warning(n_pairs: int, n_total: int, languages: Counter[str] | dict[str, int]) -> str:
    """The run's line on pairs in a language no offline judge declares (unverified in every scorer and check)."""
    which = ", ".join(f"{'unnamed' if k == 'und' else k}: {v}" for k, v in sorted(languages.items()))
    return (f"LANGUAGE: {n_pairs} of {n_total} pairs are in a language no offline judge here can read (pairs per "
            f"language: {which}): no model scored or checked them, so their claims are unverified and the pairs are "
            "counted in no metric. A model that declares the language (model.languages) would score them.")


def language_warnings(stats: dict[str, Any]) -> list[str]:
    """One LANGUAGE line per scorer that could not judge some pairs, from a run's merged block stats."""
    out = []
    for s in stats["scorers"]:
        gap = stats["language_gaps"].get(s["name"])
        if not gap:
            continue
        n = sum(gap["combos"].values())
        which = ", ".join(f"{k}: {v}" for k, v in sorted(gap["combos"].items()))
        declared = s["languages"]
        langs = ", ".join(sorted(declared)) if declared else "same-language pairs only"
        out.append(
            f"LANGUAGE: {s['name']} supports {langs}; {n} of {stats['counts']['pairs']} pairs ({which}) are "
            f"outside that, so their claims are marked {'/'.join(sorted(gap['reasons']))} and their "
            f"scores are NOT counted (shown as unverified). {_language_advice(s)}"
        )
    return out


@dataclass
class StageContext:
    """What a process builds once and reuses for every block it scores."""

    cfg: RunConfig
    scorers: list[Scorer]
    engine: Engine
    device: str
    dtype: str
    max_premise_tokens: int | None = None
    count_tokens: Any = None
    entail_fn: Any = None
    embed_fn: Any = None
    """Texts -> unit vectors for the checks: the multilingual encoder through this context's engine."""
    scorer_context: ScorerContext = field(default_factory=ScorerContext)
    routes: Routes = field(default_factory=Routes)
    """Holds the cross-lingual judge once built (per process), for pairs routed to it (harness/routing.py)."""
    load_seconds: float = 0.0
    scorer_info: list[dict[str, Any]] = field(default_factory=list)
    """Name, type, models and languages of each scorer, as JSON (for run.json and the language warning)."""
    warnings: list[str] = field(default_factory=list)
    """Process-level warnings (e.g. the sentence encoder is missing), repeated in every block's stats."""
    cpu: dict[str, Any] = field(default_factory=dict)
    """:func:`harness.engine.device.cpu_summary` of this process's machine (run.json ``cpu``)."""


def kept_export_folder(cfg: RunConfig) -> str | None:
    """Where ONNX exports are kept between runs: ``onnx/`` beside the output cache (absolute, so that Ray actors
    on this machine find it too); None without a cache."""
    return str(Path(cfg.runtime.cache).resolve().parent / "onnx") if cfg.runtime.cache else None


def build_context(cfg: RunConfig, *, cache: Any = None, threads: int | None = None,
                  progress: bool | None = None, export_dir: str | None = None) -> StageContext:
    """Resolve device and dtype, build every scorer and one engine (``cache``: an output cache or None;
    ``export_dir``: where ONNX exports are kept, by default beside the output cache, else private)."""
    from harness.engine.device import bf16_emulated_warning, cpu_summary

    t = time.perf_counter()
    device, dtype, backend = _resolve_runtime(cfg, threads)
    info_warnings: list[str] = []
    slow_bf16 = bf16_emulated_warning(cfg.runtime.dtype, device)
    if slow_bf16:  # said before the models load, and kept in run.json's warnings
        print(f"warning: {slow_bf16}", file=sys.stderr)
        info_warnings.append(slow_bf16)
    _seed(cfg.runtime.seed)
    # Exported ONNX graphs are kept beside the output cache (Ray actors are given that folder, or one of their own).
    if export_dir is None and cache is not None:
        export_dir = kept_export_folder(cfg)
    sctx = ScorerContext(device=device, dtype=dtype, backend=backend, export_dir=export_dir)
    scorers = [build_scorer(s, sctx) for s in cfg.scorers]
    engine = Engine(cfg.runtime.token_budget, cache=cache,
                    progress=cfg.runtime.progress if progress is None else progress)
    max_tokens, count_tokens = _premise_budget(cfg, scorers)
    info = []
    for s in scorers:
        langs = s.languages()
        row = ScorerInfo(name=s.name, type=s.type, models=s.models()).model_dump(mode="json")
        row["languages"] = None if langs is None else sorted(langs)
        row["cross_lingual"] = getattr(s, "cross_lingual", True)
        info.append(row)
    embed_fn = None
    if cfg.checks.off_topic or cfg.checks.quotes:
        from harness.checks.embed import engine_embed_fn

        embed_fn, embed_warning = engine_embed_fn(engine)
        if embed_warning:
            info_warnings.append(embed_warning)
    return StageContext(cfg=cfg, scorers=scorers, engine=engine, device=device, dtype=dtype,
                        max_premise_tokens=max_tokens, count_tokens=count_tokens,
                        entail_fn=_quote_entailer(scorers, engine), embed_fn=embed_fn, scorer_context=sctx,
                        load_seconds=time.perf_counter() - t, scorer_info=info, warnings=info_warnings,
                        cpu=cpu_summary())


@dataclass
class BlockOutput:
    """One block's rows (JSON dicts, in canonical order: pairs in input order, each pair's claims scorer by
    scorer) and its statistics (JSON: counts, reasons, warnings, timings, engine counters)."""

    claims: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    stats: dict[str, Any]


def _engine_delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in after.items():
        if k == "useful_fraction":
            continue
        out[k] = v if k == "effective_budget" else v - before.get(k, 0)
    return out


def score_block(ctx: StageContext, pairs: Sequence[Pair]) -> BlockOutput:
    """Segment, check, score and aggregate one block of pairs."""
    from harness.checks import run_checks
    from harness.segment import segment_pair

    cfg, scorers, engine = ctx.cfg, ctx.scorers, ctx.engine
    _seed(cfg.runtime.seed)
    engine_before = engine.stats.as_dict()
    truncated_before = {s.name: getattr(s, "truncated", 0) for s in scorers}
    timings: dict[str, float] = {}

    # segmentation + checks
    t = time.perf_counter()
    segmented = [
        segment_pair(p, cfg.segmentation, max_premise_tokens=ctx.max_premise_tokens, count_tokens=ctx.count_tokens)
        for p in pairs
    ]
    timings["segment"] = time.perf_counter() - t
    t = time.perf_counter()
    known = known_languages(scorers)
    segmented, check_warnings = run_checks(segmented, cfg.checks, entail_fn=ctx.entail_fn, embed_fn=ctx.embed_fn,
                                           known_languages=known)
    check_warnings = [*ctx.warnings, *check_warnings]
    timings["checks"] = time.perf_counter() - t

    # scoring: each pair goes to a judge that reads its languages (harness/routing.py)
    t = time.perf_counter()
    scored, unsupported, routes = score_with_routes(segmented, scorers, cfg, engine, ctx.scorer_context,
                                                    routes=ctx.routes)
    for s in scorers:
        check_warnings.extend(getattr(s, "run_warnings", list)())
    if routes.fallback_error:
        check_warnings.append(f"routing: cross-lingual judge unavailable ({routes.fallback_error}); pairs outside "
                              f"a scorer's languages stay unscored")
    timings["score"] = time.perf_counter() - t

    # aggregation
    t = time.perf_counter()
    claim_rows: list[dict[str, Any]] = []
    pair_rows: list[dict[str, Any]] = []
    reasons: dict[str, Counter[str]] = {s.name: Counter() for s in scorers}
    n_claim_rows = 0
    for sp in segmented:
        scores: dict[str, PairScoreRow] = {}
        parts: list[tuple[PairScore, float]] = []
        for s, s_cfg in zip(scorers, cfg.scorers, strict=True):
            claims = claims_for_pair(sp, s.name, scored[s.name])
            gap = unsupported[s.name].get(sp.pair.id)
            if gap:
                claims = mark_unverified(claims, gap)
            reasons[s.name].update(c.reason for c in claims)
            claim_rows.extend(_claim_row(c, sp.pair.dataset).model_dump(mode="json") for c in claims)
            n_claim_rows += len(claims)
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
        ).model_dump(mode="json"))
    timings["aggregate"] = time.perf_counter() - t

    coverages = [sp.coverage for sp in segmented]
    unreadable = [pair_unreadable(sp, known) for sp in segmented] if cfg.checks.language else []
    stats: dict[str, Any] = {
        "counts": {
            "pairs": len(segmented),
            "claims": sum(len(sp.claims) for sp in segmented),
            "checkable_claims": sum(c.checkable for sp in segmented for c in sp.claims),
            "premises": sum(len(sp.premises) for sp in segmented),
            "claim_rows": n_claim_rows,
        },
        "coverage": {"min": min(coverages, default=1.0), "sum": sum(coverages)},
        "languages": dict(Counter(f"{sp.source_lang}->{sp.rewrite_lang}" for sp in segmented)),
        "reasons": {k: dict(v) for k, v in reasons.items()},
        "check_warnings": check_warnings,
        "language_gaps": _language_gaps(segmented, scorers, unsupported),
        "unreadable": {"pairs": sum(bool(u) for u in unreadable),
                       "languages": dict(Counter(lang for u in unreadable for lang in u))},
        "routes": routes.as_dict(),
        "route_models": {s.name: [m.model_dump(mode="json") for m in routes.extra_models(s.name)] for s in scorers},
        "truncated": {s.name: getattr(s, "truncated", 0) - truncated_before[s.name] for s in scorers},
        "engine": _engine_delta(engine.stats.as_dict(), engine_before),
        "timings": timings,
        "scorers": ctx.scorer_info,
        "device": ctx.device,
        "dtype": ctx.dtype,
        "cpu": ctx.cpu,
    }
    return BlockOutput(claim_rows, pair_rows, stats)


def _merge_warnings(lists: Sequence[Sequence[str]]) -> list[str]:
    """Blocks repeat run-level warnings with their own counts: identical lines are kept once, lines that
    differ only in their integers are merged by summing those integers ("3 of 50 pairs" + "2 of 50 pairs"
    -> "5 of 100 pairs"; an "of M" total then counts only the blocks that warned). First-seen order."""
    import re

    num = re.compile(r"(?<![\d.])\d+(?![\d.])")
    merged: dict[str, tuple[list[str], list[int]] | str] = {}
    for lines in lists:
        for w in lines:
            key = num.sub("#", w)
            nums = [int(x) for x in num.findall(w)]
            prev = merged.get(key)
            if prev is None:
                merged[key] = (num.split(w), nums)
            elif isinstance(prev, tuple):
                merged[key] = (prev[0], [a + b for a, b in zip(prev[1], nums, strict=True)])
    out = []
    for parts, nums in (v for v in merged.values() if isinstance(v, tuple)):
        text = parts[0]
        for n, p in zip(nums, parts[1:], strict=True):
            text += str(n) + p
        out.append(text)
    return out


def merge_stats(blocks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run's statistics from its blocks' (in block order): sums, minima, merged warnings."""
    counts: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    gaps: dict[str, dict[str, Any]] = {}
    truncated: Counter[str] = Counter()
    routes: dict[str, Counter[str]] = {}
    route_models: dict[str, list[dict[str, Any]]] = {}
    engine: dict[str, float] = {}
    timings: Counter[str] = Counter()
    cov_min, cov_sum = 1.0, 0.0
    for b in blocks:
        counts.update(b["counts"])
        languages.update(b["languages"])
        for name, per in b["reasons"].items():
            reasons.setdefault(name, Counter()).update(per)
        for name, gap in b["language_gaps"].items():
            g = gaps.setdefault(name, {"combos": Counter(), "reasons": set()})
            g["combos"].update(gap["combos"])
            g["reasons"].update(gap["reasons"])
        truncated.update(b["truncated"])
        for name, per in b.get("routes", {}).items():
            routes.setdefault(name, Counter()).update(per)
        for name, models in b.get("route_models", {}).items():
            have = route_models.setdefault(name, [])
            have.extend(m for m in models if m not in have)
        for k, v in b["engine"].items():
            engine[k] = min(engine.get(k, v), v) if k == "effective_budget" else engine.get(k, 0) + v
        timings.update(b["timings"])
        cov_min = min(cov_min, b["coverage"]["min"])
        cov_sum += b["coverage"]["sum"]
    engine["useful_fraction"] = engine["real_tokens"] / engine["padded_tokens"] if engine.get("padded_tokens") \
        else 1.0
    first = blocks[0] if blocks else {}
    n = counts.get("pairs", 0)
    merged: dict[str, Any] = {
        "counts": dict(counts), "languages": dict(languages), "reasons": {k: dict(v) for k, v in reasons.items()},
        "language_gaps": gaps, "engine": engine, "timings": dict(timings),
        "coverage": {"min": round(cov_min, 6), "mean": round(cov_sum / n, 6) if n else 1.0},
        "scorers": [{**s, "models": [*s["models"], *[m for m in route_models.get(s["name"], [])
                                                      if m not in s["models"]]]}
                    for s in first.get("scorers", [])],
        "device": first.get("device", "cpu"), "dtype": first.get("dtype", "fp32"), "cpu": first.get("cpu") or None,
        "routes": {k: dict(sorted(v.items())) for k, v in routes.items()},
    }
    warnings = _merge_warnings([b["check_warnings"] for b in blocks])
    unreadable_langs: Counter[str] = Counter()
    for b in blocks:
        unreadable_langs.update(b.get("unreadable", {}).get("languages", {}))
    n_unreadable = sum(b.get("unreadable", {}).get("pairs", 0) for b in blocks)
    merged["unreadable"] = {"pairs": n_unreadable, "languages": dict(sorted(unreadable_langs.items()))}
    if n_unreadable:
        warnings.append(unreadable_warning(n_unreadable, n, unreadable_langs))
    warnings.extend(language_warnings(merged))
    for s in merged["scorers"]:
        if truncated.get(s["name"]):
            warnings.append(f"{s['name']}: {truncated[s['name']]} claims met a premise window too long for the "
                            "model (inputs truncated)")
    merged["warnings"] = warnings
    return merged
