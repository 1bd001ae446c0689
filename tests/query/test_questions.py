"""A question's dense vector: the mean of its own and its rewrite toward the answering sentence."""

from __future__ import annotations

import numpy as np
import pytest

from coverage_search import CoverageIndex, QueryError, SearchSettings
from coverage_search.query.questions import rewritten, stripped, templated
from query.test_answer import seed_index  # noqa: F401 - the module's seed fixture, reused


@pytest.mark.parametrize(
    ("question", "rewrite"),
    [
        ("Why did Dario Amodei leave OpenAI?", "Dario Amodei leave OpenAI because"),
        ("How many employees does Anthropic have?", "employees Anthropic have number"),
        ("In which city is Anthropic based?", "city Anthropic based in"),
        ("When did Amodei leave OpenAI?", "Amodei leave OpenAI in"),
        ("How does Anthropic sell to CIOs?", "Anthropic sell to CIOs by"),
        ("Who founded Anthropic?", "founded Anthropic"),  # who/what get no cue
        ("Why didn't OpenAI keep him?", "not OpenAI keep him because"),
    ],
)
def test_a_question_is_rewritten_toward_the_sentence_that_answers_it(
    question: str, rewrite: str
) -> None:
    assert templated(question) == rewrite
    assert rewritten(question, "template") == rewrite
    assert rewritten(question, "off") == question


@pytest.mark.parametrize(
    "text",
    [
        "tokenized shares",
        "Anthropic raised prices.",
        "Vitamin D, which is made in skin, causes bone growth.",  # a claim, not a question
        "0-dimensional biomaterials show inductive properties.",
        # headlines open on wh-words too; a rewrite needs a question mark
        "WHO warns of measles",
        "Where the Crawdads Sing",
        "How Google lost the AI race",
        "WHAT TWO PROPOSALS DID DE GAULLE REJECT THIS YEAR AFFECTING ALLIED RELATIONS .",
        # contractions and compounds of a wh-word are left alone
        "What's new in GPT-5?",
        "Where's the money going?",
        "How-to guide for Claude?",
        "Which? magazine review?",
        "Who did it?",  # nothing would be left but "it"
    ],
)
def test_what_is_not_a_question_is_searched_as_written(text: str) -> None:
    assert stripped(text) == text and templated(text) == text


def test_the_question_vector_is_the_unit_mean_of_the_two(seed_index: CoverageIndex) -> None:  # noqa: F811
    searcher, embed = seed_index._searcher, seed_index._searcher.embedder.encode_query
    question = "Why did Dario Amodei leave OpenAI?"
    own, other = embed(question), embed("Dario Amodei leave OpenAI because")
    mean = (own + other) / np.linalg.norm(own + other)
    vector = searcher.question_vector(question, "template")
    assert np.allclose(vector, mean, atol=1e-6) and not np.allclose(vector, own, atol=1e-3)
    assert np.allclose(searcher.question_vector(question, "off"), own)
    assert np.allclose(
        searcher.question_vector("tokenized shares", "template"), embed("tokenized shares")
    )
    # the product's default, through search's own path
    assert SearchSettings().question_rewrite == "template"
    assert np.allclose(searcher.query_vector(question, SearchSettings()), mean, atol=1e-6)


def test_the_words_as_typed_are_not_rewritten(seed_index: CoverageIndex) -> None:  # noqa: F811
    searcher = seed_index._searcher
    question = "Why did Dario Amodei leave OpenAI?"
    own = searcher.embedder.encode_query(question)
    typed = searcher.query_vector(question, SearchSettings(), spell_out=False)  # --literal
    assert np.allclose(typed, own)
    literal = seed_index.search(question, k=3, mode="semantic", aliases=False)
    plain = CoverageIndex.open(
        seed_index.index_dir, settings=SearchSettings(question_rewrite="off")
    )
    try:
        off = plain.search(question, k=3, mode="semantic")
    finally:
        plain.close()
    assert [(h.passage_id, round(h.score, 5)) for h in literal] == [
        (h.passage_id, round(h.score, 5)) for h in off
    ]


def test_an_unknown_rewrite_is_one_sentence() -> None:
    for value in ("loud", None, ["off"]):
        with pytest.raises(QueryError, match=r"^Unknown question_rewrite .*: use one of off, "):
            SearchSettings(question_rewrite=value)  # type: ignore[arg-type]
