"""Property tests (hypothesis) over arbitrary Unicode: segmentation offsets, quotes, premise choice, loaders
and config overrides. Each fast path is also checked against the plain definition it replaced."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import harness.segment.sentences as sentences
from harness.config import ConfigError, DataConfig, PremiseConfig, SegmentationConfig, apply_overrides, load_config
from harness.data import DataError, load_pairs
from harness.data.loaders import LABEL_WORDS, parse_label
from harness.scorers.nli import PremiseIndex
from harness.scorers.overlap import content_words
from harness.segment import claim_units, coverage, find_quotes, segment_pair, split_sentences
from harness.segment.units import _largest_fitting
from harness.types import Pair

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Structure-bearing pieces (sentence ends, quotes, list markers, abbreviations, URLs, odd whitespace) mixed
# with arbitrary Unicode, so that the splitter's rules actually fire.
_pieces = st.sampled_from([
    ". ", "! ", "? ", "… ", "\n", "\n\n", "\r\n", " ", "\t", "\u00a0", "\u2028", "\u3000", "\"", "“", "”", "„",
    "‚", "‘", "’", "'", "«", "»", "(", ")", "[1]", "- ", "1. ", "* ", "Mr. ", "U.S. ", "z.B. ", "am 19. Mai ",
    "The ", "Der ", "https://x.example/a.b ", "References: ", "é", "ß", "İ", "ǅ", "\u0301", "😀", "中文。",
    "sat. ", "No. ", "。", "！", "？", "؟ ", "۔ ", "। ", "مرحبا ", "שלום ",
])
_unicode = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
TEXTS = st.lists(st.one_of(_pieces, _unicode), max_size=40).map("".join)
UNITS = st.sampled_from(["sentence", "window", "sentence+window", "chunk", "document"])


def _well_formed(text: str, segs: list, *, disjoint: bool = True) -> None:
    prev_end = 0
    for s in segs:
        assert text[s.start:s.end] == s.text
        assert s.text and s.text == s.text.strip()
        if disjoint:
            assert s.start >= prev_end, "units overlap or are out of order"
        prev_end = s.end


@SETTINGS
@given(TEXTS)
@example("He said \"a. b\" and 'c. D' then.\n\n„x. Y“ z.")
def test_sentences_have_exact_offsets_in_order_without_overlap(text: str) -> None:
    segs = split_sentences(text)
    _well_formed(text, segs)
    assert [s.index for s in segs] == list(range(len(segs)))


@SETTINGS
@given(TEXTS, st.sampled_from(["sentence", "paragraph", "whole"]), st.integers(0, 5))
def test_every_claim_is_its_rewrite_slice(text: str, mode: str, min_chars: int) -> None:
    claims = claim_units(text, mode, min_chars)
    _well_formed(text, claims)
    for c in claims:
        assert len("".join(c.text.split())) >= min_chars and any(ch.isalnum() for ch in c.text)


@SETTINGS
@given(TEXTS, TEXTS, UNITS, st.integers(1, 4), st.integers(1, 4), st.integers(2, 12))
def test_every_premise_lies_in_the_source_and_fits(source: str, rewrite: str, unit: str, size: int, stride: int,
                                                   limit: int) -> None:
    cfg = SegmentationConfig(premises=PremiseConfig(unit=unit, size=size, stride=stride))  # type: ignore[arg-type]
    count = len  # one token per character: the hardest limit (every long word is cut into pieces)
    sp = segment_pair(Pair("p", source, rewrite), cfg, max_premise_tokens=limit, count_tokens=count)
    _well_formed(rewrite, list(sp.claims))
    keys = [(p.start, p.end) for p in sp.premises]
    assert keys == sorted(set(keys)), "premises are sorted by offset and unique"
    for i, p in enumerate(sp.premises):
        assert p.index == i and source[p.start:p.end] == p.text and 0 <= p.start < p.end <= len(source)
        assert count(p.text) <= limit
    if unit != "sentence" or stride <= size:
        assert 0.0 <= sp.coverage <= 1.0
    if unit in ("window", "document") and stride <= size:
        assert sp.coverage == 1.0, "no source text is dropped between premise units"


@SETTINGS
@given(TEXTS)
def test_quotes_nest_or_stay_apart_and_depth_counts_containers(text: str) -> None:
    qs = find_quotes(text)
    for q in qs:
        assert text[q.start] == q.open_mark and text[q.end - 1] == q.close_mark
        assert q.start < q.inner_start <= q.inner_end < q.end
    for a in qs:
        for b in qs:
            if a is not b:
                crossing = a.start < b.start < a.end < b.end
                assert not crossing, (a, b)
        assert a.depth == sum(1 for b in qs if b.start < a.start and a.end <= b.end)


@SETTINGS
@given(TEXTS)
def test_quote_protection_by_binary_search_matches_a_scan(text: str) -> None:
    def scan(protected: list[tuple[int, int]], p: int, e: int) -> bool:
        return any(qs < p and e < qe for qs, qe in protected)

    fast = split_sentences(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sentences, "_inside", scan)
        slow = split_sentences(text)
    assert fast == slow


@SETTINGS
@given(TEXTS, st.lists(st.tuples(st.integers(0, 80), st.integers(0, 20)), max_size=8))
def test_coverage_matches_its_definition(text: str, spans: list[tuple[int, int]]) -> None:
    from harness.segment.units import _LIST_AT_LINE_START
    from harness.types import Segment

    units = [Segment(0, a, min(a + w, len(text)), "") for a, w in spans if a < len(text)]
    chars = list(text)
    for m in _LIST_AT_LINE_START.finditer(text):
        chars[m.start():m.end()] = " " * (m.end() - m.start())
    content = [i for i, c in enumerate(chars) if not c.isspace()]
    inside = [i for i in content if any(u.start <= i < u.end for u in units)]
    expect = len(inside) / len(content) if content else 1.0
    assert math.isclose(coverage(text, units), expect)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.integers(1, 250))
def test_galloping_finds_the_largest_fitting_size(n_max: int, answer: int, guess: int) -> None:
    answer = min(answer, n_max)
    probes: list[int] = []

    def fits(k: int) -> bool:
        assert 1 <= k <= n_max
        probes.append(k)
        return k <= answer

    assert _largest_fitting(n_max, fits, guess) == answer
    assert len(probes) <= 4 * max(1, math.ceil(math.log2(n_max + 1))) + 2


@SETTINGS
@given(st.lists(st.lists(st.sampled_from("cat dog sat mat ran sun moon tree".split()), max_size=6), max_size=30),
       st.lists(st.sampled_from("cat dog sat mat ran sun moon tree the".split()), max_size=6),
       st.one_of(st.none(), st.integers(1, 35)))
def test_premise_index_picks_what_a_full_ranking_picks(premises: list[list[str]], claim_words: list[str],
                                                      k: int | None) -> None:
    words = [set(content_words(" ".join(p))) for p in premises]
    claim = " ".join(claim_words)
    got = PremiseIndex(words).closest(claim, k)
    cw = set(content_words(claim))
    ranked = sorted(range(len(words)), key=lambda i: (-len(cw & words[i]), i))
    expect = sorted(ranked if k is None else ranked[:k])
    assert got == expect


# ------------------------------------------------------------------------------------------------- loaders

_field_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1,
                      max_size=40).filter(lambda s: s.strip() != "")


@SETTINGS
@given(st.lists(st.tuples(_field_text, _field_text, st.one_of(st.none(), st.sampled_from([0, 1, 0.5]))),
                min_size=1, max_size=6),
       st.booleans(), st.booleans(), st.booleans())
def test_jsonl_loader_round_trips_any_text(tmp_path_factory: pytest.TempPathFactory, rows: list, bom: bool,
                                           crlf: bool, ascii_only: bool) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "d.jsonl"
    end = "\r\n" if crlf else "\n"
    body = "".join(json.dumps({"id": str(i), "source": s, "rewrite": r, "label": lab}, ensure_ascii=ascii_only)
                   + end for i, (s, r, lab) in enumerate(rows))
    path.write_bytes((("\ufeff" if bom else "") + body).encode("utf-8"))
    pairs, _ = load_pairs(DataConfig(name="d", type="jsonl", path=str(path)))
    assert [(p.source, p.rewrite, p.label) for p in pairs] == [(s, r, lab) for s, r, lab in rows]


@SETTINGS
@given(st.lists(st.tuples(_field_text, _field_text), min_size=1, max_size=6), st.booleans())
def test_csv_loader_round_trips_any_text(tmp_path_factory: pytest.TempPathFactory, rows: list, bom: bool) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["id", "source", "rewrite"])
    w.writerows([str(i), s, r] for i, (s, r) in enumerate(rows))
    path = tmp_path_factory.mktemp("csv") / "d.csv"
    path.write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8"))
    pairs, _ = load_pairs(DataConfig(name="d", type="csv", path=str(path)))
    assert [(p.source, p.rewrite) for p in pairs] == rows


@SETTINGS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_number_is_a_label(x: float) -> None:
    assert parse_label(x, "f: row 1") == x
    assert parse_label(repr(x), "f: row 1") == x


@SETTINGS
@given(st.one_of(st.text(max_size=20), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(), st.integers(),
                                                                                              max_size=2)))
def test_anything_else_is_refused_in_one_line(value: object) -> None:
    if isinstance(value, str):
        low = value.strip().lower()
        assume(low not in LABEL_WORDS and low not in ("", "nan"))
        try:
            float(low)
            assume(not math.isfinite(float(low)))
        except ValueError:
            pass
    with pytest.raises(DataError) as err:
        parse_label(value, "d.jsonl: row 7", "y")
    msg = str(err.value)
    assert "\n" not in msg.strip("\n") or "\n" in repr(value)
    assert msg.startswith("d.jsonl: row 7: field 'y': value ") and "is not a label (allowed:" in msg


# ------------------------------------------------------------------------------------------ config overrides

_key = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_value = st.one_of(st.integers(-10**6, 10**6), st.booleans(), st.none(),
                   st.floats(allow_nan=False, allow_infinity=False),
                   st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=20))
"""Values as a user types them: JSON literals (YAML parses them back; YAML cannot hold control characters)."""


def _typed(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@SETTINGS
@given(st.lists(_key, min_size=1, max_size=4), _value)
def test_override_sets_exactly_that_value(path: list[str], value: object) -> None:
    raw: dict = {"keep": {"me": 1}, "items": [{"a": 1}, {"a": 2}]}
    out = apply_overrides(json.loads(json.dumps(raw)), [f"{'.'.join(path)}={_typed(value)}"])
    node = out
    for p in path:
        node = node[p]
    assert node == value or (isinstance(value, float) and math.isclose(node, value))
    if path[0] != "keep":
        assert out["keep"] == {"me": 1}
    if path[0] != "items":
        assert out["items"] == [{"a": 1}, {"a": 2}]


@SETTINGS
@given(st.integers(0, 1), _value)
def test_override_into_a_list_item(index: int, value: object) -> None:
    raw = {"items": [{"a": 1}, {"a": 2}]}
    out = apply_overrides(raw, [f"items.{index}.a={_typed(value)}"])
    assert out["items"][index]["a"] == value or math.isclose(out["items"][index]["a"], value)  # type: ignore[arg-type]
    assert out["items"][1 - index]["a"] == 2 - index


@SETTINGS
@given(st.integers(64, 10**6), st.sampled_from(["fp32", "bf16", "auto"]))
def test_set_equals_writing_it_in_the_file(tmp_path_factory: pytest.TempPathFactory, budget: int, dtype: str) -> None:
    d = tmp_path_factory.mktemp("cfg")
    (d / "x.jsonl").write_text('{"source": "a", "rewrite": "b"}\n')
    base = {"data": {"type": "jsonl", "path": "x.jsonl"}, "scorers": [{"type": "overlap"}]}
    (d / "a.yaml").write_text(yaml.safe_dump(base))
    (d / "b.yaml").write_text(yaml.safe_dump({**base, "runtime": {"token_budget": budget, "dtype": dtype}}))
    via_set = load_config(d / "a.yaml", [f"runtime.token_budget={budget}", f"runtime.dtype={dtype}"])
    assert via_set == load_config(d / "b.yaml")


@SETTINGS
@given(st.text(max_size=30))
def test_a_bad_override_is_a_config_error_or_applies(item: str) -> None:
    raw = {"name": "x", "items": [{"a": 1}], "sec": {"k": 1}}
    try:
        apply_overrides(raw, [item])
    except ConfigError as e:
        assert str(e).startswith(f"--set {item}:") and "\n" not in str(e).replace(item, "")
    except yaml.YAMLError:
        pass  # a value that is not YAML: load_config turns it into a ConfigError naming the file


def test_load_config_names_a_bad_override_value(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"source": "a", "rewrite": "b"}\n')
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"data": {"type": "jsonl", "path": "x.jsonl"},
                                                     "scorers": [{"type": "overlap"}]}))
    with pytest.raises(ConfigError, match="bad --set value"):
        load_config(tmp_path / "a.yaml", ["runtime.threads=[1"])


@SETTINGS
@given(st.lists(st.lists(st.sampled_from("cat dog sat mat ran sun moon tree the".split()), max_size=6), min_size=1,
                max_size=20),
       st.lists(st.sampled_from("cat dog sat mat ran sun moon tree the a".split()), max_size=8))
def test_overlap_evidence_index_matches_a_full_scan(premises: list[list[str]], claim_words: list[str]) -> None:
    from collections import defaultdict

    from harness.scorers.overlap import _best_premise, overlap_fraction

    texts = [" ".join(p) for p in premises]
    claim = " ".join(claim_words)
    postings: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(texts):
        for w in set(content_words(t)):
            postings[w].append(i)
    vocab = [set(content_words(t)) for t in texts]
    expect = max(range(len(texts)), key=lambda i: (overlap_fraction(claim, vocab[i]), -i))
    assert _best_premise(claim, postings) == expect


# Sentence ends after lower-case words that spell an abbreviation ("sat." = Saturday, "no.", "art.", "sun.",
# "co.", "mar."), and in scripts without case or spaces: each generated sentence must come back as one unit.
_ABBREV_WORDS = ["sat", "sun", "no", "art", "co", "mar", "wed", "fri", "gen", "rev", "est"]
_SUBJECTS = ["The cat", "He", "The dog", "Our team", "She"]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(_SUBJECTS), st.sampled_from(_ABBREV_WORDS)), min_size=2, max_size=30))
def test_lowercase_words_that_spell_abbreviations_end_sentences(parts: list[tuple[str, str]]) -> None:
    text = " ".join(f"{subj} saw {word}." for subj, word in parts)
    got = [s.text for s in split_sentences(text)]
    assert got == [f"{subj} saw {word}." for subj, word in parts]


@SETTINGS
@given(st.lists(st.tuples(st.text(st.sampled_from("中文日本語天气很好我们去公园吧アイウ"), min_size=1, max_size=12),
                          st.sampled_from(["。", "！", "？"])), min_size=1, max_size=20),
       st.sampled_from(["", " "]))
def test_full_width_sentence_ends_split_without_spaces(parts: list[tuple[str, str]], sep: str) -> None:
    text = sep.join(body + end for body, end in parts)
    assert [s.text for s in split_sentences(text)] == [body + end for body, end in parts]


@pytest.mark.parametrize(("text", "expected"), [
    ("هذه جملة أولى. هذه جملة ثانية؟ نعم۔ انتهى", ["هذه جملة أولى.", "هذه جملة ثانية؟", "نعم۔", "انتهى"]),
    ("זה משפט ראשון. זה משפט שני.", ["זה משפט ראשון.", "זה משפט שני."]),
    ("यह पहला वाक्य है। यह दूसरा वाक्य है।", ["यह पहला वाक्य है।", "यह दूसरा वाक्य है।"]),
    ("Mr. Smith met Dr. Jones on Sat. at No. 10 Downing St. in London.",
     ["Mr. Smith met Dr. Jones on Sat. at No. 10 Downing St. in London."]),
    ("Cats, dogs, etc. The end.", ["Cats, dogs, etc.", "The end."]),
    ("We saw cats, e.g. Tom and Felix.", ["We saw cats, e.g. Tom and Felix."]),
])
def test_caseless_scripts_and_abbreviations(text: str, expected: list[str]) -> None:
    assert [s.text for s in split_sentences(text)] == expected


def test_five_thousand_sentences_ending_in_sat_stay_sentences() -> None:
    text = " ".join("The cat sat." for _ in range(5000))
    units = split_sentences(text)
    assert len(units) == 5000 and max(len(u.text) for u in units) == len("The cat sat.")
