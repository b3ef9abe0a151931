"""Cross-lingual scoring offline: the multilingual encoder through the engine, the evidence features, the
trained head's judgement, and language routing of `nli` columns (issue: German source, English rewrite)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.__main__ import main
from harness.checks.quotes import verify_quotes
from harness.config import CrossLingualScorerConfig, SegmentationConfig
from harness.engine import Engine, OutputCache
from harness.engine.sentence_encoder import decode_vectors, embed, multilingual_encoder
from harness.models.crosslingual import CrossLingualHead, load_head
from harness.results.schema import ClaimRow, RunRecord
from harness.scorers.base import ScorerContext, build_scorer
from harness.scorers.evidence import SourceIndex, has_negation, name_tokens, number_mentions
from harness.segment import segment_pair
from harness.types import Pair

SOURCE_DE = (
    "Der indische Premierminister Narendra Modi ist zu einem fünftägigen Besuch in Japan eingetroffen. "
    "Er trifft am Montag in Tokio seinen japanischen Amtskollegen Shinzo Abe. "
    "Die beiden Regierungen wollen 2015 einen Vertrag über 35 Milliarden Dollar unterzeichnen. "
    "Auf der Tagesordnung steht auch eine engere Zusammenarbeit bei der Kernenergie."
)
FAITHFUL = "He meets his Japanese counterpart Shinzo Abe in Tokyo on Monday."
EDITS = {
    "number": "The two governments want to sign a 45 billion dollar treaty in 2015.",
    "weekday": "He meets his Japanese counterpart Shinzo Abe in Tokyo on Friday.",
    "negation": "He does not meet his Japanese counterpart Shinzo Abe in Tokyo on Monday.",
    "extrinsic": "He meets his Japanese counterpart Angela Merkel in Tokyo on Monday.",
    "other_doc": "The cyclists and runners began the race at ten in the morning.",
}


@pytest.fixture(scope="module")
def encoder():  # type: ignore[no-untyped-def]
    return multilingual_encoder()


@pytest.mark.slow
def test_encoder_runs_through_the_engine_with_dedup_and_cache(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts = [FAITHFUL, "Er trifft am Montag in Tokio seinen japanischen Amtskollegen Shinzo Abe.", FAITHFUL,
             EDITS["other_doc"]]
    cache = OutputCache(tmp_path / "c.sqlite")
    engine = Engine(2048, cache=cache)
    vecs = embed(engine, encoder, texts)
    assert vecs.shape == (4, 512) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert engine.stats.inputs == 4 and engine.stats.unique == 3 and engine.stats.forward_calls >= 1
    assert np.array_equal(vecs[0], vecs[2])
    # a German sentence and its English translation are close; an unrelated sentence is not
    assert float(vecs[0] @ vecs[1]) > 0.6 > 0.3 > float(vecs[0] @ vecs[3])
    # same vectors from the package's own API (the backend feeds it token ids in budgeted batches)
    direct = encoder._use.encode(texts)
    assert np.allclose(direct, vecs, atol=1e-5)
    again = Engine(2048, cache=cache)
    assert np.array_equal(embed(again, encoder, texts), vecs)
    assert again.stats.cache_hits == 3 and again.stats.forward_calls == 0
    assert decode_vectors([]).shape == (0, 512)


def test_numbers_read_across_conventions_and_languages() -> None:
    de = number_mentions("Am 19. Februar zahlte er 1.000 Euro, 2,5 Prozent, und zwanzig Leute kamen im März.")
    en = number_mentions("On February 19 he paid 1,000 euros, 2.5 percent, and twenty people came in March[3].")
    index = SourceIndex(["Am 19. Februar zahlte er 1.000 Euro, 2,5 Prozent, und zwanzig Leute kamen im März."])
    assert all(index.has_number(m) for m in en)
    assert {m.text for m in en} >= {"19", "1,000", "2.5", "twenty", "February", "March"}
    assert "3" not in {m.text for m in en}  # a citation marker is not a number of the text
    assert not index.has_number(number_mentions("in April")[0])
    assert not index.has_number(number_mentions("1,500 euros")[0])
    assert len(de) == len(en)
    assert number_mentions("It may rain.") == []  # the modal verb is not the month


def test_names_negation_and_aliases() -> None:
    names = name_tokens("India's new prime minister, Narendra Modi, met Shinzo Abe in Tokyo and Germany.")
    assert names == ["Narendra", "Modi", "Shinzo", "Abe", "Tokyo", "Germany"]  # sentence-initial India's skipped
    index = SourceIndex([SOURCE_DE + " Deutschland"])
    assert index.has_name("Tokyo")  # close spelling (Tokio)
    assert index.has_name("Germany")  # country table (Deutschland)
    assert index.has_name("Japanese")  # inflected nationality (japanischen)
    assert not index.has_name("Merkel")
    assert has_negation("He didn't go.") and has_negation("Er ging nicht.") and not has_negation("He went.")


def _scored(texts: list[str]) -> dict[int, object]:
    rewrite = " ".join(texts)
    sp = segment_pair(Pair("p", SOURCE_DE, rewrite), SegmentationConfig())
    scorer = build_scorer(CrossLingualScorerConfig(type="crosslingual"), ScorerContext())
    out = scorer.score([sp], Engine(4096))
    return {k[1]: v for k, v in out.items()}


def test_crosslingual_judge_ranks_faithful_translation_above_each_edit() -> None:
    texts = [FAITHFUL, *EDITS.values()]
    scores = _scored(texts)
    assert len(scores) == len(texts)
    faithful = scores[0]
    for k, name in enumerate(EDITS, start=1):
        assert faithful.score > scores[k].score, name  # type: ignore[attr-defined]
    assert faithful.label == "supported"  # type: ignore[attr-defined]
    for cs in scores.values():
        ev = cs.evidence  # type: ignore[attr-defined]
        assert SOURCE_DE[ev.start:ev.end] == ev.text
        assert cs.detail["model"].startswith("crosslingual-head@")  # type: ignore[attr-defined]
        assert set(cs.probs) == {"entailment", "neutral", "contradiction"}  # type: ignore[attr-defined]
    # the evidence of the faithful claim is the sentence it translates
    assert "Montag in Tokio" in faithful.evidence.text  # type: ignore[attr-defined]
    assert scores[2].detail["evidence_features"]["numbers_missing_passage"] == 1.0  # type: ignore[attr-defined]


def test_head_refuses_a_spec_for_other_features(tmp_path: Path) -> None:
    spec = dict(load_head().spec)
    spec["features"] = ["cos"]
    with pytest.raises(ValueError, match="other features"):
        CrossLingualHead(spec)
    probs = load_head().predict_proba([[0.0] * len(load_head().spec["features"])])
    assert probs.shape == (1, 3) and abs(float(probs.sum()) - 1.0) < 1e-9


def _write_pairs(path: Path) -> None:
    rows = [
        {"id": "de-en", "source": SOURCE_DE, "rewrite": f"{FAITHFUL} {EDITS['number']}", "label": 1},
        {"id": "en-en", "source": "The Indian prime minister met his Japanese counterpart in Tokyo on Monday. "
                                  "They signed a treaty.",
         "rewrite": "The prime minister met his counterpart in Tokyo on Monday.", "label": 1},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _config(tmp_path: Path, model_dir: Path) -> Path:
    data = tmp_path / "pairs.jsonl"
    _write_pairs(data)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"name: routing\ndata: {{name: mixed, type: jsonl, path: {data}}}\n"
        f"scorers:\n  - {{type: nli, model: {{id: {model_dir}, max_length: 128}}}}\n  - {{type: overlap}}\n"
        f"runtime: {{cache: null, progress: false, dtype: fp32}}\n",
        encoding="utf-8",
    )
    return cfg


def _read(out: Path) -> tuple[RunRecord, list[ClaimRow]]:
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    rows = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    return rec, rows


@pytest.mark.slow
def test_routing_sends_cross_lingual_pairs_to_the_crosslingual_judge(tmp_path: Path, tiny_nli_dir: Path) -> None:
    cfg = _config(tmp_path, tiny_nli_dir)
    out = tmp_path / "routed"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0"]) == 0
    rec, rows = _read(out)
    head = f"crosslingual:crosslingual-head@{load_head().version}"
    assert rec.routes["nli"] == {str(tiny_nli_dir): 1, head: 1}
    assert rec.routes["overlap"] == {"overlap": 1, "unscored": 1}
    nli = [r for r in rows if r.scorer == "nli"]
    de = [r for r in nli if r.pair_id == "de-en"]
    en = [r for r in nli if r.pair_id == "en-en"]
    assert de and all(r.score is not None and r.detail["route"] == "crosslingual" for r in de)
    assert de[0].score > de[1].score  # faithful translation above the changed number
    assert en and all(r.detail["model"] == str(tiny_nli_dir) and "route" not in r.detail for r in en)
    assert {m.role for m in rec.scorers[0].models} >= {"nli", "sentence_encoder", "crosslingual_head"}
    assert all(r.reason == "cross_lingual_unscored" for r in rows if r.scorer == "overlap" and r.pair_id == "de-en")

    off = tmp_path / "unrouted"
    assert main(["run", str(cfg), "--output", str(off), "--show-claims", "0",
                 "--set", "routing.cross_lingual=false"]) == 0
    rec2, rows2 = _read(off)
    assert rec2.routes["nli"] == {str(tiny_nli_dir): 1, "unscored": 1}
    assert all(r.reason == "cross_lingual_unscored" for r in rows2 if r.scorer == "nli" and r.pair_id == "de-en")


def test_cross_lingual_quotes_are_matched_by_the_encoder(encoder) -> None:  # type: ignore[no-untyped-def]
    source = ("Die Präsidentin lehnte ab. „Wir können zusammenarbeiten, aber Sie in Ihrem Territorium und wir in "
              "unserem“, sagte Sheinbaum. Das Militär wurde verstärkt.")
    rewrite = ('"We can work together, but you in your territory and we in ours," Sheinbaum said. '
               'She added, "Sovereignty is sacred and it is not for sale."')
    engine = Engine(2048)
    verdicts = verify_quotes(rewrite, source, same_language=False, threshold=0.8, structural_threshold=0.45,
                             embed_fn=lambda texts: embed(engine, encoder, list(texts)), encoder_threshold=0.5)
    real, made_up = verdicts
    assert real.matched and real.method.startswith("encoder") and real.score > 0.6
    assert not made_up.matched and made_up.score < 0.4
    assert "zusammenarbeiten" in (real.counterpart or "")


@pytest.mark.slow
def test_long_sources_embed_a_bounded_number_of_passages() -> None:
    filler = " ".join(f"Der Bericht Nummer {i} behandelt das Wetter im Bezirk {i % 97}." for i in range(3000))
    source = f"{SOURCE_DE} {filler}"
    rewrite = f"{FAITHFUL} {EDITS['number']}"
    sp = segment_pair(Pair("long", source, rewrite), SegmentationConfig())
    scorer = build_scorer(CrossLingualScorerConfig(type="crosslingual", max_passages=64), ScorerContext())
    engine = Engine(8192)
    out = scorer.score([sp], engine)
    assert engine.stats.inputs <= 64 + 2
    # the passages kept are the ones sharing names and numbers with the claims: the faithful claim still
    # finds the sentence it translates
    assert "Montag in Tokio" in out[("long", 0)].evidence.text  # type: ignore[union-attr]

    from harness.checks import run_checks
    from harness.config import ChecksConfig

    seen: list[int] = []

    def counting_embed(texts):  # type: ignore[no-untyped-def]
        seen.append(len(texts))
        return embed(Engine(8192), multilingual_encoder(), list(texts))

    run_checks([sp], ChecksConfig(embed_max_source_sentences=40), embed_fn=counting_embed)
    assert seen and max(seen) <= 40 + len(sp.claims)
