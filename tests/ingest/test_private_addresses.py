"""A page or feed on the web cannot make the tool read the machine's own services.

The test servers all run on 127.0.0.1, so here 127.0.0.1 plays the public site and the name
"localhost" the machine's private service (is_local_host is patched to say so, and the
connection-time check to let 127.0.0.1 through); the real classification of addresses, and
the connection-time check against a name that changes its answer, are tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from coverage_search.ingest import fetch, transport
from coverage_search.ingest.add import add_sources
from coverage_search.ingest.fetch import Fetcher
from coverage_search.sources.urls import is_local_host
from http_fixture import Route, Site, article_html, rss, serve

FAST = Fetcher(timeout=2.0, max_bytes=1024 * 1024)


@pytest.fixture()
def sites(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, Site]]:
    monkeypatch.setattr(fetch, "is_local_host", lambda host, **_: host == "localhost")
    monkeypatch.setattr(transport, "is_local_address", lambda address: False)
    with serve(Site()) as public, serve(Site()) as private:
        private.routes["/admin"] = Route(
            article_html(
                "Admin",
                ["The admin token is SECRET-TOKEN-12345 for this host, and only this host. " * 3],
                site_name="Intranet",
            ).encode()
        )
        yield public, private


def _private(private: Site, path: str = "/admin") -> str:
    return private.url(path).replace("127.0.0.1", "localhost")


def test_a_redirect_from_the_web_to_a_private_address_is_refused(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    public, private = sites
    public.routes["/go"] = Route(status=302, location=_private(private))
    report = add_sources([public.url("/go")], corpus_dir=tmp_path / "c", fetcher=FAST)
    (failed,) = report.failed
    assert "local or private address (localhost)" in failed.reason
    assert private.hits.get("/admin", 0) == 0 and not report.added


def test_a_feed_on_the_web_cannot_list_a_private_address(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    public, private = sites
    items = [("g1", _private(private), "Admin", "Tue, 16 Jun 2026")]
    public.routes["/feed.xml"] = Route(
        rss("Feed", items).encode(), content_type="application/rss+xml"
    )
    report = add_sources(
        [], feeds=[public.url("/feed.xml")], corpus_dir=tmp_path / "c", fetcher=FAST
    )
    assert [f.source for f in report.failed] == [_private(private)]
    assert private.hits.get("/admin", 0) == 0 and not report.added


def test_a_private_address_the_user_gives_is_fetched(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    _, private = sites
    report = add_sources([_private(private)], corpus_dir=tmp_path / "c", fetcher=FAST)
    assert len(report.added) == 1 and private.hits["/admin"] == 1


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True), ("10.1.2.3", True), ("192.168.0.7", True), ("172.16.4.4", True),
        ("169.254.169.254", True), ("[::1]", True), ("fd00::1", True), ("0.0.0.0", True),
        ("localhost", True), ("db.localhost", True), ("8.8.8.8", False),
        ("2001:4860:4860::8888", False), (None, False),
        # IPv6 addresses that carry an IPv4 one reach that one
        ("[::ffff:127.0.0.1]", True), ("[::127.0.0.1]", True), ("[64:ff9b::7f00:1]", True),
        ("[64:ff9b::a9fe:a9fe]", True), ("[2002:c0a8:101::1]", True), ("[2002:7f00:1::]", True),
        ("[64:ff9b:1::808:808]", True), ("[::ffff:0:7f00:1]", True), ("[::ffff:8.8.8.8]", False),
        ("[64:ff9b::808:808]", False), ("[2002:808:808::1]", False),
    ],
)  # fmt: skip
def test_local_and_private_addresses_are_told_apart(host: str | None, local: bool) -> None:
    assert is_local_host(host, resolve=False) is local


def test_names_are_judged_by_what_they_resolve_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real rule with names: looked up (once each), public origin to private target only."""
    import socket

    from coverage_search.errors import FetchError
    from coverage_search.sources import urls

    table = {"news.example": "93.184.216.34", "intranet.example": "10.0.0.5"}
    asked: list[str] = []

    def lookup(host: str, *_: object, **__: object) -> list[tuple[object, ...]]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], 0))]

    monkeypatch.setattr(urls.socket, "getaddrinfo", lookup)
    urls.forget_hosts()
    try:
        with pytest.raises(FetchError, match=r"private address \(intranet.example\)"):
            fetch._check_reach("u", "http://news.example/feed", "http://intranet.example/x")
        fetch._check_reach("u", "http://intranet.example/feed", "http://intranet.example/y")
        fetch._check_reach("u", "http://intranet.example/feed", "http://news.example/a")
        fetch._check_reach("u", "http://news.example/feed", "http://nowhere.example/a")
        with pytest.raises(FetchError):
            fetch._check_reach("u", "http://news.example/a", "http://intranet.example:8/x")
        assert len(asked) == len(set(asked)) == 3  # each name looked up once
    finally:
        urls.forget_hosts()


