"""Language detection: German/English/mixed/short text and the other supported languages."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.checks import detect_language, language_profile
from harness.types import SegmentedPair

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_seed_languages() -> None:
    assert detect_language((SEEDS / "000_532c53ef62720ff5.txt").read_text(encoding="utf-8")) == "de"
    assert detect_language((SEEDS / "002_0922f5ff1f2f956d.txt").read_text(encoding="utf-8")) == "en"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The president said that the troops would not be sent to the border this year.", "en"),
        ("Die Präsidentin sagte, dass sie das Angebot der Regierung nicht annehmen wird.", "de"),
        ("Le président a dit que les troupes ne seront pas envoyées à la frontière cette année.", "fr"),
        ("El presidente dijo que las tropas no serán enviadas a la frontera este año.", "es"),
        ("Il presidente ha detto che le truppe non sono state inviate al confine della città.", "it"),
        ("De president zei dat de troepen dit jaar niet naar de grens worden gestuurd.", "nl"),
        ("O presidente disse que as tropas não serão enviadas para a fronteira este ano.", "pt"),
    ],
)
def test_languages(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "Trump", "OK 123", "Claudia Sheinbaum, Donald Trump"])
def test_too_short_is_und(text: str) -> None:
    assert detect_language(text) == "und"


def test_mixed_text_dominant_language_and_note() -> None:
    en = "The president said that the troops would not be sent to the border, and she was clear about it. "
    de = "Sie sagte, dass es nicht geht."
    g = language_profile(en * 2 + de)
    assert g.lang == "en"
    assert g.second == "de"
    assert language_profile(en).second is None


# Languages outside the function-word table are named by the second detector instead of reading as `und`
# (which routing took for "same language as the English model").
@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Ulkoministeri tapasi maanantaina kollegansa Helsingissä ja keskusteli kauppasopimuksesta. Hän sanoi, "
         "että kauppasopimus allekirjoitetaan ensi vuonna ja että neuvottelut jatkuvat.", "fi"),
        ("Dışişleri bakanı pazartesi günü meslektaşıyla Ankara'da bir araya gelerek ticaret anlaşmasını görüştü. "
         "Bakan, anlaşmanın gelecek yıl imzalanacağını söyledi.", "tr"),
        ("التقى وزير الخارجية يوم الاثنين بنظيره في القاهرة وناقشا اتفاقية التجارة الجديدة بين البلدين. وقال "
         "الوزير إن الاتفاقية ستوقع في العام المقبل بعد انتهاء المفاوضات بين الحكومتين في الأسابيع القادمة.", "ar"),
        ("שר החוץ נפגש ביום שני עם עמיתו בירושלים ודן בהסכם הסחר החדש בין שתי המדינות. השר אמר כי ההסכם "
         "ייחתם בשנה הבאה לאחר סיום המשא ומתן בין הממשלות בשבועות הקרובים.", "he"),
        ("外交部长周一在北京会见了他的同行，双方讨论了两国之间新的贸易协定。他说协定将于明年签署。", "zh"),
    ],
)
def test_languages_outside_the_table_are_named(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_english_lines_full_of_names_are_not_foreign() -> None:
    for text in ["Peter Novak met Olga Petrova in Krakow on Monday.",
                 "Maria Lopez said Norland Motors sold 12 cars in 2001."]:
        assert detect_language(text) in ("en", "und")


def test_unknown_language_means_long_enough_to_tell() -> None:
    from harness.checks.language import is_unknown_language

    assert not is_unknown_language("und", "OK 123")
    assert not is_unknown_language("und", "Peter Novak met Olga Petrova in Krakow on Monday.")  # one short line
    assert is_unknown_language("und", "x" * 200)
    assert not is_unknown_language("fi", "Ulkoministeri tapasi maanantaina kollegansa Helsingissä.")


def test_unreadable_languages_are_unverified_and_counted_nowhere(tmp_path: Path, tiny_nli_dir: Path) -> None:
    import json

    from harness.__main__ import main
    from harness.results.schema import ClaimRow, RunRecord

    fi = ("Ulkoministeri tapasi maanantaina kollegansa Helsingissä. Hän sanoi, että kauppasopimus allekirjoitetaan "
          "ensi vuonna ja että neuvottelut jatkuvat koko kevään ajan molempien maiden pääkaupungeissa.")
    rows = [
        {"id": "fi-en", "source": fi, "summary": "The foreign minister met his colleague in Helsinki on Monday.",
         "label": 1},
        {"id": "fi-fi", "source": fi, "summary": "Ulkoministeri tapasi kollegansa Helsingissä maanantaina. Hän "
                                                 "sanoi, että kauppasopimus allekirjoitetaan ensi vuonna.",
         "label": 0},
        {"id": "en-en", "source": "The cat sat on the mat. It was sunny in Paris on Monday.",
         "summary": "The cat sat on the mat.", "label": 1},
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        f"name: languages\ndata: {{name: mixed, type: jsonl, path: {data}, fields: {{rewrite: summary}}}}\n"
        f"scorers:\n  - {{type: nli, model: {{id: {tiny_nli_dir}, max_length: 128, languages: [en]}}}}\n"
        f"runtime: {{cache: null, progress: false, dtype: fp32}}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0"]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    assert rec.routes["nli"] == {str(tiny_nli_dir): 1, "unscored": 2}
    assert {c.reason for c in claims if c.pair_id.startswith("fi-")} <= {"cross_lingual_unscored",
                                                                          "language_unscored"}
    warning = [w for w in rec.warnings if w.startswith("LANGUAGE: nli")]
    assert len(warning) == 1 and "fi->en" in warning[0] and "fi->fi" in warning[0]


def test_language_warning_advises_what_fits_the_scorer() -> None:
    """The QA scorer is told where its pairs go (nli + cross-lingual), not to pick a multilingual model."""
    from harness.stages import language_warnings

    gap = {"combos": {"de->en": 3}, "reasons": ["cross_lingual_unscored"]}
    stats = {"scorers": [{"name": "qa", "type": "qa", "languages": ["en"]},
                         {"name": "nli", "type": "nli", "languages": ["en"]},
                         {"name": "overlap", "type": "overlap", "cross_lingual": False, "languages": None}],
             "language_gaps": {"qa": gap, "nli": gap, "overlap": gap}, "counts": {"pairs": 5}}
    qa, nli, overlap = language_warnings(stats)
    assert "configs/nli_qa.yaml" in qa and "multilingual.yaml" not in qa
    assert "configs/multilingual.yaml" in nli
    assert "compares words" in overlap


# ------------------------------------------------ languages no offline judge reads (issue 29): unverified everywhere

EL = ("Ο υπουργός Εξωτερικών συναντήθηκε τη Δευτέρα με τον ομόλογό του στην Αθήνα και συζήτησαν τη νέα εμπορική "
      "συμφωνία. Είπε ότι η συμφωνία θα υπογραφεί τον επόμενο χρόνο μετά το τέλος των διαπραγματεύσεων.")
VI = ("Bộ trưởng Ngoại giao đã gặp người đồng cấp tại Hà Nội vào thứ Hai và thảo luận về hiệp định thương mại mới. "
      "Ông nói rằng hiệp định sẽ được ký vào năm tới sau khi kết thúc các cuộc đàm phán.")
EN = ("The foreign minister met his colleague on Monday. He said the trade agreement will be signed next year. "
      "Talks will go on.")


def _segmented(source: str, rewrite: str, *, detect: bool = False) -> SegmentedPair:
    from harness.checks import detect_language
    from harness.config import SegmentationConfig
    from harness.segment import segment_pair
    from harness.types import Pair

    sp = segment_pair(Pair("p", source, rewrite), SegmentationConfig())
    if detect:
        sp = dataclasses.replace(sp, source_lang=detect_language(source), rewrite_lang=detect_language(rewrite))
    return sp


@pytest.mark.parametrize("source", [EL, VI, "Zq" + "xv kpt wrz " * 40], ids=["el", "vi", "unnamed"])
def test_checks_give_no_verdict_on_a_language_nothing_reads(source: str) -> None:
    """The off-topic check cannot relate an English rewrite to a source its encoder cannot read: it must not call
    every claim off-topic (before: every claim `unsupported / off_topic`, score 0), nor embed the unreadable text."""
    import numpy as np

    from harness.checks import check_pair
    from harness.config import ChecksConfig

    seen: list[str] = []

    def unrelated(texts: Sequence[str]) -> np.ndarray:
        """An encoder that finds nothing related: a different axis for every text."""
        seen.extend(texts)
        return np.eye(len(seen), 512, dtype=np.float32)[len(seen) - len(texts):]

    sp = check_pair(_segmented(source, EN), ChecksConfig(), embed_fn=unrelated)
    assert sp.flags == () and not any(c.reason == "off_topic" for c in sp.claims)
    assert not any(s in source for s in seen)
    same = check_pair(_segmented("The cat sat on the mat. It was sunny in Paris.", EN), ChecksConfig(),
                      embed_fn=unrelated)
    assert {i for i, r in same.flags if r == "off_topic"}, "an English pair is still checked"


def test_every_scorer_leaves_an_unreadable_pair_unverified() -> None:
    """Routing: a pair with a language no judge declares is a gap for every scorer, those declaring no languages
    (overlap) included; an English pair is not."""
    from harness.config.run import RunConfig
    from harness.routing import known_languages, language_gap

    class AnyLanguage:
        name, type, cross_lingual = "x", "overlap", True

        def languages(self) -> None:
            return None

    judge: Any = AnyLanguage()
    cfg = RunConfig.model_validate({"data": [{"path": "x.jsonl"}], "scorers": [{"type": "overlap"}]})
    known = known_languages([judge])
    assert language_gap(_segmented(EL, EN, detect=True), judge, cfg, known) == "cross_lingual_unscored"
    assert language_gap(_segmented(EL, EL, detect=True), judge, cfg, known) == "language_unscored"
    assert language_gap(_segmented(EN, EN, detect=True), judge, cfg, known) is None


def _run_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str], scorers: str, checks: str,
                    names: tuple[str, ...]) -> None:
    """Greek and Vietnamese sources with English rewrites: no claim scored or flagged, no pair score in any column
    (combined included), the metrics count only the English pairs, and the run says how many such pairs there were
    and in which languages."""
    import json

    from harness.__main__ import main
    from harness.results.schema import ClaimRow, PairRow, RunRecord

    rows = [{"id": "el-en", "source": EL, "rewrite": EN, "label": 1},
            {"id": "vi-en", "source": VI, "rewrite": EN, "label": 0},
            {"id": "en-1", "source": "The cat sat on the mat. It was sunny in Paris.", "rewrite": "The cat sat.",
             "label": 1},
            {"id": "en-0", "source": "The cat sat on the mat. It was sunny in Paris.", "rewrite": "The dog ran.",
             "label": 0}]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"name: unreadable\ndata: {{name: mixed, type: jsonl, path: {data}}}\nscorers: {scorers}\n"
                   f"checks: {checks}\nruntime: {{cache: null, progress: false, dtype: fp32}}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--output", str(out), "--show-claims", "0"]) == 0
    printed = capsys.readouterr().out
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    rec = RunRecord.model_validate_json((folder / "run.json").read_text())
    claims = [ClaimRow.model_validate_json(x) for x in (folder / "claims.jsonl").read_text().splitlines()]
    pairs = {p.pair_id: p for p in (PairRow.model_validate_json(x)
                                    for x in (folder / "pairs.jsonl").read_text().splitlines())}
    foreign = [c for c in claims if c.pair_id in ("el-en", "vi-en")]
    assert foreign and all(c.label == "not_checkable" and c.reason == "cross_lingual_unscored" and c.score is None
                           and "unverified_score" not in c.detail for c in foreign)
    assert all(s.score is None for pid in ("el-en", "vi-en") for s in pairs[pid].scores.values())
    assert set(pairs["el-en"].scores) == {*names, "combined"}
    assert all(rec.metrics["mixed"][name]["n"] == 2 for name in (*names, "combined"))
    (line,) = [w for w in rec.warnings if "no offline judge" in w]
    assert "2 of 4 pairs" in line and "el: 1" in line and "vi: 1" in line
    assert "2 of 4 pairs are in a language no offline judge" in " ".join(printed.split())


def test_unreadable_pairs_are_counted_nowhere_and_the_summary_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # names/stems only (fast); they cannot match across scripts, which flagged every claim off-topic before
    _run_unreadable(tmp_path, capsys, "[{type: overlap, name: a}, {type: overlap, name: b}]",
                    "{off_topic_encoder: false}", ("a", "b"))


@pytest.mark.slow
def test_unreadable_pairs_with_the_default_checks_and_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_nli_dir: Path
) -> None:
    """The reported case: default checks (the off-topic check with the multilingual encoder, which reads neither
    Greek nor Vietnamese), an English NLI model and overlap."""
    _run_unreadable(tmp_path, capsys, f"[{{type: nli, model: {{id: {tiny_nli_dir}, max_length: 128}}}}, "
                    "{type: overlap}]", "{}", ("nli", "overlap"))
