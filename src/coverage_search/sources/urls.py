"""Web addresses: the package's one check of an http(s) URL, and what is wrong with a bad one."""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
import threading
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

_SCHEMES = ("http://", "https://")
_LABEL = re.compile(r"[\w-]+", re.ASCII | re.IGNORECASE)
_SHOWN = 80  # characters of a bad URL quoted in a message
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def has_web_scheme(text: str) -> bool:
    """True when `text` starts like an http(s) URL (so it is meant as one, not as a file)."""
    return text.strip().lower().startswith(_SCHEMES)


def url_problem(url: str) -> str | None:
    """What keeps `url` from being an http(s) address that can be fetched; None when it is one."""
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # urlsplit's only complaints are about the host
        if "IPv6" in str(exc):
            return "not a valid URL: the [ ] around its host do not match"
        return "not a valid URL: its host has characters no host name can have"
    if parts.scheme.lower() not in ("http", "https"):
        shown = text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
        return f"only http:// and https:// URLs can be fetched (got {shown!r})"
    if not parts.hostname:
        return "not a valid URL: it names no host"
    try:
        port = parts.port
    except ValueError:
        raw = parts.netloc.rpartition(":")[2]
        if raw.isdigit():
            return f"not a valid URL: port {raw} is out of range (1-65535)"
        return f"not a valid URL: port {raw!r} is not a number"
    if port == 0:
        return "not a valid URL: port 0 is out of range (1-65535)"
    if not _valid_host(parts.hostname, bracketed="[" in parts.netloc):
        return f"not a valid URL: {parts.hostname!r} is not a host name"
    return None


def ascii_url(url: str) -> str:
    """`url` as a request sends it: letters past ASCII in its path and query percent-encoded as
    UTF-8, as a browser does ("/café" is "/caf%C3%A9"). HTTP carries ASCII only: urllib
    raised UnicodeEncodeError on them. The host is left to IDNA."""
    if url.isascii():
        return url
    parts = urlsplit(url)

    def encoded(text: str) -> str:
        return _NON_ASCII.sub(lambda m: quote(m[0], errors="replace"), text)

    return urlunsplit(parts._replace(path=encoded(parts.path), query=encoded(parts.query)))


def split_web_url(url: str | None) -> SplitResult | None:
    """The parts of a valid http(s) URL, or None for anything else (no URL, a bad one, mailto:)."""
    if not url or url_problem(url) is not None:
        return None
    return urlsplit(url.strip())


def is_web_url(url: str | None) -> bool:
    """True for a valid http(s) URL with a host: the only kind that names one article."""
    return split_web_url(url) is not None


def _valid_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    try:  # IDNA: "bücher.de" is a host, so letters outside ASCII are fine once encoded
        ascii_host = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return all(_LABEL.fullmatch(label) for label in ascii_host.split("."))


def is_local_host(host: str | None, *, resolve: bool = True) -> bool:
    """True for a loopback, private, link-local or otherwise non-public address, or a name
    that resolves to one (with `resolve`): what a page on the open web must not send us to."""
    if not host:
        return False
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return resolve and host not in _REACHED_PUBLIC and _resolves_local(host)
    return is_local_address(host)


def is_local_address(address: str) -> bool:
    """True for an IP address (text, IPv6 zone allowed) that is not a public unicast one. An
    IPv6 address that carries an IPv4 one (mapped, compatible, SIIT, 6to4, NAT64) is judged by it:
    64:ff9b::7f00:1 reaches 127.0.0.1 through a NAT64 gateway."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL_USE:  # RFC 8215: a network's own translator, to its own hosts
            return True
        carried = _carried_ipv4(ip)
        if carried is not None:
            ip = carried
    return not ip.is_global or ip.is_multicast


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)


def _carried_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _COMPATIBLE or ip in _TRANSLATED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


# Names whose connection reached a public address (transport.py tells us). A name whose lookup
# said 127.0.0.1 is taken for the user's own service and may lead to local hosts; if the
# connection then reached the open web, what it serves is a page from the web, and must not
# lead there. Only a name in a local namespace (nas.home.arpa, printer.lan) whose lookup gave
# that public address stays local: a dual-stack home server reached over its global IPv6. A
# public zone could answer with 127.0.0.1 and its own server at once, so for any other name
# the public peer decides.
_REACHED_PUBLIC: dict[str, None] = {}  # an ordered set: the oldest name is dropped first
_REMEMBERED = 4096  # names, so a process that fetches for months stays small
_ANSWERS: dict[str, frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]] = {}
_LOCK = threading.Lock()  # fetches run in threads


def note_public(host: str, address: str) -> None:
    """A connection to the name `host` reached the public `address`: unless its lookup gave
    that address, the name is judged public from now on."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return  # an address is judged as it is
    except ValueError:
        pass
    try:
        reached = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        reached = None
    with _LOCK:
        gave = reached is not None and reached in _ANSWERS.get(host, frozenset())
        if gave and _in_local_namespace(host):
            return
        if host not in _REACHED_PUBLIC:
            _REACHED_PUBLIC[host] = None
        while len(_REACHED_PUBLIC) > _REMEMBERED:
            _REACHED_PUBLIC.pop(next(iter(_REACHED_PUBLIC)))


# Names no public DNS zone can hand out (RFC 6762, 8375, 6761 and common home-router ones).
_LOCAL_SUFFIXES = (".home.arpa", ".local", ".lan", ".internal", ".localdomain", ".home")


def _in_local_namespace(host: str) -> bool:
    return "." not in host or host.endswith(_LOCAL_SUFFIXES)


def forget_hosts() -> None:
    """Forget every lookup and connection seen so far (for tests, and a long-lived process)."""
    with _LOCK:
        _REACHED_PUBLIC.clear()
        _ANSWERS.clear()
    _resolves_local.cache_clear()


@functools.lru_cache(maxsize=1024)
def _resolves_local(host: str) -> bool:
    """is_local_host for a name, looked up once per process (a feed's entries share hosts)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):  # unresolvable: the fetch itself will say so
        return False
    answers = [str(info[4][0]) for info in found]
    with _LOCK:
        _ANSWERS.pop(host, None)
        if len(_ANSWERS) >= _REMEMBERED:
            _ANSWERS.pop(next(iter(_ANSWERS)))
        _ANSWERS[host] = frozenset(ipaddress.ip_address(a.split("%")[0]) for a in answers)
    return any(is_local_address(a) for a in answers)
