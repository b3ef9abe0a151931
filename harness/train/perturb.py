"""Hard negatives and positives made from real sentences, for the NLI training mix (:mod:`harness.train.data`).

Why: faithfulness errors in summaries are small edits of the source (a negation, a number, an antonym, a
swapped entity or role); the NLI sets have few of them. Each perturbation returns ``None`` when the sentence
offers nothing to change, so the mix only holds edits that happened."""

from __future__ import annotations

import random
import re

from harness.train.labels import LABEL_IDS, NOT_ENTAILMENT

__all__ = ["compress", "entities", "fuse", "perturb"]


# -------------------------------------------------------------------------------------- perturbations
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_NUM_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty",
              "hundred", "thousand", "million", "billion"]
_ANTONYMS = [
    ("increase", "decrease"), ("increased", "decreased"), ("rose", "fell"), ("won", "lost"),
    ("before", "after"), ("more", "less"), ("higher", "lower"), ("first", "last"), ("largest", "smallest"),
    ("male", "female"), ("older", "younger"), ("bought", "sold"), ("north", "south"), ("east", "west"),
    ("early", "late"), ("accepted", "rejected"), ("allowed", "banned"), ("guilty", "innocent"),
    ("positive", "negative"), ("opened", "closed"), ("began", "ended"), ("started", "stopped"),
    ("died", "survived"), ("arrested", "released"), ("supported", "opposed"), ("agreed", "refused"),
    ("success", "failure"), ("biggest", "smallest"), ("best", "worst"), ("rich", "poor"),
    ("private", "public"), ("minority", "majority"), ("ancient", "modern"), ("inside", "outside"),
    ("gained", "lost"), ("love", "hate"), ("always", "never"), ("above", "below"), ("entered", "left"),
]
_ANTONYM_MAP = {a: b for a, b in _ANTONYMS} | {b: a for a, b in _ANTONYMS}
_ANTONYM_RE = re.compile(r"\b(" + "|".join(sorted(_ANTONYM_MAP, key=len, reverse=True)) + r")\b", re.IGNORECASE)
_NUM_RE = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w])|(?<![\w.,])\d+(?:\.\d+)?(?![\w])")
_MONTH_RE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\b")
_NUMWORD_RE = re.compile(r"\b(" + "|".join(_NUM_WORDS) + r")\b", re.IGNORECASE)
_ENT_RE = re.compile(r"\b[A-Z][a-zA-Z'’\-]+(?:\s+(?:of\s+|de\s+|van\s+)?[A-Z][a-zA-Z'’\-]+)*")
_ENT_STOP = {
    "The", "A", "An", "In", "On", "At", "He", "She", "It", "They", "We", "I", "You", "His", "Her", "Its",
    "Their", "This", "That", "These", "Those", "There", "But", "And", "Or", "If", "When", "While", "After",
    "Before", "As", "For", "From", "With", "By", "To", "Of", "However", "Although", "Some", "Many", "One",
    "Mr", "Mrs", "Ms", "Dr", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    *_MONTHS,
}
_NEG_REMOVE = [
    (re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|should|does|do|did)\s+not\s+"), r"\1 "),
    (re.compile(r"\b(is|are|was|were|has|have|had|could|would|should|does|do|did)n't\b"), r"\1"),
    (re.compile(r"\bnever\s+"), ""),
    (re.compile(r"\bcannot\b"), "can"),
]
_NEG_ADD = [
    (re.compile(r"\b(is|are|was|were)\s+(?!not\b|n't\b)"), r"\1 not "),
    (re.compile(r"\b(will|would|could|should|can|may|might|must)\s+(?!not\b)(?=[a-z])"), r"\1 not "),
    (re.compile(r"\b(has|have|had)\s+(been|[a-z]+ed)\b"), r"\1 not \2"),
]


def entities(text: str) -> list[str]:
    """Capitalised spans that are not sentence-initial function words (a crude NER for news/Wikipedia)."""
    out = []
    for m in _ENT_RE.finditer(text):
        span = m.group(0)
        words = span.split()
        while words and words[0] in _ENT_STOP:
            words = words[1:]
        if words and (len(words) > 1 or len(words[0]) > 2):
            out.append(" ".join(words))
    return out


def _sub_one(pattern: re.Pattern[str], text: str, rng: random.Random, repl_fn) -> str | None:
    matches = list(pattern.finditer(text))
    if not matches:
        return None
    m = rng.choice(matches)
    new = repl_fn(m)
    if new is None or new == m.group(0):
        return None
    return text[: m.start()] + new + text[m.end() :]


def _negate(text: str, rng: random.Random) -> str | None:
    rules = _NEG_REMOVE + _NEG_ADD
    order = list(range(len(rules)))
    rng.shuffle(order)
    for i in order:
        pat, repl = rules[i]
        new = _sub_one(pat, text, rng, lambda m, p=pat, r=repl: p.sub(r, m.group(0), count=1))
        if new and new != text:
            return new
    return None


