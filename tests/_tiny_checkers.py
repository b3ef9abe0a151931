"""Tiny randomly initialised models with the published checkers' architectures, saved like a user's local
model folder (``save_pretrained``): MiniCheck RoBERTa / DeBERTa-v2 / Flan-T5 (T5ForConditionalGeneration),
HHEM (T5ForTokenClassification) and AlignScore (RoBERTa + heads in a Lightning-style checkpoint).

Tokenizers have fixed vocabularies (see ``_tiny_qa``) so every build is identical; weights come from a seed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from harness.engine.tiny import WORDS

__all__ = ["save_tiny_alignscore", "save_tiny_deberta_2way", "save_tiny_hhem", "save_tiny_minicheck_t5",
           "save_tiny_roberta_2way", "text"]


def text(seed: int, n_sents: int, lo: int = 4, hi: int = 12, newline_every: int = 0) -> str:
    """Plain capitalised sentences of the tiny vocabulary (optionally a newline every k sentences)."""
    rng = random.Random(seed)
    out = []
    for i in range(n_sents):
        words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
        words[-1] = rng.choice([w for w in WORDS if len(w) > 3])
        out.append(" ".join([words[0].capitalize(), *words[1:]]) + ".")
        if newline_every and (i + 1) % newline_every == 0 and i + 1 < n_sents:
            out.append("\n")
    return " ".join(out).replace(" \n ", "\n")


def _save(folder: Path, model: Any, tok: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def _roberta_config(vocab: int, **kw: Any) -> Any:
    from transformers import RobertaConfig

    return RobertaConfig(
        vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.3, **kw)


def save_tiny_roberta_2way(folder: Path, seed: int = 0) -> Path:
    """RobertaForSequenceClassification, 2 labels named "0"/"1" like lytang/MiniCheck-RoBERTa-Large."""
    from _tiny_qa import build_tiny_roberta_tokenizer
    from transformers import RobertaForSequenceClassification

    tok = build_tiny_roberta_tokenizer()
    config = _roberta_config(len(tok), num_labels=2, id2label={0: "0", 1: "1"}, label2id={"0": 0, "1": 1})
    torch.manual_seed(seed)
    return _save(folder, RobertaForSequenceClassification(config).eval(), tok)


def save_tiny_deberta_2way(folder: Path, seed: int = 0) -> Path:
    """DebertaV2ForSequenceClassification, 2 labels "0"/"1"; eos = [SEP] as in the DeBERTa-v3 tokenizer."""
    from _tiny_qa import build_tiny_bert_tokenizer
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification

    tok = build_tiny_bert_tokenizer()
    tok.eos_token = "[SEP]"
    config = DebertaV2Config(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, relative_attention=True, position_buckets=16, max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"], position_biased_input=False, type_vocab_size=0, pad_token_id=0,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.3, num_labels=2,
        id2label={0: "0", 1: "1"}, label2id={"0": 0, "1": 1}, pooler_hidden_size=32, pooler_dropout=0.0,
    )
    torch.manual_seed(seed)
    return _save(folder, DebertaV2ForSequenceClassification(config).eval(), tok)


def save_tiny_minicheck_t5(folder: Path, seed: int = 0) -> Path:
    """T5ForConditionalGeneration (the MiniCheck-Flan-T5 head: label ids 3 and 209 must exist)."""
    from _tiny_qa import build_tiny_t5, build_tiny_t5_tokenizer

    tok = build_tiny_t5_tokenizer()
    assert len(tok) > 209
    return _save(folder, build_tiny_t5(len(tok), seed=seed), tok)


def tiny_t5_encoder_config(vocab: int, num_labels: int = 2) -> Any:
    from transformers import T5Config

    return T5Config(vocab_size=vocab, d_model=32, d_kv=16, d_ff=64, num_layers=2, num_decoder_layers=2,
                    num_heads=2, dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                    num_labels=num_labels, classifier_dropout=0.0, initializer_factor=3.0)


def save_tiny_hhem(folder: Path, seed: int = 0) -> Path:
    """HHEM-2.1-Open's layout: a T5ForTokenClassification state dict under ``t5.`` in model.safetensors, with a
    config.json of the foundation T5 (not the remote-code HHEMv2Config) and the foundation tokenizer."""
    from _tiny_qa import build_tiny_t5_tokenizer
    from safetensors.torch import save_file
    from transformers import T5ForTokenClassification

    tok = build_tiny_t5_tokenizer()
    config = tiny_t5_encoder_config(len(tok))
    torch.manual_seed(seed)
    model = T5ForTokenClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    tied = "transformer.encoder.embed_tokens.weight"  # tied to transformer.shared; not stored, as in HHEM's file
    state = {f"t5.{k}": v.contiguous() for k, v in model.state_dict().items() if k != tied}
    save_file(state, str(folder / "model.safetensors"))
    config.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def save_tiny_alignscore(folder: Path, seed: int = 0) -> Path:
    """An AlignScore-style Lightning checkpoint: ``state_dict`` with ``base_model.*`` (RobertaModel with pooler),
    ``mlm_head.*``, ``bin_layer``, ``tri_layer``, ``reg_layer``, plus training state; tokenizer + config beside it."""
    from _tiny_qa import build_tiny_roberta_tokenizer
    from transformers import RobertaModel

    tok = build_tiny_roberta_tokenizer()
    config = _roberta_config(len(tok))
    torch.manual_seed(seed)
    base = RobertaModel(config, add_pooling_layer=True).eval()
    h = config.hidden_size
    heads = {"tri_layer": torch.nn.Linear(h, 3), "bin_layer": torch.nn.Linear(h, 2),
             "reg_layer": torch.nn.Linear(h, 1)}
    for layer in heads.values():
        torch.nn.init.normal_(layer.weight, std=1.0)
    state = {f"base_model.{k}": v for k, v in base.state_dict().items()}
    state["base_model.embeddings.position_ids"] = torch.arange(config.max_position_embeddings).unsqueeze(0)
    state["mlm_head.dense.weight"] = torch.zeros(h, h)
    for name, layer in heads.items():
        state[f"{name}.weight"], state[f"{name}.bias"] = layer.weight.detach(), layer.bias.detach()
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = {"epoch": 1, "global_step": 10, "pytorch-lightning_version": "1.7.7", "state_dict": state,
            "hyper_parameters": {"model": "roberta-base"}}
    torch.save(ckpt, folder / "AlignScore-tiny.ckpt")
    config.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder
