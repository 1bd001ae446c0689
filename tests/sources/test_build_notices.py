"""What a build read only in part, or passed over without reading, is named in its report.

An unreadable `published` value used to make a document silently undated (every date filter and
the timeline then left it out), and a link to a folder was passed over with no word.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from conftest import write_doc
from coverage_search import CoverageIndex, Notice
from coverage_search.cli import main
from coverage_search.records import Document
from coverage_search.sources import scan
from coverage_search.sources.metadata import metadata_from_mapping


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("next tuesday", "'next tuesday'"),
        ("2026-13-45", "'2026-13-45'"),
        (2026, "'2026'"),
        (10**30, "'1" + "0" * 30 + "'"),
        ([2026, 6, 1], "(a list)"),
        ("\x1b[31mred\x1b[0m", "'[31mred [0m'"),
    ],
    ids=["words", "impossible-day", "year-only", "huge-int", "list", "escape-codes"],
)
def test_an_unreadable_published_value_is_noted_with_what_to_write(
    value: object, shown: str
) -> None:
    meta = metadata_from_mapping({"published": value})
    assert meta.published is None
    (note,) = meta.notes()
    assert note.startswith(f"published {shown} is not a date")
    assert note.endswith("write it as YYYY-MM-DD")


@pytest.mark.parametrize("value", ["2026-06-01", "June 1, 2026", None, "", "   "])
def test_a_readable_or_empty_date_gives_no_note(value: object) -> None:
    assert metadata_from_mapping({"published": value}).notes() == ()


def _corpus(folder: Path) -> Path:
    write_doc(
        folder,
        "undated.md",
        "OpenAI hired a chief financial officer from a large bank, the company said.",
        title="CFO hire",
        published="next tuesday",
    )
    write_doc(
        folder,
        "dated.md",
        "Anthropic raised a new funding round from several investors this spring.",
        title="Funding",
        published="2026-06-01",
    )
    return folder


def test_the_build_names_the_file_and_a_cached_rebuild_still_does(
    tmp_path: Path, embedder: Any, parsed: list[str]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    report = CoverageIndex.build(corpus, index, progress=False)
    assert [n.path for n in report.notices] == ["undated.md"]
    assert isinstance(report.notices[0], Notice)
    assert report.to_dict()["notices"][0]["path"] == "undated.md"
    # Still indexed, undated: the note says so rather than the document going missing.
    opened = CoverageIndex.open(index)
    doc = opened.document("undated.md")
    assert doc is not None and doc.published is None
    assert opened.search("chief financial officer", k=1)[0].doc_id == "undated.md"
    # A forced rebuild reads no file again (the build cache answers) and still names it.
    parsed.clear()
    again = CoverageIndex.build(corpus, index, progress=False, force=True)
    assert parsed == []
    assert again.notices == report.notices
    unchanged = CoverageIndex.build(corpus, index, progress=False)
    assert not unchanged.changed and unchanged.notices == report.notices
    # Fixed in the file: the note is gone.
    write_doc(
        corpus,
        "undated.md",
        "OpenAI hired a chief financial officer from a large bank, the company said.",
        title="CFO hire",
        published="2026-06-02",
    )
    assert CoverageIndex.build(corpus, index, progress=False).notices == ()


def test_the_cli_prints_one_note_line_per_file(tmp_path: Path, embedder: Any) -> None:
    corpus = _corpus(tmp_path / "corpus")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["build", "--corpus", str(corpus), "--index", str(tmp_path / "i"), "--quiet"])
    assert code == 0
    lines = err.getvalue().splitlines()
    assert [line for line in lines if line.startswith("note ")] == [
        "note undated.md: published 'next tuesday' is not a date, so the document is indexed "
        "undated (date filters leave it out; the timeline counts it as undated): write it as "
        "YYYY-MM-DD"
    ]


def test_a_link_to_a_folder_is_reported_not_silently_passed_over(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_doc(corpus, "a.md", "A short note about chips and export rules.")
    outside = tmp_path / "elsewhere"
    write_doc(outside, "inner.md", "Text in a folder the corpus links to.")
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    (corpus / "inside").mkdir()
    (corpus / "inner-link").symlink_to("inside", target_is_directory=True)
    items = list(scan.scan_corpus(corpus))
    docs = [i.doc_id for i in items if isinstance(i, Document)]
    skipped = {i.path: i for i in items if not isinstance(i, Document)}
    assert docs == ["a.md"]
    assert set(skipped) == {"linked", "inner-link"}
    for item in skipped.values():
        assert not item.error
        assert item.reason.startswith("a link to a folder, which is not followed")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "not a url"])
def test_a_url_that_is_not_http_is_dropped_and_noted(url: str) -> None:
    meta = metadata_from_mapping({"url": url})
    assert meta.url is None
    (note,) = meta.notes()
    assert note.startswith(f"url {url!r} is not an http(s) address")
    assert metadata_from_mapping({"url": "https://example.com/a"}).notes() == ()
