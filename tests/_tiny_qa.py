"""Tiny question-generation (T5) and extractive-QA (BERT) models for the QA scorer's tests.

Random weights, tokenizers trained on the spot, saved with ``save_pretrained`` so the scorer loads them
by local path exactly like a user's model folder. Each builds in well under a second. Import the
fixtures into a test module with ``from tests._tiny_qa import tiny_qa_dir, tiny_qg_dir``.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest

from harness.engine.tiny import WORDS, build_tiny_tokenizer

__all__ = ["build_tiny_qa", "build_tiny_t5", "build_tiny_t5_tokenizer", "save_tiny_qa", "save_tiny_qg",
           "tiny_qa_dir", "tiny_qg_dir"]

_EXTRA = """
    mexican mexico sheinbaum trump claudia donald president troops drug trafficking cartels weekend
    offer refused rejected military what who when where how many which question generate answer
    """.split()


def build_tiny_t5_tokenizer(vocab_size: int = 700) -> Any:
    """WordPiece tokenizer with T5's special tokens (<pad>=0, </s>=1, <unk>=2) plus the <hl> highlight."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "</s>", "<unk>", "<hl>"]
    tok = Tokenizer(models.WordPiece(unk_token="<unk>"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=specials,
        initial_alphabet=list(string.ascii_lowercase + string.digits + string.punctuation), show_progress=False,
    )
    words = list(WORDS) + _EXTRA
    corpus = [" ".join(words[i : i + 12]) + " ?" for i in range(0, len(words), 3)]
    tok.train_from_iterator(corpus * 3, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
        additional_special_tokens=["<hl>"], model_max_length=512,
    )


def build_tiny_t5(vocab_size: int, *, seed: int = 0) -> Any:
    """Random T5ForConditionalGeneration: d_model 32, 2+2 layers, 2 heads."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=vocab_size, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=2,
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=False,
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
    tok = build_tiny_tokenizer()
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
