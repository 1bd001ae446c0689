"""HTTP fetching for `add` and feeds: timeouts, caps, content-type checks, conditional GET.

Only the standard library (urllib, through transport.py) talks to the network. Redirects are
followed by hand so the cap, loop detection and URL check apply to every hop; the body is read
in chunks so a huge response is cut off by size, and a wall-clock deadline bounds it all.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from importlib import metadata

from coverage_search.errors import FetchError, QueryError
from coverage_search.ingest.decoding import decode_body
from coverage_search.ingest.transport import (
    CutOffError,
    Deadline,
    LocalAddressError,
    opener,
    set_socket_timeout,
)
from coverage_search.ingest.unpacking import unpacked
from coverage_search.sources.metadata import printable
from coverage_search.sources.urls import ascii_url, is_local_host, url_problem

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+json",
        "text/plain",  # some servers label feeds this way; feedparser decides
    }
)
DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


def _version() -> str:
    try:
        return metadata.version("coverage-search")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "dev"


USER_AGENT = f"coverage-search/{_version()} (+local research tool)"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP response that passed every check (or a 304 when `not_modified`)."""

    url: str  # what was asked for
    final_url: str  # after redirects
    status: int
    content_type: str  # media type only, lower case ("" when the server sent none)
    charset: str | None  # as declared in the Content-Type header
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when a conditional GET found nothing new (HTTP 304)."""
        return self.status == 304

    def text(self) -> str:
        """The body decoded: declared charset, then BOM/meta/XML declaration, then detection."""
        return decode_body(self.body, self.charset, url=self.final_url)


@dataclass(frozen=True, slots=True)
class Fetcher:
    """Fetch settings shared by every request of one `add` or `update` run."""

    timeout: float = DEFAULT_TIMEOUT  # seconds for the whole response, not per read
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    user_agent: str = USER_AGENT

    def fetch(
        self,
        url: str,
        *,
        accept: frozenset[str] = HTML_TYPES,
        etag: str | None = None,
        last_modified: str | None = None,
        origin: str | None = None,
    ) -> FetchResult:
        """GET `url`; raise FetchError with the URL, a reason and the HTTP status on any failure.

        `timeout` bounds the whole exchange by the clock: connecting, every redirect, the
        headers and the body, however slowly the server sends them. `origin` is the page that
        led here (a feed): neither it nor a redirect from a public site may lead to a local
        or private address (_check_reach).
        """
        _check_url(url, url)
        if origin is not None:
            _check_reach(url, origin, url)
        deadline = Deadline(self.timeout)
        try:
            return self._fetch(url, accept, etag, last_modified, deadline, origin or url)
        except FetchError:
            if deadline.expired:  # whatever broke, it broke because the time was up
                raise self._timed_out(url, deadline) from None
            raise
        finally:
            deadline.close()

    def _fetch(
        self,
        url: str,
        accept: frozenset[str],
        etag: str | None,
        last_modified: str | None,
        deadline: Deadline,
        origin: str,
    ) -> FetchResult:
        seen: list[str] = []
        current = url
        while True:
            seen.append(current)
            # A page from the open web: every connection must reach a public address. Judged
            # at each hop: an origin that looked up as local may have turned out public.
            public = not is_local_host(urllib.parse.urlsplit(origin).hostname)
            director = opener(deadline, public_only=public)
            request = urllib.request.Request(
                ascii_url(current), headers=self._headers(accept, etag, last_modified)
            )
            try:
                response = director.open(request, timeout=deadline.left())
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code == 304:
                    return FetchResult(
                        url=url,
                        final_url=current,
                        status=304,
                        content_type="",
                        charset=None,
                        body=b"",
                        etag=exc.headers.get("ETag") or etag,
                        last_modified=exc.headers.get("Last-Modified") or last_modified,
                    )
                location = (
                    exc.headers.get("Location") if exc.code in (301, 302, 303, 307, 308) else None
                )
                if location is None:
                    raise FetchError(
                        url, _status_reason(exc.code, exc.reason), status=exc.code
                    ) from None
                current = self._next_hop(url, current, location, seen)
                _check_reach(url, origin, current)
                continue
            except TimeoutError:
                raise self._timed_out(url, deadline) from None
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    raise self._timed_out(url, deadline) from None
                raise FetchError(url, _network_reason(exc.reason)) from None
            except CutOffError as exc:
                raise FetchError(url, str(exc)) from None
            except http.client.RemoteDisconnected:
                raise FetchError(url, "the server closed the connection without a reply") from None
            except http.client.HTTPException as exc:  # a status line that is not HTTP
                raise FetchError(url, f"not a valid HTTP reply ({type(exc).__name__})") from None
            except (OSError, ValueError) as exc:
                raise FetchError(url, f"could not connect ({exc})") from None
            with response:
                assert isinstance(response, http.client.HTTPResponse)
                return self._read(url, current, response, accept, deadline)

    def _timed_out(self, url: str, deadline: Deadline) -> FetchError:
        """The timeout, with the time it really took (the limit too, when they differ)."""
        took = f"{round(deadline.elapsed(), 1):g}"
        limit = f"{self.timeout:g}"
        return FetchError(
            url, f"timed out after {took} s" + ("" if took == limit else f" (limit {limit} s)")
        )

    def _headers(
        self, accept: frozenset[str], etag: str | None, last_modified: str | None
    ) -> dict[str, str]:
        headers = {
            "User-Agent": self.user_agent,
            "Accept": ", ".join(sorted(accept)) + ", */*;q=0.1",
            "Accept-Encoding": "identity",  # the size cap counts what we store, so no compression
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    def _next_hop(self, url: str, current: str, location: str, seen: list[str]) -> str:
        target = urllib.parse.urljoin(current, location)
        _check_url(url, target)
        if urllib.parse.urldefrag(target)[0] in {urllib.parse.urldefrag(s)[0] for s in seen}:
            raise FetchError(url, f"redirect loop (back to {target})")
        if len(seen) > self.max_redirects:
            raise FetchError(url, f"more than {self.max_redirects} redirects")
        return target

    def _read(
        self,
        url: str,
        final_url: str,
        response: http.client.HTTPResponse,
        accept: frozenset[str],
        deadline: Deadline,
    ) -> FetchResult:
        headers: Message = response.headers
        status = response.status
        content_type = headers.get_content_type() if headers.get("Content-Type") else ""
        if content_type and content_type not in accept:
            raise FetchError(url, f"not a supported type ({content_type})", status=status)
        declared = headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                url, f"too large ({int(declared):,} bytes; the cap is {self.max_bytes:,})"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                # read1 returns what has arrived instead of waiting for a full chunk; each wait
                # is bounded by the time left, and the deadline shuts the socket at the end.
                set_socket_timeout(response, deadline.left())
                chunk = response.read1(_CHUNK)
                if deadline.expired:
                    raise self._timed_out(url, deadline)
                if not chunk:
                    break
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(url, f"too large (over the cap of {self.max_bytes:,} bytes)")
                chunks.append(chunk)
        except TimeoutError:
            raise self._timed_out(url, deadline) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(url, f"connection broke while reading ({exc!r})") from None
        if response.length:  # fewer bytes than Content-Length said: a cut-off reply
            raise FetchError(
                url, f"the reply was cut off ({size:,} bytes of {size + response.length:,})"
            )
        coding = ", ".join(headers.get_all("Content-Encoding") or [])  # each header line
        body = unpacked(url, b"".join(chunks), coding, self.max_bytes)
        if not content_type and accept is HTML_TYPES and not _looks_like_html(body):
            raise FetchError(
                url, "not HTML (no Content-Type and the body is not a web page)", status=status
            )
        return FetchResult(
            url=url,
            final_url=final_url,
            status=status,
            content_type=content_type,
            charset=headers.get_content_charset(),
            body=body,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
        )


MAX_TIMEOUT = 86_400  # a day: no page takes longer, and threading's timers refuse much more


def fetcher_for(timeout: float | None) -> Fetcher | None:
    """A fetcher with `timeout` seconds for each whole request (None: the default one)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise QueryError("timeout must be a positive number of seconds.")
    if not (0 < timeout <= MAX_TIMEOUT):  # a larger wait overflows the clock's timers
        raise QueryError(f"timeout must be a positive number of seconds, at most {MAX_TIMEOUT:,}.")
    return Fetcher(timeout=float(timeout))


