"""Hostile pass 18: PDFs, feeds and fetching, exports, uploads and corpus files.

A PDF of thousands of pages, all one heavy content stream, earned half a second of CPU per page
it claimed: a 700 KB file held a build for the best part of an hour. A server that compresses
whatever it is asked (a stored .gz) had its page refused as "binary content". A file or a
section of zero-width spaces was indexed as a blank passage that topped every semantic query.
A text file or a cut-off download saved as .pdf was "not a readable PDF (Stream has ended
unexpectedly)", pypdf's words, which name no fix.
"""

from __future__ import annotations

import gzip
import unicodedata
import zlib
from pathlib import Path

import pytest
from hostile_support import build_corpus, cli, keyword_doc_ids, make_corpus, network_guard

from http_fixture import OTHER_PARAGRAPHS, WIRE_PARAGRAPHS, Route, Site, article_html, rss, serve
from pdfutil import write_minimal_pdf

__all__ = ["network_guard"]  # the fixture, imported for use here


def _add(place: dict[str, Path], *source: str) -> tuple[int, str, str]:
    return cli(
        "add", *source, "--timeout", "10", "--corpus", place["corpus"], "--index", place["index"]
    )


def test_a_pdf_of_many_pages_gets_no_more_than_five_minutes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget grew with the pages a file claims (60 s + 0.5 s a page): a file of 5,000
    pages pointing at one stream of millions of operators (16 s a page) was read for 2,560 s."""
    from coverage_search.sources import pdf

    clock = iter(range(100_000))  # a page costs a second of this clock
    monkeypatch.setattr(pdf, "_clock", lambda: float(next(clock)))
    corpus = make_corpus(tmp_path / "corpus")
    write_minimal_pdf(corpus / "claims.pdf", [f"Page {n}." for n in range(2000)])
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    [line] = [line for line in (out + err).splitlines() if "claims.pdf" in line]
    assert "took over 300 s of CPU" in line and "split it" in line, line
    assert next(clock) < 320, "read on past the cap"
    assert keyword_doc_ids(tmp_path / "index", "tomatoes garlic"), "the rest is indexed"


def test_a_page_or_feed_compressed_though_asked_not_to_is_read_within_the_cap(
    tmp_path: Path, network_guard: list[str]
) -> None:
    """Accept-Encoding: identity is a request; a server sending a stored .gz anyway had its
    page refused as "undecodable bytes (binary content, not text)" and its feed as malformed
    XML. Unpacked, a bomb (200 KB of gzip, 200 MB of text) is still stopped at the cap."""
    place = build_corpus(tmp_path)
    page = article_html("Packed wire story", WIRE_PARAGRAPHS, site_name="Packed Wire").encode()
    other = article_html("Deflated story", OTHER_PARAGRAPHS, site_name="Deflated Wire").encode()
    bomb = gzip.compress(b"<html><body><p>" + b"a" * (200 * 2**20) + b"</p></body></html>")
    site = Site()
    with serve(site):
        feed = rss("Packed", [("p1", site.url("/deflated.html"), "Deflated", "")]).encode()
        site.routes.update(
            {
                "/packed.html": Route(gzip.compress(page), headers={"Content-Encoding": "gzip"}),
                "/deflated.html": Route(
                    zlib.compress(other), headers={"Content-Encoding": "deflate"}
                ),
                "/bomb.html": Route(bomb, headers={"Content-Encoding": "gzip"}),
                "/brotli.html": Route(b"\x1b\x00\xf8", headers={"Content-Encoding": "br"}),
                "/feed.xml": Route(
                    gzip.compress(feed),
                    content_type="application/rss+xml",
                    headers={"Content-Encoding": "x-gzip"},
                ),
            }
        )
        code, out, err = _add(place, site.url("/packed.html"), "--feed", site.url("/feed.xml"))
        assert code == 0, err
        assert "Packed Wire" in out and "1 added" in out, out
        for path, says in (("/bomb.html", "too large"), ("/brotli.html", "compressed (br)")):
            code, out, err = _add(place, site.url(path))
            [line] = [line for line in (out + err).splitlines() if path in line]
            assert code == 1 and says in line, line
    assert network_guard == []
    assert "packed-wire-packed-wire-story.md" in keyword_doc_ids(place["index"], "scaling laws")
    assert any(d.startswith("deflated-wire") for d in keyword_doc_ids(place["index"], "Tokyo"))


def test_a_file_or_section_of_invisible_marks_is_no_blank_hit(tmp_path: Path) -> None:
    """Zero-width spaces, soft hyphens and byte-order marks are not whitespace to str.strip():
    such a file, or a section of one, was a passage of nothing a reader sees, whose embedding
    (close to every query's) made it the first hit of "anything at all"."""
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "blank.md").write_text("\u200b\u200b\u00ad\n\n\u2060\n", encoding="utf-8")
    (corpus / "marks.txt").write_bytes("\ufeff\ufeff\ufeff".encode("utf-32"))
    mixed = "# Flamingo budget\n\nThe flamingo budget grew again this year, the zoo said.\n\n"
    (corpus / "mixed.md").write_text(mixed + "## \u200b\n\n" + "\u200b" * 3000, encoding="utf-8")
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    for name in ("blank.md", "marks.txt"):
        [line] = [line for line in (out + err).splitlines() if name in line]
        assert "no text" in line and "invisible" in line, line
    from coverage_search import CoverageIndex

    index = CoverageIndex.open(tmp_path / "index")
    try:
        hits = index.search("anything at all", k=20, mode="semantic", per_document=0)
    finally:
        index.close()
    blank = [h.doc_id for h in hits if all(unicodedata.category(c)[0] in "ZC" for c in h.text)]
    assert not blank, f"blank passages indexed: {blank}"
    assert "mixed.md" in keyword_doc_ids(tmp_path / "index", "flamingo budget")


