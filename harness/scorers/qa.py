"""QA-based consistency scorer (QAGS / QAFactEval style), through the same engine as the NLI scorer.

For every checkable claim:

1. **Answer candidates** — named entities, numbers, dates and noun phrases of the claim
   (:mod:`harness.scorers.answers`; spaCy or the model-free rules), at most ``max_questions_per_claim``.
2. **Questions** — one per candidate. Offline (``questions: cloze``, the default when no generator is
   configured): the claim with the candidate replaced by ``[MASK]``
   (:func:`harness.models.embedded_qa.cloze_question`, the format the shipped ``embedded-qa`` model was
   trained on); no model runs. With a generator (``questions: generated``): a seq2seq model writes the
   question, the candidate highlighted in the claim (``qg_format``, default
   ``"generate question: {highlighted}"`` with ``<hl>`` marks).
3. **Question answering** — each question is answered on the *source* (cut into overlapping token
   windows so that long sources are read in full; best span over all windows) and on the *claim*.
4. **Comparison** — per question ``score = F1(source answer, claim answer) x (1 - P(no answer on the
   source))``: token F1 after normalisation (QAGS; with ``answer_matching: values`` numbers and dates are
   written one way first, so "1,000" matches "1000" and "March 3, 2020" matches "3 March 2020") weighted by
   answerability (QAFactEval). When the claim-side QA finds no span, the candidate itself is the reference.

The claim score is the mean over its questions; ``supported`` at or above ``supported_threshold``, else
``unsupported`` with reason ``unanswerable`` (the source mostly cannot answer: mean P(no answer) >= 0.5)
or ``answer_mismatch``. QA cannot tell a contradiction from missing information, so it never says
``contradicted``. A claim without answer candidates (or whose questions all come out empty / filtered)
is ``not_checkable`` with score None and reason ``no_answer_candidates`` / ``no_questions`` /
``no_valid_questions``. :meth:`QAScorer.languages` is the intersection of both models' ``languages``; the
pipeline marks pairs outside it unverified (harness/pipeline.py), as for NLI. Evidence is the source
answer span of the question that decided the label (the best question of a supported claim,
the worst of an unsupported one); ``detail.questions`` keeps every question with both answers, offsets
and scores.

All model work is three ``engine.run`` calls per scoring call (two with cloze questions) — question
generation over every (claim, candidate) of the run, QA over every (question, source window), QA over every
(question, claim) — so batching, deduplication and caching are the engine's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.config import QAScorerConfig
from harness.engine import Engine
from harness.models.embedded_qa import CLOZE_MASK, cloze_question
from harness.models.qa_backends import ExtractiveQABackend, QuestionGenerationBackend
from harness.models.span_decoding import SpanAnswer, WindowResult, best_across_windows
from harness.results.schema import ModelInfo
from harness.scorers.answers import (
    AnswerCandidate,
    active_extractor,
    answer_f1,
    answer_tokens,
    extract_answers_many,
    token_f1,
)
from harness.scorers.base import ClaimKey, ScorerContext, scorer
from harness.scorers.qa_windows import WindowIndex
from harness.types import ClaimScore, Evidence, Segment, SegmentedPair

__all__ = ["Answers", "QAScorer", "QuestionResult", "WindowPlan", "answer_on_windows", "answer_questions",
           "build_qa_scorer", "claim_verdict", "context_windows", "highlight", "qg_prompt"]


def highlight(text: str, start: int, end: int, token: str = "<hl>") -> str:
    """The claim with ``text[start:end]`` wrapped in highlight tokens: ``"... <hl> answer <hl> ..."``."""
    return f"{text[:start]}{token} {text[start:end]} {token}{text[end:]}"


def qg_prompt(fmt: str, claim: str, cand: AnswerCandidate, token: str = "<hl>") -> str:
    """Fill ``qg_format`` ({highlighted}, {answer}, {claim}) for one answer candidate."""
    return fmt.format(highlighted=highlight(claim, cand.start, cand.end, token), answer=cand.text, claim=claim)


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question of one claim, with both answers and how they compare."""

    candidate: AnswerCandidate
    question: str
    source: SpanAnswer
    """Answer on the source; offsets index the pair's source."""
    claim: SpanAnswer
    """Answer on the claim; offsets index the claim text."""
    f1: float
    p_no_answer: float
    """P(no answer on the source) — 0 when ``answerability`` is off."""
    consistency: float
    """F1(claim answer, candidate): does the question ask about the candidate? (QAFactEval filter)"""
    score: float
    kept: bool
    absent: bool = False
    """The candidate has a word or value the source lacks, and the question was not asked (``absent_answers``)."""


