"""End to end: `python -m harness run` on the seeds and on a small JSONL with a tiny local NLI model."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.__main__ import main
from harness.results.schema import ClaimRow, PairRow, RunRecord


def _config(tmp_path: Path, model_dir: Path, data: str, extra: str = "") -> Path:
    p = tmp_path / "run.yaml"
    p.write_text(f"""
name: e2e
data: {data}
scorers:
  - type: nli
    model: {{id: "{model_dir}", max_length: 128}}
  - type: overlap
runtime: {{dtype: fp32, cache: null, progress: false, token_budget: 2048}}
{extra}
""", encoding="utf-8")
    return p


def _read(folder: Path) -> tuple[RunRecord, list[PairRow], list[ClaimRow]]:
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    pairs = [PairRow.model_validate_json(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
    claims = [ClaimRow.model_validate_json(line) for line in (folder / "claims.jsonl").read_text().splitlines()]
    return rec, pairs, claims


def test_run_on_seeds_writes_three_files(tmp_path: Path, tiny_nli_dir: Path, repo: Path) -> None:
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: seeds, path: {repo / 'seeds'}}}")
    out = tmp_path / "results"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "5"]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec, pairs, claims = _read(folder)
    pair = pairs[0]
    rewrite = (repo / "seeds" / "002_0922f5ff1f2f956d.txt").read_text()
    source = (repo / "seeds" / "000_532c53ef62720ff5.txt").read_text()
    assert {c.scorer for c in claims} == {"nli", "overlap"}
    assert set(pair.scores) == {"nli", "overlap", "combined"}
    for c in claims:
        assert rewrite[c.start : c.end] == c.text
        if c.evidence is not None:
            assert source[c.evidence.start : c.evidence.end] == c.evidence.text
        if c.label != "not_checkable":
            assert c.score is not None
    nli = [c for c in claims if c.scorer == "nli" and c.label != "not_checkable"]
    assert nli and all(set(c.probs) == {"entailment", "neutral", "contradiction"} for c in nli)
    assert all(abs(sum(c.probs.values()) - 1) < 1e-4 for c in nli)
    assert rec.config_hash and rec.datasets[0].n_pairs == 1 and rec.counts["pairs"] == 1
    assert rec.scorers[0].models[0].weight_sha256
    assert rec.packages.get("torch", "").startswith("2.13.0")
    assert rec.coverage["min"] == pytest.approx(1.0)
    assert pair.source_lang == "de" and pair.rewrite_lang == "en"


def test_run_jsonl_with_labels_and_metrics(tmp_path: Path, tiny_nli_dir: Path) -> None:
    rows = [
        {"id": f"p{i}", "source": "The council approved the budget on Monday. Taxes rose.",
         "summary": s, "label": lab}
        for i, (s, lab) in enumerate([
            ("The council approved the budget.", 1), ("The council rejected the budget.", 0),
            ("Taxes rose.", 1), ("Taxes fell on Friday.", 0),
        ])
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = _config(tmp_path, tiny_nli_dir,
                  f"{{name: small, type: jsonl, path: {data}, fields: {{rewrite: summary}}, role: dev}}",
                  extra="checks: {claim_worthiness: false, quotes: false, off_topic: false}")
    out = tmp_path / "res"
    assert main(["run", str(cfg), "--output", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec, pairs, _ = _read(folder)
    assert [p.pair_id for p in pairs] == ["p0", "p1", "p2", "p3"]
    assert [p.gold_label for p in pairs] == [1.0, 0.0, 1.0, 0.0]
    assert len({p.content_hash for p in pairs}) == 4
    assert "small" in rec.metrics and "overlap" in rec.metrics["small"]
    # overlap separates these perfectly: the unfaithful rewrites use words the source lacks
    assert rec.metrics["small"]["overlap"]["roc_auc"] == pytest.approx(1.0)


def test_unknown_hub_model_offline_fails_fast(tmp_path: Path, repo: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""
data: {{type: seeds, path: {repo / 'seeds'}}}
scorers: [{{type: nli, model: {{id: "nobody/no-such-nli-model", revision: abc123}}}}]
runtime: {{cache: null}}
""")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(cfg), "--output", str(tmp_path / "r")],
                          capture_output=True, text=True, cwd=repo,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    elapsed = time.perf_counter() - t
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nobody/no-such-nli-model" in lines[0] and "embedded" in lines[0]
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())
    assert elapsed < 30  # generous: interpreter + torch import; the hub retry loop alone would take ~46 s


