"""Names the coverage never mentions raise the refusal bar (query/names.py), on the seed index."""

from __future__ import annotations

import pytest

from coverage_search import CoverageIndex
from coverage_search.query import answer as answer_module
from coverage_search.query.answer import ANSWER_DOCUMENT_PRIOR, ANSWER_PER_DOCUMENT, best_cosine
from coverage_search.query.names import (
    UNKNOWN_NAME_MARGIN,
    question_names,
    unknown_names,
    unknown_names_note,
)
from query.test_answer import seed_index  # noqa: F401 - the module's seed fixture, reused


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Which university awarded Dario Amodei his PhD?", ["Dario", "Amodei", "PhD"]),
        ("Why did Amodei’s team leave OpenAI?", ["Amodei", "OpenAI"]),  # possessive dropped
        ("How do I turn on Copilot inside Microsoft Word?", ["Copilot", "Microsoft", "Word"]),
        ("What is the half-life of carbon-14?", []),  # not a year: no name
        ("Why does the Claude-versus-ChatGPT contest matter?", ["Claude", "ChatGPT"]),
        ("I asked: Who won the 2022 FIFA World Cup?", ["2022", "FIFA", "World", "Cup"]),
        ("why did amodei leave openai?", []),  # typed in lower case: no sign either way
        ("Why Did Dario Amodei Leave OpenAI In 2020?", ["2020"]),  # title case: years only
        ("WHY DID DARIO AMODEI LEAVE OPENAI?", []),  # capitals say nothing
        # Numbers other than years are no names: prose writes them many ways.
        ("What were the 3 reasons, 12 steps and 1,000 jobs behind GPT-4?", ["GPT"]),
        ("What happened on 1963-01-02 to the $20 billion deal?", ["1963"]),
        ("Which H100 chips did Nvidia sell?", ["H100", "Nvidia"]),
        # Dotted initials are one name; a title's period ends no sentence.
        ("What did the U.S. Senate and Dr. Oppenheimer say?", ["US", "Senate", "Oppenheimer"]),
        ("How does O’Brien see it?", ["O’Brien"]),
        ("Why Did Amodei Leave?", []),  # title case, three words after the first
        ("2023年的通胀率是多少", []),  # words run together: no telling names apart
        ("", []),
    ],
)
def test_question_names(question: str, names: list[str]) -> None:
    assert question_names(question) == names


def test_a_pasted_paragraph_is_looked_up_a_bounded_number_of_names() -> None:
    assert len(question_names("Why " + " ".join(f"Name{i}" for i in range(500)))) == 32


def test_unknown_names_are_the_ones_no_passage_holds(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    engine = seed_index.engine
    assert unknown_names(engine, "Why did Dario Amodei leave OpenAI?") == []
    assert unknown_names(engine, "Which university awarded Dario Amodei his PhD?") == ["PhD"]
    assert unknown_names(engine, "Who directed the 2023 film Oppenheimer?") == [
        "2023",
        "Oppenheimer",
    ]


def test_a_question_about_a_name_never_mentioned_needs_a_higher_bar(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    question = "Who directed the 2023 film Oppenheimer?"
    hits = seed_index.search(
        question, k=10, per_document=ANSWER_PER_DOCUMENT, document_prior=ANSWER_DOCUMENT_PRIOR
    )
    best = best_cosine(question, hits, seed_index.embedder)
    bar = seed_index.refusal_floor()
    # Between the plain bar and the raised one: answered without the names rule.
    assert bar <= best < bar + UNKNOWN_NAME_MARGIN
    refused = seed_index.answer(question)
    assert not refused.found and not refused.sentences and refused.hits
    assert refused.message.startswith("The coverage never mentions “2023”, “Oppenheimer”.")


def test_without_the_margin_the_same_question_is_answered(
    seed_index: CoverageIndex,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(answer_module, "UNKNOWN_NAME_MARGIN", 0.0)
    assert seed_index.answer("Who directed the 2023 film Oppenheimer?").found


def test_a_close_question_with_an_unknown_name_is_still_answered(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    # The bar rises, it does not refuse outright: a reader's own word for something the
    # coverage names differently ("Redmond" for Microsoft) still gets its answer.
    question = (
        "Why does the Claude-versus-ChatGPT contest reach shops that only license from Redmond?"
    )
    assert unknown_names(seed_index.engine, question) == ["Redmond"]
    assert seed_index.answer(question).found


def test_the_note_names_at_most_three() -> None:
    assert unknown_names_note([]) == ""
    assert unknown_names_note(["A", "B", "C", "D"]) == (
        "The coverage never mentions “A”, “B”, “C” or 1 more. "
    )


def test_a_long_list_of_names_is_looked_up_a_bounded_number_of_times(
    seed_index: CoverageIndex,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = seed_index.engine
    asked: list[int] = []
    searches: list[int] = []
    real_counts, real_keyword = engine.term_docs, engine.keyword

    def counted(terms):  # type: ignore[no-untyped-def]
        asked.append(len(terms))
        return real_counts(terms)

    def searched(*args, **kwargs):  # type: ignore[no-untyped-def]
        searches.append(1)
        return real_keyword(*args, **kwargs)

    monkeypatch.setattr(engine, "term_docs", counted)
    monkeypatch.setattr(engine, "keyword", searched)
    question = "Why " + " ".join(f"Zq{i}-Xv{i}" for i in range(100)) + "?"
    unknown = unknown_names(engine, question)
    # one count of at most 32 terms; the local engine's counts are exact, so no search
    assert asked == [32] and searches == []
    assert unknown and set(unknown) <= set(question_names(question))


def test_a_described_company_and_a_short_acronym_are_no_unknown_names(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    engine = seed_index.engine
    # "the Sora maker" is searched as OpenAI, so "Sora" need not be in the coverage.
    assert unknown_names(engine, "Why did researchers leave the Sora maker?") == []
    assert unknown_names(engine, "Why did researchers leave the Sora maker?", aliases=False) == [
        "Sora"
    ]
    # "UK" may be written "U.K.", which the index holds as one-letter words.
    assert unknown_names(engine, "What did the UK say about the Oppenheimer film?") == [
        "Oppenheimer"
    ]


def test_with_a_filter_the_refusal_of_an_unknown_name_does_not_say_to_relax_it(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    refused = seed_index.answer("Who directed the 2023 film Oppenheimer?", outlets=["WindowsForum"])
    assert not refused.found
    assert refused.message.startswith("The coverage never mentions “2023”, “Oppenheimer”.")
    assert "relax" not in refused.message


def test_a_long_name_is_shown_cut() -> None:
    assert unknown_names_note(["X" * 500]) == f"The coverage never mentions “{'X' * 40}”. "


def test_the_local_engine_holds_exactly_the_terms_it_counts(
    seed_index: CoverageIndex,  # noqa: F811
) -> None:
    terms = ["anthropic", "zqxjv", "tokenized", "oppenheimer"]
    docs, _ = seed_index.engine.term_docs(terms)
    assert seed_index.engine.held_terms(terms) == [n > 0 for n in docs] == [
        True, False, True, False
    ]  # fmt: skip