def test_a_text_file_or_a_cut_off_download_saved_as_pdf_says_what_to_do(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    (corpus / "notes.pdf").write_text("Notes from the call with the desk.\n" * 5, encoding="utf-8")
    whole = write_minimal_pdf(tmp_path / "whole.pdf", ["A full page of text. " * 20] * 3)
    (corpus / "cut.pdf").write_bytes(whole.read_bytes()[:400])
    (corpus / "empty.pdf").write_bytes(b"  \n")  # a failed download, not text to rename
    code, out, err = cli("build", "--corpus", corpus, "--index", tmp_path / "index")
    assert code == 0, err
    lines = (out + err).splitlines()
    for name, says in (
        ("notes.pdf", "not a readable PDF (it holds plain text): rename it to .txt"),
        ("cut.pdf", "not a readable PDF (cut off: no end marker): download it again"),
        ("empty.pdf", "an empty file, not a PDF: download it again"),
    ):
        [line] = [line for line in lines if name in line]
        assert says in line and "Stream" not in line, line


def test_a_feed_of_too_many_tags_is_refused_before_parsing() -> None:
    """A 10 MB feed of empty tags took feedparser minutes and gigabytes of memory."""
    from coverage_search import FetchError
    from coverage_search.ingest.feeds import MAX_FEED_TAGS, parse_feed

    item = b"<item><title>t</title><link>http://127.0.0.1/a</link></item>"
    head, tail = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>',
        b"</channel></rss>",
    )
    small = head + item * 10 + tail
    assert len(parse_feed(small, "application/rss+xml", url="http://127.0.0.1/f")[1]) == 10
    huge = head + b"<x/>" * (MAX_FEED_TAGS + 1) + item + tail
    with pytest.raises(FetchError, match="too large to read"):  # counted, never parsed
        parse_feed(huge, "application/rss+xml", url="http://127.0.0.1/f")


