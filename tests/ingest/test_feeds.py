"""Feed subscriptions: entries fetched once, conditional GET honored, failures retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from coverage_search.errors import CorpusError
from coverage_search.ingest.add import add_sources, update_feeds
from coverage_search.ingest.feeds import STATE_FILE, FeedStore, parse_feed
from coverage_search.ingest.fetch import Fetcher
from http_fixture import OTHER_PARAGRAPHS, Route, Site, article_html, news_site, rss, serve

FAST = Fetcher(timeout=1.0, max_bytes=1024 * 1024)


@pytest.fixture()
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield news_site(running)


def article_hits(site: Site) -> int:
    """Requests for anything but the feeds themselves."""
    return sum(n for path, n in site.hits.items() if not path.startswith("/feeds/"))


def test_subscribing_fetches_every_entry_and_remembers_the_feed(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_sources([], feeds=[site.url("/feeds/rss.xml")], corpus_dir=corpus, fetcher=FAST)
    assert report.ok
    assert [a.doc_id for a in report.added] == [
        "wire-service-why-dario-amodei-left-openai.md",
        "wire-service-anthropic-closes-a-new-funding-round.md",
    ]
    assert {a.feed for a in report.added} == {site.url("/feeds/rss.xml")}
    (check,) = report.feeds
    assert (check.title, check.entries, check.new, check.added) == ("Wire Service: AI", 2, 2, 2)
    (feed,) = FeedStore(corpus).feeds()
    assert feed.url == site.url("/feeds/rss.xml") and feed.seen == 2 and feed.last_error is None
    state = json.loads((corpus / STATE_FILE).read_text())
    saved = state["feeds"][site.url("/feeds/rss.xml")]
    assert saved["etag"] == '"rss-v1"' and len(saved["seen"]) == 2
    assert saved["last_modified"]
    # The state file is hidden from the corpus scanner and no temporary file is left behind.
    assert sorted(p.name for p in corpus.iterdir() if p.name.startswith(".")) == [
        ".coverage-search.lock",
        STATE_FILE,
    ]


def test_a_rerun_of_update_fetches_nothing_new(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    add_sources([], feeds=[site.url("/feeds/rss.xml")], corpus_dir=corpus, fetcher=FAST)
    assert site.hits["/feeds/rss.xml"] == 1 and article_hits(site) == 2
    report = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert report.ok and not report.added and not report.duplicates
    assert report.feeds[0].not_modified
    assert site.last_headers["/feeds/rss.xml"]["if-none-match"] == '"rss-v1"'
    assert site.hits["/feeds/rss.xml"] == 2 and article_hits(site) == 2  # 304, no article fetched


def test_unsubscribing_stops_the_updates_and_keeps_the_articles(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search import unsubscribe_feed
    from coverage_search.cli import main

    corpus = tmp_path / "corpus"
    feed = site.url("/feeds/rss.xml")
    add_sources([], feeds=[feed], corpus_dir=corpus, fetcher=FAST)
    articles = sorted(p.name for p in corpus.glob("*.md"))
    assert main(["feeds", "--unsubscribe", f" {feed} ", "--corpus", str(corpus)]) == 0
    assert "Unsubscribed from" in capsys.readouterr().out
    assert (
        FeedStore(corpus).feeds() == [] and sorted(p.name for p in corpus.glob("*.md")) == articles
    )
    report = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert not report.feeds and site.hits["/feeds/rss.xml"] == 1
    with pytest.raises(
        CorpusError, match=r"Not subscribed to .* List the feeds: coverage-search feeds"
    ):
        unsubscribe_feed(corpus, feed)
    assert main(["feeds", "--unsubscribe", "nope", "--corpus", str(tmp_path / "typo")]) == 1
    assert "not a folder" in capsys.readouterr().err and not (tmp_path / "typo").exists()


def test_without_304_support_seen_entries_are_still_skipped(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    add_sources([], feeds=[site.url("/feeds/rss.xml")], corpus_dir=corpus, fetcher=FAST)
    feed = site.routes["/feeds/rss.xml"]
    site.routes["/feeds/rss.xml"] = Route(feed.body, content_type=feed.content_type)
    report = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert not report.feeds[0].not_modified and report.feeds[0].new == 0
    assert article_hits(site) == 2


def test_update_fetches_only_the_new_entry(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    add_sources([], feeds=[site.url("/feeds/rss.xml")], corpus_dir=corpus, fetcher=FAST)
    items = [
        ("wire-3", site.url("/news/spanish.html"), "Anthropic y la seguridad", "Fri, 19 Jun 2026"),
        (
            "wire-1",
            site.url("/news/amodei.html"),
            "Why Dario Amodei left OpenAI",
            "Tue, 16 Jun 2026",
        ),
        ("wire-2", site.url("/news/funding.html"), "Funding", "Thu, 18 Jun 2026"),
    ]
    site.routes["/feeds/rss.xml"] = Route(
        rss("Wire Service: AI", items).encode(), content_type="application/rss+xml", etag='"rss-v2"'
    )
    report = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert [a.doc_id for a in report.added] == ["el-diario-anthropic-y-la-seguridad.md"]
    assert site.hits["/news/spanish.html"] == 1
    assert site.hits["/news/amodei.html"] == 1 and site.hits["/news/funding.html"] == 1


def test_a_huge_feed_is_taken_a_capped_number_of_entries_per_update(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The newest MAX_NEW_ENTRIES are fetched; the rest wait, and the next update takes them."""
    from coverage_search.ingest import feeds

    monkeypatch.setattr(feeds, "MAX_NEW_ENTRIES", 1)
    corpus = tmp_path / "corpus"
    first = add_sources([], feeds=[site.url("/feeds/rss.xml")], corpus_dir=corpus, fetcher=FAST)
    (check,) = first.feeds
    assert (check.entries, check.new, check.added, check.waiting) == (2, 1, 1, 1)
    assert [a.doc_id for a in first.added] == ["wire-service-why-dario-amodei-left-openai.md"]
    assert article_hits(site) == 1
    # The server's validators were not kept, so no 304 hides the waiting entry.
    second = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert "if-none-match" not in site.last_headers["/feeds/rss.xml"]
    (check,) = second.feeds
    assert (check.new, check.added, check.waiting) == (1, 1, 0)
    assert [a.doc_id for a in second.added] == [
        "wire-service-anthropic-closes-a-new-funding-round.md"
    ]
    assert update_feeds(corpus_dir=corpus, fetcher=FAST).feeds[0].not_modified


