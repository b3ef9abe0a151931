"""Language-independent evidence between a source passage and a claim: numbers, dates, names, negation.

A sentence encoder finds the source sentence a claim translates, but it barely moves when one number,
one name or one "not" changes (cosine 0.9+ either way). These signals look at exactly those tokens, in
any of the languages in :data:`EVIDENCE_LANGUAGES`:

* **numbers**: digits with either grouping convention ("1.000" / "1,000", "2,5" / "2.5"), number words
  (two..twelve, twenty..ninety), month and weekday names mapped to one key per month/day;
* **names**: capitalised or all-caps tokens that are not sentence-initial, matched against the source by
  normalised spelling (accents folded), a close spelling (Parliament / Parlament) or a small table of
  country and nationality names that differ across languages (Germany / Deutschland);
* **negation**: whether the claim and the passage each carry a negation word.

All functions are pure and fast (regexes and set look-ups), so they run on every candidate passage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

__all__ = [
    "EVIDENCE_LANGUAGES",
    "NumberMention",
    "SourceIndex",
    "fold",
    "has_negation",
    "name_tokens",
    "number_mentions",
    "order_discordance",
]

EVIDENCE_LANGUAGES = ("de", "en", "es", "fr", "it", "nl", "pt")
"""Languages whose number words, month/weekday names and negation words are tabled below."""

_MONTHS = {
    "en": "january february march april may june july august september october november december",
    "de": "januar februar märz april mai juni juli august september oktober november dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
_DAYS = {
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "es": "lunes martes miércoles jueves viernes sábado domingo",
    "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
    "pt": "segunda terça quarta quinta sexta sábado domingo",
}
_NUMBER_WORDS = {  # 2..12, then 20..90 (one/ein are articles too often to count)
    "en": "two three four five six seven eight nine ten eleven twelve|twenty thirty forty fifty sixty seventy "
          "eighty ninety",
    "de": "zwei drei vier fünf sechs sieben acht neun zehn elf zwölf|zwanzig dreißig vierzig fünfzig sechzig "
          "siebzig achtzig neunzig",
    "fr": "deux trois quatre cinq six sept huit neuf dix onze douze|vingt trente quarante cinquante soixante "
          "soixante-dix quatre-vingt quatre-vingt-dix",
    "es": "dos tres cuatro cinco seis siete ocho nueve diez once doce|veinte treinta cuarenta cincuenta sesenta "
          "setenta ochenta noventa",
    "it": "due tre quattro cinque sei sette otto nove dieci undici dodici|venti trenta quaranta cinquanta "
          "sessanta settanta ottanta novanta",
    "nl": "twee drie vier vijf zes zeven acht negen tien elf twaalf|twintig dertig veertig vijftig zestig "
          "zeventig tachtig negentig",
    "pt": "dois três quatro cinco seis sete oito nove dez onze doze|vinte trinta quarenta cinquenta sessenta "
          "setenta oitenta noventa",
}
_NEGATIONS = {
    "en": "not n't no never nothing nobody none neither nor cannot without",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals nichts niemand weder ohne keineswegs",
    "fr": "ne n' pas jamais rien personne aucun aucune ni sans",
    "es": "no nunca nada nadie ningún ninguno ninguna ni sin jamás",
    "it": "non mai niente nulla nessuno nessuna né senza",
    "nl": "niet geen nooit niets niemand noch zonder",
    "pt": "não nunca nada ninguém nenhum nenhuma nem sem jamais",
}
# Country and nationality names whose spellings differ beyond a close match (English key -> other forms).
_NAME_MAP = {
    "germany": "deutschland allemagne alemania germania duitsland alemanha",
    "german": "deutsch deutsche deutschen deutscher allemand alemán tedesco duits alemão",
    "germans": "deutsche deutschen allemands alemanes tedeschi duitsers alemães",
    "britain": "großbritannien britannien grande-bretagne gran bretaña britannia brittannië",
    "british": "britisch britische britischen britischer britannique británico britannico brits britânico",
    "england": "england angleterre inglaterra inghilterra engeland",
    "english": "englisch englische englischen anglais inglés inglese engels inglês",
    "france": "frankreich francia frankrijk frança",
    "french": "französisch französische französischen französischer français francés francese frans francês",
    "spain": "spanien espagne españa spagna spanje espanha",
    "spanish": "spanisch spanische spanischen espagnol español spagnolo spaans espanhol",
    "italy": "italien italie italia italië itália",
    "italian": "italienisch italienische italienischen italien italiano italiaans",
    "netherlands": "niederlande pays-bas países bajos paesi bassi nederland holanda",
    "dutch": "niederländisch niederländische niederländischen néerlandais holandés olandese nederlands",
    "greece": "griechenland grèce grecia griekenland grécia",
    "greek": "griechisch griechische griechischen grec griego greco grieks grego",
    "turkey": "türkei turquie turquía turchia turkije turquia",
    "turkish": "türkisch türkische türkischen turc turco turks",
    "russia": "russland russie rusia russia rusland rússia",
    "russian": "russisch russische russischen russe ruso russo russisch",
    "china": "china chine cina",
    "chinese": "chinesisch chinesische chinesischen chinois chino cinese chinees chinês",
    "japan": "japan japon japón giappone japão",
    "japanese": "japanisch japanische japanischen japonais japonés giapponese japans japonês",
    "switzerland": "schweiz suisse suiza svizzera zwitserland suíça",
    "swiss": "schweizer schweizerische suisse suizo svizzero zwitsers suíço",
    "austria": "österreich autriche austria oostenrijk áustria",
    "austrian": "österreichisch österreichische österreichischen autrichien austríaco austriaco oostenrijks",
    "poland": "polen pologne polonia polen polônia",
    "polish": "polnisch polnische polnischen polonais polaco polacco pools polonês",
    "belgium": "belgien belgique bélgica belgio belgië",
    "sweden": "schweden suède suecia svezia zweden suécia",
    "swedish": "schwedisch schwedische schwedischen suédois sueco svedese zweeds",
    "denmark": "dänemark danemark dinamarca danimarca denemarken",
    "norway": "norwegen norvège noruega norvegia noorwegen",
    "finland": "finnland finlande finlandia finlandia finland",
    "hungary": "ungarn hongrie hungría ungheria hongarije hungria",
    "czech": "tschechisch tschechische tschechien tchèque checo ceco tsjechisch",
    "europe": "europa europe",
    "european": "europäisch europäische europäischen europäischer européen europeo europees europeu",
    "america": "amerika amérique américa",
    "american": "amerikanisch amerikanische amerikanischen amerikanischer américain americano amerikaans",
    "americans": "amerikaner américains americanos americani amerikanen",
    "mexico": "mexiko mexique méxico messico",
    "mexican": "mexikanisch mexikanische mexikanischen mexikanischer mexicain mexicano messicano mexicaans",
    "syria": "syrien syrie siria syrië",
    "syrian": "syrisch syrische syrischen syrien sirio siriano syrisch",
    "egypt": "ägypten égypte egipto egitto egypte egito",
    "ireland": "irland irlande irlanda ierland",
    "irish": "irisch irische irischen irlandais irlandés irlandese iers",
    "scotland": "schottland écosse escocia scozia schotland escócia",
    "scottish": "schottisch schottische schottischen écossais escocés scozzese schots",
    "wales": "wales pays de galles gales galles",
    "welsh": "walisisch walisische walisischen gallois galés gallese welsh",
    "india": "indien inde india",
    "indian": "indisch indische indischen indien indio indiano indiaas",
    "israel": "israel israël",
    "israeli": "israelisch israelische israelischen israélien israelí israeliano israëlisch",
    "ukraine": "ukraine ucrania ucraina oekraïne ucrânia",
    "ukrainian": "ukrainisch ukrainische ukrainischen ukrainien ucraniano ucraino oekraïens",
    "brussels": "brüssel bruxelles bruselas bruxelas",
    "vienna": "wien vienne viena",
    "munich": "münchen munich múnich monaco",
    "cologne": "köln cologne colonia",
    "moscow": "moskau moscou moscú mosca moskou",
    "rome": "rom roma",
    "warsaw": "warschau varsovie varsovia varsavia",
    "prague": "prag praga",
    "athens": "athen athènes atenas atene",
    "london": "london londres londra londen",
    "lisbon": "lissabon lisbonne lisboa",
    "geneva": "genf genève ginebra ginevra",
    "union": "union unión unione unie",
    "commission": "kommission commission comisión commissione commissie",
    "parliament": "parlament parlement parlamento",
    "council": "rat conseil consejo consiglio raad",
}
_NAME_ALIASES: dict[str, frozenset[str]] = {}


def _build_aliases() -> None:
    groups: list[set[str]] = []
    for en, others in _NAME_MAP.items():
        groups.append({en, *others.split()})
    for g in groups:
        folded = frozenset(fold(w) for w in g)
        for w in folded:
            _NAME_ALIASES[w] = _NAME_ALIASES.get(w, frozenset()) | folded


def fold(word: str) -> str:
    """Lower-case, accents removed, ß -> ss, possessive 's dropped: spelling-independent comparison key."""
    w = word.lower().replace("ß", "ss").replace("’", "'")
    w = unicodedata.normalize("NFKD", w)
    w = "".join(c for c in w if not unicodedata.combining(c))
    if w.endswith("'s"):
        w = w[:-2]
    return w.strip("'")


