"""NLI scorer: every checkable claim against every premise unit of its source, in one engine call.

Claim score (config ``claim_score``): ``entail`` = max over premises of P(entail) (default);
``summac_zs`` = max P(entail) - max P(contradict) over premises (SummaC-ZS's two independent maxima, on this
scorer's premise units; the ``summac_zs`` scorer type also reproduces SummaC's own segmentation);
``max_entail_minus_contradict`` = max over premises of P(entail) - P(contradict) (one premise). The evidence
is the premise that gave the score; a claim with no supporting premise but a contradicting one is
``contradicted`` and its evidence is the contradicting premise. With ``premise_top_k`` a claim meets only
its k most word-overlapping premises (FRANK valid + BUMP: 7.6x fewer model inputs, same ROC-AUC;
``premise_widen_below`` gives claims with little word overlap, i.e. paraphrase, every unit); without it, a
source with more than ``max_premises_per_claim`` units (default 256: book-length, not news) is capped the same
way and run.json says so, so that cost stays linear in source length instead of claims x all units. With
``premise_stop_above`` (default 0.2) the chosen units are met in passes, one engine call each: the closest unit,
then the rest of the top k, then the widened rest, each only for claims whose best P(entail) is still below it.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from typing import Any

from harness.config import ModelConfig, NLIScorerConfig
from harness.engine import Engine
from harness.engine.hf_backend import PairClassifierBackend
from harness.models.loading import ModelUnavailableError, load_model
from harness.models.nli_labels import nli_label_index, to_nli_probs
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.fusion import FEATURES as FUSION_FEATURES
from harness.scorers.fusion import SourceFacts, claim_features, load_fusion_head
from harness.scorers.overlap import content_words
from harness.segment.detokenize import untokenize
from harness.segment.sentences import split_sentences
from harness.types import ClaimScore, Evidence, SegmentedPair

FUSION_FEATURE_POS = {name: i for i, name in enumerate(FUSION_FEATURES)}

Unit = tuple[str, int, int, int]
"""A premise unit met by a claim: (text, start, end, index of its premise)."""

__all__ = ["NLIScorer", "PremiseIndex", "TokenCounter", "build_nli_scorer", "claim_verdict", "closest_premises"]


class PremiseIndex:
    """Content words -> premise positions (an inverted index), so choosing a claim's closest premises costs
    the postings of its words, not a pass over every premise of a book-length source."""

    def __init__(self, premise_words: Sequence[set[str]]) -> None:
        self.n = len(premise_words)
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, words in enumerate(premise_words):
            for w in words:
                self.postings[w].append(i)

    def _shared(self, claim: str) -> tuple[Counter[int], float]:
        """Content words shared with the claim per premise position, and the largest fraction of the claim's
        content words that one premise holds (0 for a claim without any)."""
        words = set(content_words(claim))
        shared: Counter[int] = Counter()
        for w in words:
            shared.update(self.postings.get(w, ()))
        return shared, max(shared.values(), default=0) / len(words) if words else 0.0

    def best_overlap(self, claim: str) -> float:
        """Largest fraction of the claim's content words that one premise holds (0 for a claim without any)."""
        return self._shared(claim)[1]

    def closest(self, claim: str, k: int | None, *, widen_below: float | None = None,
                widen_to: int | None = None) -> list[int]:
        """Positions (in source order) of the k premises sharing most content words with ``claim``; ties and
        premises sharing nothing go to the earlier premise; all positions if k is None or k >= n. With
        ``widen_below``: ``widen_to`` premises instead (None: all) when no premise holds that fraction of the
        claim's content words (a paraphrase, whose evidence word overlap cannot rank)."""
        if k is None or self.n <= k:
            return list(range(self.n))
        shared, best_share = self._shared(claim)
        if widen_below is not None and best_share < widen_below:
            k = widen_to
            if k is None or self.n <= k:
                return list(range(self.n))
        best = heapq.nsmallest(k, shared.items(), key=lambda kv: (-kv[1], kv[0]))
        chosen = {i for i, _ in best}
        filler = (i for i in range(self.n) if i not in chosen)
        while len(chosen) < k:
            chosen.add(next(filler))
        return sorted(chosen)

    def closest_among(self, claim: str, positions: Sequence[int]) -> int:
        """The one of ``positions`` sharing most content words with ``claim`` (ties: the earliest)."""
        shared = self._shared(claim)[0]
        return min(positions, key=lambda i: (-shared.get(i, 0), i))


