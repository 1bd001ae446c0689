"""A query's abbreviations spelled out from the build's table, and where they are looked up."""

from __future__ import annotations

from coverage_search.query.abbreviations import MAX_FORMS, expand_abbreviations, short_forms

TABLE = {
    "RSP": "Responsible Scaling Policy",
    "MSCs": "mesenchymal stem cells",
    "IL-6": "interleukin-6",
}


def test_a_defined_short_form_is_followed_by_its_long_form() -> None:
    assert expand_abbreviations("What does the RSP require?", TABLE) == (
        "What does the RSP (Responsible Scaling Policy) require?"
    )
    # Plural and singular find each other; hyphenated forms are one word.
    assert expand_abbreviations("Do RSPs bind MSC donors? IL-6 levels", TABLE) == (
        "Do RSPs (Responsible Scaling Policy) bind MSC (mesenchymal stem cells) donors? "
        "IL-6 (interleukin-6) levels"
    )


def test_nothing_changes_without_a_written_short_form() -> None:
    assert expand_abbreviations("the rsp and rsps", TABLE) == "the rsp and rsps"  # as written
    assert expand_abbreviations("XRSP and RSP-like", TABLE) == "XRSP and RSP-like"
    already = "the Responsible Scaling Policy (RSP)"
    assert expand_abbreviations(already, TABLE) == already
    assert expand_abbreviations("the RSP", {}) == "the RSP"
    # Spelled out once, however often it appears.
    assert expand_abbreviations("RSP or RSP", TABLE) == "RSP (Responsible Scaling Policy) or RSP"


def test_only_capitalized_words_are_looked_up_and_never_too_many() -> None:
    assert short_forms("what is the RSPs rule of the WHO") == ["RSPs", "RSP", "WHO", "WHOs"]
    assert short_forms("nothing capitalized here") == []
    assert short_forms("A" * 12) == []  # a short form and a final stop at most
    assert len(short_forms(" ".join(f"X{i}" for i in range(500)))) == MAX_FORMS
