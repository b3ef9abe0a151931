"""PTB-tokenised summaries reach the model as prose (``scorers.*.untokenize``); claims keep their own text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.segment.detokenize import untokenize
from tests.test_run_e2e import NO_CHECKS, _config, _read, _run_folder

TOKENISED = ("`` i 'm on television and you 're in a trailer , honey , '' he said -lrb- twice -rrb- . "
             "she would n't go , and the players ' union paid 5 % .")


@pytest.mark.parametrize(("tokenised", "prose"), [
    (TOKENISED, "\"i'm on television and you're in a trailer, honey,\" he said (twice). "
                "she wouldn't go, and the players ' union paid 5%."),
    ("makrus åsberg , 25 , said : ` we 're no heroes , just tourists '",
     "makrus åsberg, 25, said: 'we're no heroes, just tourists'"),
    ("tim sherwood 's side will return . . .", "tim sherwood's side will return..."),
])
def test_tokenised_text_becomes_prose(tokenised: str, prose: str) -> None:
    assert untokenize(tokenised) == prose
    assert untokenize(prose) == prose  # idempotent


def test_prose_passes_unchanged(repo: Path) -> None:
    """Plain text, quotes, contractions, brackets and money included, is left exactly as it is."""
    seeds = [p.read_text(encoding="utf-8") for p in sorted((repo / "seeds").glob("*")) if p.is_file()]
    lines = [ln for text in seeds for ln in text.splitlines() if ln.strip()]
    lines += ["Rock 'n' roll (live) costs $5, he said: \"it's 'fine'.\"", "Einstein's 1905 paper; e.g. 3.5 % ..."]
    changed = [ln for ln in lines if untokenize(ln) != ln and " %" not in ln]
    assert not changed, changed[:3]


def test_the_model_reads_prose_while_the_claim_keeps_its_text(tmp_path: Path, tiny_nli_dir: Path) -> None:
    source = "The actor said he would not work in such a place and called the trailer small."
    claim = "the actor would n't work there , he said -lrb- loudly -rrb- ."
    scores = {}
    for name, rewrite, flag in (("tokenised", claim, "false"), ("untokenised", claim, "true"),
                                ("prose", untokenize(claim), "false")):
        data = tmp_path / f"{name}.jsonl"
        data.write_text(json.dumps({"id": "p", "source": source, "rewrite": rewrite}) + "\n")
        cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}", extra=NO_CHECKS)
        out = tmp_path / name
        assert main(["run", str(cfg), "--output", str(out), "--set", f"scorers.0.untokenize={flag}"]) == 0
        (row,) = [c for c in _read(_run_folder(out))[2] if c.scorer == "nli"]
        scores[name] = row
    untok, prose, tok = scores["untokenised"], scores["prose"], scores["tokenised"]
    assert untok.text == claim and (untok.start, untok.end) == (0, len(claim))  # the claim as written
    assert untok.score == pytest.approx(prose.score, abs=1e-6)  # ... judged as the prose it stands for
    assert tok.score != pytest.approx(untok.score, abs=1e-6)
