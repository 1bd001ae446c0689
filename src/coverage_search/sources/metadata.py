"""Document metadata from front matter, sidecars and pages: dates, languages, outlets, links."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from coverage_search.records import RelatedLink
from coverage_search.sources.markdown import whole_characters
from coverage_search.sources.urls import is_web_url

_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y",
                 "%b %d %Y", "%b. %d, %Y", "%d.%m.%Y")  # fmt: skip
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")
_ISO_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")
MAX_FIELD_CHARS = 500  # a title, outlet or author list longer than this is not one
MAX_URL_CHARS = 4096
_MAX_LIST = 100  # authors or related links
_LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_][A-Za-z0-9-_]*)?")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What a source says about itself; None where it says nothing."""

    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    related: tuple[RelatedLink, ...] = ()
    unread_date: str | None = None  # a `published` value given but not readable as a date
    unread_url: str | None = None  # a `url` given that is not an http(s) address

    def over(self, base: Metadata) -> Metadata:
        """These values, with `base` filling the gaps."""
        return Metadata(
            **{
                f.name: getattr(self, f.name) or getattr(base, f.name)
                for f in dataclasses.fields(self)
            }
        )

    def with_defaults(self) -> Metadata:
        """Fill the outlet from the URL's domain when none is given."""
        if self.outlet or not self.url:
            return self
        return dataclasses.replace(self, outlet=outlet_from_url(self.url))

    def notes(self) -> tuple[str, ...]:
        """What was given but could not be read, for the build's report (Document.notes)."""
        notes = []
        if self.unread_date is not None and not self.published:
            notes.append(
                f"published {self.unread_date} is not a date, so the document is indexed "
                "undated (date filters leave it out; the timeline counts it as undated): write "
                "it as YYYY-MM-DD"
            )
        if self.unread_url is not None and not self.url:
            notes.append(
                f"url {self.unread_url} is not an http(s) address, so hits link to the corpus "
                "file: give the article's web address"
            )
        return tuple(notes)


def metadata_from_mapping(data: Mapping[str, object]) -> Metadata:
    """Metadata from front matter keys: title, url, outlet, published, author, language, related."""
    given = data.get("published")
    published = normalize_date(given)
    url = _text(data.get("url"), limit=MAX_URL_CHARS)
    return Metadata(
        title=_text(data.get("title")),
        url=url if url is None or is_web_url(url) else None,  # never javascript: or file:
        unread_url=_shown_value(url) if url is not None and not is_web_url(url) else None,
        outlet=_text(data.get("outlet")),
        published=published,
        unread_date=_shown_value(given) if published is None and _given(given) else None,
        author=_text(data.get("author")),
        language=normalize_language(_text(data.get("language"))),
        related=related_links(data.get("related")),
    )


def _given(value: object) -> bool:
    """True for a front matter value someone wrote (not left empty)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _shown_value(value: object) -> str:
    """A value as a notice quotes it: printable, on one line, at most 60 characters."""
    text = _scalar(value, 60)
    return repr(text) if text else f"(a {type(value).__name__})"


def related_links(value: object) -> tuple[RelatedLink, ...]:
    """`related:` entries: mappings {role, outlet, url, title, published} or plain URL strings."""
    items = value[:_MAX_LIST] if isinstance(value, list) else [value] if value else []
    links: list[RelatedLink] = []
    for item in items:
        if isinstance(item, Mapping):
            url = _text(item.get("url"), limit=MAX_URL_CHARS)
            if not url:
                continue  # nothing to link to
            links.append(
                RelatedLink(
                    url=url,
                    outlet=_text(item.get("outlet")) or outlet_from_url(url),
                    role=_text(item.get("role")),
                    title=_text(item.get("title")),
                    published=normalize_date(item.get("published")),
                )
            )
        elif isinstance(item, str) and item.strip() and len(item) <= MAX_URL_CHARS:
            url = item.strip()
            links.append(RelatedLink(url=url, outlet=outlet_from_url(url)))
    return tuple(links)


def normalize_date(value: object) -> str | None:
    """A date, datetime or date string as ISO "YYYY-MM-DD"; None when it cannot be read."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or len(value) > 200:
        return None
    text = " ".join(value.split())
    if match := _PDF_DATE.match(text) or _ISO_PREFIX.match(text):
        return _ymd(*(int(g) for g in match.groups()))
    for candidate in (text, text.replace("Z", "+00:00")):
        try:
            return datetime.fromisoformat(candidate).date().isoformat()
        except ValueError:
            pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            pass
    try:  # RFC 2822, as in feeds and e-mail: "Tue, 16 Jun 2026 19:50:10 +0000"
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def _ymd(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def normalize_language(value: str | None) -> str | None:
    """A language tag reduced to its lower-case primary subtag: "en-US" → "en"."""
    if not value or not value.strip():
        return None
    value = value.strip()
    match = _LANGUAGE_TAG.fullmatch(value)
    return (match.group(1) if match else value).lower()


def outlet_from_url(url: str) -> str | None:
    """The URL's host without "www.": "https://www.axios.com/x" → "axios.com"."""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:  # "http://[::1": not a URL a reader can follow anyway
        return None
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def _text(value: object, *, limit: int = MAX_FIELD_CHARS) -> str | None:
    """A one-line string from a scalar or a flat list of scalars (several authors); None if empty.

    Nested lists and mappings are not names or titles, so they are dropped, and every value is
    cut to `limit` characters: a metadata field never grows with what an odd file holds.
    """
    if isinstance(value, list):
        joined = ", ".join(t for t in (_scalar(v, limit) for v in value[:_MAX_LIST]) if t)
        return _cut(joined, limit) or None
    return _scalar(value, limit)


# Control characters (a terminal runs ESC sequences a title holds) and the bidi embeddings,
# overrides and isolates that reverse how the rest of a line shows: never part of a name.
_UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without control characters or bidi overrides (each becomes a space)."""
    return _UNSHOWN.sub(" ", text)


def _scalar(value: object, limit: int) -> str | None:
    if value is None or isinstance(value, Mapping | list | tuple | set):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        text = str(value)
    except ValueError:  # an integer of more digits than Python prints (`0xfff…` in YAML)
        return None
    text = printable(whole_characters(text))
    # Cut before splitting too: a huge value must not cost its whole length twice over.
    text = " ".join(text[: limit * 4].split())
    return _cut(text, limit) or None


def clip(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text` cut to `limit` characters, with "…" where it was cut."""
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