def test_a_failed_entry_is_reported_and_retried_next_update(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_sources([], feeds=[site.url("/feeds/atom.xml")], corpus_dir=corpus, fetcher=FAST)
    assert [a.title for a in report.added] == ["Inside the Split That Created Anthropic"]
    assert [(f.source, f.status) for f in report.failed] == [
        (site.url("/partner/missing.html"), 404)
    ]
    assert report.feeds[0].failed == 1 and not report.ok
    # The validators were not stored, so the feed is read in full and the entry retried.
    retry = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert not retry.feeds[0].not_modified
    assert site.hits["/partner/missing.html"] == 2
    assert site.hits["/partner/amodei-copy.html"] == 1  # the saved entry is not fetched again
    site.routes["/partner/missing.html"] = site.routes["/news/funding.html"]
    fixed = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert fixed.ok and len(fixed.added) == 1
    assert update_feeds(corpus_dir=corpus, fetcher=FAST).feeds[0].not_modified


def test_feed_entry_metadata_fills_what_the_page_lacks(site: Site, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    page = article_html("Anthropic closes a new funding round", OTHER_PARAGRAPHS, site_name="W")
    site.routes["/undated.html"] = Route(page.encode())
    site.routes["/feeds/undated.xml"] = Route(
        rss(
            "Desk", [("u1", site.url("/undated.html"), "Funding", "Sat, 20 Jun 2026 10:00:00 GMT")]
        ).encode(),
        content_type="application/rss+xml",
    )
    report = add_sources(
        [], feeds=[site.url("/feeds/undated.xml")], corpus_dir=corpus, fetcher=FAST
    )
    assert report.added[0].published == "2026-06-20"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/feeds/broken.xml", "not a readable RSS or Atom feed"),
        ("/feeds/not-a-feed.html", "a web page, not a feed"),
        ("/feeds/missing.xml", "Not Found"),
    ],
)
def test_bad_feeds_fail_with_a_reason_and_are_not_subscribed(
    site: Site, tmp_path: Path, path: str, reason: str
) -> None:
    corpus = tmp_path / "corpus"
    report = add_sources(
        [site.url("/news/amodei.html")], feeds=[site.url(path)], corpus_dir=corpus, fetcher=FAST
    )
    assert len(report.added) == 1  # the article still went in
    (failed,) = report.failed
    assert failed.source == site.url(path) and reason in failed.reason
    assert FeedStore(corpus).feeds() == []


def test_update_with_no_subscriptions_does_nothing(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    report = update_feeds(corpus_dir=tmp_path / "corpus", fetcher=FAST)
    assert report.ok and report.feeds == () and report.added == ()


def test_update_of_a_corpus_folder_that_does_not_exist_is_refused_not_created(
    tmp_path: Path,
) -> None:
    with pytest.raises(CorpusError, match=r"No corpus folder at .*check --corpus"):
        update_feeds(corpus_dir=tmp_path / "typo", fetcher=FAST)
    assert not (tmp_path / "typo").exists()


def test_a_feed_cannot_send_terminal_escapes() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>&#27;[31mCHANNEL&#27;]0;pwn'
        b"&#7;</title><item><guid>g1</guid><title>&#27;[2JItem</title>"
        b"<author>&#27;[31mAnn</author></item></channel></rss>"
    )
    title, (entry,) = parse_feed(body, "application/rss+xml", url="http://127.0.0.1:1/f.xml")
    for value in (title, entry.title, entry.author):
        assert value and "\x1b" not in value and "\x07" not in value


