"""Corpus readers: every format, its metadata, and every way a file can be unreadable."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from conftest import REPO
from coverage_search.errors import CorpusError, SourceError
from coverage_search.records import Document, RelatedLink, Skipped
from coverage_search.sources import scan as sources
from coverage_search.sources.metadata import normalize_date, normalize_language, outlet_from_url
from coverage_search.sources.scan import read_document, scan_corpus
from pdfutil import write_minimal_pdf

CORPUS = REPO / "corpus"
ARTICLE = "windowsforum-amodei-openai-exit.md"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def read(folder: Path, name: str, content: str | bytes) -> Document:
    return read_document(write(folder, name, content), folder)


def reason(folder: Path, name: str, content: str | bytes) -> str:
    with pytest.raises(SourceError) as caught:
        read(folder, name, content)
    assert caught.value.path == name
    return caught.value.reason


def assert_clean(doc: Document) -> None:
    """The shape every reader promises: NFC, no trailing spaces, at most one blank line."""
    assert doc.text == doc.text.strip()
    assert "\n\n\n" not in doc.text
    assert all(line == line.rstrip() for line in doc.text.split("\n"))
    assert unicodedata.is_normalized("NFC", doc.text)
    for offset, _level, heading in doc.headings:
        assert doc.text[offset : offset + len(heading)] == heading
        assert offset == 0 or doc.text[offset - 1] == "\n"


# --- the real corpus article ------------------------------------------------------------------


@pytest.fixture(scope="module")
def article() -> Document:
    return read_document(CORPUS / ARTICLE, CORPUS)


def test_article_metadata(article: Document) -> None:
    assert article.doc_id == article.path == ARTICLE
    assert article.format == "markdown"
    assert article.title == (
        "Dario Amodei’s OpenAI Exit: Why Anthropic’s Safety-First Rivalry Matters"
    )
    assert article.url == "https://windowsforum.com/threads/427154/"
    assert (article.outlet, article.published, article.language) == (
        "WindowsForum",
        "2026-06-16",
        "en",
    )
    assert article.author is None
    assert article.page_starts == ()
    assert article.content_hash == hashlib.sha256((CORPUS / ARTICLE).read_bytes()).hexdigest()


def test_article_related_links(article: Document) -> None:
    assert len(article.related) == 10
    assert article.related[0] == RelatedLink(
        url="https://cryptobriefing.com/",
        outlet="Crypto Briefing",
        role="primary source",
        published="2026-06-16",
    )
    assert [r.outlet for r in article.related][1:] == [
        "Axios", "OpenAI", "TechCrunch", "CoinDesk", "Fortune", "Bloomberg",
        "Bloomberg Línea", "El País", "The Week",
    ]  # fmt: skip
    assert {r.role for r in article.related[1:]} == {"related coverage", "official source"}


def test_article_text_is_what_the_page_shows(article: Document) -> None:
    text = article.text
    for markup in ("**", "](", "# ", "\n- ", "*Image", "---", "related:"):
        assert markup not in text, markup
    assert text.startswith(
        f"{article.title}\n\nDario Amodei, OpenAI’s former vice president of research"
    )
    assert "\n\nImage: Futuristic high-speed train platform at dusk" in text
    # The closing bullet list: one item per line, no markers.
    assert (
        "Dario Amodei left OpenAI in December 2020 after nearly five years and co-founded "
        "Anthropic in early 2021 with other former OpenAI employees.\nThe central dispute was "
        "not whether advanced AI would scale"
    ) in text
    assert text.endswith("without letting the race define the rules.")
    assert_clean(article)


def test_article_headings(article: Document) -> None:
    assert len(article.headings) == 13
    assert article.headings[0] == (0, 1, article.title)
    assert [level for _, level, _ in article.headings[1:]] == [2] * 12
    assert article.headings[1][2] == "The OpenAI Breakup Became the Industry’s Founding Myth"
    assert article.headings[-1][2] == "The Claude-Origin Story Has Practical Consequences Now"
    assert [h[0] for h in article.headings] == sorted(h[0] for h in article.headings)


def test_reading_is_deterministic(article: Document) -> None:
    assert read_document(CORPUS / ARTICLE, CORPUS) == article


# --- Markdown ------------------------------------------------------------------------------------


def test_markdown_becomes_plain_text_with_headings(tmp_path: Path) -> None:
    source = """\
Big News
========