def test_a_feed_entry_sent_to_a_private_address_is_given_up_at_once(
    sites: tuple[Site, Site], tmp_path: Path
) -> None:
    """No retry can make that redirect allowed, so the entry is not fetched five more times."""
    from coverage_search import list_feeds
    from coverage_search.ingest.add import update_feeds

    public, private = sites
    public.routes["/go"] = Route(status=302, location=_private(private))
    items = [("g1", public.url("/go"), "Go", "Tue, 16 Jun 2026")]
    public.routes["/feed.xml"] = Route(
        rss("Feed", items).encode(), content_type="application/rss+xml"
    )
    corpus = tmp_path / "c"
    report = add_sources([], feeds=[public.url("/feed.xml")], corpus_dir=corpus, fetcher=FAST)
    (failed,) = report.failed
    assert "given up (no retry can change that)" in failed.reason
    again = update_feeds(corpus_dir=corpus, fetcher=FAST)
    assert not again.failed and public.hits["/go"] == 1 and private.hits.get("/admin", 0) == 0
    (feed,) = list_feeds(corpus)
    assert feed.given_up == 1 and feed.last_error is None  # `feeds` still says it was lost


@pytest.fixture()
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A name that looks up as a public address once, then as 127.0.0.1 (DNS rebinding)."""
    import socket

    from coverage_search.sources import urls

    real = socket.getaddrinfo
    answers = {"rebind.example": ["93.184.216.34"]}

    def lookup(host: str, port: object, *args: object, **kwargs: object) -> list[object]:
        if host in answers:
            address = answers[host].pop() if answers[host] else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    urls.forget_hosts()
    try:
        with serve(Site()) as site:
            page = article_html("Admin", ["The admin token is SECRET. " * 6], site_name="Local")
            site.routes["/admin"] = Route(page.encode())
            yield site
    finally:
        urls.forget_hosts()


def test_a_public_name_that_answers_with_a_local_address_is_not_read(
    rebinding: Site, tmp_path: Path
) -> None:
    url = rebinding.url("/admin").replace("127.0.0.1", "rebind.example")
    report = add_sources([url], corpus_dir=tmp_path / "c", fetcher=FAST)
    (failed,) = report.failed
    assert "looked up as a public address but answered with a local or private one" in (
        failed.reason
    )
    assert "(127.0.0.1)" in failed.reason
    assert rebinding.hits.get("/admin", 0) == 0 and not report.added


def test_a_local_url_the_user_gives_is_connected_to(rebinding: Site, tmp_path: Path) -> None:
    """The connection check is for public pages only: 127.0.0.1 named as such is read."""
    report = add_sources([rebinding.url("/admin")], corpus_dir=tmp_path / "c", fetcher=FAST)
    assert len(report.added) == 1 and rebinding.hits["/admin"] == 1


def test_a_name_trusted_as_local_that_reached_the_web_is_judged_public(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Reverse rebinding: a feed's name looks up as private when checked (so it passes for the
    user's own service, free to list local hosts) and as the open web when connected to. What
    it serves is then a page from the web, and its entries may not reach local addresses."""

    from coverage_search.sources import urls

    # 127.0.0.1 plays the open web here (the connection check is told so); 10.0.0.x is local.
    # The test server stands in for both the feed's site and the intranet page a connection
    # to intranet.example would reach.
    answers = {
        "flip.example": ["127.0.0.1", "10.0.0.5"],
        "intranet.example": ["127.0.0.1", "10.0.0.6"],
    }
    _flipping(monkeypatch, answers, lambda address: address == "127.0.0.1")
    try:
        with serve(Site()) as site:
            entry = site.url("/admin").replace("127.0.0.1", "intranet.example")
            items = [("g1", entry, "Admin", "Tue, 16 Jun 2026")]
            page = article_html("Admin", ["The admin token is SECRET. " * 6], site_name="Intra")
            site.routes["/admin"] = Route(page.encode())
            site.routes["/feed.xml"] = Route(
                rss("Feed", items).encode(), content_type="application/rss+xml"
            )
            feed = site.url("/feed.xml").replace("127.0.0.1", "flip.example")
            report = add_sources([], feeds=[feed], corpus_dir=tmp_path / "c", fetcher=FAST)
            assert site.hits["/feed.xml"] == 1  # the feed was read, from "the web"
            assert site.hits.get("/admin", 0) == 0 and not report.added
        (failed,) = report.failed
        assert failed.source == entry and "local or private address (intranet.example)" in (
            failed.reason
        )
    finally:
        urls.forget_hosts()