def test_bad_data_row_exits_2_and_writes_nothing(tmp_path: Path, tiny_nli_dir: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "source": "x", "rewrite": "y"}\n{"id": "b", "source": "x"}\n')
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}")
    out = tmp_path / "res"
    assert main(["run", str(cfg), "--output", str(out)]) == 2
    assert not out.exists() or not any(out.iterdir())


NO_CHECKS = "checks: {claim_worthiness: false, quotes: false, off_topic: false}"


def _many_pairs(path: Path, n: int = 40) -> Path:
    import random

    from harness.engine.tiny import WORDS

    rng = random.Random(7)
    rows = []
    for i in range(n):
        sents = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30))).capitalize() + "."
                 for _ in range(rng.randint(2, 8))]
        claims = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12))).capitalize() + "."
                  for _ in range(rng.randint(1, 4))]
        rows.append({"id": f"r{i}", "source": " ".join(sents), "rewrite": " ".join(claims), "label": i % 2})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _run_folder(out: Path) -> Path:
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def test_scores_do_not_depend_on_token_budget(tmp_path: Path, tiny_nli_dir: Path) -> None:
    data = _many_pairs(tmp_path / "d.jsonl", 12)
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}", extra=NO_CHECKS)
    claims = []
    for budget in (64, 512, 8192):
        out = tmp_path / f"r{budget}"
        assert main(["run", str(cfg), "--output", str(out), "--set", f"runtime.token_budget={budget}"]) == 0
        _, _, c = _read(_run_folder(out))
        claims.append(c)
    for other in claims[1:]:
        assert len(other) == len(claims[0])
        for a, b in zip(claims[0], other, strict=True):
            assert (a.pair_id, a.claim_index, a.scorer, a.label) == (
                b.pair_id, b.claim_index, b.scorer, b.label)
            if a.score is not None and b.score is not None:
                assert abs(a.score - b.score) <= 1e-5


