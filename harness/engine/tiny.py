"""Tiny, locally built models for tests and ``harness bench --model tiny``: no download, built in < 1 s.

A WordPiece tokenizer trained on the spot with the ``tokenizers`` library and a randomly initialised
2-layer BERT (hidden 32). Deterministic for a given seed, so tests can compare exact outputs.
"""

from __future__ import annotations

import string
from typing import Any

import torch

__all__ = ["WORDS", "build_tiny_bert", "build_tiny_tokenizer", "tiny_pair_backend"]

WORDS: tuple[str, ...] = tuple(
    """
        the of and to in a is that for it as was with be by on not he this are or his from at which but have
        an they you were her she there been one all we their has would when if so no will more said who
        about up out them into some could than other time its only new two may first then these after any
        also over people did our years most like made between before through where back should being much
        way well down government city report police company minister president court official state market
        million percent children school family hospital water energy climate research study team season
        match player coach club league election party vote law council health patients doctors prices bank
        shares investors quarter growth profit sales workers union strike airport flight passengers storm
        flood fire village museum film music album singer festival award book author television series
        episode actor actress director scientists university students teacher village island river mountain
        border troops army talks agreement deal plan budget tax spending debt inflation rate jobs
        unemployment economy crisis announced reported confirmed denied claimed warned said told added
        according expected increased fell rose cut won lost signed launched opened closed arrested charged
        found killed injured rescued moved monday tuesday wednesday thursday friday saturday sunday january
        february march april june july august september october november december london paris washington
        sydney beijing berlin manila
        """.split()
)


def build_tiny_tokenizer(vocab_size: int = 600) -> Any:
    """A BERT-style fast tokenizer ([CLS] a [SEP] b [SEP], token types 0/1) over :data:`WORDS`.

    The vocabulary is written out, not trained: the special tokens, every word of :data:`WORDS` whole, then
    single characters and their ``##`` continuations (so any text tokenizes), at most ``vocab_size`` entries.
    The same in every process (a trained WordPiece vocabulary broke ties differently per process, so two
    processes built different "tiny-bert-seed0" models under one cache key)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(dict.fromkeys(string.ascii_lowercase + string.digits + string.punctuation))
    tokens = [*specials, *dict.fromkeys(w.lower() for w in WORDS), *chars, *(f"##{c}" for c in chars)]
    tokens = list(dict.fromkeys(tokens))[:vocab_size]
    tok = Tokenizer(models.WordPiece(vocab={t: i for i, t in enumerate(tokens)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=512,
    )


def build_tiny_bert(vocab_size: int, *, seed: int = 0, num_labels: int = 3, dtype: torch.dtype = torch.float32,
                    max_positions: int = 512) -> Any:
    """Random BertForSequenceClassification: hidden 32, 2 layers, 2 heads, SDPA attention."""
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(  # type: ignore[call-arg]  # transformers' stubs omit the **kwargs fields
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=max_positions, num_labels=num_labels, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, initializer_range=0.3,  # wide init: outputs far from uniform
    )
    config._attn_implementation = "sdpa"
    config._name_or_path = f"tiny-bert-seed{seed}"
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = BertForSequenceClassification(config)
    return model.to(dtype).eval()  # type: ignore[arg-type]


def tiny_pair_backend(*, seed: int = 0, max_length: int = 128, pad_multiple: int = 8,
                      dtype: torch.dtype = torch.float32) -> Any:
    """A ready :class:`~harness.engine.hf_backend.PairClassifierBackend` on the tiny model."""
    from harness.engine.hf_backend import PairClassifierBackend

    tokenizer = build_tiny_tokenizer()
    model = build_tiny_bert(len(tokenizer), seed=seed, dtype=dtype, max_positions=max(max_length, 128))
    return PairClassifierBackend(model, tokenizer, max_length=max_length, cache_key=f"tiny-bert-seed{seed}",
                                 pad_multiple=pad_multiple)