def _round(x: float) -> float:
    return round(float(x), 6)


def compare(cand: AnswerCandidate, question: str, src: SpanAnswer, src_text: str, clm: SpanAnswer,
            claim_text: str, cfg: QAScorerConfig) -> QuestionResult:
    """Score one question: F1 of the source answer against the claim answer (or the candidate)."""
    match = answer_f1 if cfg.answer_matching == "values" else token_f1
    claim_ans = claim_text[clm.start:clm.end] if clm.has_span else ""
    reference = claim_ans if claim_ans.strip() else cand.text
    src_ans = src_text[src.start:src.end] if src.has_span else ""
    f1 = match(src_ans, reference) if src_ans.strip() else 0.0
    p_na = src.p_no_answer if cfg.answerability else 0.0
    consistency = match(claim_ans, cand.text) if claim_ans.strip() else 0.0
    kept = consistency >= cfg.min_question_consistency
    return QuestionResult(cand, question, src, clm, f1, p_na, consistency, f1 * (1.0 - p_na), kept)


def claim_verdict(results: Sequence[QuestionResult], threshold: float) -> tuple[float, str, str, int]:
    """(score, label, reason, index of the deciding question) over the kept questions (at least one)."""
    kept = [i for i, r in enumerate(results) if r.kept]
    score = sum(results[i].score for i in kept) / len(kept)
    if score >= threshold:
        best = max(kept, key=lambda i: (results[i].score, -i))
        return score, "supported", "answers_match", best
    worst = min(kept, key=lambda i: (results[i].score, i))
    mean_na = sum(results[i].p_no_answer for i in kept) / len(kept)
    return score, "unsupported", "unanswerable" if mean_na >= 0.5 else "answer_mismatch", worst


def _premise_at(premises: Sequence[Segment], pos: int) -> int | None:
    for p in premises:
        if p.start <= pos < p.end:
            return p.index
    return None


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """How many source windows each question reads (see :mod:`harness.scorers.qa_windows`).

    ``order[i]`` ranks question ``i``'s windows best first; the first ``top_k`` are read, and the rest only for
    the questions ``weak(i, answer)`` calls weak after that first pass."""

    order: Sequence[Sequence[int]]
    top_k: int
    weak: Callable[[int, SpanAnswer], bool] | None = None


@dataclass(frozen=True, slots=True)
class Answers:
    """Answers to questions on their contexts, and how many windows each read (of how many it had)."""

    answers: list[SpanAnswer]
    windows_read: list[int]
    windows_total: list[int]


def answer_questions(engine: Engine, qa: ExtractiveQABackend, questions: Sequence[str], contexts: Sequence[str],
                     doc_stride: int, desc: str = "answer questions") -> list[SpanAnswer]:
    """Answer ``questions[i]`` on ``contexts[i]``: one engine item per (question, window), best span over the
    windows. Shared with training (held-out EM/F1 are measured exactly as the scorer reads sources)."""
    return answer_on_windows(engine, qa, questions, contexts, doc_stride, desc).answers


Windows = dict[str, list[tuple[int, int]]]
"""Each distinct context's windows: character ranges ``[start, end)``."""


def context_windows(qa: ExtractiveQABackend, contexts: Sequence[str], doc_stride: int) -> Windows:
    """Each distinct context's windows (character ranges), tokenised once."""
    out: Windows = {}
    for ctx in contexts:
        if ctx not in out:
            out[ctx] = qa.windows(ctx, doc_stride)
    return out


