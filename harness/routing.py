"""Language routing: each pair's claims go to the best offline judge that declares the pair's languages.

An entailment scorer (``nli``) keeps the pairs its model declares (English-English for the embedded
cross-encoder). A pair outside them — a German source with an English rewrite — is judged for that
scorer's column by the built-in cross-lingual scorer (:mod:`harness.scorers.crosslingual`) when that
covers both languages; the claim rows name the model that judged them (``model``) and ``run.json``
counts pairs per route. Only pairs that nothing covers stay ``cross_lingual_unscored`` /
``language_unscored``. Lexical scorers (``overlap``) and QA are never rerouted: a word-overlap or an
English QA number is not what their column promises.

A pair with a language that no offline judge declares (:func:`known_languages`: no scorer's model and not the
multilingual encoder; e.g. a Greek or Vietnamese source) is unverified in *every* scorer, those that declare no
languages included, and gets no verdict from the checks either (:func:`harness.checks.check_pair`): nothing
here can read it, so it is shown as unverified and counted in no metric.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from harness.checks.language import is_unknown_language, unreadable_languages
from harness.config import CrossLingualScorerConfig, RunConfig
from harness.engine import Engine
from harness.engine.sentence_encoder import ENCODER_LANGUAGES
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, Scorer, ScorerContext, build_scorer
from harness.types import ClaimScore, SegmentedPair

__all__ = ["ROUTABLE_TYPES", "Routes", "known_languages", "language_gap", "pair_unreadable", "score_with_routes"]

ROUTABLE_TYPES = frozenset({"nli"})
"""Scorer types whose column may be filled by the cross-lingual judge for pairs their model cannot read."""


def unknown_language(sp: SegmentedPair) -> bool:
    """Does either side read as no language we can name although it is long enough to tell?"""
    return (is_unknown_language(sp.source_lang, sp.pair.source)
            or is_unknown_language(sp.rewrite_lang, sp.pair.rewrite))


def known_languages(scorers: Sequence[Scorer]) -> frozenset[str]:
    """Languages some offline judge of the run declares: the scorers' models' and the multilingual encoder's (the
    checks' model and the cross-lingual judge's)."""
    out = set(ENCODER_LANGUAGES)
    for s in scorers:
        out |= s.languages() or set()
    return frozenset(out)


def pair_unreadable(sp: SegmentedPair, known: frozenset[str]) -> list[str]:
    """The pair's languages no offline judge declares (``und``: long enough to tell, named by no detector)."""
    return unreadable_languages(sp.source_lang, sp.pair.source, sp.rewrite_lang, sp.pair.rewrite, known)


def language_gap(sp: SegmentedPair, s: Scorer, cfg: RunConfig, known: frozenset[str] | None = None) -> str | None:
    """Why scorer ``s`` cannot judge this pair's languages (None = it can). With ``known`` (see
    :func:`known_languages`), a pair in a language outside it is a gap for every scorer."""
    if not cfg.checks.language:
        return None
    langs = {sp.source_lang, sp.rewrite_lang} - {"und"}
    cross = len(langs) == 2
    if known is not None and pair_unreadable(sp, known):
        return "cross_lingual_unscored" if cross else "language_unscored"
    declared = s.languages()
    if declared is not None and unknown_language(sp):
        return "language_unscored"  # unnamed, so not known to be readable by a model that declares languages
    if declared is not None and not langs <= declared:
        return "cross_lingual_unscored" if cross else "language_unscored"
    if cross and not getattr(s, "cross_lingual", True):
        return "cross_lingual_unscored"
    return None


@dataclasses.dataclass
class Routes:
    """Per scorer: pairs judged by its own model, rerouted, or left unscored (for run.json)."""

    counts: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    fallback: Scorer | None = None
    fallback_error: str | None = None
    """Why the cross-lingual judge could not be built (encoder package or head missing), if it could not."""

    def extra_models(self, scorer_name: str) -> list[ModelInfo]:
        """The cross-lingual judge's models, for a scorer column it filled (run.json lists them there)."""
        used = any(k.startswith("crosslingual:") for k in self.counts.get(scorer_name, {}))
        return self.fallback.models() if used and self.fallback is not None else []

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {name: dict(sorted(c.items())) for name, c in self.counts.items()}


