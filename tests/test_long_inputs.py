"""Long sources: segmentation work grows linearly with source length, and NLI on a book-length source meets
each claim with a bounded number of premise units (and says so in run.json).

Work is counted deterministically (Python line events inside harness/segment, characters handed to the
token counter), never timed: timings are the benchmark's job (``harness bench --source-sweep``).
"""

from __future__ import annotations

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