def answer_on_windows(engine: Engine, qa: ExtractiveQABackend, questions: Sequence[str], contexts: Sequence[str],
                      doc_stride: int, desc: str = "answer questions", plan: WindowPlan | None = None,
                      windows: Windows | None = None) -> Answers:
    """:func:`answer_questions` reading, with a ``plan``, only each question's best windows first and the rest
    only where the answer is weak: at most two ``engine.run`` calls."""
    wins = windows if windows is not None else context_windows(qa, contexts, doc_stride)
    first: list[list[int]] = []
    for i, ctx in enumerate(contexts):
        n = len(wins[ctx])
        first.append(list(range(n)) if plan is None or plan.top_k >= n else list(plan.order[i][:plan.top_k]))
    read: list[list[tuple[int, WindowResult]]] = [[] for _ in questions]
    _read_windows(engine, qa, questions, contexts, wins, first, read, desc)
    answers = [best_across_windows(r) for r in read]
    if plan is not None and plan.weak is not None:
        rest: list[list[int]] = [[] for _ in questions]
        for i, ctx in enumerate(contexts):
            if len(first[i]) < len(wins[ctx]) and plan.weak(i, answers[i]):
                taken = set(first[i])
                rest[i] = [k for k in plan.order[i] if k not in taken]
        widened = [i for i, r in enumerate(rest) if r]
        if widened:
            _read_windows(engine, qa, questions, contexts, wins, rest, read, f"{desc} (widened: {len(widened)})")
            for i in widened:
                answers[i] = best_across_windows(read[i])
    return Answers(answers, [len(r) for r in read], [len(wins[ctx]) for ctx in contexts])


def _read_windows(engine: Engine, qa: ExtractiveQABackend, questions: Sequence[str], contexts: Sequence[str],
                  wins: Windows, which: Sequence[Sequence[int]],
                  read: list[list[tuple[int, WindowResult]]], desc: str) -> None:
    """One engine call over (question i, window k) for every k in ``which[i]``; results appended to ``read``."""
    items: list[tuple[str, str]] = []
    owners: list[tuple[int, int]] = []  # (question, character offset of the window)
    for i, (q, ctx) in enumerate(zip(questions, contexts, strict=True)):
        for k in which[i]:
            a, b = wins[ctx][k]
            items.append((q, ctx[a:b]))
            owners.append((i, a))
    outputs = engine.run(qa, items, desc=desc) if items else []
    for (i, offset), out in zip(owners, outputs, strict=True):
        read[i].append((offset, WindowResult.from_json(out)))


