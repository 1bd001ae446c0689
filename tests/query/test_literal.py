"""Searching the words as typed: `aliases=False` and `--literal` leave descriptions unnamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CAFETERIA, SMALL_CORPUS, write_doc
from coverage_search import CoverageIndex, QueryError, SearchSettings, searched_as
from coverage_search.cli import main

DESCRIBED = "the ChatGPT maker"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> CoverageIndex:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("literal")
    for name, (body, meta) in {**SMALL_CORPUS, **CAFETERIA}.items():
        write_doc(root / "corpus", name, body, **meta)
    CoverageIndex.build(root / "corpus", root / "index", progress=False)
    return CoverageIndex.open(root / "index")


def docs(hits: object) -> list[str]:
    return [h.doc_id for h in hits]  # type: ignore[attr-defined]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_search_as_typed_finds_the_words_not_the_name(index: CoverageIndex) -> None:
    named = index.search(DESCRIBED, mode="keyword", k=5)
    typed = index.search(DESCRIBED, mode="keyword", k=5, aliases=False)
    assert "maker-cafeteria.md" not in docs(named) and "openai-exit.md" in docs(named)
    assert docs(typed) == ["maker-cafeteria.md"]
    # Hybrid too: the typed words lead with the one passage that holds them.
    assert docs(index.search(DESCRIBED, k=3, aliases=False))[0] == "maker-cafeteria.md"
    assert searched_as(DESCRIBED) == "OpenAI" and searched_as(DESCRIBED, aliases=False) == ""


def test_the_timeline_as_typed_counts_the_stories_of_the_words(index: CoverageIndex) -> None:
    named = index.coverage(DESCRIBED, mode="keyword")
    typed = index.coverage(DESCRIBED, mode="keyword", aliases=False)
    assert "maker-cafeteria.md" not in docs(named.stories) and named.total >= 2
    assert docs(typed.stories) == ["maker-cafeteria.md"] and typed.total == 1
    assert [o.outlet for o in typed.outlets] == ["Kitchen Times"]


def test_the_answer_as_typed_reads_the_passages_of_the_words(index: CoverageIndex) -> None:
    typed = index.answer(DESCRIBED, mode="keyword", aliases=False)
    assert typed.question == DESCRIBED and docs(typed.hits) == ["maker-cafeteria.md"]
    named = index.answer(DESCRIBED, mode="keyword")
    assert named.searched_as == "OpenAI" and "maker-cafeteria.md" not in docs(named.hits)


def test_literal_search_and_timeline_print_no_searched_as(
    index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(index.index_dir)
    code, out, _ = run(capsys, "search", DESCRIBED, "--index", folder, "--mode", "keyword")
    assert code == 0 and out.startswith("Searched as: OpenAI\n") and "Cafeteria" not in out
    code, out, _ = run(capsys, "search", DESCRIBED, "--index", folder, "--mode", "keyword",
                       "--literal")  # fmt: skip
    assert code == 0 and "Searched as" not in out and out.startswith("1. Cafeteria news")
    code, out, _ = run(capsys, "search", DESCRIBED, "--index", folder, "--literal", "--json",
                       "--mode", "keyword")  # fmt: skip
    data = json.loads(out)
    assert data["query"] == DESCRIBED and data["searched_as"] == ""
    assert [h["doc_id"] for h in data["hits"]] == ["maker-cafeteria.md"]
    assert data["facets"]["stories"] == 1  # the facets are counted for the typed words too

    code, out, _ = run(capsys, "timeline", DESCRIBED, "--index", folder, "--mode", "keyword",
                       "--literal")  # fmt: skip
    assert code == 0 and "Searched as" not in out and out.startswith("1 story matching")
    code, out, _ = run(capsys, "timeline", DESCRIBED, "--index", folder, "--mode", "keyword",
                       "--literal", "--json")  # fmt: skip
    data = json.loads(out)
    assert data["searched_as"] == "" and data["doc_ids"] == ["maker-cafeteria.md"]
    code, out, _ = run(capsys, "timeline", DESCRIBED, "--index", folder, "--json")
    assert json.loads(out)["searched_as"] == "OpenAI"


def test_literal_ask_lists_the_passages_of_the_words(
    index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(index.index_dir)
    code, out, _ = run(capsys, "ask", DESCRIBED, "--index", folder, "--mode", "keyword",
                       "--literal", "--json")  # fmt: skip
    assert code == 0 and [h["doc_id"] for h in json.loads(out)["hits"]] == ["maker-cafeteria.md"]
    code, out, _ = run(capsys, "ask", DESCRIBED, "--index", folder, "--mode", "keyword")
    assert out.startswith("Searched as: OpenAI\n") and "Cafeteria news" not in out


def test_literal_ask_says_nothing_was_renamed(
    index: CoverageIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(index.index_dir)
    assert index.answer(DESCRIBED, aliases=False).searched_as == ""
    code, out, _ = run(capsys, "ask", DESCRIBED, "--index", folder, "--literal")
    assert code == 0 and "Searched as" not in out
    code, out, _ = run(capsys, "ask", DESCRIBED, "--index", folder, "--literal", "--json")
    assert json.loads(out)["searched_as"] == ""


def test_literal_leaves_a_question_without_descriptions_as_it_was(
    index: CoverageIndex,
) -> None:
    question = "Why did Dario Amodei leave OpenAI?"
    # As typed, the question is not rewritten either (tests/query/test_questions.py).
    as_typed = CoverageIndex.open(index.index_dir, settings=SearchSettings(question_rewrite="off"))
    try:
        assert docs(index.search(question, aliases=False)) == docs(as_typed.search(question))
        assert index.coverage(question, aliases=False) == as_typed.coverage(question)
    finally:
        as_typed.close()


@pytest.mark.parametrize("bad", ["no", 0, 1, None, "False", [True]])
def test_aliases_must_be_true_or_false(index: CoverageIndex, bad: object) -> None:
    message = "aliases must be True (name described companies) or False (the words as typed)."
    for call in (index.search, index.coverage, index.answer):
        with pytest.raises(QueryError) as caught:
            call(DESCRIBED, aliases=bad)  # type: ignore[operator]
        assert str(caught.value) == message
    with pytest.raises(QueryError):
        searched_as(DESCRIBED, aliases=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["search", "", "--literal"], 2, "Type a question or some words to search for."),
        (["ask", "   ", "--literal"], 2, "Type a question or some words to search for."),
        (["timeline", "\n\t", "--literal"], 2, "Type a question or some words to search for."),
        (["search", DESCRIBED, "--literal", "--mode", "nope"], 2, "invalid choice: 'nope'"),
        (["ask", DESCRIBED, "--literal=yes"], 2, "ignored explicit argument 'yes'"),
        (["timeline", DESCRIBED, "--literal", "--since", "2026-13-40"], 2, "2026-13-40"),
        (["search", DESCRIBED, "--literal", "-k", "0"], 2, "k must be a whole number"),
        (["watch", "add", DESCRIBED, "--literal=1"], 2, "ignored explicit argument '1'"),
        (["watch", "list", "--literal"], 2, "unrecognized arguments: --literal"),
    ],
)
def test_odd_literal_combinations_are_one_line_errors(
    index: CoverageIndex,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    says: str,
) -> None:
    folder = str(index.index_dir)
    where = ["--corpus", str(Path(folder).parent / "corpus")] if argv[0] == "watch" else []
    try:
        got = main([*argv, "--index", folder, *where])
    except SystemExit as exc:  # argparse's usage errors
        got = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert got == code and "Traceback" not in err + out
    # Our own errors are one line; argparse's are its usage, then one error line.
    *usage, last = err.strip().splitlines()
    assert says in last and last.startswith("coverage-search")
    assert not usage or usage[0].startswith("usage: coverage-search")


@pytest.mark.parametrize(
    "query",
    [
        "the ChatGPT maker the ChatGPT maker the ChatGPT maker",
        "THE CHATGPT MAKER",
        "the ChatGPT\u00admaker",  # a soft hyphen
        "the ChatGPT maker 🤖 — «quoi»",
        "the\u200bChatGPT maker",
        '"the ChatGPT maker" OR NEAR(maker) *',
        "the ChatGPT maker" + " x" * 3000,
    ],
)
def test_hostile_queries_as_typed_search_without_a_traceback(
    index: CoverageIndex, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    folder = str(index.index_dir)
    for verb in ("search", "timeline", "ask"):
        for mode in ("keyword", "hybrid"):
            code, out, err = run(capsys, verb, query, "--index", folder, "--literal", "--mode",
                                 mode, "--json")  # fmt: skip
            cut = "coverage-search: only the first 4,000 characters are searched.\n"
            assert code == 0 and err == (cut if len(query) > 4000 else ""), (verb, mode, err)
            assert verb == "ask" or json.loads(out)["searched_as"] == ""
