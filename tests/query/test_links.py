"""Links to the exact passage: text fragments, PDF pages, corpus files, unsafe URLs refused."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from coverage_search.query.links import MAX_FRAGMENT_CHARS, corpus_link, passage_link, text_fragment

LONG = (
    "Dario Amodei left OpenAI in December 2020 with a group of colleagues and went on "
    "to co-found Anthropic in early 2021."
)


def terms(fragment: str) -> list[str]:
    """The decoded textStart/textEnd of a `#:~:text=` fragment."""
    assert fragment.startswith("#:~:text=")
    return [unquote(t) for t in fragment.removeprefix("#:~:text=").split(",")]


def test_long_passage_links_its_first_and_last_words() -> None:
    fragment = text_fragment(LONG)
    assert fragment == "#:~:text=Dario%20Amodei%20left%20OpenAI,Anthropic%20in%20early%202021."
    assert terms(fragment) == ["Dario Amodei left OpenAI", "Anthropic in early 2021."]


def test_short_passage_is_one_term() -> None:
    assert text_fragment("Anthropic was founded in 2021.") == (
        "#:~:text=Anthropic%20was%20founded%20in%202021."
    )
    assert text_fragment("  ") == ""


def test_terms_never_span_a_line_break() -> None:
    fragment = text_fragment("Key points:\n- Amodei left OpenAI in 2020\n- Anthropic followed soon")
    assert terms(fragment) == ["Key points:", "Anthropic followed soon"]  # no "- ": a page draws it
    assert terms(text_fragment("2. Second step is short")) == ["Second step is short"]


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("Safety, first", "Safety%2C%20first"),
        ("safety-first lab", "safety%2Dfirst%20lab"),
        ("R&D spend", "R%26D%20spend"),
        ("“slow down” it’s", "%E2%80%9Cslow%20down%E2%80%9D%20it%E2%80%99s"),
        ("launch 🚀 day", "launch%20%F0%9F%9A%80%20day"),
        ("50% #1 a=b?", "50%25%20%231%20a%3Db%3F"),
    ],
)
def test_directive_characters_are_percent_encoded(text: str, encoded: str) -> None:
    fragment = text_fragment(text)
    assert fragment == f"#:~:text={encoded}"
    assert terms(fragment) == [text]


def test_giant_words_give_no_fragment() -> None:
    assert text_fragment("x" * MAX_FRAGMENT_CHARS) == ""


def test_web_page_link_keeps_the_query_and_replaces_the_fragment() -> None:
    link = passage_link("https://example.com/story?id=7&lang=en#comments", "a.md", LONG)
    assert link == (
        "https://example.com/story?id=7&lang=en"
        "#:~:text=Dario%20Amodei%20left%20OpenAI,Anthropic%20in%20early%202021."
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(document.cookie)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "//evil.example/path",
        "https://",
        "http://[broken",
        "",
        None,
    ],
)
def test_anything_but_a_web_url_links_to_the_corpus_file(url: str | None) -> None:
    link = passage_link(url, "news/story.md", "Short passage.")
    assert link == "corpus/news/story.md#:~:text=Short%20passage."


def test_characters_that_break_out_of_html_are_encoded() -> None:
    link = passage_link("https://example.com/a\"b<c>?q='x'", "a.md", "")
    assert link == "https://example.com/a%22b%3Cc%3E?q=%27x%27"


def test_corpus_links_encode_the_path_and_take_a_base() -> None:
    assert corpus_link("my folder/a#b?.md") == "corpus/my%20folder/a%23b%3F.md"
    assert corpus_link("back\\slash.md") == "corpus/back%5Cslash.md"  # one file, not a folder
    link = passage_link(None, "x.md", "Hello.", corpus_url_base="http://localhost:8501/files/")
    assert link == "http://localhost:8501/files/x.md#:~:text=Hello."
    assert corpus_link("x.md", corpus_url_base="/home/me/my corpus") == "/home/me/my%20corpus/x.md"


def test_pdf_links_open_the_page() -> None:
    pdf = "https://example.com/report.PDF?dl=1#toc"
    assert passage_link(pdf, "r.pdf", LONG, page=3) == "https://example.com/report.PDF?dl=1#page=3"
    # A web page about the PDF would not show page 3: the corpus copy does.
    assert passage_link("https://example.com/about", "r.pdf", LONG, page=3) == "corpus/r.pdf#page=3"
    assert passage_link(None, "docs/r.pdf", LONG, page=1) == "corpus/docs/r.pdf#page=1"
    assert passage_link("javascript:x", "r.pdf", LONG, page=2) == "corpus/r.pdf#page=2"


def test_corpus_files_link_by_the_absolute_folder_the_build_recorded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """ "corpus/report.pdf#page=2" worked only from the folder the build ran in."""
    from coverage_search import CoverageIndex
    from coverage_search.query.links import corpus_base

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my corpus").mkdir()
    (tmp_path / "my corpus" / "notes.txt").write_text("Zebra quantum marmalade notes. " * 5)
    CoverageIndex.build(Path("my corpus"), Path("index"), progress=False)
    monkeypatch.chdir("/")
    index = CoverageIndex.open(tmp_path / "index")
    try:
        (hit,) = index.search("zebra marmalade", k=1)
    finally:
        index.close()
    assert hit.link.startswith((tmp_path / "my corpus").as_uri() + "/notes.txt#:~:text=")
    assert corpus_base(None, "corpus") == "corpus" and corpus_base("rel/dir", None) == "corpus"


def test_a_project_moved_whole_links_to_the_corpus_beside_its_index(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """The recorded folder is gone after a move; the corpus of that name beside the index is
    where the files are now. While the recorded folder exists, it is the one linked."""
    import shutil

    from coverage_search import CoverageIndex

    old = tmp_path / "old"
    (old / "corpus").mkdir(parents=True)
    (old / "corpus" / "notes.txt").write_text("Zebra quantum marmalade notes. " * 5)
    CoverageIndex.build(old / "corpus", old / "index", progress=False)
    shutil.move(old, tmp_path / "new")
    index = CoverageIndex.open(tmp_path / "new" / "index")
    try:
        (hit,) = index.search("zebra marmalade", k=1)
    finally:
        index.close()
    assert hit.link.startswith((tmp_path / "new" / "corpus").as_uri() + "/notes.txt#")
    from coverage_search.query.links import corpus_base

    recorded = str(tmp_path / "new" / "corpus")
    (tmp_path / "elsewhere" / "corpus").mkdir(parents=True)
    beside = tmp_path / "elsewhere" / "index"
    assert corpus_base(recorded, None, beside) == Path(recorded).as_uri()