_build_aliases()


@lru_cache(maxsize=1)
def _word_keys() -> dict[str, str]:
    """Folded word -> canonical key (``month:3``, ``day:6``, ``num:20``)."""
    keys: dict[str, str] = {}
    for table, prefix in ((_MONTHS, "month"), (_DAYS, "day")):
        for words in table.values():
            for k, w in enumerate(words.split(), start=1):
                keys.setdefault(fold(w), f"{prefix}:{k}")
    for words in _NUMBER_WORDS.values():
        units, tens = words.split("|")
        for k, w in enumerate(units.split(), start=2):
            keys.setdefault(fold(w), f"num:{k}")
        for k, w in enumerate(tens.split(), start=2):
            keys.setdefault(fold(w), f"num:{k * 10}")
    # words that are also common non-number words in some table language
    for ambiguous in ("may", "mai", "marzo", "sei", "sette", "tre", "due", "elf", "acht", "sept", "mars"):
        keys.pop(ambiguous, None)
    keys["may"] = "month:5"  # kept only when capitalised (see number_mentions)
    for both in ("both", "beide", "beiden", "beider", "ambos", "ambas", "entrambi"):
        keys[fold(both)] = "num:2"  # "the two leaders" is "die beiden" in German
    return keys


@lru_cache(maxsize=1)
def _negation_words() -> frozenset[str]:
    return frozenset(fold(w) for words in _NEGATIONS.values() for w in words.split())


