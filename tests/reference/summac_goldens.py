"""Regenerate the SummaC parity goldens (tests/fixtures/summac/) from the reference implementation.

Runs in a SEPARATE environment with the reference package, never in the project's own::

    python3 -m venv /tmp/summac-venv
    /tmp/summac-venv/bin/pip install torch==2.13.0 transformers==5.24.0 nltk numpy tqdm requests
    /tmp/summac-venv/bin/pip install summac==0.0.4 --no-deps   # its pins (transformers 4, hub<=0.17) are too old
    /tmp/summac-venv/bin/python tests/reference/summac_goldens.py [--rebuild-model]

What it does:

1. ``--rebuild-model`` (or no model yet): builds a tiny randomly initialised ALBERT NLI classifier (SummaC's
   paper backbone is ALBERT, ``tals/albert-xlarge-vitaminc-mnli``; labels SUPPORTS / REFUTES / NOT ENOUGH INFO)
   with a fixed WordPiece vocabulary, seed 0, and saves it to ``tests/fixtures/summac/tiny-albert`` (~0.2 MB;
   committed, so the test needs no rebuild and the goldens stay tied to these exact weights).
2. Registers it in summac's ``model_map`` (entailment 0, contradiction 1, like ``vitc``) and scores the cases
   below with ``SummaCZS`` and ``SummaCConv`` on CPU (fp32), writing ``golden.json``: per case the reference's
   source and claim units, its image (P(ent), P(con), P(neu) per unit x claim) and its scores.

Two shims adapt summac 0.0.4 to transformers 5 / an offline machine without touching its code:

* ``batch_encode_plus`` (removed in transformers 5) -> ``tokenizer(premises, hypotheses, padding=True,
  truncation=True, max_length=500, return_tensors="pt")``; the legacy ``truncation_strategy="only_first"``
  is dropped, which is what transformers 4 did too when ``truncation=True`` was given (effective
  ``longest_first``).
* ``nltk.tokenize.sent_tokenize`` -> a split after ``. ! ?`` followed by white space: NLTK's punkt data
  cannot be downloaded here. The cases are plain sentences on which punkt, this rule and the harness's
  splitter agree; the test checks that the harness's units equal the recorded ones.

SummaC-Conv's published weights are not in the PyPI wheel (summac downloads them from GitHub at run time):
they are written to a temporary ``.bin`` from the values the harness vendors (``CONV_VITC_SENT_PERC_E``,
transcribed from the published file) and loaded with ``start_file``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import tempfile
from pathlib import Path

import nltk
import numpy as np
import torch
import transformers
from transformers.tokenization_utils_base import PreTrainedTokenizerBase

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "summac"
MODEL_DIR = OUT / "tiny-albert"
sys.path.insert(0, str(REPO))

from harness.engine.tiny import WORDS  # noqa: E402  (torch/tokenizers only; no project dependencies)
from harness.scorers.summac_weights import CONV_VITC_SENT_PERC_E  # noqa: E402

ID2LABEL = {0: "SUPPORTS", 1: "REFUTES", 2: "NOT ENOUGH INFO"}


def build_tiny_albert(folder: Path, seed: int = 0) -> None:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import AlbertConfig, AlbertForSequenceClassification, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = sorted({w.lower() for w in WORDS} | {"microsoft", "jeff", "joined", "windows", "lead", "evangelism"})
    chars = [*string.ascii_lowercase, *string.digits, *string.punctuation]
    pieces = list(dict.fromkeys([*specials, *words, *chars, *(f"##{c}" for c in string.ascii_lowercase)]))
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(pieces)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512,
                                   model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    config = AlbertConfig(
        vocab_size=len(fast), embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, type_vocab_size=2, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.0, initializer_range=0.5, num_labels=3,
        id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()}, pad_token_id=0,
    )
    torch.manual_seed(seed)
    model = AlbertForSequenceClassification(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)


def _batch_encode_plus(self, pairs, padding=True, truncation=True, max_length=None, return_tensors=None, **_):
    prems, hyps = [p for p, _ in pairs], [h for _, h in pairs]
    return self(prems, hyps, padding=padding, truncation=truncation, max_length=max_length,
                return_tensors=return_tensors)


def _sent_tokenize(text: str, language: str = "english") -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words[-1] = rng.choice([w for w in WORDS if len(w) > 3])  # "people a." would read as an initial
    return " ".join([words[0].capitalize(), *words[1:]]) + "."


def cases() -> list[dict[str, str]]:
    rng = random.Random(12)

    def text(n_sents: int, lo: int = 5, hi: int = 14) -> str:
        return " ".join(sentence(rng, rng.randint(lo, hi)) for _ in range(n_sents))

    doc = "Jeff joined Microsoft in 1992 to lead corporate developer evangelism for Windows NT."
    shared = text(5)
    return [
        {"id": "readme-1", "doc": doc, "summary": "Jeff joined Microsoft in 1992.", "granularity": "sentence"},
        {"id": "readme-2", "doc": doc, "summary": "Jeff joined Microsoft.", "granularity": "sentence"},
        {"id": "plain", "doc": text(4), "summary": text(2), "granularity": "sentence"},
        {"id": "copied-claims", "doc": shared, "summary": " ".join(shared.split(". ")[1:3]) + ".",
         "granularity": "sentence"},
        {"id": "short-units", "doc": text(2) + " Yes it is. " + text(2), "summary": text(1) + " He won. " + text(1),
         "granularity": "sentence"},
        {"id": "101-plus-units", "doc": text(105, 4, 8), "summary": text(3), "granularity": "sentence"},
        {"id": "truncated", "doc": text(1) + " " + sentence(rng, 620) + " " + text(1), "summary": text(2),
         "granularity": "sentence"},
        {"id": "twelve-claims", "doc": text(6), "summary": text(12, 4, 9), "granularity": "sentence"},
        {"id": "no-source-unit", "doc": "Short one. Tiny.", "summary": text(2), "granularity": "sentence"},
        {"id": "two-sentence-windows", "doc": text(5), "summary": text(2), "granularity": "2sents-sentence"},
        {"id": "paragraphs", "doc": text(2) + "\n\n" + text(3) + "\n\n" + text(1),
         "summary": text(1) + "\n\n" + text(2), "granularity": "paragraph"},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rebuild-model", action="store_true")
    args = ap.parse_args()
    if args.rebuild_model or not (MODEL_DIR / "config.json").exists():
        build_tiny_albert(MODEL_DIR)

    PreTrainedTokenizerBase.batch_encode_plus = _batch_encode_plus  # shim 1 (see the module docstring)
    nltk.tokenize.sent_tokenize = _sent_tokenize  # shim 2
    import summac
    from summac import model_summac
    from summac.model_summac import SummaCConv, SummaCZS

    model_summac.model_map["tiny-albert"] = {"model_card": str(MODEL_DIR), "entailment_idx": 0,
                                             "contradiction_idx": 1}
    with tempfile.TemporaryDirectory() as tmp:
        start = Path(tmp) / "summac_conv_vitc_sent_perc_e.bin"
        torch.save({k: torch.tensor(v, dtype=torch.float32) for k, v in CONV_VITC_SENT_PERC_E.items()}, start)
        out_cases = []
        for case in cases():
            gran = case["granularity"]
            common = {"model_name": "tiny-albert", "granularity": gran, "device": "cpu", "imager_load_cache": False}
            zs = SummaCZS(**common)
            res = zs.score([case["doc"]], [case["summary"]])
            image = res["images"][0]
            variants = {
                "zs_op1_mean": SummaCZS(op1="mean", **common).score([case["doc"]], [case["summary"]])["scores"][0],
                "zs_no_con": SummaCZS(use_con=False, **common).score([case["doc"]], [case["summary"]])["scores"][0],
                "zs_no_ent": SummaCZS(use_ent=False, **common).score([case["doc"]], [case["summary"]])["scores"][0],
            }
            conv = SummaCConv(models=["tiny-albert"], bins="percentile", granularity=gran, nli_labels="e",
                              device="cpu", start_file=str(start), imager_load_cache=False, agg="mean")
            conv_score = conv.score([case["doc"]], [case["summary"]])["scores"][0]
            imager = zs.imager
            doc_gran, _, claim_gran = gran.partition("-")
            out_cases.append({
                **case,
                "doc_units": imager.split_text(case["doc"], doc_gran)[: imager.max_doc_sents],
                "claim_units": imager.split_text(case["summary"], claim_gran or doc_gran),
                "image": np.round(np.asarray(image), 8).tolist(),
                "zs": float(res["scores"][0]),
                **{k: float(v) for k, v in variants.items()},
                "conv": float(conv_score),
            })
    meta = {
        "reference": "summac 0.0.4 (tingofurro/summac, Apache-2.0), SummaCZS / SummaCConv on CPU, fp32",
        "versions": {"summac": getattr(summac, "__version__", "0.0.4"), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "shims": ["batch_encode_plus -> tokenizer(prems, hyps, padding=True, truncation=True, max_length=500)",
                  "nltk sent_tokenize -> split after [.!?] + white space (punkt data not downloadable offline)"],
        "model": "tests/fixtures/summac/tiny-albert (random ALBERT, seed 0)",
        "conv_weights": "CONV_VITC_SENT_PERC_E (published summac_conv_vitc_sent_perc_e.bin values)",
        "regenerate": "python tests/reference/summac_goldens.py  (in a separate venv; see its docstring)",
    }
    (OUT / "golden.json").write_text(json.dumps({"meta": meta, "cases": out_cases}, indent=1) + "\n")
    print(f"wrote {OUT / 'golden.json'}: {len(out_cases)} cases")
    for c in out_cases:
        print(f"  {c['id']:16s} units {len(c['doc_units']):3d}x{len(c['claim_units']):2d}  zs {c['zs']:+.6f}  "
              f"conv {c['conv']:.6f}")


if __name__ == "__main__":
    main()
