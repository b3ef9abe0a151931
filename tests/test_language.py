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
