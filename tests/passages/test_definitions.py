"""Abbreviation definitions found in document text (Schwartz and Hearst), and the table of them."""

from __future__ import annotations

from coverage_search.passages.abbreviations import (
    LOOKBACK,
    MAX_PARENTHESES,
    abbreviation_table,
    definitions,
)


def test_a_short_form_in_parentheses_is_spelled_by_the_words_before_it() -> None:
    text = (
        "Anthropic published its Responsible Scaling Policy (RSP) in 2023. Levels of "
        "interleukin-6 (IL-6) rose, and the mammalian target of rapamycin (mTOR) pathway was "
        "active. The World Health Organization (WHO, Geneva) agreed."
    )
    assert definitions(text) == [
        ("RSP", "Responsible Scaling Policy"),
        ("IL-6", "interleukin-6"),
        ("mTOR", "mammalian target of rapamycin"),
        ("WHO", "World Health Organization"),
    ]


def test_parentheses_that_define_nothing_are_left_alone() -> None:
    text = (
        "The model shipped in March (2024). Results are in the appendix (Table 2) and below "
        "(see notes). Shares fell, the company said on Monday (Reuters). Prices rose (AP). "
        "It is (very) good (rsp). The lab (OpenAI) declined to comment."
    )
    assert definitions(text) == []


def test_in_capitals_every_word_gives_its_initial() -> None:
    text = (
        "THE NORTHERN PEOPLE'S CONGRESS (NPC) WON. FOSSILS OF THE PREHISTORIC NEWTS (TRITONS) "
        "WERE FOUND."
    )
    assert definitions(text) == [("NPC", "NORTHERN PEOPLE'S CONGRESS")]
    # In mixed case the letters may sit inside words, as Schwartz and Hearst allow.
    assert definitions("The Werner syndrome (WRN) gene.") == [("WRN", "Werner syndrome")]


def test_the_long_form_stays_inside_its_sentence() -> None:
    # "Policy." ends the sentence before: the letters of "SP" are not looked for past it.
    assert definitions("It is a Scaling Policy. Then came (SP) again.") == []
    assert definitions("[Safety Policy] (SP)") == []


def test_the_rules_of_schwartz_and_hearst() -> None:
    # The first letter opens a word: "ahead" holds an h, but not at its start.
    assert definitions("They ran ahead of trial (HT).") == []
    # Each letter of the long form serves one letter of the short form.
    assert definitions("Here comes the Sun (SS).") == []
    # At most min(letters + 5, 2 × letters) words: "Rapid" is six words back from (RP).
    assert definitions("Rapid a b c d e Pace (RP)") == []
    assert definitions("Rapid d e Pace (RP)") == [("RP", "Rapid d e Pace")]
    # Quotes and commas around the long form are trimmed.
    assert definitions("its “Responsible Scaling Policy” (RSP)") == [
        ("RSP", "Responsible Scaling Policy")
    ]
    # No shorter than the short form, and not the short form itself.
    assert definitions("the RSP rules (RSP)") == []
    # A window that starts inside a word starts at the next one: never "rug Administration".
    text = "Drug" + " " * 182 + "Administration (RA)"
    assert text.index("(") == LOOKBACK + 1
    assert definitions(text) == []


def test_hostile_text_is_read_without_error() -> None:
    for text in (
        "(AB)" * 50_000,  # every parenthesis a candidate, each window cut at the one before
        "Alpha Beta (AB) " * 20_000,
        "(" * 100_000,
        ")" * 1000 + "(AB" * 1000,
        "\x00(AB)\x00",
        "🙂 (🙂🙂) (A\u200bB) (ＡＢ)",
        "x (" + "A" * 11 + ")",  # longer than a short form can be
        "",
    ):
        assert isinstance(definitions(text), list)


def test_the_table_keeps_what_most_documents_agree_on() -> None:
    texts = [
        "Growth was within the 95% confidence interval (CI) of the estimate.",
        "The chief information officer (CIO) approved it.",
        "A chief innovation officer (CIO) joined.",
        "Another chief information officer (CIO) resigned.",
        "The Chief Information Officer (CIO) spoke.",
        "The continuous integration (CI) system failed.",
    ]
    table = abbreviation_table(texts)
    # CI: one each (1 in 2 agree, under 0.6) is dropped; CIO: 3 of 4 agree, whatever the case.
    assert table == {"CIO": "chief information officer"}
    assert abbreviation_table([]) == {}
    # A document that defines the same short form twice counts once.
    twice = "The Responsible Scaling Policy (RSP). Its Responsible Scaling Policy (RSP) again."
    assert abbreviation_table([twice, "Rapid Security Patch (RSP)"]) == {}


def test_one_document_can_neither_outvote_nor_veto_the_rest() -> None:
    honest = ["Anthropic's Responsible Scaling Policy (RSP) was updated."] * 3
    stuffed = " ".join(f"{v} (RSP)." for v in ["Rogue Spy Program", "rogue spy program"] * 4)
    assert abbreviation_table([*honest, stuffed]) == {"RSP": "Responsible Scaling Policy"}
    words = ("Red Sea Pie", "Rich Sun Pot", "Raw Sky Pan", "Rare Salt Pea", "Ripe Sand Pod")
    veto = " ".join(f"{w} (RSP)." for w in words)  # five long forms: still one vote
    assert abbreviation_table([*honest[:2], veto]) == {"RSP": "Responsible Scaling Policy"}


def test_a_document_is_read_to_its_first_parentheses_only() -> None:
    text = "(x) " * (MAX_PARENTHESES - 1) + "its Responsible Scaling Policy (RSP)"
    assert definitions(text) == [("RSP", "Responsible Scaling Policy")]
    assert definitions("(x) " + text) == []