KILLER = """
import os, signal, sys
import harness.engine.hf_backend as hb
orig = hb.PairClassifierBackend.collate  # called by every forward pass, PyTorch or ONNX Runtime
calls = {"n": 0}
def collate(self, batch):
    calls["n"] += 1
    if calls["n"] > int(os.environ["KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)
    return orig(self, batch)
hb.PairClassifierBackend.collate = collate
from harness.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_killed_run_resumes_from_cache_with_identical_claims(tmp_path: Path, tiny_nli_dir: Path,
                                                             repo: Path) -> None:
    data = _many_pairs(tmp_path / "d.jsonl", 40)
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}", extra=NO_CHECKS)
    cache = tmp_path / "cache.sqlite"
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KILL_AFTER": "4",
           "PYTHONPATH": str(repo)}
    args = ["run", str(cfg), "--set", f"runtime.cache={cache}", "--set", "runtime.token_budget=256"]
    killed = subprocess.run([sys.executable, "-c", KILLER, *args, "--output", str(tmp_path / "killed")],
                            env=env, cwd=repo, capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not (tmp_path / "killed").exists() or not [p for p in (tmp_path / "killed").iterdir() if p.is_dir()
                                                      and not p.name.startswith(".")]
    assert main([*args, "--output", str(tmp_path / "resumed")]) == 0
    assert main([*args, "--output", str(tmp_path / "fresh"), "--no-cache"]) == 0
    resumed, fresh = _run_folder(tmp_path / "resumed"), _run_folder(tmp_path / "fresh")
    assert (resumed / "claims.jsonl").read_bytes() == (fresh / "claims.jsonl").read_bytes()
    rec = RunRecord.model_validate_json((resumed / "run.json").read_text())
    assert rec.engine["cache_hits"] > 0 and rec.engine["computed"] > 0
    assert rec.engine["cache_hits"] + rec.engine["computed"] == rec.engine["unique"]


def test_premise_top_k_scores_a_subset_and_keeps_evidence_offsets(tmp_path: Path, tiny_nli_dir: Path) -> None:
    data = _many_pairs(tmp_path / "d.jsonl", 10)
    sources = {json.loads(line)["id"]: json.loads(line)["source"] for line in data.read_text().splitlines()}
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}",
                  extra=NO_CHECKS + "\nsegmentation: {premises: {unit: sentence}}")
    runs = {}
    for k in ("null", "1", "1000"):
        out = tmp_path / f"k{k}"
        assert main(["run", str(cfg), "--output", str(out), "--set", f"scorers.0.premise_top_k={k}",
                     "--set", "scorers.0.premise_widen_below=null"]) == 0
        runs[k] = {(c.pair_id, c.claim_index): c for c in _read(_run_folder(out))[2] if c.scorer == "nli"}
    full, top1, wide = runs["null"], runs["1"], runs["1000"]
    assert full.keys() == top1.keys() == wide.keys()
    assert {key: c.score for key, c in wide.items()} == {key: c.score for key, c in full.items()}
    assert any(c.detail["premises_scored"] > 1 for c in full.values())
    for key, c in top1.items():
        assert c.detail["premises_scored"] == 1 and c.evidence is not None
        assert sources[c.pair_id][c.evidence.start : c.evidence.end] == c.evidence.text
        assert c.score is not None and full[key].score is not None and c.score <= full[key].score + 1e-6


def test_premise_stop_above_gives_the_rest_only_to_claims_their_closest_unit_does_not_support(
        tmp_path: Path, tiny_nli_dir: Path) -> None:
    """Two passes: a claim whose P(entail) against its closest unit reaches the threshold meets that unit only;
    any other claim meets all k units, with the score one pass over all k gives."""
    data = _many_pairs(tmp_path / "d.jsonl", 12)
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}",
                  extra=NO_CHECKS + "\nsegmentation: {premises: {unit: sentence}}")

    def run(name: str, *sets: str) -> tuple[RunRecord, dict[tuple[str, int], ClaimRow]]:
        out = tmp_path / name
        assert main(["run", str(cfg), "--output", str(out), "--set", "scorers.0.premise_widen_below=null",
                     *[a for s in sets for a in ("--set", s)]]) == 0
        rec, _, claims = _read(_run_folder(out))
        return rec, {(c.pair_id, c.claim_index): c for c in claims if c.scorer == "nli"}

    _, closest = run("k1", "scorers.0.premise_top_k=1")
    rec3, top3 = run("k3", "scorers.0.premise_top_k=3")
    first = {key: c.probs["entailment"] for key, c in closest.items()}
    ranked = sorted(first.values())  # about half the claims stop after their closest unit:
    stop = (ranked[len(ranked) // 2 - 1] + ranked[len(ranked) // 2]) / 2  # between two (rounded) probabilities
    rec, two_pass = run("stop", "scorers.0.premise_top_k=3", f"scorers.0.premise_stop_above={stop}")
    assert two_pass.keys() == top3.keys()
    stopped = 0
    for key, c in two_pass.items():
        if first[key] >= stop:
            stopped += 1
            assert c.detail == closest[key].detail and c.score == closest[key].score
        else:
            assert c.detail == top3[key].detail and c.score == top3[key].score
    assert 0 < stopped < len(two_pass) and any(c.detail["premises_scored"] == 3 for c in top3.values())
    assert rec.engine["inputs"] < rec3.engine["inputs"]


def test_premise_stop_above_meets_the_widened_units_last(tmp_path: Path, tiny_nli_dir: Path) -> None:
    """With widening, the passes are: the closest unit, the rest of the top k, then the rest of the widened
    set; a claim stops after the first pass whose best P(entail) reaches the threshold."""
    data = _many_pairs(tmp_path / "d.jsonl", 12)
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}",
                  extra=NO_CHECKS + "\nsegmentation: {premises: {unit: sentence}}")

    def run(name: str, *sets: str) -> dict[tuple[str, int], ClaimRow]:
        out = tmp_path / name
        assert main(["run", str(cfg), "--output", str(out), "--set", "scorers.0.premise_widen_to=5",
                     *[a for s in sets for a in ("--set", s)]]) == 0
        return {(c.pair_id, c.claim_index): c for c in _read(_run_folder(out))[2] if c.scorer == "nli"}

    k1 = run("k1", "scorers.0.premise_top_k=1", "scorers.0.premise_widen_below=null")
    k2 = run("k2", "scorers.0.premise_top_k=2", "scorers.0.premise_widen_below=null")
    wide = run("wide", "scorers.0.premise_top_k=2", "scorers.0.premise_widen_below=1.0")
    best = sorted(c.score for c in k1.values() if c.score is not None)  # max P(entail) over the units met
    stop = (best[len(best) // 2 - 1] + best[len(best) // 2]) / 2
    passes = run("passes", "scorers.0.premise_top_k=2", "scorers.0.premise_widen_below=1.0",
                 f"scorers.0.premise_stop_above={stop}")
    ended = []
    for key, c in passes.items():
        at = next(n for n, earlier in enumerate((k1, k2), 1) if (earlier[key].score or 0.0) >= stop) \
            if (k2[key].score or 0.0) >= stop else 3
        expected = (k1, k2, wide)[at - 1][key]
        assert (c.score, c.detail) == (expected.score, expected.detail)
        ended.append(at)
    assert {1, 3} <= set(ended)  # some claims stop at once, some meet the widened units
    assert any(c.detail["premises_scored"] > 2 for c in wide.values())


def test_premise_selection_by_encoder_finds_paraphrased_evidence(tmp_path: Path, tiny_nli_dir: Path) -> None:
    source = ("The feline dozed on the woven mat all afternoon. Shares in the bank fell sharply on Tuesday. "
              "A cat owner said the weather was bad for the harvest. Rain is expected in the north.")
    claim = "A cat was sleeping on a rug."  # a paraphrase of the first sentence; the third shares "cat"
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p", "source": source, "rewrite": claim}) + "\n")
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}",
                  extra=NO_CHECKS + "\nsegmentation: {premises: {unit: sentence}}")
    evidence = {}
    for how in ("words", "encoder", "words+encoder"):
        out = tmp_path / how
        assert main(["run", str(cfg), "--output", str(out), "--set", "scorers.0.premise_top_k=1",
                     "--set", f"scorers.0.premise_selection={how}", "--set", "scorers.0.premise_widen_below=null"]) == 0
        (row,) = [c for c in _read(_run_folder(out))[2] if c.scorer == "nli"]
        evidence[how] = row
    assert evidence["words"].evidence.text.startswith("A cat owner")  # type: ignore[union-attr]
    assert evidence["encoder"].evidence.text.startswith("The feline")  # type: ignore[union-attr]
    assert evidence["encoder"].detail["premises_scored"] == 1
    assert evidence["words+encoder"].detail["premises_scored"] == 2  # the union of both picks


def test_premise_widen_below_scores_paraphrased_claims_against_every_unit(tmp_path: Path,
                                                                          tiny_nli_dir: Path) -> None:
    source = ("The feline dozed on the woven mat all afternoon. Shares in the bank fell sharply on Tuesday. "
              "A cat owner said the weather was bad for the harvest. Rain is expected in the north.")
    rewrite = "Shares in the bank fell on Tuesday. A kitty napped on a rug."  # extractive, then a paraphrase
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p", "source": source, "rewrite": rewrite}) + "\n")
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}",
                  extra=NO_CHECKS + "\nsegmentation: {premises: {unit: sentence}}")
    scored = {}
    for widen in ("null", "0.5"):
        out = tmp_path / f"w{widen}"
        assert main(["run", str(cfg), "--output", str(out), "--set", "scorers.0.premise_top_k=1",
                     "--set", f"scorers.0.premise_widen_below={widen}"]) == 0
        rows = sorted((c for c in _read(_run_folder(out))[2] if c.scorer == "nli"), key=lambda c: c.claim_index)
        scored[widen] = [c.detail["premises_scored"] for c in rows]
    assert scored["null"] == [1, 1]
    assert scored["0.5"] == [1, 4]  # the paraphrase shares no content word with any unit: all 4 are scored


def test_best_overlap_is_the_largest_share_of_claim_words_in_one_unit() -> None:
    from harness.scorers.nli import PremiseIndex
    from harness.scorers.overlap import content_words

    units = ["Shares in the bank fell sharply.", "The bank opened a branch.", "Rain fell."]
    index = PremiseIndex([set(content_words(u)) for u in units])
    claim = "Bank shares fell on Tuesday."
    words = set(content_words(claim))
    expected = max(len(words & set(content_words(u))) for u in units) / len(words)
    assert index.best_overlap(claim) == pytest.approx(expected) and 0 < expected < 1
    assert index.best_overlap("Completely unrelated sentence here.") == 0.0
    assert index.best_overlap("the of and") == 0.0  # no content words at all


def test_sentence_premises_above_adds_the_copied_sentence_alone(tmp_path: Path, tiny_nli_dir: Path) -> None:
    """A claim copied from one sentence of a window also meets that sentence without its neighbour (the
    evidence is then the sentence itself); a paraphrase meets windows only."""
    source = ("Shares in the bank fell sharply on Tuesday. Rain is expected in the north. "
              "The feline dozed on the woven mat all afternoon. A cat owner said the harvest was poor.")
    rewrite = "Shares in the bank fell sharply on Tuesday. A kitty napped on a rug."
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "p", "source": source, "rewrite": rewrite}) + "\n")
    cfg = _config(tmp_path, tiny_nli_dir, f"{{type: jsonl, path: {data}}}", extra=NO_CHECKS)
    rows = {}
    for above in ("null", "0.67"):
        out = tmp_path / f"s{above}"
        assert main(["run", str(cfg), "--output", str(out), "--set", "scorers.0.premise_top_k=1",
                     "--set", "scorers.0.premise_widen_below=null",
                     "--set", f"scorers.0.sentence_premises_above={above}"]) == 0
        rows[above] = sorted((c for c in _read(_run_folder(out))[2] if c.scorer == "nli"),
                             key=lambda c: c.claim_index)
    assert [c.detail["premises_scored"] for c in rows["null"]] == [1, 1]
    copied, paraphrase = rows["0.67"]
    assert copied.detail["premises_scored"] == 1 and copied.detail["sentences_alone"] == 1
    assert paraphrase.detail["premises_scored"] == 1 and "sentences_alone" not in paraphrase.detail
    first_window = rows["null"][0]
    assert copied.score is not None and first_window.score is not None and copied.score >= first_window.score
    ev = copied.evidence
    assert ev is not None and source[ev.start:ev.end] == ev.text
    if copied.score > first_window.score:  # the lone sentence won: it is the evidence, inside its window
        assert ev.text == "Shares in the bank fell sharply on Tuesday." and ev.premise_index == 0
