"""Abbreviation definitions found in document text (Schwartz and Hearst), and the table of them."""

from __future__ import annotations

from coverage_search.passages.abbreviations import abbreviation_table, definitions


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


def test_the_long_form_stays_inside_its_sentence() -> None:
    # "Policy." ends the sentence before: the letters of "SP" are not looked for past it.
    assert definitions("It is a Scaling Policy. Then came (SP) again.") == []
    assert definitions("[Safety Policy] (SP)") == []


def test_hostile_text_is_read_without_error() -> None:
    for text in (
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
