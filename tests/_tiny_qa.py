"""Tiny question-generation (T5) and extractive-QA (BERT) models for the QA scorer's tests.

Random weights, tokenizers trained on the spot, saved with ``save_pretrained`` so the scorer loads them
by local path exactly like a user's model folder. Each builds in well under a second. Import the
fixtures into a test module with ``from _tiny_qa import tiny_qa_dir, tiny_qg_dir``.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest

from harness.engine.tiny import WORDS

__all__ = ["build_tiny_bert_tokenizer", "build_tiny_qa", "build_tiny_roberta_tokenizer", "build_tiny_t5",
           "build_tiny_t5_tokenizer", "save_tiny_qa", "save_tiny_qg", "save_tiny_roberta_qa", "tiny_qa_dir",
           "tiny_qg_dir", "tiny_roberta_qa_dir"]

_EXTRA = """
    mexican mexico sheinbaum trump claudia donald president troops drug trafficking cartels weekend
    offer refused rejected military what who when where how many which question generate answer
    """.split()


def _vocab(specials: list[str]) -> dict[str, int]:
    """A fixed WordPiece vocabulary: specials, whole words, then characters and ``##`` continuations.

    Built, not trained: ``tokenizers``' WordPiece trainer breaks ties differently from process to process,
    which would make "the same" tiny model give different scores in different test runs.
    """
    words = sorted({w.lower() for w in (*WORDS, *_EXTRA)})
    chars = [*string.ascii_lowercase, *string.digits, *string.punctuation, "’", "“", "”", "—", "–", "„"]
    pieces = [*specials, *words, *chars, *(f"##{c}" for c in string.ascii_lowercase + string.digits)]
    return {p: i for i, p in enumerate(dict.fromkeys(pieces))}


def _wordpiece(specials: list[str], unk: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    tok = Tokenizer(models.WordPiece(_vocab(specials), unk_token=unk, max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    return tok


def build_tiny_t5_tokenizer() -> Any:
    """WordPiece tokenizer with T5's special tokens (<pad>=0, </s>=1, <unk>=2) plus the <hl> highlight."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tok = _wordpiece(["<pad>", "</s>", "<unk>", "<hl>"], "<unk>")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
        additional_special_tokens=["<hl>"], model_max_length=512,
    )


def build_tiny_bert_tokenizer() -> Any:
    """BERT-style fast tokenizer ([CLS] question [SEP] context [SEP], token types 0/1) for the QA model."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tok = _wordpiece(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "[UNK]")
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=512,
    )


def build_tiny_t5(vocab_size: int, *, seed: int = 0) -> Any:
    """Random T5ForConditionalGeneration: d_model 32, 2+2 layers, 2 heads."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    extra: dict[str, Any] = {"decoder_start_token_id": 0, "tie_word_embeddings": False}
    config = T5Config(
        vocab_size=vocab_size, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=2,
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, **extra,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = T5ForConditionalGeneration(config)
        # A random decoder's argmax is often <pad>, which would decode to an empty question: make the
        # special tokens (<pad>, <unk>, <hl>) never win, so greedy decoding emits words until </s> or the limit.
        with torch.no_grad():
            model.lm_head.weight[[0, 2, 3]] = 0.0
            model.lm_head.weight[1] *= 0.3
    return model.eval()


def build_tiny_qa(vocab_size: int, *, seed: int = 0) -> Any:
    """Random BertForQuestionAnswering: hidden 32, 2 layers, 2 heads (wide init so spans differ)."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        initializer_range=0.3,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = BertForQuestionAnswering(config)
    return model.eval()


def save_tiny_qg(folder: Path, *, seed: int = 0) -> Path:
    tok = build_tiny_t5_tokenizer()
    model = build_tiny_t5(len(tok), seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def save_tiny_qa(folder: Path, *, seed: int = 0) -> Path:
    tok = build_tiny_bert_tokenizer()
    model = build_tiny_qa(len(tok), seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_qg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qg(tmp_path_factory.mktemp("tiny-qg"))


@pytest.fixture(scope="session")
def tiny_qa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_qa(tmp_path_factory.mktemp("tiny-qa"))


def build_tiny_roberta_tokenizer() -> Any:
    """RoBERTa-style byte-level tokenizer (``<s> q </s></s> c </s>``, no token types), one token per byte:
    a fixed vocabulary with no merges, so it is deterministic and needs no training."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {t: i for i, t in enumerate([*specials, *sorted(alphabet)])}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True,
                                                      add_prefix_space=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>", model_max_length=512, model_input_names=["input_ids", "attention_mask"],
    )


def save_tiny_roberta_qa(folder: Path, *, seed: int = 0) -> Path:
    """Random RobertaForQuestionAnswering (the family of the default deepset/roberta-base-squad2)."""
    import torch
    from transformers import RobertaConfig, RobertaForQuestionAnswering

    tok = build_tiny_roberta_tokenizer()
    config = RobertaConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.3,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = RobertaForQuestionAnswering(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_roberta_qa_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_roberta_qa(tmp_path_factory.mktemp("tiny-roberta-qa"))