Para with *em*, __strong__ and [a link](https://x.example/a "t") and ![the alt](i.png).
A wrapped line, then a hard break\\
here &amp; <span>inline html</span>.

## Second *section*

- one
- two
  - nested
1. first

   more of first

| Model | Maker |
|-------|-------|
| Claude | Anthropic |

```python
def f():    # spaces kept
    return 1
```

> quoted words

---

<div>Raw <b>HTML</b> block</div>
"""
    doc = read(tmp_path, "news_item-2.md", source)
    assert doc.text == (
        "Big News\n\n"
        "Para with em, strong and a link and the alt. A wrapped line, then a hard break\n"
        "here & inline html.\n\n"
        "Second section\n\n"
        "one\ntwo\nnested\n\n"
        "first\nmore of first\n\n"
        "Model\tMaker\nClaude\tAnthropic\n\n"
        "def f():    # spaces kept\n    return 1\n\n"
        "quoted words\n\n"
        "Raw HTML block"
    )
    assert doc.headings == ((0, 1, "Big News"), (doc.text.index("Second"), 2, "Second section"))
    assert doc.title == "Big News"  # first level-1 heading
    assert_clean(doc)


@pytest.mark.parametrize(
    "nested",
    [
        "".join("  " * i + f"- level {i}\n" for i in range(12)),  # CommonMark's preset: ~10
        "> " * 21 + "deep quote\n",
        "".join("  " * i + f"- x{i}\n" for i in range(60)),  # past maxNesting 100: read flat
        "> " * 150 + "deeper quote\n",
    ],
    ids=["list 12 deep", "quote 21 deep", "list 60 deep", "quote 150 deep"],
)
def test_deeply_nested_markdown_keeps_every_word(tmp_path: Path, nested: str) -> None:
    """markdown-it stops at its nesting limit and drops the rest of the file: never silently."""
    body = f"# N\n\nIntro.\n\n{nested}\nOutro about flamingo budgets.\n\n## Later\n\nMore text.\n"
    (tmp_path / "n.md").write_text(body, encoding="utf-8")
    text = read_document(tmp_path / "n.md", tmp_path).text
    assert "flamingo budgets" in text and text.endswith("More text.")
    assert nested.split()[-1] in text  # the deepest item too


def test_a_pdf_whose_text_takes_too_long_is_skipped_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage_search.sources import pdf

    # A clock that moves a second each look: a budget of 1.5 s lets one page through of four,
    # where a crafted file (every page one huge content stream) would run for hours.
    ticks = iter(range(1000))
    monkeypatch.setattr(pdf, "_clock", lambda: float(next(ticks)))
    monkeypatch.setattr(pdf, "PDF_SECONDS", 1.5)
    monkeypatch.setattr(pdf, "PDF_PAGE_SECONDS", 0.0)
    path = write_minimal_pdf(tmp_path / "slow.pdf", ["One.", "Two.", "Three.", "Four."])
    with pytest.raises(SourceError, match=r"took over 2 s of CPU \(1 of 4 pages\)"):
        read_document(path, tmp_path)


def test_a_table_past_the_pipe_cap_reads_as_the_table_rule_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """markdown-it makes three tokens a cell (millions took minutes and gigabytes): past
    MAX_TABLE_PIPES the table rule is off, and each row is still one line of cells."""
    from coverage_search.sources import markdown

    rows = "| Name | Value |\n|---|:--:|\n| Company 0 | 0 |\n| Company 1 | 1 |\n"
    body = f"Intro.\n\n{rows}\nAfter.\n"
    (tmp_path / "t.md").write_text(body, encoding="utf-8")
    with_rule = read_document(tmp_path / "t.md", tmp_path).text
    monkeypatch.setattr(markdown, "MAX_TABLE_PIPES", 5)
    assert read_document(tmp_path / "t.md", tmp_path).text == with_rule
    assert "Company 0\t0\nCompany 1\t1" in with_rule


def test_a_list_nine_deep_keeps_one_item_a_line(tmp_path: Path) -> None:
    body = "".join("  " * i + f"- item {i}\n" for i in range(9))
    (tmp_path / "n.md").write_text(body, encoding="utf-8")
    text = read_document(tmp_path / "n.md", tmp_path).text
    assert text == "\n".join(f"item {i}" for i in range(9))


def test_markdown_title_falls_back_to_the_file_name(tmp_path: Path) -> None:
    doc = read(tmp_path, "sub/openai-cfo_hire.v2.md", "## Only a subheading\n\nBody text.")
    assert doc.title == "Openai cfo hire v2"
    assert doc.doc_id == doc.path == "sub/openai-cfo_hire.v2.md"
    assert doc.url is None and doc.outlet is None and doc.published is None


def test_front_matter_fields_and_defaults(tmp_path: Path) -> None:
    doc = read(
        tmp_path,
        "a.markdown",
        "---\n"
        "title: From front matter\n"
        "url: https://www.theverge.com/2026/1/2/story\n"
        "published: 2026-01-02T09:30:00-05:00\n"
        "author: [Jane Doe, Sam Roe]\n"
        "language: en-US\n"
        "related:\n"
        "  - https://www.axios.com/story\n"
        "  - {role: follow-up, url: 'https://fortune.com/x', title: Later,\n"
        "     published: 'June 3, 2026'}\n"
        "  - {role: no url here}\n"
        "---\n"
        "# Heading differs from the title\n\nBody.\n",
    )
    assert doc.title == "From front matter"
    assert doc.outlet == "theverge.com"  # from the URL, without www.
    assert doc.published == "2026-01-02"
    assert doc.author == "Jane Doe, Sam Roe"
    assert doc.language == "en"
    assert doc.related == (
        RelatedLink(url="https://www.axios.com/story", outlet="axios.com"),
        RelatedLink(
            url="https://fortune.com/x",
            outlet="fortune.com",
            role="follow-up",
            title="Later",
            published="2026-06-03",
        ),
    )
    assert doc.text == "Heading differs from the title\n\nBody."


def test_unreadable_date_is_dropped_not_fatal(tmp_path: Path) -> None:
    doc = read(tmp_path, "a.md", "---\npublished: sometime last spring\noutlet: X\n---\nBody.")
    assert doc.published is None and doc.outlet == "X" and doc.text == "Body."


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("title: [unclosed\n", "front matter is not valid YAML (line 2): fix it or remove it"),
        (
            "title: ok\nurl: x\n  bad: indent\n",
            "front matter is not valid YAML (line 4): fix it or remove it",
        ),
        (
            "- just\n- a list\n",
            "front matter is not a list of `key: value` lines: fix it or remove it",
        ),
    ],
)
def test_broken_front_matter(tmp_path: Path, front: str, expected: str) -> None:
    assert reason(tmp_path, "bad.md", f"---\n{front}---\nBody.\n") == expected


@pytest.mark.parametrize("end", ["\r\n", "\r"])
def test_front_matter_with_windows_line_ends_is_read(tmp_path: Path, end: str) -> None:
    text = end.join(["---", "title: CRLF title", "outlet: Some Outlet", "---", "Body text.", ""])
    (tmp_path / "a.md").write_bytes(text.encode("utf-8"))
    doc = read_document(tmp_path / "a.md", tmp_path)
    assert (doc.title, doc.outlet) == ("CRLF title", "Some Outlet")
    assert "title:" not in doc.text and doc.text.strip() == "Body text."


def test_metadata_never_holds_terminal_escapes_or_bidi_overrides(tmp_path: Path) -> None:
    front = (
        '---\ntitle: "\\e[31mRED\\e[0m \\x07 title"\noutlet: "\\e[2JOutlet"\n'
        'author: "\\e]0;pwned\\a \u202eAuthor"\n---\nBody.\n'
    )
    (tmp_path / "a.md").write_text(front, encoding="utf-8")
    (tmp_path / "\x1b[31mesc-name.md").write_text("Body.\n", encoding="utf-8")
    doc = read_document(tmp_path / "a.md", tmp_path)
    named = read_document(tmp_path / "\x1b[31mesc-name.md", tmp_path)
    for value in (doc.title, doc.outlet, doc.author, named.title):
        assert value and not any(c < " " or "\x7f" <= c <= "\x9f" or c == "\u202e" for c in value)
    assert doc.title == "[31mRED [0m title"


def test_unclosed_front_matter(tmp_path: Path) -> None:
    assert "no closing --- line" in reason(tmp_path, "bad.md", "---\ntitle: x\n\nBody.\n")


@pytest.mark.parametrize(
    "front",
    [
        "x: " + "[" * 1500,
        # libyaml recurses in C and crashed the process on these: they must not reach it.
        "x: " + "[" * 30_000 + "]" * 30_000,
        "x:\n" + "- " * 30_000 + "y",
        "x:\n" + "? " * 30_000 + "y",
    ],
    ids=["unclosed", "closed-brackets", "block-sequences", "complex-keys"],
)
def test_pathological_front_matter(tmp_path: Path, front: str) -> None:
    nested = f"---\n{front}\n---\nBody.\n"
    assert reason(tmp_path, "deep.md", nested) == (
        "front matter is nested too deeply: fix it or remove it"
    )


def test_front_matter_reads_alike_through_both_yaml_parsers() -> None:
    import yaml

    from coverage_search.sources import reading

    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML has no libyaml: one parser only")
    assert issubclass(reading._metadata_loader(True), yaml.CSafeLoader)
    front = (
        "title: 'OpenAI: a \\u00e9 story'\npublished: 2026-03-01\ntags: [ai, 'x, y']\n"
        "count: 12\nok: yes\nrelated:\n  - url: https://example.com/a\n    title: A - B\n"
        "note: |\n  two\n  lines\n"
    )
    assert reading._shallow(front)
    fast = reading.yaml_mapping(front, "front matter", first_line=2)
    slow_loader = reading._metadata_loader(False)
    slow = {str(k).lower(): v for k, v in yaml.load(front, Loader=slow_loader).items()}
    assert fast == slow
    assert fast["published"] == "2026-03-01" and fast["tags"] == ["ai", "x, y"]


@pytest.mark.parametrize(
    "front",
    [
        # Deep (PyYAML's parser) with a "&": a scan of its events took minutes; must not run.
        "x: " + "[" * 65_000 + "\n# &",
        "x: " + "[" * 20_000 + "]" * 20_000 + "\ny: a & b",
    ],
    ids=["unclosed", "closed"],
)
def test_deep_front_matter_with_an_ampersand_is_refused_as_deep(tmp_path: Path, front: str) -> None:
    assert reason(tmp_path, "deep.md", f"---\n{front}\n---\nBody.\n") == (
        "front matter is nested too deeply: fix it or remove it"
    )


def test_what_libyaml_refuses_is_read_as_pyyaml_reads_it(tmp_path: Path) -> None:
    # An emoji escaped as UTF-16 halves: libyaml refuses it, PyYAML reads it; the halves are
    # joined, and a half alone becomes U+FFFD, since neither the tokenizer nor SQLite take it.
    doc = read(tmp_path, "e.md", '---\ntitle: "\\ud83d\\ude00 news \\ud800"\n---\nBody.\n')
    assert doc.title == "\U0001f600 news \ufffd"
    mid_bom = read(tmp_path, "b.md", "---\ntitle: a\n\ufeffauthor: b\n---\nBody.\n")
    assert mid_bom.title == "a"


def test_integers_too_long_to_print_do_not_stop_a_build(tmp_path: Path) -> None:
    """Numbers stay text, so one of 5,000 digits is a (shortened) value or key like any other."""
    huge = "0x" + "f" * 5000
    doc = read(tmp_path, "a.md", f"---\ntitle: Kept\nauthor: {huge}\n---\nBody.\n")
    assert doc.title == "Kept" and doc.author is not None and doc.author.startswith("0xfff")
    keyed = read(tmp_path, "k.md", f"---\n? {huge}\n: v\ntitle: Also kept\n---\nBody.\n")
    assert keyed.title == "Also kept"


def test_impossible_date_is_dropped_and_the_document_kept(tmp_path: Path) -> None:
    doc = read(tmp_path, "a.md", "---\ntitle: Kept\npublished: 2026-02-30\n---\nBody.")
    assert (doc.title, doc.published, doc.text) == ("Kept", None, "Body.")
    tagged = read(tmp_path, "b.md", "---\npublished: !!timestamp 2026-02-30\n---\nBody.")
    assert tagged.published is None
    timed = read(tmp_path, "c.md", "---\npublished: 2026-03-01 10:00:00+02:00\n---\nBody.")
    assert timed.published == "2026-03-01"


@pytest.mark.parametrize("deep", [False, True])  # libyaml, and PyYAML's parser for deep text
def test_front_matter_values_stay_as_written(tmp_path: Path, deep: bool) -> None:
    """YAML 1.1 reads `no` as False (the Norway problem), `yes` as True, `012` as 10."""
    nest = "x: " + "[" * 300 + "]" * 300 + "\n" if deep else ""
    front = "title: yes\nlanguage: no\noutlet: 012\nauthor: 1e3\npublished: 20260102\n"
    doc = read(tmp_path, "a.md", f"---\n{nest}{front}---\nBody.")
    assert (doc.title, doc.language, doc.outlet, doc.author, doc.published) == (
        "yes",
        "no",
        "012",
        "1e3",
        "2026-01-02",
    )


def test_yaml_aliases_are_refused_not_expanded(tmp_path: Path) -> None:
    rows = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    rows += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = "---\n" + "\n".join(rows) + "\ntitle: *a8\n---\nBody text.\n"
    assert reason(tmp_path, "bomb.md", bomb) == (
        "front matter uses YAML aliases, which are not allowed: write the values out"
    )
    anchor_only = "---\ntitle: &t Hello\n---\nBody.\n"
    assert "YAML aliases" in reason(tmp_path, "anchor.md", anchor_only)


def test_front_matter_size_is_capped(tmp_path: Path) -> None:
    big = "---\ntitle: x\nnote: " + "y" * (70 * 1024) + "\n---\nBody.\n"
    assert reason(tmp_path, "big.md", big) == (
        "front matter is over 64 KiB: shorten it (it holds metadata, not the article)"
    )


def test_metadata_values_are_bounded(tmp_path: Path) -> None:
    nested = "[" * 50 + "deep" + "]" * 50
    doc = read(tmp_path, "a.md", f"---\ntitle: {'t' * 5000}\nauthor: {nested}\n---\nBody.")
    assert len(doc.title) <= 500 and doc.title.startswith("ttt")
    assert doc.author is None  # a list of lists is not a list of names
    names = read(tmp_path, "b.md", "---\nauthor: [Ann, Bo]\n---\nBody.")
    assert names.author == "Ann, Bo"


# --- plain text and encodings -------------------------------------------------------------------


def test_plain_text_as_is(tmp_path: Path) -> None:
    doc = read(
        tmp_path,
        "note.txt",
        "OpenAI hires a CFO  \r\n\r\n\r\n\r\n  Indented line\r\n* not a list\r\n",
    )
    assert doc.text == "OpenAI hires a CFO\n\n  Indented line\n* not a list"
    assert (doc.format, doc.title, doc.headings) == ("text", "OpenAI hires a CFO", ())


def test_plain_text_with_a_long_first_line_takes_its_title_from_the_name(tmp_path: Path) -> None:
    doc = read(tmp_path, "long_story.txt", "word " * 60)
    assert doc.title == "Long story"


def test_plain_text_front_matter(tmp_path: Path) -> None:
    doc = read(tmp_path, "t.txt", "---\ntitle: T\noutlet: Reuters\n---\n*kept as is*\n")
    assert (doc.title, doc.outlet, doc.text) == ("T", "Reuters", "*kept as is*")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("\ufeffCafé with a BOM".encode(), "Café with a BOM"),
        ("Café in UTF-16 LE".encode("utf-16"), "Café in UTF-16 LE"),
        (b"\xfe\xff" + "Café in UTF-16 BE".encode("utf-16-be"), "Café in UTF-16 BE"),
        (
            "Le président a déclaré: « Nous sommes prêts » – coût 5 € (naïve “quote”).".encode(
                "cp1252"
            ),
            "Le président a déclaré: « Nous sommes prêts » – coût 5 € (naïve “quote”).",
        ),
        (
            "Über die Größe der Straße in München.".encode("latin-1"),
            "Über die Größe der Straße in München.",
        ),
        # Decomposed accents are composed (NFC), so the text matches what users type.
        ("Cafe\u0301".encode(), "Café"),
    ],
)
def test_text_encodings(tmp_path: Path, raw: bytes, text: str) -> None:
    assert read(tmp_path, "enc.txt", raw).text == text


def test_binary_named_txt(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    assert reason(tmp_path, "image.txt", png) == "binary data, not text"


def test_undecodable_bytes(tmp_path: Path) -> None:
    junk = bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x01, 0x02, 0x03]) * 10
    assert reason(tmp_path, "junk.md", junk) == (
        "not UTF-8 text and the encoding could not be detected: re-save it as UTF-8"
    )


@pytest.mark.parametrize("content", ["", "   \n\n\t\n", "---\ntitle: Only metadata\n---\n"])
def test_no_text(tmp_path: Path, content: str) -> None:
    assert reason(tmp_path, "empty.md", content).startswith("no text")


# --- HTML ----------------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en-US"><head><meta charset="utf-8">
<title>OpenAI names a new CFO | The Verge</title>
<meta property="og:site_name" content="The Verge">
<meta property="og:title" content="OpenAI names a new CFO">
<link rel="canonical" href="https://www.theverge.com/2026/1/2/openai-cfo">
<meta property="article:published_time" content="2026-01-02T10:00:00Z">
<meta name="author" content="Jane Doe">
</head><body>
<nav><a href="/">Home</a> <a href="/tech">Tech</a> <a href="/ai">AI</a></nav>
<article>
<h1>OpenAI names a new CFO</h1>
<p>OpenAI said on <b>Friday</b> that it hired a new chief financial officer, a move that comes
as the company prepares for a <a href="/f">larger fundraising</a> round.</p>
<h2>Why it matters</h2>
<p>The hire signals that the company is preparing for an eventual public offering, analysts
said on Friday, citing people familiar with the plans.</p>
<ul><li>First point.</li><li>Second point.</li></ul>
</article>
<footer>Copyright 2026 Vox Media. All rights reserved.</footer>
</body></html>
"""


def test_html_page(tmp_path: Path) -> None:
    doc = read(tmp_path, "verge.html", PAGE)
    assert (doc.format, doc.title, doc.outlet, doc.published, doc.author, doc.language) == (
        "html", "OpenAI names a new CFO", "The Verge", "2026-01-02", "Jane Doe", "en",
    )  # fmt: skip
    assert doc.url == "https://www.theverge.com/2026/1/2/openai-cfo"
    assert doc.text == (
        "OpenAI names a new CFO\n\n"
        "OpenAI said on Friday that it hired a new chief financial officer, a move that comes "
        "as the company prepares for a larger fundraising round.\n\n"
        "Why it matters\n\n"
        "The hire signals that the company is preparing for an eventual public offering, "
        "analysts said on Friday, citing people familiar with the plans.\n\n"
        "First point.\nSecond point."
    )
    assert [(level, h) for _, level, h in doc.headings] == [
        (1, "OpenAI names a new CFO"),
        (2, "Why it matters"),
    ]
    assert "Home" not in doc.text and "Copyright" not in doc.text
    assert_clean(doc)


def test_small_html_page_without_metadata(tmp_path: Path) -> None:
    doc = read(
        tmp_path, "bare-page.htm", "<html><body><div>Only one line of text.</div></body></html>"
    )
    assert (doc.text, doc.title, doc.url, doc.outlet) == (
        "Only one line of text.", "Bare page", None, None,
    )  # fmt: skip


def test_html_without_text(tmp_path: Path) -> None:
    empty = (
        "<html><head><title>Nothing</title><script>var x = 1;</script></head><body></body></html>"
    )
    assert reason(tmp_path, "empty.html", empty) == "no readable text in the HTML page"
    assert (
        reason(tmp_path, "x.html", b"\x89PNG\r\n\x1a\n\x00\x00") == "binary data, not an HTML page"
    )


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_pages_and_info(tmp_path: Path) -> None:
    path = write_minimal_pdf(
        tmp_path / "report.pdf",
        ["Anthropic annual report\nRevenue grew (a lot) in 2026.", "Second page: the outlook."],
        info={
            "Title": "Anthropic report",
            "Author": "A. Writer",
            "CreationDate": "D:20260301120000Z",
        },
    )
    doc = read_document(path, tmp_path)
    assert doc.text == (
        "Anthropic annual report\nRevenue grew (a lot) in 2026.\n\nSecond page: the outlook."
    )
    assert doc.page_starts == (0, doc.text.index("Second page"))
    assert doc.page_at(0) == 1 and doc.page_at(doc.text.index("outlook")) == 2
    assert (doc.format, doc.title, doc.author, doc.published) == (
        "pdf", "Anthropic report", "A. Writer", "2026-03-01",
    )  # fmt: skip
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_pdf_empty_page_starts_where_the_next_begins(tmp_path: Path) -> None:
    doc = read_document(write_minimal_pdf(tmp_path / "p.pdf", ["", "One", "", "Two"]), tmp_path)
    assert doc.text == "One\n\nTwo"
    assert doc.page_starts == (0, 0, 5, 5)
    assert doc.page_at(0) == 2 and doc.page_at(5) == 4
    assert doc.title == "P"  # no title in the PDF info: the file name


def test_pdf_sidecar_wins_and_counts_in_the_hash(tmp_path: Path) -> None:
    path = write_minimal_pdf(tmp_path / "brief.pdf", ["Text."], info={"Title": "Info title"})
    sidecar = write(
        tmp_path,
        "brief.pdf.yml",
        "title: Sidecar title\nurl: https://www.ft.com/content/1\npublished: 2026-02-03\n",
    )
    doc = read_document(path, tmp_path)
    assert (doc.title, doc.url, doc.outlet, doc.published) == (
        "Sidecar title", "https://www.ft.com/content/1", "ft.com", "2026-02-03",
    )  # fmt: skip
    sidecar.write_text("title: Edited\n", encoding="utf-8")
    edited = read_document(path, tmp_path)
    assert edited.title == "Edited" and edited.content_hash != doc.content_hash
    assert [type(i).__name__ for i in scan_corpus(tmp_path)] == ["Document"]  # sidecar not listed


def test_pdf_broken_sidecar(tmp_path: Path) -> None:
    write_minimal_pdf(tmp_path / "b.pdf", ["Text."])
    write(tmp_path, "b.pdf.yaml", "title: [oops\n")
    with pytest.raises(SourceError, match=r"sidecar b\.pdf\.yaml is not valid YAML \(line 1\)"):
        read_document(tmp_path / "b.pdf", tmp_path)


def test_corrupt_and_truncated_pdfs(tmp_path: Path) -> None:
    assert reason(tmp_path, "junk.pdf", b"%PDF-1.4\nthis is not a pdf at all").startswith(
        "not a readable PDF ("
    )
    good = write_minimal_pdf(tmp_path / "good.pdf", ["Some text here."]).read_bytes()
    truncated = reason(tmp_path, "cut.pdf", good[: len(good) // 3])
    assert truncated.startswith(("not a readable PDF", "PDF has no text layer"))


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert reason(tmp_path, "locked.pdf", buffer.getvalue()).startswith("PDF is encrypted")


def test_scanned_pdf_without_text(tmp_path: Path) -> None:
    write_minimal_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(SourceError) as caught:
        read_document(tmp_path / "scan.pdf", tmp_path)
    assert caught.value.reason == "PDF has no text layer (scanned image?): OCR it first"


# --- scanning a corpus folder -------------------------------------------------------------------


def test_scan_corpus_reads_sorted_and_reports_everything(tmp_path: Path) -> None:
    write(tmp_path, "b.md", "Beta.")
    write(tmp_path, "a/z.txt", "Zeta.")
    write(tmp_path, "a/report.docx", b"PK\x03\x04")
    write(tmp_path, "c.txt", b"\x00\x01binary")
    write(tmp_path, "README", "no suffix")
    write(tmp_path, ".hidden.md", "Hidden.")
    write(tmp_path, ".git/config.md", "Hidden folder.")
    write(tmp_path, "orphan.pdf.yml", "title: x")
    seen: list[Document | Skipped] = []
    items = list(scan_corpus(tmp_path, on_item=seen.append))
    assert seen == items
    assert [(i.path, type(i).__name__) for i in items] == [
        ("README", "Skipped"),
        ("a/report.docx", "Skipped"),
        ("a/z.txt", "Document"),
        ("b.md", "Document"),
        ("c.txt", "Skipped"),
        ("orphan.pdf.yml", "Skipped"),
    ]
    skipped = {i.path: i for i in items if isinstance(i, Skipped)}
    assert skipped["a/report.docx"] == Skipped(
        "a/report.docx",
        "not a supported format (.docx); supported: .md, .markdown, .txt, .html, .htm, .pdf",
        error=False,
    )
    assert skipped["README"].reason.startswith("not a supported format (no extension)")
    assert skipped["c.txt"] == Skipped("c.txt", "binary data, not text", error=True)
    assert skipped["orphan.pdf.yml"].error is False


def test_scan_uses_supported_suffixes_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path, "UPPER.MD", "# Shouting\n\nText.")
    [doc] = list(scan_corpus(tmp_path))
    assert isinstance(doc, Document) and doc.format == "markdown" and doc.title == "Shouting"


def test_file_over_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_TEXT_BYTES", 1024)
    monkeypatch.setattr(sources, "MAX_PDF_BYTES", 4096)
    write(tmp_path, "big.txt", "x" * 2048)
    write(tmp_path, "big.html", "<p>" + "x" * 2048 + "</p>")
    write_minimal_pdf(tmp_path / "ok.pdf", ["A page about OpenAI. " * 60])
    big_html, big, ok = list(scan_corpus(tmp_path))
    assert big == Skipped(
        "big.txt",
        "too large for one article (2.0 KiB; the limit is 1.0 KiB): split it",
        error=True,
    )
    assert isinstance(big_html, Skipped) and "the limit is 1.0 KiB" in big_html.reason
    assert isinstance(ok, Document)  # PDFs carry layout, so their byte limit is higher


def test_text_over_the_character_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_TEXT_CHARS", 1000)
    write_minimal_pdf(tmp_path / "long.pdf", ["A page about OpenAI. " * 60])
    [item] = list(scan_corpus(tmp_path))
    assert item == Skipped(
        "long.pdf",
        "too large for one article (1,259 characters of text; the limit is 1,000): split it",
        error=True,
    )


def test_default_caps_fit_news_articles() -> None:
    assert sources.MAX_TEXT_BYTES == 10 * 1024 * 1024
    assert sources.MAX_PDF_BYTES == 50 * 1024 * 1024
    assert sources.MAX_TEXT_CHARS == 10_000_000


def test_missing_corpus_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError) as caught:
        scan_corpus(missing)  # raised at the call, before iteration
    assert str(caught.value) == (
        f"No corpus folder at {missing}. Create it and put .md, .txt, .html or .pdf files in it."
    )
    with pytest.raises(CorpusError, match="is a file, not a folder"):
        scan_corpus(write(tmp_path, "file.md", "x"))


def test_read_document_accepts_relative_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "corpus/x/y.md", "Text.")
    monkeypatch.chdir(tmp_path)
    doc = read_document(Path("corpus/x/y.md"), tmp_path / "corpus")
    assert doc.doc_id == "x/y.md"


