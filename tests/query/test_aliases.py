"""Descriptions of AI companies and people in a question are searched as their names."""

from __future__ import annotations

import shutil
import time

import pytest

from conftest import SEED_ARTICLE
from coverage_search import CoverageIndex
from coverage_search.query.aliases import expand_aliases


@pytest.mark.parametrize(
    ("query", "expanded"),
    [
        ("How long did Amodei stay at the ChatGPT maker?", "How long did Amodei stay at OpenAI?"),
        ("Who works at Sam Altman's lab?", "Who works at OpenAI?"),
        ("What does the company behind Claude sell?", "What does Anthropic sell?"),
        ("Who founded the iPhone maker?", "Who founded Apple?"),
        ("What did the Anthropic boss say?", "What did the Anthropic boss Dario Amodei say?"),
        ("Interview with the head of OpenAI", "Interview with the head of OpenAI Sam Altman"),
        (
            "Who is the head of Google DeepMind?",
            "Who is the head of Google DeepMind Demis Hassabis?",
        ),
        ("Sam Altman's firm and Altman's lab", "OpenAI and OpenAI"),  # every description
        ("the ChatGPT\u2011maker", "OpenAI"),  # a non-breaking hyphen
    ],
)
def test_a_description_is_searched_as_the_name(query: str, expanded: str) -> None:
    assert expand_aliases(query) == expanded


@pytest.mark.parametrize(
    "query",
    [
        "What does ChatGPT do?",  # the product itself, not its maker
        "Which ChatGPT rival is growing fastest?",  # a rival is not the maker
        "Who is OpenAI's chief scientist?",  # not the chief executive
        "Anthropic head of safety research",
        "Why did Dario Amodei leave OpenAI?",  # the names are already there
        "What did Musk's company announce?",  # Elon Musk runs several
        "How many people died in the Ankara collision?",
        "",
        # A product's plan, part or users is not its maker:
        "How much does ChatGPT Team cost?",
        "Is ChatGPT Business worth it?",
        "the Codex team",
        "How do Windows developers use Copilot?",
        # Other roles, and a role followed by someone else's name:
        "Meta's chief AI scientist",
        "OpenAI chief marketing officer",
        "the head of OpenAI's safety team",
        "Why did OpenAI co-founder Ilya Sutskever leave?",
        "the head of ChatGPT",
        # Common surnames and words, case aside, name nobody:
        "Huang's lab at Stanford",
        "the cook's company",
        "the altman's lab",
    ],
)
def test_anything_else_is_left_exactly_as_typed(query: str) -> None:
    assert expand_aliases(query) == query


def test_a_name_already_in_the_question_is_not_added_again() -> None:
    assert expand_aliases("Did the OpenAI CEO Sam Altman reply?") == (
        "Did the OpenAI CEO Sam Altman reply?"
    )
    # ... as a word: "metadata" does not hold Meta.
    assert expand_aliases("metadata and the Meta boss") == (
        "metadata and the Meta boss Mark Zuckerberg"
    )


def test_hostile_queries_come_back_quickly_and_whole() -> None:
    # Long runs of what the patterns look for must not backtrack for seconds.
    for query in (
        "ChatGPT " * 2000 + "x",
        "the " * 3000 + "maker",
        "Altman’s" + " -" * 3000,
        "boss of " * 2000,
        "\u0000\ufffd" * 1000,
        "the ChatGPT maker and " * 300,  # matches, many times
        "Altman's lab " * 500 + "(.*)+$[",  # regex metacharacters are text
    ):
        start = time.perf_counter()
        out = expand_aliases(query)
        assert time.perf_counter() - start < 2.0  # a bound on runaway regexes, not a benchmark
        if query.startswith(("the ChatGPT maker", "Altman's lab")):
            assert "OpenAI" in out and "ChatGPT maker" not in out and "Altman's lab" not in out
        else:
            assert out == query


@pytest.fixture(scope="module")
def article_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> CoverageIndex:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("aliases")
    (root / "corpus").mkdir()
    shutil.copy(SEED_ARTICLE, root / "corpus" / SEED_ARTICLE.name)
    CoverageIndex.build(root / "corpus", root / "index", progress=False)
    return CoverageIndex.open(root / "index")


def test_the_answer_finds_a_fact_asked_about_by_description(article_index: CoverageIndex) -> None:
    # Without the names, the lede passage ranked 11th: "the Anthropic boss" and "the ChatGPT
    # maker" are in no passage of the article.
    answer = article_index.answer(
        "What job title did the Anthropic boss have at the ChatGPT maker?"
    )
    assert answer.found
    assert answer.question == "What job title did the Anthropic boss have at the ChatGPT maker?"
    assert (
        answer.searched_as == "What job title did the Anthropic boss Dario Amodei have at OpenAI?"
    )
    assert "vice president of research" in answer.hits[0].text
    assert any("vice president of research" in c.sentence for c in answer.sentences)


def test_explain_says_how_the_question_was_searched(
    article_index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search.cli import main

    folder = str(article_index.index_dir)
    assert (
        main(["ask", "How long was Amodei at the ChatGPT maker?", "--index", folder, "--explain"])
        == 0
    )
    assert "Searched as: How long was Amodei at OpenAI?" in capsys.readouterr().out
    assert main(["ask", "How long was Amodei at OpenAI?", "--index", folder, "--explain"]) == 0
    assert "Searched as" not in capsys.readouterr().out
    assert article_index.answer("How long was Amodei at OpenAI?").searched_as == ""


def test_search_says_how_it_searched(
    article_index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from coverage_search import searched_as
    from coverage_search.cli import main

    assert searched_as("  the ChatGPT maker ") == "OpenAI"
    assert searched_as("OpenAI") == ""
    folder = str(article_index.index_dir)
    assert main(["search", "the ChatGPT maker", "--index", folder, "-k", "1"]) == 0
    assert capsys.readouterr().out.startswith("Searched as: OpenAI\n")
    assert main(["search", "the ChatGPT maker", "--index", folder, "-k", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "the ChatGPT maker" and data["searched_as"] == "OpenAI"


def test_ask_and_timeline_say_how_they_searched(
    article_index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from coverage_search.cli import main

    folder = str(article_index.index_dir)
    assert main(["ask", "Who is the ChatGPT maker's partner?", "--index", folder]) == 0
    assert capsys.readouterr().out.startswith("Searched as: Who is OpenAI's partner?\n")
    assert main(["ask", "the ChatGPT maker", "--index", folder, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["searched_as"] == "OpenAI"
    assert main(["timeline", "the ChatGPT maker", "--index", folder]) == 0
    assert capsys.readouterr().out.startswith("Searched as: OpenAI\n")
    assert main(["timeline", "the ChatGPT maker", "--index", folder, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["searched_as"] == "OpenAI"
