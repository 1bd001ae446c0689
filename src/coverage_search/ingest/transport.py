"""HTTP(S) through urllib, bounded by wall-clock time however slowly a server talks.

A socket timeout only bounds each wait, so a server sending its status line a byte every half
second never trips it. A `Deadline` is a timer that, when the request's time is up, shuts down
every socket the request opened: whatever read is waiting returns at once, and the fetcher
reports the timeout. Headers cut off before the blank line that ends them are an error, not
a reply with the headers that happened to arrive.

An opener for a public page (`public_only`) checks the address each connection reached before
a byte is sent: a name that looked up as public when the fetcher checked it may answer with
127.0.0.1 when the connection looks it up again (DNS rebinding). Any other direct connection
that reaches a public address tells `urls.note_public`, so a name that looked up as local, and
was trusted as the user's own service, is judged as the public site it turned out to be.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from coverage_search.sources.urls import is_local_address, note_public


class CutOffError(http.client.HTTPException):
    """The connection ended in the middle of the reply's headers."""


class LocalAddressError(OSError):
    """A connection made for a public page reached a local or private address."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(
            f"{host} looked up as a public address but answered with a local or private one "
            f"({address}) when connected to, so it was not read"
        )
        self.host = host
        self.address = address


class Deadline:
    """A request's time limit: when it passes, every socket `watch`ed is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        """Seconds until the deadline (never below a few milliseconds, for socket timeouts)."""
        return max(0.01, self.started + self.seconds - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def close(self) -> None:
        """The request is over: stop the timer, forget the sockets."""
        with self._lock:
            self._over = True
            self._sockets.clear()
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for an SSL socket: SSLSocket.shutdown would drop its
    # SSL object under the thread that is reading with it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _LastLine:
    """A response's file that remembers the last line read (so the end of headers is known)."""

    def __init__(self, fp: Any) -> None:
        self._fp = fp
        self.last = b""

    def readline(self, *args: Any) -> bytes:
        line: bytes = self._fp.readline(*args)
        self.last = line
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fp, name)


class _Response(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self._lines = _LastLine(self.fp)
        self.fp = self._lines  # type: ignore[assignment]

    def begin(self) -> None:
        super().begin()
        # http.client takes the end of the stream for the end of the headers.
        if self._lines.last not in (b"\r\n", b"\n"):
            raise CutOffError("the reply was cut off in the middle of its headers")


def _checked(
    host: str, connect: Callable[..., socket.socket], *, public_only: bool
) -> Callable[..., socket.socket]:
    """`connect` (socket.create_connection), noting a public peer; with `public_only`,
    refusing a socket whose peer is not public."""

    def checked(*args: Any, **kwargs: Any) -> socket.socket:
        sock = connect(*args, **kwargs)
        address = str(sock.getpeername()[0])
        if not is_local_address(address):
            note_public(host, address)
        elif public_only:
            sock.close()
            raise LocalAddressError(host, address)
        return sock

    return checked


def _connector(connection: http.client.HTTPConnection) -> Callable[..., socket.socket]:
    # http.client connects through this attribute (socket.create_connection), undeclared in
    # its type stubs.
    found: Callable[..., socket.socket] = getattr(
        connection, "_create_connection", socket.create_connection
    )
    return found


class _HTTPConnection(http.client.HTTPConnection):
    response_class = _Response

    def __init__(
        self, *args: Any, deadline: Deadline, public_only: bool, direct: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        if direct:
            self._create_connection = _checked(self.host, _connector(self), public_only=public_only)

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _HTTPSConnection(http.client.HTTPSConnection):
    response_class = _Response

    def __init__(
        self, *args: Any, deadline: Deadline, public_only: bool, direct: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        if direct:  # checked before the TLS handshake: nothing is sent to a local peer
            self._create_connection = _checked(self.host, _connector(self), public_only=public_only)

    def connect(self) -> None:
        super().connect()  # the TLS handshake is bounded per read by the socket timeout
        self._deadline.watch(self.sock)


def _direct(req: urllib.request.Request) -> bool:
    """True when `req` connects to its own host, not through a proxy (whose address is the
    user's choice and may well be local)."""
    return not req.has_proxy() and getattr(req, "_tunnel_host", None) is None


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline, public_only: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._public_only = public_only

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _HTTPConnection,
            deadline=self._deadline,
            public_only=self._public_only,
            direct=_direct(req),
        )
        return self.do_open(connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline, public_only: bool) -> None:
        super().__init__()
        self._deadline = deadline
        self._public_only = public_only

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(
            _HTTPSConnection,
            deadline=self._deadline,
            public_only=self._public_only,
            direct=_direct(req),
        )
        return self.do_open(connection, req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Turn every redirect into an HTTPError so the fetcher follows it under its own rules."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def set_socket_timeout(response: http.client.HTTPResponse, seconds: float) -> None:
    """Bound the next socket wait of `response` (urllib only sets one timeout per connection)."""
    sock = getattr(getattr(response.fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(max(0.01, seconds))


def opener(deadline: Deadline, *, public_only: bool = False) -> urllib.request.OpenerDirector:
    """An opener for HTTP(S) only (no file:, ftp: or data:), bounded by `deadline`; with
    `public_only`, a direct connection that reaches a non-public address is refused."""
    director = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.UnknownHandler(),
        _HTTPHandler(deadline, public_only),
        _HTTPSHandler(deadline, public_only),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director
