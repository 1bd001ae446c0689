"""Markdown, CSV and RIS exports of a real answer: deep links, every passage, cited articles."""

from __future__ import annotations

import csv
import io
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
    tmp_path: Path, build_index  # type: ignore[no-untyped-def]
) -> None:
    index = CoverageIndex.open(build_index(write_coverage_corpus(tmp_path / "corpus")))
    none = index.answer(QUESTION, outlets=["Nobody"])
    assert not none.found and not none.hits
    assert none.message.split(".")[0] in export_answer(none, "markdown").replace("\\", "")
    assert export_answer(none, "ris") == ""
    assert len(list(csv.reader(io.StringIO(export_answer(none, "csv"))))) == 2
