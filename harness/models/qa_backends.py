"""Engine backends for the QA scorer: question generation (seq2seq ``generate``) and extractive QA.

transformers 5 has neither a ``text2text-generation`` nor a ``question-answering`` pipeline, so both
are written here against the model classes: generation calls ``model.generate`` on a padded batch;
extractive QA runs ``AutoModelForQuestionAnswering`` and decodes spans with our own decoder
(:mod:`harness.models.span_decoding`) using the fast tokenizer's offset mapping.

Long contexts are not windowed here but by the caller with :meth:`ExtractiveQABackend.windows`
(character ranges cut at token/word boundaries), so that every (question, window) is one engine item:
the engine then deduplicates, caches and batches windows like any other input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.engine.base import ModelInput
from harness.models.span_decoding import Span, WindowResult, decode_window

__all__ = ["ExtractiveQABackend", "QuestionGenerationBackend"]


def _pad(rows: Sequence[Sequence[int]], pad_id: int, device: str) -> tuple[Any, Any]:
    """Right-padded ids and attention mask (width rounded up to a multiple of 8)."""
    import torch

    width = -(-max(len(r) for r in rows) // 8) * 8
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(list(r), dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


def _pad_id(tokenizer: Any) -> int:
    for attr in ("pad_token_id", "eos_token_id", "unk_token_id"):
        v = getattr(tokenizer, attr, None)
        if v is not None:
            return int(v)
    return 0


# ---------------------------------------------------------------------------------------- generation

class _GenEncoded:
    """Prompt token ids; ``len()`` is the cost the engine budgets: (prompt + new tokens) x beams."""

    __slots__ = ("cost", "ids")

    def __init__(self, ids: list[int], cost: int) -> None:
        self.ids = ids
        self.cost = cost

    def __len__(self) -> int:
        return self.cost


class QuestionGenerationBackend:
    """Seq2seq question generation: one prompt in (``(prompt,)``), one question string out.

    Greedy (``num_beams=1``) or beam search, never sampling, so outputs are deterministic and cacheable.
    """

    version = "qg-1"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_key: str,
        max_length: int = 512,
        max_new_tokens: int = 32,
        num_beams: int = 1,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.device = device
        self.pad_id = _pad_id(tokenizer)
        self._key = (f"{model_key}|qg|max_length={self.max_length}|new={max_new_tokens}|beams={num_beams}"
                     f"|{self.version}")

    @property
    def cache_key(self) -> str:
        return self._key

    def encode(self, item: ModelInput) -> _GenEncoded:
        (prompt,) = item
        ids = self.tokenizer(prompt, truncation=True, max_length=self.max_length)["input_ids"]
        return _GenEncoded(list(ids), (len(ids) + self.max_new_tokens) * self.num_beams)

    def run_batch(self, batch: Sequence[_GenEncoded]) -> list[str]:
        import torch

        ids, mask = _pad([e.ids for e in batch], self.pad_id, self.device)
        kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "num_beams": self.num_beams,
                                  "do_sample": False}
        if self.num_beams > 1:
            kwargs["early_stopping"] = True
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        texts = self.tokenizer.batch_decode(out, skip_special_tokens=True, clean_up_tokenization_spaces=True)
        return [" ".join(t.split()) for t in texts]


# ---------------------------------------------------------------------------------------- extractive QA

class _QAEncoded:
    """One (question, context window): ids, token types, context offsets and the no-answer position."""

    __slots__ = ("context", "ids", "null_index", "offsets", "type_ids")

    def __init__(self, ids: list[int], type_ids: list[int] | None, offsets: list[tuple[int, int] | None],
                 null_index: int | None, context: str) -> None:
        self.ids = ids
        self.type_ids = type_ids
        self.offsets = offsets
        self.null_index = null_index
        self.context = context

    def __len__(self) -> int:
        return len(self.ids)


class ExtractiveQABackend:
    """Extractive QA on ``(question, context)``: outputs the best ``n_best`` spans as
    ``{"spans": [[start_char, end_char, log_score], ...], "null": log_score}`` (JSON, so it caches).

    Span offsets index the ``context`` given in the input (the scorer shifts them by the window start).
    Questions longer than ``max_question_tokens`` are cut (as in SQuAD preprocessing) so that the
    context always gets the rest of the window.
    """

    version = "qa-1"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        model_key: str,
        max_length: int = 384,
        max_answer_tokens: int = 30,
        max_question_tokens: int = 64,
        n_best: int = 3,
        device: str = "cpu",
    ) -> None:
        if not getattr(tokenizer, "is_fast", True):
            raise ValueError("extractive QA needs a fast tokenizer (offset mapping)")
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = min(max_length, getattr(tokenizer, "model_max_length", max_length) or max_length)
        self.max_question_tokens = max(1, min(max_question_tokens, self.max_length // 4))
        self.max_answer_tokens = max_answer_tokens
        self.n_best = n_best
        self.device = device
        self.pad_id = _pad_id(tokenizer)
        self.cls_id = getattr(tokenizer, "cls_token_id", None)
        self._key = (f"{model_key}|qa|max_length={self.max_length}|q={self.max_question_tokens}"
                     f"|ans={max_answer_tokens}|n_best={n_best}|{self.version}")

    @property
    def cache_key(self) -> str:
        return self._key

    # -- windows -----------------------------------------------------------------------------------

    @property
    def window_tokens(self) -> int:
        """Context tokens per window: the model window minus question, special tokens and a small slack
        (re-tokenising a cut-out window can add a token or two at its edges)."""
        specials = self.tokenizer.num_special_tokens_to_add(pair=True)
        slack = 4
        return max(8, self.max_length - self.max_question_tokens - specials - slack)

    def windows(self, context: str, doc_stride: int = 128) -> list[tuple[int, int]]:
        """Character ranges ``[start, end)`` covering ``context`` in windows of :attr:`window_tokens`
        tokens that overlap by ``doc_stride`` tokens (the SQuAD ``doc_stride``; capped at half a window).

        Cuts fall on word boundaries where possible so a window re-tokenises like the full text. Every
        non-space character lies in at least one window; consecutive windows overlap.
        """
        enc = self.tokenizer(context, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offs = [(int(a), int(b)) for a, b in enc["offset_mapping"] if b > a]
        n = len(offs)
        if n == 0:
            return [(0, len(context))] if context.strip() else []
        size = self.window_tokens
        if n <= size:
            return [(offs[0][0], offs[-1][1])]
        overlap = min(doc_stride, size // 2)
        step = size - overlap

        def word_start(k: int) -> bool:
            # a gap before the token, or (sentencepiece offsets that include the "▁" space) a leading space
            a = offs[k][0]
            return k == 0 or a > offs[k - 1][1] or context[a - 1].isspace() or context[a].isspace()

        out: list[tuple[int, int]] = []
        s = 0
        while True:
            e = min(s + size, n)
            if e < n:  # end the window before a word start, but not before the next window's start
                k = e
                while k > s + step and not word_start(k):
                    k -= 1
                e = k if k > s + step else e
            out.append((offs[s][0], offs[e - 1][1]))
            if e >= n:
                return out
            nxt = s + step
            k = nxt
            while k > s + 1 and not word_start(k):
                k -= 1
            s = k if k > s + 1 and word_start(k) else nxt
            s = min(s, e - 1)

    # -- engine protocol ---------------------------------------------------------------------------

    def _clip_question(self, question: str) -> str:
        enc = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offs = enc["offset_mapping"]
        if len(offs) <= self.max_question_tokens:
            return question
        return question[: offs[self.max_question_tokens - 1][1]]

    def encode(self, item: ModelInput) -> _QAEncoded:
        question, context = item
        enc = self.tokenizer(self._clip_question(question), context, truncation="only_second",
                             max_length=self.max_length, return_offsets_mapping=True, verbose=False)
        seq = enc.sequence_ids(0)
        offsets = [(int(o[0]), int(o[1])) if s == 1 else None for o, s in zip(enc["offset_mapping"], seq,
                                                                                strict=True)]
        ids = list(enc["input_ids"])
        null_index: int | None = 0
        if self.cls_id is not None and self.cls_id in ids:
            null_index = ids.index(self.cls_id)
        types = enc.get("token_type_ids")
        return _QAEncoded(ids, list(types) if types is not None else None, offsets, null_index, context)

    def run_batch(self, batch: Sequence[_QAEncoded]) -> list[dict[str, object]]:
        import torch

        ids, mask = _pad([e.ids for e in batch], self.pad_id, self.device)
        inputs = {"input_ids": ids, "attention_mask": mask}
        if all(e.type_ids is not None for e in batch):
            types = torch.zeros_like(ids)
            for r, e in enumerate(batch):
                assert e.type_ids is not None
                types[r, : len(e.type_ids)] = torch.tensor(e.type_ids, dtype=torch.long)
            inputs["token_type_ids"] = types
        with torch.inference_mode():
            out = self.model(**inputs)
            starts = out.start_logits.float().cpu().numpy()
            ends = out.end_logits.float().cpu().numpy()
        results = []
        for r, e in enumerate(batch):
            n = len(e)
            res = decode_window(starts[r, :n], ends[r, :n], e.offsets, max_answer_tokens=self.max_answer_tokens,
                                null_index=e.null_index, n_best=self.n_best)
            results.append(WindowResult(tuple(_trim(sp, e.context) for sp in res.spans), res.null_score).to_json())
        return results


def _trim(span: Span, text: str) -> Span:
    """Drop whitespace a tokenizer's offsets may include (sentencepiece's leading ``▁``)."""
    s, e = span.start, span.end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return Span(s, e, span.score)