def _model_name(s: Scorer) -> str:
    named = getattr(s, "model_id", None)
    if named:
        return str(named)
    models = s.models()
    return models[0].id if models else s.type


def score_with_routes(
    segmented: Sequence[SegmentedPair],
    scorers: Sequence[Scorer],
    cfg: RunConfig,
    engine: Engine,
    ctx: ScorerContext,
    routes: Routes | None = None,
) -> tuple[dict[str, dict[ClaimKey, ClaimScore]], dict[str, dict[str, str]], Routes]:
    """Score every pair with every scorer, rerouting uncovered pairs of entailment scorers.

    Returns (claim scores per scorer, language gaps left per scorer {pair id: reason}, this call's routes).
    ``routes`` carries the cross-lingual judge between calls (built on first need when
    ``routing.cross_lingual`` is on); its counts are reset for each call.
    """
    routes = routes if routes is not None else Routes()
    routes.counts = {}
    known = known_languages(scorers)
    scored: dict[str, dict[ClaimKey, ClaimScore]] = {}
    gaps: dict[str, dict[str, str]] = {}
    for s in scorers:
        own: list[SegmentedPair] = []
        rerouted: list[SegmentedPair] = []
        left: dict[str, str] = {}
        for sp in segmented:
            gap = language_gap(sp, s, cfg, known)
            if gap is None:
                own.append(sp)
            elif s.type in ROUTABLE_TYPES and cfg.routing.cross_lingual and _covers(routes, sp, cfg, ctx):
                rerouted.append(sp)
            else:
                left[sp.pair.id] = gap
        # pairs a scorer cannot read are still scored (shown as unverified), so run them all through it; not those
        # in a language no judge declares: no model's number is shown for them at all
        unread = [sp for sp in segmented if sp.pair.id in left and not pair_unreadable(sp, known)]
        result = dict(s.score([*own, *unread], engine)) if own or unread else {}
        model = _model_name(s)
        result = {k: _with_model(v, model) for k, v in result.items()}
        if rerouted:
            assert routes.fallback is not None
            judge = routes.fallback
            via = _model_name(judge)
            for key, cs in judge.score(rerouted, engine).items():
                result[key] = dataclasses.replace(
                    cs, scorer=s.name, detail={**cs.detail, "route": "crosslingual", "model": via})
        scored[s.name] = result
        gaps[s.name] = left
        counts: Counter[str] = Counter()
        if own:
            counts[model] += len(own)
        if rerouted:
            counts[f"crosslingual:{_model_name(routes.fallback)}"] += len(rerouted)  # type: ignore[arg-type]
        if left:
            counts["unscored"] += len(left)
        routes.counts[s.name] = counts
    return scored, gaps, routes


def _with_model(cs: ClaimScore, model: str) -> ClaimScore:
    if "model" in cs.detail:
        return cs
    return dataclasses.replace(cs, detail={**cs.detail, "model": model})


def _covers(routes: Routes, sp: SegmentedPair, cfg: RunConfig, ctx: ScorerContext) -> bool:
    langs = {sp.source_lang, sp.rewrite_lang} - {"und"}
    if unknown_language(sp):
        return False
    if routes.fallback is None:
        if routes.fallback_error is not None:
            return False
        try:
            routes.fallback = build_scorer(CrossLingualScorerConfig(type="crosslingual", name="crosslingual"), ctx)
        except (ImportError, FileNotFoundError, ValueError) as e:  # encoder package or head missing: no route
            routes.fallback_error = f"{type(e).__name__}: {e}"
            return False
    declared = routes.fallback.languages()
    return declared is None or langs <= declared
