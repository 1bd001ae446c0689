"""Markdown, CSV and RIS exports of a real answer: deep links, every passage, cited articles."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import write_coverage_corpus
from coverage_search import FORMATS, Answer, CoverageIndex, QueryError, export_answer

QUESTION = "Why did Dario Amodei leave OpenAI?"


@pytest.fixture(scope="module")
def answer(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answer:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("export")
    corpus = write_coverage_corpus(root / "corpus")
    CoverageIndex.build(corpus, root / "index", progress=False)
    found = CoverageIndex.open(root / "index").answer(QUESTION)
    assert found.found and len(found.hits) == 5
    return found


def test_markdown_has_the_answer_with_its_sentence_links_and_every_passage(answer: Answer) -> None:
    text = export_answer(answer, "markdown")
    assert text.startswith("# Why did Dario Amodei leave OpenAI?\n")
    for c in answer.sentences:
        if c.link.startswith("https://"):
            assert f"[\\[{c.number}\\]]({c.link})" in text  # the deep link to that very sentence
    assert "## Sources" in text
    for n, hit in enumerate(answer.hits, start=1):
        assert f"\n{n}. " in text
        if hit.url:
            assert f"]({hit.link})" in text
    assert "undated" in text  # the undated interview is listed, marked so


def test_csv_is_one_answer_row_and_one_row_per_passage(answer: Answer) -> None:
    rows = list(csv.DictReader(io.StringIO(export_answer(answer, "csv"))))
    assert [r["kind"] for r in rows] == ["answer"] + ["passage"] * len(answer.hits)
    assert rows[0]["text"] == answer.text and rows[0]["title"] == QUESTION
    for row, hit in zip(rows[1:], answer.hits, strict=True):
        assert (row["doc_id"], row["link"], row["text"]) == (hit.doc_id, hit.link, hit.text)
        assert row["published"] == (hit.published or "")
    cited = {c.number for c in answer.sentences}
    assert {int(r["number"]) for r in rows[1:] if r["cited"]} == cited


def test_ris_has_one_entry_per_cited_article(answer: Answer) -> None:
    text = export_answer(answer, "ris")
    entries = [e for e in text.split("ER  - ") if e.strip()]
    cited_docs = {answer.hits[c.number - 1].doc_id for c in answer.sentences}
    assert len(entries) == len(cited_docs)
    assert all(e.strip().startswith("TY  - NEWS") for e in entries)
    for c in answer.sentences:
        assert f"N1  - {c.sentence}" in text
    for line in text.splitlines():
        assert line == "" or line[:6].endswith("  - ") or line == "ER  - "
    dated = [answer.hits[c.number - 1] for c in answer.sentences]
    for hit in dated:
        if hit.published:
            assert f"DA  - {hit.published[:10].replace('-', '/')}" in text


def test_unknown_format_and_non_answers_are_query_errors(answer: Answer) -> None:
    assert FORMATS == ("markdown", "csv", "ris")
    with pytest.raises(QueryError, match="Unknown format 'pdf'"):
        export_answer(answer, "pdf")
    with pytest.raises(QueryError, match="Only an answer"):
        export_answer("not an answer", "csv")


def test_an_answer_with_nothing_found_exports_its_message(
    tmp_path: Path,
    build_index,  # type: ignore[no-untyped-def]
) -> None:
    index = CoverageIndex.open(build_index(write_coverage_corpus(tmp_path / "corpus")))
    none = index.answer(QUESTION, outlets=["Nobody"])
    assert not none.found and not none.hits
    assert none.message.split(".")[0] in export_answer(none, "markdown").replace("\\", "")
    assert export_answer(none, "ris") == ""
    assert len(list(csv.reader(io.StringIO(export_answer(none, "csv"))))) == 2


NAMED = "Why did Dario Amodei leave the ChatGPT maker?"


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory, embedder) -> Answer:  # type: ignore[no-untyped-def]
    """A real answer to a question whose description of a company was searched as its name."""
    root = tmp_path_factory.mktemp("export-named")
    corpus = write_coverage_corpus(root / "corpus")
    CoverageIndex.build(corpus, root / "index", progress=False)
    found = CoverageIndex.open(root / "index").answer(NAMED)
    assert found.found and found.searched_as == "Why did Dario Amodei leave OpenAI?"
    return found


def test_markdown_says_how_the_question_was_searched_under_it(named: Answer) -> None:
    lines = export_answer(named, "markdown").splitlines()
    assert lines[:4] == [f"# {NAMED}", "", "*Searched as: Why did Dario Amodei leave OpenAI?*", ""]


def test_csv_has_a_searched_as_column_filled_on_the_answer_row(named: Answer) -> None:
    rows = list(csv.DictReader(io.StringIO(export_answer(named, "csv"))))
    assert rows[0]["kind"] == "answer" and rows[0]["title"] == NAMED
    assert rows[0]["searched_as"] == "Why did Dario Amodei leave OpenAI?"
    assert {r["searched_as"] for r in rows[1:]} == {""}


def test_ris_notes_how_the_question_was_searched_in_every_entry(named: Answer) -> None:
    text = export_answer(named, "ris")
    note = f"N1  - Searched as: Why did Dario Amodei leave OpenAI? (asked: {NAMED})"
    entries = [e for e in text.split("ER  - ") if e.strip()]
    assert entries and all(note in e.splitlines() for e in entries)
    for c in named.sentences:
        assert f"N1  - {c.sentence}" in text  # the quotes are still there, first


def test_an_answer_searched_as_typed_records_nothing_more(answer: Answer) -> None:
    assert answer.searched_as == ""
    assert "Searched as" not in export_answer(answer, "markdown")
    assert "Searched as" not in export_answer(answer, "ris")
    rows = list(csv.DictReader(io.StringIO(export_answer(answer, "csv"))))
    assert {r["searched_as"] for r in rows} == {""}


@pytest.mark.parametrize("same", ["", "   ", "\n", QUESTION, f"  {QUESTION}\t"])
def test_a_searched_as_that_says_nothing_new_is_left_out(answer: Answer, same: str) -> None:
    copy = dataclasses.replace(answer, searched_as=same)
    for fmt in FORMATS:
        assert export_answer(copy, fmt) == export_answer(answer, fmt), fmt


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example","click")',
        "-2+3 @SUM(A1)",
        "# Heading\n- item\r\nTY  - JOUR\nER  - ",
        "l’entreprise d’OpenAI 🤖 «quoi» \u2028ER  - \u0085N1  - x",
        "<script>alert(1)</script> [x](javascript:alert(1)) *bold* `code`",
        "\x00\x1b[31mred",
        "Ｏｐｅｎ\u200bＡＩ " * 900,
    ],
)
def test_a_hostile_searched_as_stays_inert_in_every_format(named: Answer, hostile: str) -> None:
    copy = dataclasses.replace(named, searched_as=hostile)
    md = export_answer(copy, "markdown").splitlines()
    assert md[2].startswith("*Searched as: ") and md[2].endswith("*") and md[3] == ""
    assert "<script>" not in md[2] and "\x00" not in md[2]
    rows = list(csv.reader(io.StringIO(export_answer(copy, "csv"))))
    cell = rows[1][rows[0].index("searched_as")]
    assert cell.lstrip("'").startswith(hostile.strip()[:1]) and not cell.startswith(("=", "-"))
    ris = export_answer(copy, "ris").split("\r\n")
    for line in ris:
        assert line == "" or line[:6].endswith("  - ") or line == "ER  - "
    notes = [line for line in ris if line.startswith("N1  - Searched as: ")]
    assert len(notes) == len([e for e in ris if e == "TY  - NEWS"])
    assert all(len(n) <= len("N1  - ") + 2000 for n in notes)
    assert sum(line.startswith("TY  - ") for line in ris) == sum(line == "ER  - " for line in ris)


@pytest.mark.parametrize("field", ["searched_as", "question"])
@pytest.mark.parametrize("bad", [None, 5, b"OpenAI", ["OpenAI"]])
def test_an_answer_with_a_non_text_question_is_a_one_line_error(
    named: Answer, field: str, bad: object
) -> None:
    copy = dataclasses.replace(named, **{field: bad})
    for fmt in FORMATS:
        with pytest.raises(QueryError, match="question and searched_as must be text"):
            export_answer(copy, fmt)


def test_ask_format_records_how_it_searched(
    tmp_path: Path, build_index: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search.cli import main

    index = str(build_index(write_coverage_corpus(tmp_path / "corpus")))
    assert main(["ask", NAMED, "--index", index, "--format", "markdown"]) == 0
    assert "\n*Searched as: Why did Dario Amodei leave OpenAI?*\n" in capsys.readouterr().out
    assert main(["ask", NAMED, "--index", index, "--format", "ris"]) == 0
    assert "N1  - Searched as: Why did Dario Amodei leave OpenAI?" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_only_web_addresses_reach_the_csv_and_ris(answer: Answer, url: str) -> None:
    hits = [dataclasses.replace(answer.hits[0], url=url), *answer.hits[1:]]
    hostile = dataclasses.replace(answer, hits=hits)
    rows = list(csv.DictReader(io.StringIO(export_answer(hostile, "csv"))))
    assert rows[1]["url"] == ""
    assert url not in export_answer(hostile, "ris")
    web = "https://example.com/story"
    first = dataclasses.replace(answer.hits[0], url=web)
    kept = dataclasses.replace(answer, hits=[first, *hits[1:]])
    assert list(csv.DictReader(io.StringIO(export_answer(kept, "csv"))))[1]["url"] == web
    assert f"UR  - {web}" in export_answer(kept, "ris")