@pytest.mark.parametrize("atom", [False, True])
def test_a_long_feed_is_cut_after_the_last_whole_entry_within_the_tag_cap(
    monkeypatch: pytest.MonkeyPatch, atom: bool
) -> None:
    """A feed over the tag cap was refused whole, newest entries and all: it is read up to
    the last entry that ends within the cap, still well-formed after the cut."""
    from coverage_search import FetchError
    from coverage_search.ingest import feeds

    monkeypatch.setattr(feeds, "MAX_FEED_TAGS", 1000)
    tag = b"entry" if atom else b"item"
    head, tail = (
        (
            b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>',
            b"</feed>",
        )
        if atom
        else (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>',
            b"</channel></rss>",
        )
    )
    # 10 '<' an entry, 4 or 5 before the first: 99 entries end within 1,000 tags
    entries = b"".join(
        b"<%s><id>n%d</id><title>Story %d</title><link>http://127.0.0.1/%d</link><x/><x/></%s>"
        % (tag, n, n, n, tag)
        for n in range(300)
    )
    title, found = feeds.parse_feed(head + entries + tail, "text/xml", url="http://127.0.0.1/f")
    assert title == "F"
    assert [e.title for e in found] == [f"Story {n}" for n in range(len(found))]
    assert len(found) == 99
    # Junk after the last entry came back with the feed's closing tags, past the cap: a feed's
    # own closing tags are a few, else the cut is closed by hand.
    import feedparser

    parse, given = feedparser.parse, []
    monkeypatch.setattr(
        feedparser, "parse", lambda body, **kw: given.append(body) or parse(body, **kw)
    )
    junk = head + entries + b"<x/>" * 5000 + tail
    assert len(feeds.parse_feed(junk, "text/xml", url="http://127.0.0.1/f")[1]) == 99
    assert given[-1].count(b"<") <= 1000, "what the cap keeps out reached the parser"
    # A closing tag quoted in CDATA or a comment is no place to cut: the entry holding it is
    # whole or gone, never its first half.
    quoted = entries.replace(
        b"<x/><x/></%s>" % tag, b"<x/><x/><!-- </%s> --><![CDATA[</%s>]]></%s>" % (tag, tag, tag)
    )
    # 14 '<' an entry now; padding puts the cap (the 1,001st '<') between the quoted closing
    # tags and the real one of entry 70, so a cut at the last "</item>" would land in a comment.
    pad = b"<x/>" * (1000 - head.count(b"<") - 14 * 70 - 11)
    found = feeds.parse_feed(head + pad + quoted + tail, "text/xml", url="http://127.0.0.1/f")[1]
    assert [e.title for e in found] == [f"Story {n}" for n in range(70)]
    # Unclosed comments run to the end, as for a parser: nothing after them ends an entry. Each
    # was tried again to the end of the body, quadratic: 510,000 of them, hours.
    with pytest.raises(FetchError, match="too large to read"):
        feeds.parse_feed(
            head + b"<!--" * 100 + entries + tail, "text/xml", url="http://127.0.0.1/f"
        )
    # the same tags with no entry ending among them: nothing to keep, refused as before
    with pytest.raises(FetchError, match="too large to read"):
        feeds.parse_feed(
            head + b"<x/>" * 1500 + entries + tail, "text/xml", url="http://127.0.0.1/f"
        )


def test_an_rss_1_feed_cut_at_the_cap_is_closed_as_rss_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """RDF's items follow its channel inside rdf:RDF: closed as RSS 2.0, the cut was malformed."""
    import feedparser

    from coverage_search.ingest import feeds

    monkeypatch.setattr(feeds, "MAX_FEED_TAGS", 1000)
    parse, given = feedparser.parse, []
    monkeypatch.setattr(
        feedparser, "parse", lambda body, **kw: given.append(body) or parse(body, **kw)
    )
    head = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><channel><title>R</title></channel>'
    )
    items = b"".join(
        b'<item rdf:about="http://127.0.0.1/%d"><title>Story %d</title>'
        b"<link>http://127.0.0.1/%d</link></item>" % (n, n, n)
        for n in range(300)
    )
    title, found = feeds.parse_feed(
        head + items + b"<x/>" * 100 + b"</rdf:RDF>", "text/xml", url="u"
    )
    assert title == "R" and len(found) > 100
    assert given[-1].endswith(b"</item></rdf:RDF>")


