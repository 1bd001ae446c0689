"""A local web site on 127.0.0.1 (random free port) serving the pages and feeds the tests need.

Every request is counted per path, so a test can prove a rerun fetched nothing new. Pages are
written here for the tests: an article, a syndicated copy of it under another headline with
boilerplate, another article on the same topic, RSS and Atom feeds, redirects (and a loop), a
slow page, a huge body, mislabeled and missing charsets, binary bytes and a PDF.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    """What one path answers."""

    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None
    delay: float = 0.0  # seconds before the status line (a slow server)
    etag: str | None = None
    last_modified: str | None = None
    stream_bytes: int = 0  # > 0: send this many filler bytes in chunks, no Content-Length
    declared_length: int | None = None  # a Content-Length header that claims this size
    drip: float = 0.0  # > 0: send the body one byte every `drip` seconds (a trickling server)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    """Routes by path, and a count of requests by path (with the headers of the last one)."""

    base: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    last_headers: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def total(self) -> int:
        with self.lock:
            return sum(self.hits.values())


class _Handler(BaseHTTPRequestHandler):
    site: Site
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        site = self.site
        path = urlsplit(self.path).path  # the query string (trackers) does not pick the page
        with site.lock:
            site.hits[path] += 1
            site.last_headers[path] = {k.lower(): v for k, v in self.headers.items()}
        route = site.routes.get(path)
        if route is None:
            self._send(404, b"<html><body>Not found</body></html>", "text/html")
            return
        if route.delay:
            time.sleep(route.delay)
        if route.location:
            self._send(route.status, b"", None, {"Location": route.location})
            return
        validators = {}
        if route.etag:
            validators["ETag"] = route.etag
        if route.last_modified:
            validators["Last-Modified"] = route.last_modified
        etag_match = route.etag and self.headers.get("If-None-Match") == route.etag
        date_match = (
            route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
        )
        if etag_match or (date_match and not self.headers.get("If-None-Match")):
            self._send(304, b"", None, validators)
            return
        if route.stream_bytes:
            self._stream(route)
            return
        if route.drip:
            self._drip(route)
            return
        headers = {**validators, **route.headers}
        self._send(route.status, route.body, route.content_type, headers, route.declared_length)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(declared_length or len(body)))
        if declared_length:
            self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)
        if declared_length:
            self.close_connection = True

    def _drip(self, route: Route) -> None:
        self.send_response(200)
        self.send_header("Content-Type", route.content_type or "text/html")
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.flush()
        with contextlib.suppress(OSError):  # the client hangs up when its deadline passes
            for i in range(len(route.body)):
                self.wfile.write(route.body[i : i + 1])
                self.wfile.flush()
                time.sleep(route.drip)
        self.close_connection = True

    def _stream(self, route: Route) -> None:
        self.send_response(200)
        self.send_header("Content-Type", route.content_type or "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"filler " * 1000 + b"</p>\n"
        sent = 0
        with contextlib.suppress(OSError):  # the client hangs up once it hits its cap
            self.wfile.write(b"<html><body>")
            while sent < route.stream_bytes:
                self.wfile.write(chunk)
                sent += len(chunk)
        self.close_connection = True


@contextlib.contextmanager
def serve(site: Site) -> Iterator[Site]:
    """Run `site` on 127.0.0.1 at a free port in a background thread; sets `site.base`."""
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the pages ---------------------------------------------------------------------------

WIRE_PARAGRAPHS = [
    "Dario Amodei, OpenAI's former vice president of research, left the company in December "
    "2020 with a group of colleagues and went on to co-found Anthropic in early 2021 as a rival "
    "lab built around safety-first model development.",
    "People familiar with the departure said the disagreement was about how fast to scale and "
    "how to govern increasingly powerful systems. The group believed scaling laws made safety "
    "research urgent rather than optional, and wanted an institution designed around that "
    "belief from the start.",
    "Anthropic has since raised billions of dollars from investors including Amazon and Google, "
    "and its Claude assistant now competes directly with ChatGPT for business customers. The "
    "company says its constitution-based training makes models easier to steer and audit.",
    "OpenAI announced on December 29, 2020, that Amodei was leaving after nearly five years. "
    "Several researchers who left with him now run Anthropic's policy, interpretability and "
    "product teams.",
    "Analysts say the split shaped the industry's central argument: whether safety is a "
    "constraint on the race, or the only way to win it. Regulators in Washington and Brussels "
    "now cite both labs when they draft rules for frontier models.",
]

OTHER_PARAGRAPHS = [
    "Anthropic, the artificial intelligence company founded by former OpenAI staff, said on "
    "Tuesday it had closed a new funding round that values the start-up far above last year's "
    "figure. The money will pay for computing capacity and for hiring engineers in London and "
    "Tokyo, the company said in a statement.",
    "Chief executive Dario Amodei told reporters the company expects revenue to triple this "
    "year as large enterprises adopt its Claude models for coding and customer service. He "
    "declined to comment on reports of talks with sovereign wealth funds.",
    "Competition for chips and talent has pushed AI valuations to records. OpenAI, Google and "
    "Meta are all spending heavily on data centers, and investors have questioned how quickly "
    "those costs can be recovered.",
]

BOILERPLATE = (
    "Sign up for the Partner Daily newsletter to get the most important technology stories in "
    "your inbox every morning. Copyright 2026 Partner Daily Media. All rights reserved."
)


def article_html(
    title: str,
    paragraphs: list[str],
    *,
    site_name: str,
    canonical: str | None = None,
    published: str | None = None,
    author: str | None = None,
    lang: str = "en",
    charset_meta: str | None = "utf-8",
    extra_top: str = "",
    extra_bottom: str = "",
) -> str:
    """A news page: head metadata, navigation, the article, a footer."""
    head = [f'<meta charset="{charset_meta}">' if charset_meta else ""]
    head.append(f"<title>{title} | {site_name}</title>")
    head.append(f'<meta property="og:site_name" content="{site_name}">')
    head.append(f'<meta property="og:title" content="{title}">')
    if canonical:
        head.append(f'<link rel="canonical" href="{canonical}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        head.append(f'<meta name="author" content="{author}">')
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (
        f'<!doctype html>\n<html lang="{lang}"><head>{"".join(head)}</head><body>\n'
        f"<nav><a href='/'>Home</a> | <a href='/tech'>Tech</a> | <a href='/world'>World</a></nav>\n"
        f"<article><h1>{title}</h1>\n{extra_top}{body}{extra_bottom}</article>\n"
        f"<footer><p>About us | Contact | Privacy</p></footer></body></html>\n"
    )


def rss(title: str, items: list[tuple[str, str, str, str]]) -> str:
    """RSS 2.0 with (guid, link, title, pubDate) items."""
    entries = "".join(
        f"<item><guid>{guid}</guid><link>{link}</link><title>{t}</title>"
        f"<pubDate>{date}</pubDate><author>desk@example.org (AI desk)</author></item>"
        for guid, link, t, date in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://example.org/</link><description>AI news</description>"
        f"{entries}</channel></rss>\n"
    )


def atom(title: str, entries: list[tuple[str, str, str, str]]) -> str:
    """Atom 1.0 with (id, link, title, updated) entries."""
    items = "".join(
        f'<entry><id>{eid}</id><link href="{link}"/><title>{t}</title><updated>{date}</updated>'
        f"<author><name>Wire Desk</name></author></entry>"
        for eid, link, t, date in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{title}</title><id>urn:test:atom</id><updated>2026-06-17T00:00:00Z</updated>"
        f"{items}</feed>\n"
    )


LAST_MODIFIED = formatdate(1781000000, usegmt=True)


def news_site(site: Site) -> Site:
    """Fill `site` (already serving, so `site.base` is known) with the test pages and feeds."""
    base = site.base
    r = site.routes
    r["/news/amodei.html"] = Route(
        article_html(
            "Why Dario Amodei left OpenAI",
            WIRE_PARAGRAPHS,
            site_name="Wire Service",
            canonical=f"{base}/news/amodei.html",
            published="2026-06-16T09:00:00Z",
            author="Jane Reporter",
        ).encode()
    )
    r["/partner/amodei-copy.html"] = Route(
        article_html(
            "Inside the Split That Created Anthropic",
            WIRE_PARAGRAPHS[:-1],
            site_name="Partner Daily",
            published="2026-06-17T07:30:00Z",
            extra_top="<p>Advertisement. Scroll to continue reading this story.</p>\n",
            extra_bottom=f"<p>{BOILERPLATE}</p>\n",
        ).encode()
    )
    r["/news/funding.html"] = Route(
        article_html(
            "Anthropic closes a new funding round",
            OTHER_PARAGRAPHS,
            site_name="Wire Service",
            published="2026-06-18T12:00:00Z",
        ).encode()
    )
    r["/news/spanish.html"] = Route(
        article_html(
            "Anthropic y la seguridad",
            [
                "Dario Amodei fundó Anthropic tras dejar OpenAI, con la seguridad como prioridad. "
                "La empresa creció rápidamente y ahora compite con OpenAI en productos para "
                "empresas y consumidores de todo el mundo.",
                "Los analistas creen que la rivalidad definirá la industria en los próximos años.",
            ],
            site_name="El Diario",
            lang="es-ES",
            published="2026-06-19",
        ).encode()
    )
    # Redirects: two hops to the article, a loop, and a chain longer than any sane cap.
    r["/go/amodei"] = Route(status=301, location="/go/amodei-2")
    r["/go/amodei-2"] = Route(status=302, location=f"{base}/news/amodei.html?utm_source=rss")
    r["/loop/a"] = Route(status=302, location="/loop/b")
    r["/loop/b"] = Route(status=302, location="/loop/a")
    for n in range(12):
        r[f"/chain/{n}"] = Route(status=302, location=f"/chain/{n + 1}")
    r["/chain/12"] = r["/news/funding.html"]
    r["/gone.html"] = Route(b"<html><body>Gone</body></html>", status=410)
    r["/error.html"] = Route(b"<html><body>Oops</body></html>", status=500)
    r["/slow.html"] = Route(r["/news/funding.html"].body, delay=2.0)
    r["/huge.html"] = Route(stream_bytes=3 * 1024 * 1024)
    r["/huge-declared.html"] = Route(b"<html></html>", declared_length=50 * 1024 * 1024)
    # Windows-1252 bytes sent as UTF-8, and without any declared charset at all.
    cafe = article_html(
        "Café owners test an AI barista",
        [
            "A café in Lyon let a naïve robot barista take orders for a week; the résumé of "
            "its mistakes — crème brûlée for a flat white — delighted the regulars.",
            "The owners said the experiment cost less than €2,000 and drew crowds every day.",
        ],
        site_name="Le Journal",
        charset_meta=None,
        lang="fr",
    )
    r["/mislabeled.html"] = Route(cafe.encode("cp1252"), content_type="text/html; charset=utf-8")
    r["/no-charset.html"] = Route(cafe.encode("cp1252"), content_type="text/html")
    r["/binary.html"] = Route(bytes(range(256)) * 64, content_type="text/html")
    r["/report.pdf"] = Route(b"%PDF-1.4\n%binary\n", content_type="application/pdf")
    r["/no-type"] = Route(r["/news/funding.html"].body, content_type=None)
    r["/empty.html"] = Route(b"<html><head><title>x</title></head><body></body></html>")
    # Feeds with validators for conditional GET.
    r["/feeds/rss.xml"] = Route(
        rss(
            "Wire Service: AI",
            [
                (
                    "wire-1",
                    f"{base}/news/amodei.html",
                    "Why Dario Amodei left OpenAI",
                    "Tue, 16 Jun 2026 09:00:00 GMT",
                ),
                (
                    "wire-2",
                    f"{base}/news/funding.html",
                    "Anthropic closes a new funding round",
                    "Thu, 18 Jun 2026 12:00:00 GMT",
                ),
            ],
        ).encode(),
        content_type="application/rss+xml",
        etag='"rss-v1"',
        last_modified=LAST_MODIFIED,
    )
    r["/feeds/atom.xml"] = Route(
        atom(
            "Partner Daily",
            [
                (
                    "urn:partner:1",
                    f"{base}/partner/amodei-copy.html",
                    "Inside the Split That Created Anthropic",
                    "2026-06-17T07:30:00Z",
                ),
                (
                    "urn:partner:2",
                    f"{base}/partner/missing.html",
                    "A story that is gone",
                    "2026-06-17T08:00:00Z",
                ),
            ],
        ).encode(),
        content_type="application/atom+xml",
        last_modified=LAST_MODIFIED,
    )
    r["/feeds/broken.xml"] = Route(
        b"<?xml version='1.0'?><rss><channel><title>Broken", content_type="application/xml"
    )
    r["/feeds/not-a-feed.html"] = r["/news/funding.html"]
    return site