_DIGITS = re.compile(r"(?<![\w\[])\d+(?:[.,\u202f\u00a0']\d+)*(?!\])")
"""Numbers, except citation markers such as ``[2]``."""
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_NEG_CLITIC = re.compile(r"n['’]t\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NumberMention:
    """One number-like mention; ``keys`` are every reading of it (``1.000`` is 1000 or 1.0)."""

    text: str
    keys: frozenset[str]


def _digit_readings(tok: str) -> set[str]:
    parts = re.split(r"[.,\u202f\u00a0']", tok)
    readings = {"".join(parts)}  # every separator a thousands separator
    if len(parts) == 2:
        readings.add(f"{parts[0]}.{parts[1]}")  # one decimal separator
    if len(parts) > 2:  # grouped with a decimal part: 1.234,5 / 1,234.5
        readings.add("".join(parts[:-1]) + "." + parts[-1])
    out = set()
    for r in readings:
        try:
            v = float(r)
        except ValueError:
            continue
        out.add(f"num:{v:g}")
    return out


def number_mentions(text: str) -> list[NumberMention]:
    """Digits, number words, months and weekdays in ``text`` with their canonical keys."""
    out = [NumberMention(m.group(), frozenset(_digit_readings(m.group()))) for m in _DIGITS.finditer(text)]
    keys = _word_keys()
    for m in _WORD.finditer(text):
        w = m.group()
        k = keys.get(fold(w))
        if k is None or (fold(w) == "may" and not w[0].isupper()):
            continue
        out.append(NumberMention(w, frozenset({k})))
    return [n for n in out if n.keys]


def has_negation(text: str) -> bool:
    """Does ``text`` carry a negation word (any tabled language) or an English n't clitic?"""
    if _NEG_CLITIC.search(text):
        return True
    neg = _negation_words()
    return any(fold(w) in neg for w in _WORD.findall(text))


_SENT_START = re.compile(r"(?:^|[.!?:;\"“”„«»]\s*|\n)\s*$")
_COMMON_CAPS = frozenset(fold(w) for w in (
    "I Mr Mrs Ms Miss Dr Prof Sir Madam Herr Frau The A An He She It We They You This That These Those But And Or "
    "In On At If So Not No Yes My Our Your His Her Their Its There Here When What Who Why How After Before While "
    "As For From With By To Of Also However Meanwhile According Although Despite Der Die Das Ein Eine Und Er Sie "
    "Es Wir Ich Le La Les Il Elle El Los Las"
).split())


def name_tokens(text: str) -> list[str]:
    """Capitalised or all-caps tokens that are not the first word of a sentence or quote (names, mostly)."""
    out = []
    for m in _WORD.finditer(text):
        w = m.group()
        if not w[0].isupper() or len(w) < 2:
            continue
        if _SENT_START.search(text[: m.start()]):
            continue
        f = fold(w)
        if f in _COMMON_CAPS or f in _word_keys():
            continue
        out.append(w)
    return out


class SourceIndex:
    """Folded words of a source passage or document, for fast name and number look-ups."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.words: set[str] = set()
        self.numbers: set[str] = set()
        for t in texts:
            self.words.update(fold(w) for w in _WORD.findall(t))
            for n in number_mentions(t):
                self.numbers.update(n.keys)
        self._by_prefix: dict[str, list[str]] = {}
        for w in self.words:
            if len(w) >= 4:
                self._by_prefix.setdefault(w[:2], []).append(w)

    def has_number(self, mention: NumberMention) -> bool:
        return bool(mention.keys & self.numbers)

    def has_name(self, name: str) -> bool:
        """Exact folded match, an alias from the country table, a prefix/inflection, or a close spelling."""
        f = fold(name)
        if f in self.words:
            return True
        if any(a in self.words for a in _NAME_ALIASES.get(f, ())):
            return True
        if len(f) < 4:
            return False
        for w in self._by_prefix.get(f[:2], ()):
            if w.startswith(f) or (f.startswith(w) and len(w) >= 5):
                return True
            if abs(len(w) - len(f)) <= 3 and SequenceMatcher(None, f, w).ratio() >= 0.8:
                return True
        return False


def order_discordance(anchors: Sequence[str], passage: str) -> tuple[float, int]:
    """Do the claim's names and numbers (``anchors``, in claim order) appear in the same order in the passage?

    Returns (share of discordant pairs among the anchors found in the passage, number of such pairs).
    "A beat B" vs "B beat A", or dates and places swapped between two events, keep every word and every
    name but reverse their order — which is what this sees and the encoder (a bag of n-grams) does not.
    """
    words = [fold(w) for w in _WORD.findall(passage) + _DIGITS.findall(passage)]
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    pos: list[int] = []
    seen: set[str] = set()
    for a in anchors:
        f = fold(a)
        if f in seen:
            continue
        seen.add(f)
        p = first.get(f)
        if p is None and len(f) >= 4:
            p = next((i for w, i in first.items() if w.startswith(f) or (len(w) >= 5 and f.startswith(w))), None)
        if p is not None:
            pos.append(p)
    pairs = discordant = 0
    for i in range(len(pos)):
        for j in range(i + 1, len(pos)):
            if pos[i] != pos[j]:
                pairs += 1
                discordant += pos[i] > pos[j]
    return (discordant / pairs if pairs else 0.0), pairs