def fetch(
    url: str, *, accept: frozenset[str] = HTML_TYPES, timeout: float = DEFAULT_TIMEOUT
) -> FetchResult:
    """GET one URL with default caps (see `Fetcher` for all settings)."""
    return Fetcher(timeout=timeout).fetch(url, accept=accept)


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head


def _check_url(url: str, target: str) -> None:
    if problem := url_problem(target):
        raise FetchError(url, problem, lasting=True)
    # Only for fetching: a stored address with a space (front matter) stays an address.
    text = target.strip()
    if any(c.isspace() or not c.isprintable() for c in text):
        raise FetchError(
            url,
            "not a valid URL to fetch: it holds a space or control character (write %20)",
            lasting=True,
        )
    parts = urllib.parse.urlsplit(text)
    if parts.username is not None or parts.password is not None:
        raise FetchError(
            url,
            "URLs with a user name or password are not fetched: leave out the user:password@",
            lasting=True,
        )


def _check_reach(url: str, origin: str, target: str) -> None:
    """Refuse a hop from a public origin to a local or private address: a feed or a redirect
    must not make the tool read the machine's own services (a database port, a cloud's
    metadata address). A URL the user gives on a local host may lead to local hosts."""
    came_from, going_to = (
        urllib.parse.urlsplit(origin).hostname,
        urllib.parse.urlsplit(target).hostname,
    )
    if going_to == came_from or is_local_host(came_from) or not is_local_host(going_to):
        return
    raise FetchError(
        url,
        f"leads from {came_from} to a local or private address ({going_to}), which a page on "
        "the web may not send us to: add that URL yourself if it is meant",
        lasting=True,
    )


def _status_reason(code: int, reason: object) -> str:
    text = " ".join(printable(str(reason or "")).split())[:200]  # a server's words, shown
    return text or http.client.responses.get(code, "request failed")


def _network_reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "host not found (check the URL or your connection)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, LocalAddressError):  # DNS rebinding
        return str(reason)
    return f"could not connect ({reason})"
