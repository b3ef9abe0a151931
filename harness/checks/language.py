"""Language identification by function words and letters (no dependency, microseconds per text).

Each language has ~60 frequent function words; a text scores one point per token in a language's list
plus a small bonus for language-specific letters (ß, ñ, ç, ã, ...). The best language wins when it has
at least ``min_hits`` points and leads the runner-up clearly; otherwise the answer is ``und``.
Mixed text returns the dominant language; :func:`language_profile` also reports the runner-up share so
callers can note "mixed". Limits: closely related languages on very short texts (es/pt, nl/de with
under ~5 function words) come back ``und``.

Languages outside the table (Finnish, Turkish, Arabic, Hebrew, Chinese, ...) are named by a second
detector, ``py3langid`` (a naive-Bayes byte n-gram model over 97 languages that ships inside its package,
loaded once on first need, ~0.1 ms a text), asked only when the table cannot decide and the text has at
least ``MIN_LETTERS_TO_JUDGE`` letters. Below that, or when it is unsure, the answer stays ``und``.
:func:`is_unknown_language` tells callers whether an ``und`` means "too short to tell" (harmless) or
"long enough to tell, and not a language we know" (not readable by any model that declares languages).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LANGUAGES", "MIN_LETTERS_TO_JUDGE", "LanguageGuess", "detect_language", "is_unknown_language",
           "language_profile", "unreadable_languages"]

MIN_LETTERS_TO_JUDGE = 100
"""A text with at least this many letters (two or three sentences) is long enough for its language to be told.
Shorter texts the function-word table cannot name stay ``und``: a one-line English claim full of names
("Peter Novak met Olga Petrova in Krakow.") has too few function words for the table, and an n-gram model
reads such a line as Polish."""
MIN_FALLBACK_CONFIDENCE = 0.75
"""py3langid's normalised probability below which its guess is not taken."""

_STOP: dict[str, str] = {
    "en": "the of and to in is was that for on with as by at from it he she they we his her their be are "
          "were has have had not but this which who will would an or its been after said about than more "
          "there when what also into can could one all over our you i him them do does did these those",
    "de": "der die das und ist nicht ein eine einen einem zu den dem des mit von auf für im sich auch es "
          "sie er wir ich aber als wie bei nach aus noch nur wird wurde werden hat haben sind war dass "
          "oder vor über unter zum zur am durch gegen seine ihre ihr uns unser man kann können sagte",
    "fr": "le la les de des du et est un une en dans que qui pour pas sur au aux avec ce cette il elle "
          "ils nous vous je ne se sont été était par plus son sa ses leur mais ou comme a y ont aussi "
          "lui tout être fait dit sans entre après",
    "es": "el la los las de del y en que un una es por con para no se su sus al lo como más pero fue "
          "ha son está este esta ya entre también sobre hasta cuando muy sin ser hay dijo desde todo "
          "nos le les porque donde quien",
    "it": "il lo la i gli le di del della dei delle e che un una per non con su sono è da al alla nel "
          "nella come ma anche più questo questa ha hanno era stato essere se ci loro suo sua tra dopo "
          "ancora molto tutti",
    "nl": "de het een en van in is dat op te zijn met voor niet aan er om ook als bij door maar was "
          "werd worden heeft hebben naar uit dan nog wel over ze hij zij wij ik deze dit die wat "
          "kan zou al na tot geen",
    "pt": "o a os as de do da dos das e em um uma que para com não no na nos nas por mais se como foi "
          "mas ao à pelo pela são está este esta também ele ela eles seu sua entre quando muito já "
          "ser tem disse sobre até",
}
LANGUAGES: tuple[str, ...] = tuple(_STOP)
_SETS = {lang: frozenset(words.split()) for lang, words in _STOP.items()}
_LETTERS: dict[str, str] = {
    "de": "ßäöü",
    "fr": "çœèêëîïôûù",
    "es": "ñ¿¡áíóú",
    "it": "ìòàù",
    "pt": "ãõçâêôá",
    "nl": "ĳ",
}
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    lang: str
    """ISO 639-1 code of the dominant language, or ``und``."""
    scores: dict[str, float] = field(default_factory=dict)
    second: str | None = None
    """The runner-up when it has a sizeable share (>= 15% of the winner's points): a mixed text."""


def language_profile(text: str, *, min_hits: float = 3.0, margin: float = 1.25) -> LanguageGuess:
    """Scores per language and the decision (see module docstring)."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    scores = {lang: 0.0 for lang in LANGUAGES}
    for t in tokens:
        for lang, words in _SETS.items():
            if t in words:
                scores[lang] += 1.0
    low = unicodedata.normalize("NFC", text.lower())
    for lang, letters in _LETTERS.items():
        n = sum(low.count(ch) for ch in letters)
        scores[lang] += min(n, 1 + len(tokens) // 10) * 0.5
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, b), (runner, r) = ranked[0], ranked[1]
    if b < min_hits or b < margin * r:
        return LanguageGuess("und", scores)
    second = runner if r >= 0.15 * b and r >= min_hits else None
    return LanguageGuess(best, scores, second)


_FALLBACK: list[Any] = []


def _fallback_identifier() -> Any:
    """py3langid's identifier with normalised probabilities, loaded once (None if the package is missing)."""
    if not _FALLBACK:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _FALLBACK.append(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
        except ImportError:  # pragma: no cover - it is a dependency; keep working without it
            _FALLBACK.append(None)
    return _FALLBACK[0]


_DENSE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _letters(text: str) -> int:
    """Letters, counting a Chinese/Japanese/Korean character as three (one is a word or a syllable)."""
    return sum(ch.isalpha() for ch in text) + 2 * len(_DENSE.findall(text))


def detect_language(text: str) -> str:
    """ISO 639-1 code of the dominant language of ``text``, or ``und`` if too short or ambiguous."""
    lang = language_profile(text).lang
    if lang != "und" or _letters(text) < MIN_LETTERS_TO_JUDGE:
        return lang
    ident = _fallback_identifier()
    if ident is None:
        return lang
    guess, prob = ident.classify(text[:20000])
    if prob < MIN_FALLBACK_CONFIDENCE or guess in ("zxx", "und"):
        return "und"
    return str(guess)


def is_unknown_language(lang: str, text: str) -> bool:
    """``und`` on a text long enough to tell its language: not known to be readable by a model that declares
    its languages (as opposed to ``und`` on a short or letter-less text, which says nothing)."""
    return lang == "und" and _letters(text) >= MIN_LETTERS_TO_JUDGE


def unreadable_languages(source_lang: str, source: str, rewrite_lang: str, rewrite: str,
                         known: frozenset[str] | set[str]) -> list[str]:
    """The pair's languages that no offline judge declares (``known``: the languages of the run's scorers and of
    the multilingual encoder), source first; ``und`` for a text long enough to tell that no detector could name.
    Empty for a pair some judge can read. Such a pair is unverified in every scorer and check."""
    out: list[str] = []
    for lang, text in ((source_lang, source), (rewrite_lang, rewrite)):
        if is_unknown_language(lang, text):
            name = "und"
        elif lang != "und" and lang not in known:
            name = lang
        else:
            continue
        if name not in out:
            out.append(name)
    return out