def test_compression_stacked_past_two_layers_is_refused_at_once() -> None:
    """ "gzip, gzip, ..." unpacked once a layer, each up to the 10 MB cap, with no bound on the
    number of layers a header names."""
    from coverage_search import FetchError
    from coverage_search.ingest.unpacking import unpacked

    page = b"<html><body><p>Hello</p></body></html>"
    twice = gzip.compress(gzip.compress(page))
    assert unpacked("http://127.0.0.1/a", twice, "gzip, identity, gzip", 10**6) == page
    assert unpacked("http://127.0.0.1/a", page, " , identity", 10**6) == page
    with pytest.raises(FetchError, match="compressed 3 times over"):
        unpacked("http://127.0.0.1/a", gzip.compress(twice), "gzip, gzip, gzip", 10**6)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


PAGE = b"<html><body><p>Hello caf\xc3\xa9</p></body></html>" * 20
PACKED = gzip.compress(PAGE)
UNPACKING = {  # label: (body, Content-Encoding, unpacked body or the error's words)
    "gzip": (PACKED, "gzip", PAGE),
    "two gzip members": (gzip.compress(PAGE[:100]) + gzip.compress(PAGE[100:]), "gzip", PAGE),
    "bytes after the stream": (PACKED + b"junk", "gzip", PAGE),
    "plain text labelled gzip (a proxy unpacked it)": (PAGE, "gzip", PAGE),
    "plain text labelled deflate": (PAGE, "deflate", PAGE),
    "zlib as deflate": (zlib.compress(PAGE), "deflate", PAGE),
    "bare deflate": (_raw_deflate(PAGE), "deflate", PAGE),
    "gzip labelled deflate": (PACKED, "deflate", PAGE),
    "gzip cut in half": (PACKED[: len(PACKED) // 2], "gzip", "stream is cut off"),
    "gzip without its trailer": (PACKED[:-8], "gzip", "stream is cut off"),
    "bare deflate cut": (_raw_deflate(PAGE)[:40], "deflate", "stream is cut off"),
}


@pytest.mark.parametrize("case", list(UNPACKING))
def test_a_packed_body_is_read_whole_or_refused_never_cut(case: str) -> None:
    """A cut-off gzip stream was indexed as the part that came (zlib raises nothing), a second
    gzip member was dropped, and a plain page labelled gzip was refused as damaged."""
    from coverage_search import FetchError
    from coverage_search.ingest.unpacking import unpacked

    body, coding, want = UNPACKING[case]
    if isinstance(want, bytes):
        assert unpacked("http://127.0.0.1/a", body, coding, 10**6) == want
    else:
        with pytest.raises(FetchError, match=want):
            unpacked("http://127.0.0.1/a", body, coding, 10**6)


@pytest.mark.parametrize("where", ["declaration", "header"])
def test_a_feed_labelled_with_a_codec_no_browser_knows_keeps_its_backslashes(where: str) -> None:
    """feedparser picks its own codec: a feed labelled unicode_escape had "C:\\new" turned
    into a line break and "\\u0041" into "A" (pages were fixed, feeds were not)."""
    from coverage_search.ingest.feeds import parse_feed

    title = "Caf\xe9 C:\\new \\u0041"
    declared = "unicode_escape" if where == "declaration" else "utf-8"
    kind = "application/rss+xml" + ("; charset=unicode_escape" if where == "header" else "")
    xml = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel>'
        f"<title>{title}</title><item><title>a</title><link>http://127.0.0.1/a</link></item>"
        "</channel></rss>"
    )
    body = xml.encode("cp1252" if where == "declaration" else "utf-8")
    assert parse_feed(body, kind, url="http://127.0.0.1/f")[0] == title
