"""A fetched body the server compressed though asked not to, unpacked as a browser would."""

from __future__ import annotations

import codecs
import zlib

from coverage_search.errors import FetchError
from coverage_search.sources.metadata import printable

_GZIP = b"\x1f\x8b"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "zlib": zlib.MAX_WBITS, "raw": -zlib.MAX_WBITS}


def unpacked(url: str, body: bytes, coding: str | None, max_bytes: int) -> bytes:
    """`body` unpacked when the server compressed it (gzip, deflate) though asked not to, to
    at most `max_bytes`; FetchError when it cannot be, is cut off, or is larger unpacked.

    Some servers send a stored .gz whatever the request says: kept packed, a page read as
    "binary content" and a feed as malformed XML. A few KB of gzip may unpack to gigabytes.
    """
    named = [c.strip().lower() for c in (coding or "").split(",")]
    layers = [name for name in named if name not in ("", "identity")]
    if len(layers) > 2:  # each layer may unpack to the cap: no server stacks more than two
        raise FetchError(url, f"compressed {len(layers)} times over: unreadable")
    for name in reversed(layers):
        if name not in ("gzip", "x-gzip", "deflate"):
            shown = " ".join(printable(name).split())[:40]  # a server's words, shown
            raise FetchError(url, f"sent compressed ({shown}) though asked not to: unreadable")
        body = _layer(url, name, body, max_bytes)
    return body


def _layer(url: str, name: str, body: bytes, max_bytes: int) -> bytes:
    # The stream says what it is: gzip's magic, or RFC 1950's zlib header check. Servers also
    # send a bare deflate stream as "deflate", and a proxy that unpacked a body may keep the
    # header: plain text labelled gzip is read as it is.
    if body.startswith(_GZIP):
        kind = "gzip"
    elif len(body) > 1 and body[0] & 0x0F == 8 and int.from_bytes(body[:2], "big") % 31 == 0:
        kind = "zlib"
    elif name == "deflate":
        kind = "raw"
    else:
        return body
    tries = [kind, "raw"] if kind == "zlib" else [kind]  # two bytes may pass the check by chance
    for how in tries:
        try:
            return _inflate(url, name, body, how, max_bytes)
        except zlib.error:
            continue
    if kind == "raw" and _text(body):
        return body  # text labelled "deflate": nothing was packed
    raise FetchError(url, f"its {name} compression is damaged")


def _inflate(url: str, name: str, body: bytes, how: str, max_bytes: int) -> bytes:
    """Every gzip member of `body` (one stream for zlib and raw deflate), to the cap."""
    out = bytearray()
    rest = body
    while True:
        unpacker = zlib.decompressobj(_WBITS[how])
        out += unpacker.decompress(rest, max_bytes + 1 - len(out))  # room is never 0 here
        if len(out) > max_bytes:
            raise FetchError(url, f"too large unpacked (over the cap of {max_bytes:,} bytes)")
        if not unpacker.eof:  # the input ran out mid-stream
            if how == "raw" and _text(body):
                raise zlib.error("no deflate stream")  # _layer reads it as text
            raise FetchError(url, f"its {name} stream is cut off")
        rest = unpacker.unused_data
        if how != "gzip" or not rest.startswith(_GZIP):
            return bytes(out)  # bytes after the stream are ignored, as browsers do


def _text(body: bytes) -> bool:
    """UTF-8 text with no NUL at its start, which a packed stream almost never is."""
    head = body[:4096]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)  # a cut character is no error
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head
