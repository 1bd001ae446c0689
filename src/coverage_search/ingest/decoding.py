"""Bytes of a fetched page → text, as a browser would decode them."""

from __future__ import annotations

import codecs
import re

from coverage_search.errors import FetchError

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
# The encodings of the WHATWG Encoding Standard, as Python names them: a browser knows no
# other label, and Python's own (unicode_escape, EBCDIC's cp037) would garble a page.
_WEB = frozenset(
    """utf-8 utf-8-sig utf-16 utf-16-le utf-16-be cp866 iso8859-2 iso8859-3 iso8859-4 iso8859-5
    iso8859-6 iso8859-7 iso8859-8 iso8859-10 iso8859-11 iso8859-13 iso8859-14 iso8859-15
    iso8859-16 koi8-r koi8-u mac-roman mac-cyrillic cp874 tis-620 cp1250 cp1251 cp1252 cp1253
    cp1254 cp1255 cp1256 cp1257 cp1258 gbk gb2312 gb18030 big5 big5hkscs euc_jp iso2022_jp
    shift_jis cp932 euc_kr cp949 iso8859-1 latin-1 ascii""".split()  # noqa: SIM905
)


def decode_body(body: bytes, declared: str | None, *, url: str = "") -> str:
    """Bytes → text: BOM, strict UTF-8, declared charset, the page's own declaration, detection.

    Servers often declare a charset that does not match (ISO-8859-1 said, UTF-8 sent, or the
    reverse). Text that decodes as strict UTF-8 is UTF-8 in practice, so that goes first; each
    other candidate must decode strictly too, and detection is the last resort. Binary fails.
    """
    boms = (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    candidates = [name for bom, name in boms if body.startswith(bom)]
    if not candidates and b"\x00" in body[:4096]:
        raise FetchError(url, "undecodable bytes (binary content, not text)")
    candidates.append("utf-8")
    if declared:
        candidates.append(declared)
    head = body[:4096]
    for pattern in (_META_CHARSET, _XML_ENCODING):
        match = pattern.search(head)
        if match:
            candidates.append(match.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            return body.decode(_codec(name))
        except (LookupError, UnicodeError):  # the label "undefined" names a codec that fails all
            continue
    from coverage_search.sources.reading import (  # a careful guess for mislabeled pages
        Unreadable,
        decode_text,
    )

    try:
        return decode_text(body)
    except Unreadable as exc:
        raise FetchError(url, f"undecodable bytes ({exc})") from None


def _codec(name: str) -> str:
    # As browsers: "iso-8859-1" and "ascii" are Windows-1252, and a label not in _WEB is none.
    normalized = codecs.lookup(name).name
    if normalized not in _WEB:
        raise LookupError(name)
    return "cp1252" if normalized in {"latin-1", "iso8859-1", "ascii"} else normalized


def web_labels(body: bytes, content_type: str) -> tuple[bytes, str]:
    """`body` and `content_type` without a charset label no browser knows: a parser that picks
    its own codec (feedparser) would decode a feed labelled unicode_escape's backslashes."""
    head = body[:4096]
    match = _XML_ENCODING.search(head)
    if match and not _web(match.group(1).decode("ascii", "replace")):
        start, end = match.span(1)
        body = body[:start] + b"utf-8" + body[end:]  # then utf-8, or the parser's own fallback
    kept = [
        part
        for part in content_type.split(";")
        if not (
            part.strip().lower().startswith("charset=")
            and not _web(part.split("=", 1)[1].strip().strip("\"'"))
        )
    ]
    return body, ";".join(kept)


def _web(label: str) -> bool:
    try:
        _codec(label)
    except LookupError:
        return False
    return True
