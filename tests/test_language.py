"""Language detection: German/English/mixed/short text and the other supported languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import detect_language, language_profile

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
