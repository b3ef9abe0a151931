"""SummaC-ZS and SummaC-Conv (Laban et al., TACL 2022; reference: tingofurro/summac, Apache-2.0, read at
c1f3da93 / PyPI 0.0.4 ``model_summac.py``), on this project's engine.

Both build SummaC's "image": every (source unit i, claim j) pair through an NLI model, giving P(entail),
P(contradict) per cell. Source units follow SummaC: sentences (or paragraphs, 2-sentence windows, the whole
document) longer than 10 characters, the first 100. Claims are the run's claim units (``segmentation.claims:
sentence`` = SummaC's sentence granularity), also only those longer than 10 characters.

* **ZS**: claim score = max_i P(entail) - max_i P(contradict) — two *independent* maxima, possibly from
  different source units; pair = mean over claims.
* **Conv**: per claim, a raw-count histogram of P(entail) over source units in 23 fixed percentile bins, a
  learned Linear(23->1) row score r_j, the mean m over the first 10 claims, features [m, m, m] ->
  Linear(3->2) -> softmax -> P(class 1). Since that head is a logistic function of m, the claim score here is
  the head applied to the claim's own row, and the pair score (``pair_aggregation: logit_mean``) is the
  sigmoid of the mean claim logit — exactly SummaC-Conv's pair score.

Differences from the reference, on purpose: sentences come from this project's splitter, not NLTK punkt
(the parity goldens record the reference's units and the test checks they agree); batches are
token-budgeted and padded to a multiple of 8 (attention-masked, so outputs agree to float noise). A pair
whose source has no unit gets claim scores as if the image were all zeros (SummaC's empty image).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.config import SummaCConvScorerConfig, SummaCZSScorerConfig
from harness.engine import Engine
from harness.models.loading import ModelUnavailableError
from harness.models.nli_labels import to_nli_probs
from harness.results.schema import ModelInfo
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.nli import load_nli_classifier
from harness.scorers.summac_weights import CONV_VITC_SENT_PERC_E, PERCENTILE_EDGES
from harness.segment.sentences import _strip, split_sentences
from harness.types import ClaimScore, Evidence, Segment, SegmentedPair

__all__ = [
    "CONV_VITC_SENT_PERC_E",
    "PERCENTILE_EDGES",
    "SummaCConvScorer",
    "SummaCZSScorer",
    "conv_row_score",
    "histogram",
    "summac_units",
]

def _paragraph_units(text: str) -> list[tuple[int, int]]:
    sep = "\n\n" if "\n\n" in text else "\n"
    out, pos = [], 0
    for m in [*re.finditer(re.escape(sep), text), None]:
        end = m.start() if m is not None else len(text)
        out.append(_strip(text, pos, end))
        pos = m.end() if m is not None else len(text)
    return out


def summac_units(text: str, granularity: str, min_chars: int = 10, limit: int | None = None) -> list[Segment]:
    """SummaC's source units with offsets. ``Segment.text`` is what the model reads (for ``2sents`` the two
    sentences joined by one space, as SummaC does); ``start``/``end`` locate the unit in ``text``."""
    units: list[Segment] = []
    if granularity == "document":
        units = [Segment(0, 0, len(text), text, "document")]
    elif granularity == "paragraph":
        for a, b in _paragraph_units(text):
            if b - a > min_chars:
                units.append(Segment(len(units), a, b, text[a:b], "paragraph"))
    else:
        sents = [s for s in split_sentences(text) if len(s.text) > min_chars]
        if granularity == "sentence":
            units = [Segment(i, s.start, s.end, s.text, "sentence") for i, s in enumerate(sents)]
        elif granularity == "2sents":
            for i, s in enumerate(sents):
                pair = sents[i : i + 2]
                units.append(Segment(i, s.start, pair[-1].end, " ".join(p.text for p in pair), "window"))
        else:
            raise ValueError(f"unknown SummaC granularity {granularity!r}")
    return units[:limit] if limit is not None else units


def histogram(values: Sequence[float], edges: Sequence[float] = PERCENTILE_EDGES) -> list[int]:
    """Raw counts per bin like ``numpy.histogram``: bins are [lo, hi) except the last, [lo, hi]; values
    outside [edges[0], edges[-1]] are not counted."""
    counts = [0] * (len(edges) - 1)
    last = len(edges) - 2
    for v in values:
        if v < edges[0] or v > edges[-1]:
            continue
        lo, hi = 0, len(edges) - 1
        while hi - lo > 1:  # largest k with edges[k] <= v
            mid = (lo + hi) // 2
            if edges[mid] <= v:
                lo = mid
            else:
                hi = mid
        counts[min(lo, last)] += 1
    return counts


def conv_row_score(counts: Sequence[int], weights: dict[str, Any]) -> tuple[float, float]:
    """(row score r = mlp(histogram), claim logit z): the Conv head on features [r, r, r] gives
    softmax(...)[1] = sigmoid(z)."""
    w, b = weights["mlp.weight"][0], weights["mlp.bias"][0]
    r = sum(float(c) * float(x) for c, x in zip(counts, w, strict=True)) + float(b)
    fw, fb = weights["layer_final.weight"], weights["layer_final.bias"]
    z = sum((float(fw[1][k]) - float(fw[0][k])) * r for k in range(3)) + float(fb[1]) - float(fb[0])
    return r, z


def load_conv_weights(path: str | None) -> dict[str, Any]:
    """The shipped weights, or a SummaC-Conv state dict from ``path`` loaded without running pickled code."""
    if path is None:
        return CONV_VITC_SENT_PERC_E
    import torch

    try:
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
    except Exception as e:  # any unpickling failure is one clear line
        raise ModelUnavailableError(f"summac_conv weights_file {path}: cannot load tensor-only ({e})") from None
    shapes = {"mlp.weight": (1, 23), "mlp.bias": (1,), "layer_final.weight": (2, 3), "layer_final.bias": (2,)}
    for k, shape in shapes.items():
        if k not in state or tuple(state[k].shape) != shape:
            raise ModelUnavailableError(
                f"summac_conv weights_file {path}: needs {k} of shape {shape} (percentile bins, nli_labels 'e', "
                f"one model); got {sorted(state)}")
    return {k: state[k].float().tolist() for k in shapes}


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


class _SummaCImager:
    """Shared part: the NLI model through the engine, and the image of each pair."""

    type = "summac"

    def __init__(self, cfg: SummaCZSScorerConfig | SummaCConvScorerConfig, ctx: ScorerContext) -> None:
        self.cfg = cfg
        self.name = cfg.name or cfg.type
        self.info, self.labels, self.backend = load_nli_classifier(cfg.model, ctx)
        if not self.labels["contradiction"] and getattr(cfg, "use_con", False):
            raise ModelUnavailableError(
                f"model {cfg.model.id!r} has no contradiction class; SummaC-ZS needs one (or set use_con: false)")

    def languages(self) -> frozenset[str] | None:
        return frozenset(self.info.languages) if self.info.languages else None

    def models(self) -> list[ModelInfo]:
        return [self.info]

    def _claims(self, sp: SegmentedPair) -> list[Segment]:
        return [c for c in sp.claims if c.checkable and len(c.text) > self.cfg.min_unit_chars]

    def images(self, pairs: Sequence[SegmentedPair], engine: Engine
               ) -> list[tuple[SegmentedPair, list[Segment], list[Segment], list[list[dict[str, float]]]]]:
        """Per pair: (pair, source units, claims, probs[i][j]) — one engine call for all pairs."""
        inputs: list[tuple[str, str]] = []
        plan = []
        for sp in pairs:
            units = summac_units(sp.pair.source, self.cfg.granularity, self.cfg.min_unit_chars,
                                 self.cfg.max_doc_units)
            claims = self._claims(sp)
            plan.append((sp, units, claims, len(inputs)))
            inputs.extend((u.text, c.text) for u in units for c in claims)
        raw = engine.run(self.backend, inputs, desc=f"{self.name}: {len(inputs)} unit-claim pairs")
        names = self.backend.labels
        out = []
        for sp, units, claims, first in plan:
            probs = [[to_nli_probs(raw[first + i * len(claims) + j], self.labels, names) for j in range(len(claims))]
                     for i in range(len(units))]
            out.append((sp, units, claims, probs))
        return out

    def _too_short(self, sp: SegmentedPair, result: dict[ClaimKey, ClaimScore]) -> None:
        for c in sp.claims:
            if c.checkable and len(c.text) <= self.cfg.min_unit_chars:
                result[(sp.pair.id, c.index)] = _row(sp, c, self.name, None, "not_checkable", "too_short", {}, None,
                                                     {"min_unit_chars": self.cfg.min_unit_chars})


def _row(sp: SegmentedPair, c: Segment, name: str, score: float | None, label: str, reason: str,
         probs: dict[str, float], unit: Segment | None, detail: dict[str, Any]) -> ClaimScore:
    ev = Evidence(sp.pair.source[unit.start:unit.end], unit.start, unit.end, unit.index) if unit else None
    return ClaimScore(
        pair_id=sp.pair.id, scorer=name, claim_index=c.index, text=c.text, start=c.start, end=c.end,
        score=score, label=label, reason=reason, probs=probs, evidence=ev, detail=detail,  # type: ignore[arg-type]
    )


def _reduce(values: list[float], op: str) -> float:
    if op == "mean":
        return sum(values) / len(values)
    return min(values) if op == "min" else max(values)


class SummaCZSScorer(_SummaCImager):
    """SummaC-ZS; see the module docstring."""

    type = "summac_zs"
    cfg: SummaCZSScorerConfig

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        cfg = self.cfg
        result: dict[ClaimKey, ClaimScore] = {}
        for sp, units, claims, probs in self.images(pairs, engine):
            self._too_short(sp, result)
            for j, c in enumerate(claims):
                ent = [probs[i][j]["entailment"] for i in range(len(units))] or [0.0]
                con = [probs[i][j]["contradiction"] for i in range(len(units))] or [0.0]
                e, k = _reduce(ent, cfg.op1), _reduce(con, cfg.op1)
                score = e - k if cfg.use_ent and cfg.use_con else (e if cfg.use_ent else 1.0 - k)
                best = max(range(len(ent)), key=lambda i: (ent[i], -i))
                worst = max(range(len(con)), key=lambda i: (con[i], -i))
                if max(ent) >= cfg.supported_threshold:
                    label, reason, at = "supported", "entailed", best
                elif max(con) >= cfg.contradicted_threshold:
                    label, reason, at = "contradicted", "contradicted", worst
                else:
                    label, reason, at = "unsupported", "no_evidence", best
                result[(sp.pair.id, c.index)] = _row(
                    sp, c, self.name, score, label, reason,
                    {"entailment": e, "contradiction": k}, units[at] if units else None,
                    {"units_scored": len(units), "max_entail_unit": best, "max_contradict_unit": worst},
                )
        return result


class SummaCConvScorer(_SummaCImager):
    """SummaC-Conv; see the module docstring."""

    type = "summac_conv"
    cfg: SummaCConvScorerConfig

    def __init__(self, cfg: SummaCConvScorerConfig, ctx: ScorerContext) -> None:
        self.weights = load_conv_weights(cfg.weights_file)
        super().__init__(cfg, ctx)

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        cfg = self.cfg
        result: dict[ClaimKey, ClaimScore] = {}
        for sp, units, claims, probs in self.images(pairs, engine):
            self._too_short(sp, result)
            for j, c in enumerate(claims):
                if j >= cfg.max_claims:
                    result[(sp.pair.id, c.index)] = _row(sp, c, self.name, None, "not_checkable", "beyond_max_claims",
                                                         {}, None, {"max_claims": cfg.max_claims})
                    continue
                ent = [probs[i][j]["entailment"] for i in range(len(units))] or [0.0]
                counts = histogram(ent)
                r, z = conv_row_score(counts, self.weights)
                score = _sigmoid(z)
                best = max(range(len(ent)), key=lambda i: (ent[i], -i))
                label, reason = ("supported", "entailed") if score >= cfg.supported_threshold else (
                    "unsupported", "no_evidence")
                result[(sp.pair.id, c.index)] = _row(
                    sp, c, self.name, score, label, reason, {"entailment": ent[best]},
                    units[best] if units else None,
                    {"units_scored": len(units), "histogram": counts, "row_score": r, "logit": z},
                )
        return result


@scorer("summac_zs")
def build_summac_zs_scorer(cfg: SummaCZSScorerConfig, ctx: ScorerContext) -> SummaCZSScorer:
    return SummaCZSScorer(cfg, ctx)


@scorer("summac_conv")
def build_summac_conv_scorer(cfg: SummaCConvScorerConfig, ctx: ScorerContext) -> SummaCConvScorer:
    return SummaCConvScorer(cfg, ctx)