def closest_premises(claim: str, premise_words: Sequence[set[str]], k: int | None) -> list[int]:
    """Positions (in source order) of the k premises sharing most content words with the claim; all if k is None."""
    return PremiseIndex(premise_words).closest(claim, k)


class TokenCounter:
    """Tokens a text takes, memoised; :meth:`prime` counts many texts in one batched (Rust) call, which
    segmentation uses for all premise units of a source at once (one call per unit was most of the time
    spent segmenting a 1 MB source)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.counts: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        n = self.counts.get(text)
        if n is None:
            n = self.counts[text] = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return n

    def prime(self, texts: Sequence[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self.counts))
        for start in range(0, len(todo), 4096):
            chunk = todo[start : start + 4096]
            ids = self.tokenizer(chunk, add_special_tokens=False)["input_ids"]
            self.counts.update(zip(chunk, map(len, ids), strict=True))


def claim_verdict(
    rows: Sequence[dict[str, float]], cfg: NLIScorerConfig
) -> tuple[float, str, str, int, dict[str, float]]:
    """(score, label, reason, evidence premise position, probs of that premise) from per-premise probs."""
    if cfg.claim_score == "max_entail_minus_contradict":
        values = [r["entailment"] - r["contradiction"] for r in rows]
    else:
        values = [r["entailment"] for r in rows]
    best = max(range(len(rows)), key=lambda i: (values[i], -i))
    worst = max(range(len(rows)), key=lambda i: (rows[i]["contradiction"], -i))
    score = values[best]
    if cfg.claim_score == "summac_zs":  # two independent maxima, possibly from different premises
        score = rows[best]["entailment"] - rows[worst]["contradiction"]
    if rows[best]["entailment"] >= cfg.supported_threshold:
        return score, "supported", "entailed", best, dict(rows[best])
    if rows[worst]["contradiction"] >= cfg.contradicted_threshold:
        return score, "contradicted", "contradicted", worst, dict(rows[worst])
    return score, "unsupported", "no_evidence", best, dict(rows[best])


def load_nli_classifier(model: ModelConfig, ctx: ScorerContext) -> tuple[ModelInfo, dict[str, Any],
                                                                        PairClassifierBackend]:
    """A sequence classifier with its NLI label map (``model.labels`` or its ``id2label``; generic labels
    refused) behind an engine backend keyed by id, revision and weight hash. Shared by the NLI-based scorers."""
    loaded = load_model(model, "classification", dtype=ctx.dtype, device=ctx.device)
    try:
        labels = nli_label_index(loaded.model.config.id2label, model.labels)
    except ValueError as e:
        raise ModelUnavailableError(f"model {model.id!r}: {e}") from None
    key = f"{loaded.info.id}@{loaded.info.revision}|sha={loaded.info.weight_sha256}"
    backend: PairClassifierBackend
    if ctx.backend == "torch":
        backend = PairClassifierBackend(loaded.model, loaded.tokenizer, max_length=model.max_length, cache_key=key,
                                        device=ctx.device)
    else:
        from harness.engine.onnx_backend import OnnxPairClassifierBackend

        # A kept export is reused only under a key that names the weights (their hash).
        export_dir = ctx.export_dir if loaded.info.weight_sha256 else None
        try:
            backend = OnnxPairClassifierBackend(loaded.model, loaded.tokenizer, max_length=model.max_length,
                                                cache_key=key, quantize="int8" if ctx.backend == "onnx-int8" else None,
                                                export_cache=export_dir)
        except ImportError as e:
            raise ModelUnavailableError(f"runtime.backend {ctx.backend!r}: {e}") from None
    info = loaded.info.model_copy(update={"backend": ctx.backend})
    return info, labels, backend


class NLIScorer:
    type = "nli"

    def __init__(self, cfg: NLIScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or "nli"
        self.info, self.labels, self.backend = load_nli_classifier(cfg.model, ctx)
        self.label_names = self.backend.labels
        self.truncated = 0
        """Premise-claim inputs longer than the model window (truncated by the backend); reported."""
        self.capped: list[int] = []
        """Premise-unit counts of the sources whose claims met only ``max_premises_per_claim`` units."""
        self.count_tokens = TokenCounter(self.backend.tokenizer)
        """Tokens a text takes (segmentation sizes premise units with it; the truncation count reuses it)."""
        self.fusion_head = None
        if cfg.fusion or (cfg.fusion is None and cfg.model.id == "embedded"):
            self.fusion_head = load_fusion_head(cfg.fusion_head)

    def languages(self) -> frozenset[str] | None:
        return frozenset(self.info.languages) if self.info.languages else None

    def _encoder_closest(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[tuple[str, int], list[int]]:
        """Per (pair id, claim position): the ``premise_top_k`` premise positions (source order) with the highest
        multilingual-encoder cosine, for pairs with more premises than that. One engine call for all texts."""
        from harness.engine.sentence_encoder import embed, multilingual_encoder

        k = self.cfg.premise_top_k
        assert k is not None
        todo = [sp for sp in pairs if len(sp.premises) > k and any(c.checkable for c in sp.claims)]
        texts = list(dict.fromkeys(t for sp in todo for t in (*(p.text for p in sp.premises),
                                                              *(c.text for c in sp.claims if c.checkable))))
        if not texts:
            return {}
        vecs = embed(engine, multilingual_encoder(), texts, desc=f"{self.name} premise selection")
        row = {t: i for i, t in enumerate(texts)}
        out: dict[tuple[str, int], list[int]] = {}
        for sp in todo:
            prem = vecs[[row[p.text] for p in sp.premises]]
            for ci, claim in enumerate(sp.claims):
                if claim.checkable:
                    sims = prem @ vecs[row[claim.text]]
                    top = sorted(range(len(sims)), key=lambda i: (-float(sims[i]), i))[:k]
                    out[(sp.pair.id, ci)] = sorted(top)
        return out

    def models(self) -> list[ModelInfo]:
        if self.fusion_head is None:
            return [self.info]
        head = self.fusion_head
        return [self.info, ModelInfo(role="fusion", id=self.cfg.fusion_head or "fusion-english",
                                     revision=head.version, weight_sha256=head.sha256, languages=["en"])]

    def run_warnings(self) -> list[str]:
        """What run.json should say about the pairs scored since the last call (then forgotten, so that a run
        in blocks reports each block once)."""
        if not self.capped:
            return []
        n, self.capped = len(self.capped), []
        return [
            f"{self.name}: {n} source(s) had more premise units than max_premises_per_claim allows; each claim "
            f"there was scored against its most word-overlapping units only (set it to null to score all)"
        ]

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        # per checkable claim: [pair, claim pos, units met: (text, start, end, premise index), lone sentences
        # among them (sentence_premises_above), groups of units held back for later passes (premise_stop_above)]
        claims: list[tuple[SegmentedPair, int, list[Unit], int, list[list[int]]]] = []
        sentences: dict[tuple[str, int], list[tuple[str, int, int, set[str]]]] = {}  # see _lone_sentences
        cap = self.cfg.max_premises_per_claim
        widen = self.cfg.premise_widen_below
        # passes only where more units can only raise the score (summac_zs also reads the worst contradiction)
        stop = self.cfg.premise_stop_above if self.cfg.claim_score == "entail" else None
        selection = self.cfg.premise_selection
        semantic = (self._encoder_closest(pairs, engine) if self.cfg.premise_top_k is not None and selection != "words"
                    else {})
        for sp in pairs:
            if not sp.premises:
                continue
            k = self.cfg.premise_top_k
            if k is None and cap is not None and len(sp.premises) > cap:
                k = cap
                self.capped.append(len(sp.premises))
            index = PremiseIndex([set(content_words(p.text)) for p in sp.premises]) if k is not None else None
            for ci, claim in enumerate(sp.claims):
                if not claim.checkable:
                    continue
                if index is None:
                    chosen = list(range(len(sp.premises)))
                else:  # paraphrased claims (premise_widen_below) meet more units: widen_to, else all up to the cap
                    chosen = index.closest(claim.text, k, widen_below=widen if k == self.cfg.premise_top_k else None,
                                           widen_to=self.cfg.premise_widen_to or cap)
                    by_cos = semantic.get((sp.pair.id, ci))
                    if by_cos is not None:
                        chosen = by_cos if selection == "encoder" else sorted({*chosen, *by_cos})
                later: list[list[int]] = []  # premise_stop_above: the closest unit first, then the rest of
                if stop is not None and index is not None and len(chosen) > 1:  # top k, then the widened rest
                    first = index.closest_among(claim.text, chosen)
                    top = [i for i in index.closest(claim.text, k) if i in chosen]
                    later = [g for g in ([i for i in top if i != first], [i for i in chosen if i not in top]) if g]
                    chosen = [first]
                units, n_lone = self._units(sp, chosen, claim.text, sentences, ())
                claims.append((sp, ci, units, n_lone, later))
        known: dict[tuple[str, str], dict[str, float]] = {}  # every input scored in this block, for later passes
        per_claim = self._probs([(u[0], sp.claims[ci].text) for sp, ci, units, _, _ in claims for u in units],
                                [len(c[2]) for c in claims], engine, known)
        while stop is not None:  # further passes: claims not yet supported meet their next group of units
            again = [j for j, c in enumerate(claims) if c[4] and max(r["entailment"] for r in per_claim[j]) < stop]
            if not again:
                break
            extra: list[tuple[list[Unit], int]] = []
            for j in again:
                sp, ci, units, n_lone, later = claims[j]
                extra.append(self._units(sp, later[0], sp.claims[ci].text, sentences, {u[0] for u in units}))
            more_rows = self._probs([(u[0], claims[j][0].claims[claims[j][1]].text)
                                     for j, (more, _) in zip(again, extra, strict=True) for u in more],
                                    [len(more) for more, _ in extra], engine, known)
            for j, (more, more_lone), rows in zip(again, extra, more_rows, strict=True):
                sp, ci, units, n_lone, later = claims[j]
                per_claim[j] = per_claim[j] + rows
                claims[j] = (sp, ci, units + more, n_lone + more_lone, later[1:])
        self._count_truncated(pairs)
        result: dict[ClaimKey, ClaimScore] = {}
        fuse = self._fusion() if self.fusion_head is not None else None
        for (sp, ci, units, n_lone, _), claim_rows in zip(claims, per_claim, strict=True):
            claim = sp.claims[ci]
            score, label, reason, at, probs = claim_verdict(claim_rows, self.cfg)
            text, start, end, premise_index = units[at]
            result[(sp.pair.id, claim.index)] = ClaimScore(
                pair_id=sp.pair.id, scorer=self.name, claim_index=claim.index, text=claim.text,
                start=claim.start, end=claim.end, score=round(score, 6), label=label,  # type: ignore[arg-type]
                reason=reason, probs={k: round(v, 6) for k, v in probs.items()},
                evidence=Evidence(text, start, end, premise_index),
                detail=self._detail(len(claim_rows) - n_lone, n_lone, len(sp.premises)),
            )
            if fuse is not None:
                result[(sp.pair.id, claim.index)] = fuse(sp, result[(sp.pair.id, claim.index)])
        return result

    def _fusion(self) -> Callable[[SegmentedPair, ClaimScore], ClaimScore]:
        """``fusion: true``: each claim's score becomes the fusion head's P(supported) over its NLI verdict and
        the source's evidence (:mod:`harness.scorers.fusion`); the NLI numbers stay in ``detail``."""
        head = self.fusion_head
        assert head is not None
        facts: dict[str, SourceFacts] = {}

        def fuse(sp: SegmentedPair, row: ClaimScore) -> ClaimScore:
            if sp.pair.id not in facts:
                facts[sp.pair.id] = SourceFacts.of(sp.pair.source)
            evidence = row.evidence.text if row.evidence else ""
            feats = claim_features(row.text, row.probs, evidence, facts[sp.pair.id])
            p = float(head.predict([feats])[0])
            missing = {"numbers_missing": int(feats[FUSION_FEATURE_POS["numbers_missing"]]),
                       "names_missing": int(feats[FUSION_FEATURE_POS["names_missing"]])}
            if p >= self.cfg.supported_threshold:
                label, reason = "supported", "entailed"
            elif row.label == "contradicted":
                label, reason = "contradicted", row.reason
            elif missing["names_missing"] or missing["numbers_missing"]:
                label = "unsupported"
                reason = "extrinsic_name" if missing["names_missing"] else "extrinsic_number"
            else:
                label, reason = "unsupported", "no_evidence" if row.label == "supported" else row.reason
            detail = {**row.detail, "nli_score": row.score, "nli_label": row.label, **missing}
            return dataclasses.replace(row, score=round(p, 6), label=label, reason=reason,  # type: ignore[arg-type]
                                       detail=detail)

        return fuse

    def _units(self, sp: SegmentedPair, positions: Sequence[int], claim: str,
               memo: dict[tuple[str, int], list[tuple[str, int, int, set[str]]]],
               met: Collection[str]) -> tuple[list[Unit], int]:
        """The premise units at ``positions`` (source order), then their lone sentences not in ``met``."""
        units = [(p.text, p.start, p.end, p.index) for p in (sp.premises[i] for i in positions)]
        lone = (self._lone_sentences(sp, positions, claim, memo)
                if self.cfg.sentence_premises_above else [])
        lone = [u for u in lone if u[0] not in met]
        return units + lone, len(lone)

    def _probs(self, inputs: list[tuple[str, str]], sizes: Sequence[int], engine: Engine,
               known: dict[tuple[str, str], dict[str, float]]) -> list[list[dict[str, float]]]:
        """NLI probabilities of ``inputs``, cut into consecutive runs of ``sizes``: those in ``known`` (met by
        another claim in an earlier pass of this block) from there, the rest in one engine call (which
        dedups them), then remembered in ``known``."""
        todo = [x for x in inputs if x not in known]
        model_inputs = todo
        if self.cfg.untokenize:  # each distinct text once: a premise meets many claims
            prose = {t: untokenize(t) for t in {t for pair in todo for t in pair}}
            model_inputs = [(prose[p], prose[h]) for p, h in todo]
        raw = engine.run(self.backend, model_inputs, desc=f"{self.name} premise-claim pairs") if todo else []
        known.update(zip(todo, (to_nli_probs(o, self.labels, self.label_names) for o in raw), strict=True))
        probs = [known[x] for x in inputs]
        bounds = list(itertools.accumulate(sizes, initial=0))
        return [probs[a:b] for a, b in itertools.pairwise(bounds)]

    def _detail(self, premises: int, lone: int, total: int) -> dict[str, int]:
        """Claim detail: premise units scored (of how many, when a cap chose), and lone sentences besides."""
        out = {"premises_scored": premises}
        if premises != total and not self.cfg.premise_top_k:
            out["premises_total"] = total
        if lone:
            out["sentences_alone"] = lone
        return out

    def _lone_sentences(self, sp: SegmentedPair, chosen: Sequence[int], claim: str,
                        memo: dict[tuple[str, int], list[tuple[str, int, int, set[str]]]],
                        ) -> list[tuple[str, int, int, int]]:
        """Sentences of the chosen multi-sentence premises that hold at least ``sentence_premises_above`` of the
        claim's content words, each once, as (text, start, end, index of the premise it came from). ``memo``
        keeps each premise's sentences and their content words for the other claims of the pair."""
        words = set(content_words(claim))
        if not words:
            return []
        need = (self.cfg.sentence_premises_above or 0.0) * len(words)
        out: list[tuple[str, int, int, int]] = []
        seen: set[str] = set()  # a sentence repeated in the source is scored once (the same input, the same score)
        for i in chosen:
            prem = sp.premises[i]
            key = (sp.pair.id, i)
            if key not in memo:
                sents = split_sentences(prem.text) if prem.kind != "sentence" else []
                memo[key] = [(x.text, prem.start + x.start, prem.start + x.end, set(content_words(x.text)))
                             for x in sents] if len(sents) > 1 else []
            for text, start, end, sent_words in memo[key]:
                if text not in seen and len(words & sent_words) >= need:
                    seen.add(text)
                    out.append((text, start, end, prem.index))
        return out

    def entail(self, items: Sequence[tuple[str, str]], engine: Engine) -> list[float]:
        """P(entail) for raw (premise, hypothesis) pairs, through the engine (used by the quote check)."""
        raw = engine.run(self.backend, list(items), desc=f"{self.name}: quote check")
        return [to_nli_probs(o, self.labels, self.label_names)["entailment"] for o in raw]

    def _count_truncated(self, pairs: Sequence[SegmentedPair]) -> None:
        """Count inputs that exceed the window (the segmenter sizes premises so that this stays rare)."""
        limit = self.backend.max_length - 3
        for sp in pairs:
            if not sp.premises:
                continue
            longest = max(self.count_tokens(p.text) for p in sp.premises)
            for c in sp.claims:
                if c.checkable and longest + self.count_tokens(c.text) > limit:
                    self.truncated += 1


@scorer("nli")
def build_nli_scorer(cfg: NLIScorerConfig, ctx: ScorerContext) -> NLIScorer:
    return NLIScorer(cfg, ctx)