def test_atom_and_rss_entries_parse() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b'<entry><id>urn:1</id><link href="/a/1"/><title> One </title>'
        b"<updated>2026-06-17T07:30:00Z</updated><author><name>Ann</name></author></entry></feed>"
    )
    title, entries = parse_feed(body, "application/atom+xml", url="http://127.0.0.1:1/f.xml")
    assert title == "T"
    (entry,) = entries
    assert (entry.guid, entry.link, entry.title, entry.published, entry.author) == (
        "urn:1",
        "http://127.0.0.1:1/a/1",
        "One",
        "2026-06-17",
        "Ann",
    )


def test_fetching_shows_a_bar_on_stderr_unless_quiet(site: Site, tmp_path: Path) -> None:
    """Each fetch may take the whole timeout: `add` and `update` say what they are fetching."""
    import contextlib
    import io

    corpus = tmp_path / "corpus"
    for progress in (True, False):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            add_sources(
                [site.url("/news/funding.html")],
                feeds=[site.url("/feeds/rss.xml")],
                corpus_dir=corpus / str(progress),
                fetcher=FAST,
                progress=progress,
            )
        shown = err.getvalue()
        assert ("Adding" in shown and "Fetching entries of 127.0.0.1" in shown) is progress
        assert shown == "" or progress


# -- the whole flow, through the command line, with the real model ----------------------------


def test_subscribe_update_search_with_syndicated_copies_folded(
    site: Site, tmp_path: Path, embedder: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from coverage_search.cli import main

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    where = ["--corpus", str(corpus), "--index", str(index), "--quiet"]
    rss_url, atom_url = site.url("/feeds/rss.xml"), site.url("/feeds/atom.xml")
    code = main(["add", "--feed", rss_url, "--feed", atom_url, *where])
    out, err = capsys.readouterr()
    assert code == 1  # the Atom feed links one missing page
    assert f"failed {site.url('/partner/missing.html')}: HTTP 404: Not Found" in err
    assert out.count("added ") == 3 and "Indexed 3 documents" in out

    assert (
        main(["search", "Why did Dario Amodei leave OpenAI?", "--json", "--index", str(index)]) == 0
    )
    hits = json.loads(capsys.readouterr().out)["hits"]
    top = hits[0]
    assert top["doc_id"] == "wire-service-why-dario-amodei-left-openai.md"  # earliest copy
    assert [(c["outlet"], c["url"]) for c in top["also_in"]] == [
        ("Partner Daily", site.url("/partner/amodei-copy.html"))
    ]
    assert all(
        h["doc_id"] != "partner-daily-inside-the-split-that-created-anthropic.md" for h in hits
    )

    assert main(["feeds", "--corpus", str(corpus), "--json"]) == 0
    feeds = json.loads(capsys.readouterr().out)
    assert [f["url"] for f in feeds] == [rss_url, atom_url]

    before = article_hits(site)
    site.routes["/partner/missing.html"] = site.routes["/news/spanish.html"]
    assert main(["update", *where]) == 0
    out, _ = capsys.readouterr()
    assert "feed Wire Service: AI: not modified" in out and "added el-diario" in out
    assert article_hits(site) == before + 1  # only the entry that failed before
    assert main(["update", *where]) == 0
    assert "Nothing new to index." in capsys.readouterr().out

    copy = "partner-daily-inside-the-split-that-created-anthropic.md"
    assert main(["remove", copy, *where]) == 0
    assert f"removed {copy}" in capsys.readouterr().out
    assert (
        main(["search", "Why did Dario Amodei leave OpenAI?", "--json", "--index", str(index)]) == 0
    )
    assert json.loads(capsys.readouterr().out)["hits"][0]["also_in"] == []
    assert main(["remove", copy, *where]) == 1
    assert "No document" in capsys.readouterr().err


def test_long_guids_are_remembered_by_their_hash_so_the_state_stays_small(
    site: Site, tmp_path: Path
) -> None:
    """Link-less entries are given up and remembered; a feed of huge GUIDs once grew the state
    file past its cap, which locked every subscription and `add` out."""
    items = "".join(
        f"<item><guid>{str(n) * 50_000}</guid><title>T{n}</title></item>" for n in range(3)
    )
    channel = f"<channel><title>Big</title>{items}</channel>"
    body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'
    site.routes["/feeds/big.xml"] = Route(body.encode(), content_type="application/rss+xml")
    corpus = tmp_path / "corpus"
    report = add_sources([], feeds=[site.url("/feeds/big.xml")], corpus_dir=corpus, fetcher=FAST)
    assert report.feeds[0].entries == 3 and len(report.failed) == 3
    assert all(len(f.source) <= 71 and "given up" in f.reason for f in report.failed)
    state = (corpus / STATE_FILE).read_text()
    assert len(state) < 2_000
    again = update_feeds(corpus_dir=corpus, fetcher=FAST)  # remembered: nothing new
    assert again.feeds[0].new == 0 and not again.failed