def test_importing_sources_stays_light() -> None:
    code = (
        "import sys, coverage_search.sources.scan; "
        "heavy = {'pypdf', 'trafilatura', 'yaml', 'markdown_it', 'charset_normalizer', 'torch'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert out.stdout.strip() == "[]"


# --- metadata helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-06-16", "2026-06-16"),
        ("2026-06-16T19:50:10", "2026-06-16"),
        ("2026-06-16T23:50:10-07:00", "2026-06-16"),  # the date as the outlet printed it
        ("2026-06-16T19:50:10Z", "2026-06-16"),
        ("June 16, 2026", "2026-06-16"),
        ("16 Jun 2026", "2026-06-16"),
        ("2026/06/16", "2026-06-16"),
        ("Tue, 16 Jun 2026 19:50:10 +0000", "2026-06-16"),
        ("D:20260616195010+00'00'", "2026-06-16"),
        ("2026-13-45", None),
        ("last spring", None),
        ("", None),
        (2026, None),
        (None, None),
    ],
)
def test_normalize_date(value: object, expected: str | None) -> None:
    assert normalize_date(value) == expected


def test_language_and_outlet_helpers() -> None:
    assert [normalize_language(v) for v in ("en", "EN-us", "pt_BR", "", None)] == [
        "en", "en", "pt", None, None,
    ]  # fmt: skip
    assert outlet_from_url("https://www.axios.com/2026/x") == "axios.com"
    assert outlet_from_url("https://news.bbc.co.uk/") == "news.bbc.co.uk"
    assert outlet_from_url("not a url") is None