class QAScorer:
    """See the module docstring. Build with :func:`build_qa_scorer` (loads the models by config).

    ``qg`` None = cloze questions (no generator); given = generated questions."""

    type = "qa"

    def __init__(self, cfg: QAScorerConfig, qg: QuestionGenerationBackend | None, qa: ExtractiveQABackend,
                 infos: Sequence[ModelInfo] = ()) -> None:
        self.cfg = cfg
        self.name = cfg.name or "qa"
        self.qg = qg
        self.qa = qa
        self.infos = list(infos)

    @property
    def questions(self) -> str:
        """``cloze`` or ``generated``: how this scorer asks."""
        return "cloze" if self.qg is None else "generated"

    @property
    def claim_reference(self) -> str:
        """``model`` or ``candidate``: what a source answer is compared with (``claim_answers``, ``auto``
        resolved by how this scorer asks)."""
        if self.cfg.claim_answers != "auto":
            return self.cfg.claim_answers
        return "candidate" if self.qg is None else "model"

    @classmethod
    def from_config(cls, cfg: QAScorerConfig, ctx: ScorerContext) -> QAScorer:
        from harness.models.loading import load_model

        m = cfg.models
        qa_dtype = ctx.dtype if m.question_answering_dtype == "auto" else m.question_answering_dtype

        def key(info: ModelInfo, dtype: str) -> str:
            return f"{info.id}@{info.revision}|sha={info.weight_sha256}|dtype={dtype}"

        infos: list[ModelInfo] = []
        qg: QuestionGenerationBackend | None = None
        if cfg.question_source == "generated":
            assert m.question_generation is not None  # the config validator guarantees it
            qg_dtype = ctx.dtype if m.question_generation_dtype == "auto" else m.question_generation_dtype
            qg_loaded = load_model(m.question_generation, "seq2seq", dtype=qg_dtype, device=ctx.device)
            qg = QuestionGenerationBackend(
                qg_loaded.model, qg_loaded.tokenizer, model_key=key(qg_loaded.info, qg_dtype),
                max_length=m.question_generation.max_length, max_new_tokens=cfg.generation_max_new_tokens,
                num_beams=cfg.num_beams, device=ctx.device,
            )
            infos.append(qg_loaded.info.model_copy(update={"role": "question_generation"}))
        qa_loaded = load_model(m.question_answering, "question_answering", dtype=qa_dtype, device=ctx.device)
        qa = ExtractiveQABackend(
            qa_loaded.model, qa_loaded.tokenizer, model_key=key(qa_loaded.info, qa_dtype),
            max_length=m.question_answering.max_length, max_answer_tokens=cfg.max_answer_tokens,
            max_question_tokens=cfg.max_question_tokens, device=ctx.device,
        )
        infos.append(qa_loaded.info.model_copy(update={"role": "question_answering", "labels": {}}))
        return cls(cfg, qg, qa, infos)

    def languages(self) -> frozenset[str] | None:
        langs = [set(i.languages) for i in self.infos if i.languages]
        return frozenset(set.intersection(*langs)) if langs else None

    def models(self) -> list[ModelInfo]:
        return list(self.infos)

    # ------------------------------------------------------------------------------------------ score

    def score(self, pairs: Sequence[SegmentedPair], engine: Engine) -> dict[ClaimKey, ClaimScore]:
        cfg = self.cfg
        out: dict[ClaimKey, ClaimScore] = {}
        claims = [(sp, c) for sp in pairs for c in sp.claims if c.checkable]
        cands = extract_answers_many([c.text for _, c in claims], cfg.answer_extractor,
                                     cfg.max_questions_per_claim)
        extractor = active_extractor(cfg.answer_extractor)
        slots = [(k, cand) for k, cs in enumerate(cands) for cand in cs]  # (claim position, candidate)
        generated: list[Any]
        if self.qg is None:
            generated = [cloze_question(claims[k][1].text, cand.start, cand.end) for k, cand in slots]
        else:
            prompts = [(qg_prompt(cfg.qg_format, claims[k][1].text, cand, cfg.highlight_token),)
                       for k, cand in slots]
            generated = engine.run(self.qg, prompts, desc=f"{self.name}: generate {len(prompts)} questions") \
                if prompts else []
        asked = [i for i, q in enumerate(generated) if str(q).strip()]
        qs = [str(generated[i]).strip() for i in asked]
        src_ctx = [claims[slots[i][0]][0].pair.source for i in asked]
        clm_ctx = [claims[slots[i][0]][1].text for i in asked]
        absent_slots: list[int] = []
        absent_qs: list[str] = []
        if cfg.absent_answers == "unsupported":  # extrinsic candidates: unsupported without asking
            vocab: dict[str, set[str]] = {}
            for ctx in set(src_ctx):
                vocab[ctx] = set(answer_tokens(ctx))
            absent = {j for j, ctx in enumerate(src_ctx)
                      if not set(answer_tokens(slots[asked[j]][1].text)) <= vocab[ctx]}
            if absent:
                absent_slots = [asked[j] for j in sorted(absent)]
                absent_qs = [qs[j] for j in sorted(absent)]
                keep = [j for j in range(len(asked)) if j not in absent]
                asked, qs = [asked[j] for j in keep], [qs[j] for j in keep]
                src_ctx, clm_ctx = [src_ctx[j] for j in keep], [clm_ctx[j] for j in keep]
        if self.claim_reference == "model":
            clm_ans = answer_questions(engine, self.qa, qs, clm_ctx, cfg.doc_stride,
                                       f"{self.name}: answer {len(qs)} questions on claims")
        else:  # the candidate is the reference: the span it fills in the claim, certain
            clm_ans = [SpanAnswer(slots[i][1].start, slots[i][1].end, 0.0, -math.inf) for i in asked]

        def result(j: int, src: SpanAnswer) -> QuestionResult:
            k, cand = slots[asked[j]]
            return compare(cand, qs[j], src, claims[k][0].pair.source, clm_ans[j], claims[k][1].text, cfg)

        wins = context_windows(self.qa, src_ctx, cfg.doc_stride)
        plan = None
        if cfg.source_windows is not None:
            top_k = cfg.source_windows
            index = {ctx: WindowIndex([ctx[a:b] for a, b in w]) for ctx, w in wins.items() if len(w) > top_k}
            order = [index[ctx].rank(qs[j].replace(CLOZE_MASK, " "), slots[asked[j]][1].text) if ctx in index
                     else list(range(len(wins[ctx]))) for j, ctx in enumerate(src_ctx)]
            widen_below = cfg.widen_below
            weak = None if widen_below is None else (lambda j, src: result(j, src).score < widen_below)
            plan = WindowPlan(order, top_k, weak)
        on_sources = answer_on_windows(engine, self.qa, qs, src_ctx, cfg.doc_stride,
                                       f"{self.name}: answer {len(qs)} questions on sources", plan, wins)

        by_slot: dict[int, tuple[QuestionResult, tuple[int, int]]] = {}  # slot -> (result, windows read/total)
        for j, i in enumerate(asked):
            by_slot[i] = (result(j, on_sources.answers[j]), (on_sources.windows_read[j], on_sources.windows_total[j]))
        for i, q in zip(absent_slots, absent_qs, strict=True):
            cand = slots[i][1]
            by_slot[i] = (QuestionResult(cand, q, SpanAnswer(0, 0, -math.inf, -math.inf),
                                         SpanAnswer(cand.start, cand.end, 0.0, -math.inf), 0.0, 1.0, 1.0, 0.0, True,
                                         absent=True), (0, 0))
        per_claim: dict[int, list[QuestionResult]] = {}
        windows_read: dict[int, list[tuple[int, int]]] = {}
        for i in sorted(by_slot):  # questions in candidate order, asked or not
            k = slots[i][0]
            per_claim.setdefault(k, []).append(by_slot[i][0])
            windows_read.setdefault(k, []).append(by_slot[i][1])

        for k, (sp, claim) in enumerate(claims):
            results = per_claim.get(k, [])
            detail: dict[str, Any] = {"extractor": extractor, "questions_from": self.questions,
                                      "answer_matching": cfg.answer_matching,
                                      "claim_answers": self.claim_reference,
                                      "questions": [{**self._question_detail(r, sp, claim), "windows_read": list(w)}
                                                    for r, w in zip(results, windows_read.get(k, []), strict=True)]}
            base: dict[str, Any] = {"pair_id": sp.pair.id, "scorer": self.name, "claim_index": claim.index,
                                    "text": claim.text, "start": claim.start, "end": claim.end}
            if not results or not any(r.kept for r in results):
                reason = ("no_answer_candidates" if not cands[k] else "no_questions" if not results
                          else "no_valid_questions")
                detail["candidates"] = [c.text for c in cands[k]]
                out[(sp.pair.id, claim.index)] = ClaimScore(**base, score=None, label="not_checkable",
                                                            reason=reason, detail=detail)
                continue
            score, label, reason, at = claim_verdict(results, cfg.supported_threshold)
            if label == "unsupported" and all(r.absent for r in results if r.kept):
                reason = "answers_absent"
            kept = [r for r in results if r.kept]
            src = results[at].source
            evidence = None
            if src.has_span:
                evidence = Evidence(sp.pair.source[src.start:src.end], src.start, src.end,
                                    _premise_at(sp.premises, src.start))
            probs = {"answer_f1": _round(sum(r.f1 for r in kept) / len(kept)),
                     "p_no_answer": _round(sum(r.p_no_answer for r in kept) / len(kept))}
            detail["evidence_question"] = at
            out[(sp.pair.id, claim.index)] = ClaimScore(
                **base, score=_round(score), label=label, reason=reason,  # type: ignore[arg-type]
                probs=probs, evidence=evidence, detail=detail)
        return out

    @staticmethod
    def _question_detail(r: QuestionResult, sp: SegmentedPair, claim: Segment) -> dict[str, Any]:
        src, clm, c = r.source, r.claim, r.candidate
        return {
            "answer": c.text, "answer_start": claim.start + c.start, "answer_end": claim.start + c.end,
            "kind": c.kind, "question": r.question,
            "source_answer": {"text": sp.pair.source[src.start:src.end], "start": src.start, "end": src.end,
                              "p_no_answer": _round(src.p_no_answer)} if src.has_span else None,
            "claim_answer": {"text": claim.text[clm.start:clm.end], "start": claim.start + clm.start,
                             "end": claim.start + clm.end} if clm.has_span else None,
            "f1": _round(r.f1), "consistency": _round(r.consistency), "score": _round(r.score), "kept": r.kept,
            **({"absent_from_source": True} if r.absent else {}),
        }


@scorer("qa")
def build_qa_scorer(cfg: QAScorerConfig, ctx: ScorerContext) -> QAScorer:
    return QAScorer.from_config(cfg, ctx)