def _change_number(text: str, rng: random.Random) -> str | None:
    def repl(m: re.Match[str]) -> str | None:
        raw = m.group(0)
        val = float(raw.replace(",", ""))
        if raw.isdigit() and 1800 <= val <= 2035:
            new = int(val) + rng.choice([-10, -5, -3, -2, -1, 1, 2, 3, 5, 10])
            return str(new)
        if "." in raw:
            return f"{val * rng.choice([0.5, 1.5, 2.0, 3.0]):.{len(raw.split('.')[1])}f}"
        new_val = int(val) + rng.randint(1, max(2, int(val))) if rng.random() < 0.5 else max(0, int(val // 2))
        if new_val == int(val):
            new_val += 1
        return f"{new_val:,}" if "," in raw else str(new_val)

    new = _sub_one(_NUM_RE, text, rng, repl)
    if new is None:
        new = _sub_one(_MONTH_RE, text, rng, lambda m: rng.choice([x for x in _MONTHS if x != m.group(0)]))
    if new is None:
        new = _sub_one(
            _NUMWORD_RE, text, rng, lambda m: rng.choice([x for x in _NUM_WORDS if x != m.group(0).lower()])
        )
    return new


def _antonym(text: str, rng: random.Random) -> str | None:
    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        new = _ANTONYM_MAP[word.lower()]
        return new.capitalize() if word[0].isupper() else new

    return _sub_one(_ANTONYM_RE, text, rng, repl)


def _swap_entity(text: str, rng: random.Random, pool: list[str]) -> str | None:
    ents = entities(text)
    if not ents or not pool:
        return None
    target = rng.choice(ents)
    candidates = [e for e in pool if e not in ents and e not in target and target not in e]
    if not candidates:
        return None
    # prefer a replacement of the same length in words (person -> person, place -> place, roughly)
    same = [e for e in candidates if len(e.split()) == len(target.split())]
    repl = rng.choice(same or candidates)
    return text.replace(target, repl, 1)


def _swap_roles(text: str, rng: random.Random) -> str | None:
    """Swap two different entities (subject/object); skip symmetric 'A and B' patterns."""
    spans = [(m.start(), m.end(), m.group(0)) for m in _ENT_RE.finditer(text)]
    spans = [s for s in spans if s[2] not in _ENT_STOP and len(s[2]) > 2]
    for i in range(len(spans) - 1):
        a, b = spans[i], spans[i + 1]
        between = text[a[1] : b[0]]
        if a[2] == b[2] or re.fullmatch(r"\s*(and|or|,|&|-|of|'s)?\s*", between):
            continue
        if not 1 <= len(between.split()) <= 8:
            continue
        return text[: a[0]] + b[2] + between + a[2] + text[b[1] :]
    return None


def perturb(text: str, rng: random.Random, entity_pool: list[str]) -> tuple[str, int, str] | None:
    """Make a minimally-edited unfaithful variant: (text, label, kind). Negation -> contradiction;
    number/date/entity/role/antonym edits -> not_entailment (they may be contradiction or neutral)."""
    ops = ["negate", "number", "entity", "roles", "antonym"]
    weights = [0.25, 0.25, 0.25, 0.1, 0.15]
    tried: set[str] = set()
    for _ in range(len(ops)):
        op = rng.choices(ops, weights)[0]
        if op in tried:
            continue
        tried.add(op)
        if op == "negate":
            new, label = _negate(text, rng), LABEL_IDS["contradiction"]
        elif op == "number":
            new, label = _change_number(text, rng), NOT_ENTAILMENT
        elif op == "entity":
            new, label = _swap_entity(text, rng, entity_pool), NOT_ENTAILMENT
        elif op == "roles":
            new, label = _swap_roles(text, rng), NOT_ENTAILMENT
        else:
            new, label = _antonym(text, rng), LABEL_IDS["contradiction"]
        if new and new.strip() != text.strip():
            return new, label, op
    return None


_COMPRESS = [
    re.compile(r"\s*\([^()]{1,80}\)"),  # parenthetical
    re.compile(r",\s+(?:who|which|whose)\s+[^,]{3,80},"),  # non-restrictive relative clause
    re.compile(r"^(?:However|Meanwhile|Also|But|And|In \d{4}|On \w+|Last \w+|According to [^,]{3,40}),\s+"),
]


_TRAILING = re.compile(r",\s+(?:which|who|where|while|after|as|but|and|before|when|with|according)\b.*$")


def compress(text: str, rng: random.Random) -> str | None:
    """Drop a parenthetical / relative clause / leading adverbial / trailing clause: still entailed."""
    options = []
    for pat in _COMPRESS:
        if pat.search(text):
            options.append(pat.sub(" " if pat.pattern.startswith(",") else "", text, count=1))
    m = _TRAILING.search(text)
    if m and len(text[: m.start()].split()) >= 6:
        options.append(text[: m.start()] + ".")
    options = [re.sub(r"\s+", " ", o).strip() for o in options]
    options = [o[0].upper() + o[1:] for o in options if len(o.split()) >= 5 and o != text]
    return rng.choice(options) if options else None


def fuse(first: str, second: str) -> str:
    """Join two sentences into one with 'and' (lower-casing the second's first word unless a name)."""
    head = first.rstrip().rstrip(".!?;:")
    tail = second.strip()
    if tail and not entities(tail.split()[0]):
        tail = tail[0].lower() + tail[1:]
    return f"{head}, and {tail}"
