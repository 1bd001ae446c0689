"""Fetching and adding articles from a local site on 127.0.0.1 (no test touches the internet)."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from coverage_search.errors import FetchError
from coverage_search.ingest.add import add_sources
from coverage_search.ingest.article import article_from_html
from coverage_search.ingest.catalog import canonical_url
from coverage_search.ingest.decoding import decode_body
from coverage_search.ingest.fetch import USER_AGENT, Fetcher
from coverage_search.ingest.remove import remove_documents
from coverage_search.sources.reading import split_front_matter
from http_fixture import Route, Site, article_html, news_site, serve

FAST = Fetcher(timeout=0.5, max_bytes=1024 * 1024, max_redirects=5)


@pytest.fixture()
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield news_site(running)


def corpus_files(corpus: Path) -> list[str]:
    """Every file in the corpus, hidden ones included, so leftovers cannot hide."""
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())


def front_matter(path: Path) -> dict[str, object]:
    meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return meta


# -- fetch ------------------------------------------------------------------------------------


def test_fetch_sends_an_honest_user_agent_and_reads_the_page(site: Site) -> None:
    result = FAST.fetch(site.url("/news/amodei.html"))
    assert result.status == 200
    assert result.content_type == "text/html"
    assert "Dario Amodei" in result.text()
    agent = site.last_headers["/news/amodei.html"]["user-agent"]
    assert agent == USER_AGENT
    assert agent.startswith("coverage-search/") and agent.endswith("(+local research tool)")


def test_redirects_are_followed_up_to_the_cap(site: Site) -> None:
    result = FAST.fetch(site.url("/go/amodei"))
    assert result.final_url == site.url("/news/amodei.html?utm_source=rss")
    with pytest.raises(FetchError, match="more than 5 redirects"):
        FAST.fetch(site.url("/chain/0"))
    assert Fetcher(max_redirects=12).fetch(site.url("/chain/0")).status == 200


def test_a_redirect_loop_is_reported_as_such(site: Site) -> None:
    with pytest.raises(FetchError, match="redirect loop"):
        FAST.fetch(site.url("/loop/a"))
    assert site.hits["/loop/a"] == 1 and site.hits["/loop/b"] == 1


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [("/missing.html", 404, "Not Found"), ("/gone.html", 410, "Gone"), ("/error.html", 500, "")],
)
def test_http_errors_carry_their_status(site: Site, path: str, status: int, reason: str) -> None:
    with pytest.raises(FetchError) as info:
        FAST.fetch(site.url(path))
    assert info.value.status == status
    assert reason in info.value.reason
    assert f"HTTP {status}" in str(info.value)


def test_a_slow_server_times_out(site: Site) -> None:
    with pytest.raises(FetchError, match=r"timed out after 0.5 s"):
        FAST.fetch(site.url("/slow.html"))


def test_a_trickling_body_times_out_on_the_whole_response(site: Site) -> None:
    # One byte every 0.2 s never leaves a read idle for long, and never fills a 64 KiB chunk.
    site.routes["/drip.html"] = Route(b"<html><body>" + b"x" * 5000 + b"</body></html>", drip=0.2)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 2 s"):
        Fetcher(timeout=2).fetch(site.url("/drip.html"))
    # Unbounded, the drip takes 1,000 s: a loose bound tells the two apart on a loaded machine.
    assert time.monotonic() - started < 10


def test_bodies_over_the_cap_are_refused_while_streaming_or_by_their_declared_size(
    site: Site,
) -> None:
    with pytest.raises(FetchError, match="too large"):
        FAST.fetch(site.url("/huge.html"))
    with pytest.raises(FetchError, match="too large"):
        FAST.fetch(site.url("/huge-declared.html"))


def test_content_type_is_checked(site: Site) -> None:
    with pytest.raises(FetchError, match=r"not a supported type \(application/pdf\)"):
        FAST.fetch(site.url("/report.pdf"))
    # No Content-Type at all: accepted only when the body is evidently a web page.
    assert "funding" in FAST.fetch(site.url("/no-type")).text()


def test_mislabeled_and_missing_charsets_decode_correctly(site: Site) -> None:
    for path in ("/mislabeled.html", "/no-charset.html"):
        text = FAST.fetch(site.url(path)).text()
        assert "café in Lyon" in text and "naïve" in text and "€2,000" in text


def test_undecodable_bytes_are_an_error() -> None:
    with pytest.raises(FetchError, match="undecodable"):
        decode_body(bytes(range(256)) * 8, "utf-8", url="http://127.0.0.1/x")


def test_only_http_urls_are_fetched() -> None:
    with pytest.raises(FetchError, match="only http"):
        FAST.fetch("file:///etc/passwd")


def test_conditional_get_gets_304(site: Site) -> None:
    first = FAST.fetch(site.url("/feeds/rss.xml"), accept=frozenset({"application/rss+xml"}))
    again = FAST.fetch(
        site.url("/feeds/rss.xml"),
        accept=frozenset({"application/rss+xml"}),
        etag=first.etag,
        last_modified=first.last_modified,
    )
    assert first.etag == '"rss-v1"' and again.not_modified and again.body == b""
    assert site.last_headers["/feeds/rss.xml"]["if-none-match"] == '"rss-v1"'


# -- extraction -------------------------------------------------------------------------------


def test_canonical_url_drops_trackers_fragments_and_default_ports() -> None:
    assert (
        canonical_url("HTTPS://Example.COM:443/a/b?utm_source=x&id=7&fbclid=1#top")
        == "https://example.com/a/b?id=7"
    )


def test_a_cross_site_canonical_link_does_not_replace_the_copys_own_address() -> None:
    html = (
        '<html><head><link rel="canonical" href="https://original.example/story">'
        "<title>Copy</title></head><body><article><p>"
        + "Syndicated text about OpenAI and Anthropic. " * 20
        + "</p></article></body></html>"
    )
    own = article_from_html(html, url="https://partner.example/copy")
    assert own.url == "https://partner.example/copy"
    same = article_from_html(html, url="https://original.example/story?utm_medium=x")
    assert same.url == "https://original.example/story"


# -- add --------------------------------------------------------------------------------------


def test_add_saves_markdown_with_front_matter(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_sources([site.url("/news/amodei.html")], corpus_dir=corpus, fetcher=FAST)
    assert report.ok and len(report.added) == 1 and not report.duplicates
    item = report.added[0]
    assert item.doc_id == "wire-service-why-dario-amodei-left-openai.md"
    assert corpus_files(corpus) == [".coverage-search.lock", item.doc_id]
    meta = front_matter(corpus / item.doc_id)
    assert meta["title"] == "Why Dario Amodei left OpenAI"
    assert meta["url"] == site.url("/news/amodei.html")
    assert meta["outlet"] == "Wire Service"
    assert str(meta["published"]) == "2026-06-16"
    assert meta["author"] == "Jane Reporter"
    assert meta["language"] == "en"
    assert str(meta["fetched_at"]).endswith("Z")
    body = (corpus / item.doc_id).read_text(encoding="utf-8")
    assert "\n# Why Dario Amodei left OpenAI\n" in body
    assert "constitution-based training" in body
    assert "About us | Contact" not in body  # boilerplate left out by extraction


def test_adding_the_same_article_again_is_a_no_op_that_says_so(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    add_sources([site.url("/news/amodei.html")], corpus_dir=corpus, fetcher=FAST)
    before = corpus_files(corpus)
    again = add_sources([site.url("/news/amodei.html")], corpus_dir=corpus, fetcher=FAST)
    assert not again.added and again.ok
    assert [d.duplicate_of for d in again.duplicates] == ["same URL"]
    assert site.hits["/news/amodei.html"] == 1  # known by URL: not even fetched
    # Through a redirect with a tracking parameter: fetched, then known by its canonical URL.
    via = add_sources([site.url("/go/amodei")], corpus_dir=corpus, fetcher=FAST)
    assert [d.duplicate_of for d in via.duplicates] == ["same URL"]
    assert via.duplicates[0].doc_id == before[1]
    assert corpus_files(corpus) == before


def test_same_text_under_another_url_is_a_duplicate(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    site.routes["/mirror/funding.html"] = site.routes["/news/funding.html"]
    add_sources([site.url("/news/funding.html")], corpus_dir=corpus, fetcher=FAST)
    report = add_sources([site.url("/mirror/funding.html")], corpus_dir=corpus, fetcher=FAST)
    assert [d.duplicate_of for d in report.duplicates] == ["same text"]


def test_one_failing_item_is_reported_and_the_others_go_on(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    sources = [
        site.url("/missing.html"),
        site.url("/news/amodei.html"),
        site.url("/slow.html"),
        site.url("/report.pdf"),
        site.url("/huge.html"),
        site.url("/binary.html"),
        site.url("/empty.html"),
        site.url("/loop/a"),
        str(tmp_path / "nowhere.md"),
        site.url("/news/funding.html"),
    ]
    report = add_sources(sources, corpus_dir=corpus, fetcher=FAST)
    assert [a.source for a in report.added] == [sources[1], sources[-1]]
    failed = {f.source: (f.status, f.reason) for f in report.failed}
    assert failed[sources[0]] == (404, "Not Found")
    assert "timed out" in failed[sources[2]][1]
    assert "not a supported type" in failed[sources[3]][1]
    assert "too large" in failed[sources[4]][1]
    assert "undecodable" in failed[sources[5]][1]
    assert "no article text" in failed[sources[6]][1]
    assert "redirect loop" in failed[sources[7]][1]
    assert "no such file" in failed[sources[8]][1]
    assert len(report.failed) == 8 and not report.ok
    # Nothing half-written: only the two articles and the lock file.
    assert len(corpus_files(corpus)) == 3


def test_local_files_are_added_html_becomes_markdown(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = tmp_path / "downloads"
    outside.mkdir()
    page = outside / "saved page.html"
    page.write_bytes(site.routes["/news/spanish.html"].body)
    note = outside / "notes.md"
    note.write_text("---\ntitle: My notes\nurl: https://example.org/n\n---\n\nAnthropic notes.\n")
    report = add_sources([str(page), str(note), str(note)], corpus_dir=corpus, fetcher=FAST)
    assert [a.doc_id for a in report.added] == ["el-diario-anthropic-y-la-seguridad.md", "notes.md"]
    assert [d.duplicate_of for d in report.duplicates] == ["same URL"]
    meta = front_matter(corpus / "el-diario-anthropic-y-la-seguridad.md")
    assert meta["language"] == "es" and meta["outlet"] == "El Diario"
    assert (corpus / "notes.md").read_bytes() == note.read_bytes()
    inside = add_sources([str(corpus / "notes.md")], corpus_dir=corpus, fetcher=FAST)
    assert [d.duplicate_of for d in inside.duplicates] == ["same file"]


def test_same_title_different_text_gets_a_unique_file_name(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    page = site.routes["/news/funding.html"].body
    site.routes["/v2.html"] = type(site.routes["/news/funding.html"])(
        page.replace(b"London and", b"Paris and")
    )
    report = add_sources(
        [site.url("/news/funding.html"), site.url("/v2.html")], corpus_dir=corpus, fetcher=FAST
    )
    names = [a.doc_id for a in report.added]
    assert names == [
        "wire-service-anthropic-closes-a-new-funding-round.md",
        "wire-service-anthropic-closes-a-new-funding-round-2.md",
    ]


def test_remove_by_doc_id_url_or_path(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_sources(
        [
            site.url("/news/amodei.html"),
            site.url("/news/funding.html"),
            site.url("/news/spanish.html"),
        ],
        corpus_dir=corpus,
        fetcher=FAST,
    )
    first, second, third = (a.doc_id for a in report.added)
    removed = remove_documents(
        [first, site.url("/news/funding.html?utm_source=x"), str(corpus / third), "nope.md"],
        corpus_dir=corpus,
    )
    assert removed.removed == (first, second, third)
    assert [f.source for f in removed.failed] == ["nope.md"]
    assert "No document" in removed.failed[0].reason and not removed.ok
    assert corpus_files(corpus) == [".coverage-search.lock"]


def test_front_matter_is_valid_yaml_even_with_quotes_and_colons(tmp_path: Path) -> None:
    html = (
        '<html><head><title>OpenAI: "the race" isn\'t over --- yet</title></head><body>'
        "<article><p>" + "A sentence about the AI race and what comes next. " * 10 + "</p>"
        "</article></body></html>"
    )
    article = article_from_html(html, url="https://example.org/race")
    head = article.to_markdown().split("---\n")[1]
    assert yaml.safe_load(head)["title"] == 'OpenAI: "the race" isn\'t over --- yet'


def test_odd_front_matter_is_kept_or_reported_never_a_crash(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "downloads"
    outside.mkdir()
    (outside / "baddate.md").write_text("---\ntitle: Odd date\npublished: 2026-02-30\n---\nBody.\n")
    bomb = "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 9))
    (outside / "bomb.md").write_text(f"---\na0: &a0 [lol, lol]\n{bomb}title: *a8\n---\nText.\n")
    report = add_sources(
        [str(outside / "baddate.md"), str(outside / "bomb.md")], corpus_dir=corpus, fetcher=FAST
    )
    assert [(a.doc_id, a.published) for a in report.added] == [("baddate.md", None)]
    [failed] = report.failed
    assert failed.reason == (
        "front matter uses YAML aliases, which are not allowed: write the values out"
    )
    # A bomb already in the corpus does not stop the look for copies.
    (corpus / "bomb.md").write_bytes((outside / "bomb.md").read_bytes())
    again = add_sources([str(outside / "baddate.md")], corpus_dir=corpus, fetcher=FAST)
    assert [d.duplicate_of for d in again.duplicates] == ["same text"]


def test_remove_deletes_only_documents_and_never_follows_links(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "elsewhere"
    (corpus / "sub").mkdir(parents=True)
    outside.mkdir()
    for name in (".coverage-search.lock", ".feeds.json", "real.md", "notes.md", "notes.md.yml"):
        (corpus / name).write_text("Text.\n")
    (corpus / "report.pdf").write_bytes(b"%PDF-1.4\n")
    (corpus / "report.pdf.yml").write_text("title: Report\n")
    (corpus / "alias.md").symlink_to("real.md")
    (outside / "far.md").write_text("Far away.\n")
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    refs = [
        ".coverage-search.lock",
        ".feeds.json",
        str(corpus / ".feeds.json"),
        "notes.md.yml",
        "linked/far.md",
        "sub/../../elsewhere/far.md",
        "alias.md",
        "report.pdf",
        "notes.md",
    ]
    report = remove_documents(refs, corpus_dir=corpus)
    assert report.removed == ("alias.md", "report.pdf", "notes.md")
    assert [f.source for f in report.failed] == refs[:6]
    assert all("No document" in f.reason for f in report.failed)
    assert corpus_files(corpus) == [
        ".coverage-search.lock", ".feeds.json", "notes.md.yml", "real.md"
    ]  # fmt: skip
    assert (outside / "far.md").exists() and not (corpus / "alias.md").is_symlink()


def test_added_files_get_the_usual_permissions(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "downloads"
    outside.mkdir()
    (outside / "note.md").write_text("A note about Anthropic.\n")
    old = os.umask(0o022)
    try:
        [added] = add_sources([str(outside / "note.md")], corpus_dir=corpus).added
    finally:
        os.umask(old)
    assert stat.S_IMODE((corpus / added.doc_id).stat().st_mode) == 0o644


def test_only_web_urls_make_two_documents_the_same(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "downloads"
    outside.mkdir()
    urls = ["javascript:alert(1)", "javascript:alert(1)", "http://[::1", "http://x:port/"]
    names = ("a.md", "b.md", "c.md", "d.md")
    for name, url in zip(names, urls, strict=True):
        (outside / name).write_text(f"---\nurl: '{url}'\n---\nStory {name}.\n")
    report = add_sources([str(outside / n) for n in names], corpus_dir=corpus)
    assert [a.doc_id for a in report.added] == list(names) and not report.duplicates


def test_looking_for_copies_skips_pipes_and_links_out_of_the_corpus(tmp_path: Path) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "downloads"
    corpus.mkdir()
    outside.mkdir()
    (outside / "note.md").write_text("A note about Anthropic.\n")
    os.mkfifo(corpus / "pipe.md")  # reading it would wait for a writer forever
    (corpus / "linked.md").symlink_to(outside / "note.md")  # the scan skips it, so no copy
    report = add_sources([str(outside / "note.md")], corpus_dir=corpus)
    assert [a.doc_id for a in report.added] == ["note.md"] and not report.duplicates


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Half: a",
            "cut off in the middle of its headers",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 900\r\n\r\n<html>",
            "cut off (6 bytes of 900)",
        ),
        (b"", "closed the connection without a reply"),
    ],
    ids=["headers", "body", "nothing"],
)
def test_a_reply_cut_off_is_an_error(reply: bytes, says: str) -> None:
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError, match=re.escape(says)):
            FAST.fetch(f"http://127.0.0.1:{server.getsockname()[1]}/x")
    finally:
        thread.join(timeout=2)
        server.close()


@pytest.mark.parametrize("name", ["big.md", "big.html", "big.pdf"])
def test_a_huge_local_file_is_refused_without_reading_it_whole(tmp_path: Path, name: str) -> None:
    import resource

    corpus, outside = tmp_path / "corpus", tmp_path / "downloads"
    outside.mkdir()
    with (outside / name).open("wb") as fh:  # sparse: 3 GB on no disk
        fh.truncate(3 * 2**30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, the peak so far
    report = add_sources([str(outside / name)], corpus_dir=corpus)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert not report.added and "over" in report.failed[0].reason
    assert grown < 200 * 1024, f"peak memory grew {grown // 1024} MiB"
    assert not [p for p in corpus.rglob("*") if not p.name.startswith(".")]  # nothing saved


def test_articles_whose_canonical_link_is_the_front_page_are_each_kept(
    site: Site, tmp_path: Path
) -> None:
    """A site pointing every canonical link at its front page lost all but the first article."""
    front = site.url("/")
    for path, title in (
        ("/canon/one", "Zorblax buys Quintex"),
        ("/canon/two", "Quintex CEO resigns"),
    ):
        body = f"{title}: the deal and what follows, as the company described it to staff. " * 4
        site.routes[path] = Route(
            article_html(title, [body], site_name="Wire", canonical=front).encode()
        )
    corpus = tmp_path / "corpus"
    report = add_sources([site.url("/canon/one"), site.url("/canon/two")], corpus_dir=corpus)
    assert [a.url for a in report.added] == [site.url("/canon/one"), site.url("/canon/two")]
    assert not report.duplicates


def test_a_page_with_no_article_text_is_refused_and_not_remembered(
    site: Site, tmp_path: Path
) -> None:
    """A JavaScript shell was saved as an article whose text was "enable JavaScript", which
    made its URL known for good (a later add, or its feed entry, then skipped it)."""
    site.routes["/app"] = Route(
        b"<html><head><title>App</title></head><body><div id=root></div>"
        b"<noscript>You need to enable JavaScript to run this app.</noscript></body></html>"
    )
    corpus = tmp_path / "corpus"
    report = add_sources([site.url("/app")], corpus_dir=corpus)
    (failed,) = report.failed
    assert "characters of text besides the title" in failed.reason and not report.added
    assert corpus_files(corpus) == [".coverage-search.lock"]
    # A short brief, and Chinese text (no spaces between words), are articles.
    brief = "Magnitude 5.1 quake hits off Hokkaido; no tsunami warning was issued, officials said."
    chinese = "人工智能公司今天宣布了新的安全研究计划，并表示将与多所大学合作开展长期研究。" * 2
    for path, text in (("/brief", brief), ("/zh", chinese)):
        site.routes[path] = Route(article_html("Brief", [text], site_name="Wire").encode())
    report = add_sources([site.url("/brief"), site.url("/zh")], corpus_dir=corpus)
    assert len(report.added) == 2, report.failed


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:9/a/with space", "holds a space or control character"),
        ("http://127.0.0.1:9/a\nb", "holds a space or control character"),
        ("http://user:pw@127.0.0.1:9/x", "user name or password are not fetched"),
        ("http://user@127.0.0.1:9/x", "user name or password are not fetched"),
    ],
)
def test_urls_that_cannot_be_fetched_as_written_say_why(url: str, says: str) -> None:
    """They said "not a valid HTTP reply" and "host not found"; a stored address with a
    space (front matter) is still an address (is_web_url)."""
    from coverage_search.sources.urls import is_web_url

    with pytest.raises(FetchError, match=says):
        Fetcher(timeout=1.0).fetch(url)
    assert is_web_url("https://www.example.com/news/city council vote.html")


def test_a_folder_or_another_scheme_is_named_as_such(tmp_path: Path) -> None:
    """Path() made "file:///x" into "file:/x" and a folder was "no such file"."""
    from coverage_search.ingest.add import add_sources

    folder = tmp_path / "notes"
    folder.mkdir()
    sources = ["file:///tmp/up.md", "FTP://x/y", str(folder)]
    report = add_sources(sources, corpus_dir=tmp_path / "c")
    assert [(f.source, f.reason) for f in report.failed] == [
        (
            "file:///tmp/up.md",
            "only http:// and https:// URLs, or paths of local files, can be added",
        ),
        ("FTP://x/y", "only http:// and https:// URLs, or paths of local files, can be added"),
        (str(folder), "a folder: add the files in it (folder/*.md, say)"),
    ]