def test_links_out_of_the_corpus_are_skipped_and_loops_do_not_hang(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "private"
    corpus.mkdir()
    outside.mkdir()
    write(outside, "secret.txt", "root:x:0:0\n")
    write(corpus, "real.md", "# Real\n\nInside.")
    (corpus / "alias.md").symlink_to("real.md")
    (corpus / "passwd.txt").symlink_to(outside / "secret.txt")
    (corpus / "loop").symlink_to(".", target_is_directory=True)
    (corpus / "self.md").symlink_to("self.md")
    (corpus / "away").symlink_to(outside, target_is_directory=True)
    os.mkfifo(corpus / "pipe.md")
    items = {(i.doc_id if isinstance(i, Document) else i.path): i for i in scan_corpus(corpus)}
    assert sorted(items) == [
        "alias.md",
        "away",
        "loop",
        "passwd.txt",
        "pipe.md",
        "real.md",
        "self.md",
    ]
    assert isinstance(items["alias.md"], Document) and items["alias.md"].title == "Real"
    for folder in ("away", "loop"):  # named, never entered
        assert items[folder] == Skipped(folder, sources._FOLDER_LINK, error=False)
    outside_link = Skipped("passwd.txt", "a link to a file outside the corpus", error=False)
    assert items["passwd.txt"] == outside_link
    assert items["self.md"] == Skipped("self.md", "a link that loops back on itself", error=True)
    assert items["pipe.md"] == Skipped(
        "pipe.md", "not a regular file (a pipe or a device?): leave it out", error=True
    )


def test_a_skipped_file_with_a_line_break_in_its_name_is_reported_on_one_line(
    tmp_path: Path,
) -> None:
    write(tmp_path, "new\nline.docx", "x")
    write(tmp_path, "new\nline.md", "# Fine\n\nIndexed as usual.")
    skipped, doc = list(scan_corpus(tmp_path))
    assert isinstance(skipped, Skipped) and skipped.path == repr("new\nline.docx")
    assert isinstance(doc, Document) and doc.doc_id == "new\nline.md"


def test_a_tag_of_too_many_attributes_loses_them_and_keeps_its_text() -> None:
    """libxml2 checks each attribute against the others: 60,000 of them took minutes."""
    from coverage_search.sources.html import MAX_ATTRIBUTES, read_html, tame_markup

    many = " ".join(f'a{i}="x"' for i in range(MAX_ATTRIBUTES + 1))
    raw = f"<html><body><p {many}>Chip export rules tightened again this week.</p></body></html>"
    assert tame_markup(raw.encode()) == (
        b"<html><body><p>Chip export rules tightened again this week.</p></body></html>"
    )
    few = raw.replace(many, 'class="lede" id="x"').encode()
    assert tame_markup(few) == few  # ordinary tags are untouched
    assert read_html(raw.encode()).rendered.text == "Chip export rules tightened again this week."


def test_a_page_of_more_tags_than_an_article_is_read_flat_with_every_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """trafilatura took 147 s on 120,000 paragraphs; past MAX_TAGS (scripts and styles aside)
    every visible line is read by pattern. (The limit is lowered here to keep the test fast.)"""
    from coverage_search.sources import html

    monkeypatch.setattr(html, "MAX_TAGS", 400)
    limit, read_html = html.MAX_TAGS, html.read_html

    line = "<p>Paragraph {} about the AI industry and the companies in it.</p>"
    count = limit // 2 + 10  # two "<" a paragraph
    page = "<html><body>" + "".join(line.format(i) for i in range(count)) + "</body></html>"
    parts = read_html(page.encode())
    assert parts.flattened
    lines = parts.rendered.text.split("\n\n")
    assert len(lines) == count and lines[-1].startswith(f"Paragraph {count - 1} about")
    script = "<script>" + "if (a < b) {}" * limit + "</script>"
    picture = '<img src="data:image/png;base64,' + "A" * 2_000_000 + '">'
    small = f"<html><head>{script}</head><body>{line.format(1)}{picture}</body></html>"
    assert not read_html(small.encode()).flattened  # scripts and inline images do not count


def test_markup_scans_are_whole_and_single_pass() -> None:
    """Unclosed <script>, <style> or <head> run to the end; <header> is not <head>."""
    from coverage_search.sources.html import tame_markup, without

    page = b"a<script>x</script>b<STYLE>y</style >c<header>h</header><head>t"
    assert without(page, (b"script", b"style")) == b"abc<header>h</header><head>t"
    assert without(page, (b"head",)) == b"a<script>x</script>b<STYLE>y</style >c<header>h</header>"
    assert without(b"<script>x " * 50_000, (b"script",)) == b""
    assert without(b"a<head>t</header>u</head>b", (b"head",)) == b"ab"
    assert tame_markup(b"<p" + b"a" * 200_000) == b"<p" + b"a" * 200_000  # no ">": left alone