def test_names_seen_public_are_remembered_within_a_bound() -> None:
    """A long-lived app fetching for months keeps at most _REMEMBERED names, newest kept."""
    from coverage_search.sources import urls

    urls.forget_hosts()
    try:
        for n in range(urls._REMEMBERED + 10):
            urls.note_public(f"site{n}.example.", "93.184.216.34")
        urls.note_public("[2001:4860:4860::8888]", "2001:4860:4860::8888")  # judged as it is
        assert len(urls._REACHED_PUBLIC) == urls._REMEMBERED
        assert "site0.example" not in urls._REACHED_PUBLIC
        assert f"site{urls._REMEMBERED + 9}.example" in urls._REACHED_PUBLIC
        assert not urls.is_local_host(f"site{urls._REMEMBERED + 9}.example")
    finally:
        urls.forget_hosts()


def _flipping(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]], public: Callable[[str], bool]
) -> None:
    """Names that answer their lookups from `answers` (the last address first, then the rest,
    the first one for good), and a connection check that takes `public(address)` as truth."""
    import socket

    from coverage_search.sources import urls

    real = socket.getaddrinfo

    def lookup(host: str, port: object, *args: object, **kwargs: object) -> list[object]:
        if host in answers:
            queue = answers[host]
            address = queue.pop() if len(queue) > 1 else queue[0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))]
        return real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    monkeypatch.setattr(transport, "is_local_address", lambda address: not public(address))
    urls.forget_hosts()


def test_a_dual_stack_home_server_reached_by_an_address_its_lookup_gave_stays_local() -> None:
    """A NAS with a global IPv6 and a private IPv4, under a name no public zone hands out, is
    the user's own service: reached over the IPv6 its lookup gave, it is still trusted to
    list other local hosts. A public name with the same answers is not."""
    import socket

    from coverage_search.sources import urls

    urls.forget_hosts()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(
                urls.socket,
                "getaddrinfo",
                lambda *a, **k: [
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8:1::5", 0, 0, 0)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 0)),
                ],
            )
            assert urls.is_local_host("nas.home.arpa")
            urls.note_public("nas.home.arpa", "2001:db8:1::5")  # an answer it gave
            assert urls.is_local_host("nas.home.arpa")
            urls.note_public("nas.home.arpa", "93.184.216.34")  # an answer it did not give
            assert not urls.is_local_host("nas.home.arpa")
            # A public zone can answer with a local address and its own server at once: the
            # public peer decides, or its server could redirect to 169.254.169.254.
            assert urls.is_local_host("evil.example")
            urls.note_public("evil.example", "2001:db8:1::5")
            assert not urls.is_local_host("evil.example")
            with pytest.raises(Exception, match="local or private address"):
                fetch._check_reach("u", "http://evil.example/", "http://169.254.169.254/latest")
    finally:
        urls.forget_hosts()


def test_each_redirect_hop_is_judged_by_what_the_origin_turned_out_to_be(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The origin looked up as local (10.0.0.5) but its connection reached the web; its
    redirect to a name that looks up public and then answers with a local address is not
    read, as a public page's would not be."""
    from coverage_search.sources import urls

    connections: list[str] = []

    def public(address: str) -> bool:  # the test server plays the web first, then a local host
        connections.append(address)
        return len(connections) == 1

    _flipping(
        monkeypatch,
        {"flip.example": ["127.0.0.1", "10.0.0.5"], "turn.example": ["127.0.0.1", "93.184.216.34"]},
        public,
    )
    try:
        with serve(Site()) as site:
            page = article_html("Admin", ["The admin token is SECRET. " * 6], site_name="Intra")
            site.routes["/admin"] = Route(page.encode())
            site.routes["/go"] = Route(
                status=302, location=site.url("/admin").replace("127.0.0.1", "turn.example")
            )
            start = site.url("/go").replace("127.0.0.1", "flip.example")
            report = add_sources([start], corpus_dir=tmp_path / "c", fetcher=FAST)
            assert site.hits["/go"] == 1 and site.hits.get("/admin", 0) == 0
        (failed,) = report.failed
        assert "answered with a local or private one" in failed.reason and not report.added
    finally:
        urls.forget_hosts()
