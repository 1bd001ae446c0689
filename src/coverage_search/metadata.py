"""Document metadata from front matter, sidecars and pages: dates, languages, outlets, links."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .records import RelatedLink

_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y",
                 "%b %d %Y", "%b. %d, %Y", "%d.%m.%Y")  # fmt: skip
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})")
_ISO_PREFIX = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)")
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


def metadata_from_mapping(data: Mapping[str, object]) -> Metadata:
    """Metadata from front matter keys: title, url, outlet, published, author, language, related."""
    return Metadata(
        title=_text(data.get("title")),
        url=_text(data.get("url")),
        outlet=_text(data.get("outlet")),
        published=normalize_date(data.get("published")),
        author=_text(data.get("author")),
        language=normalize_language(_text(data.get("language"))),
        related=related_links(data.get("related")),
    )


def related_links(value: object) -> tuple[RelatedLink, ...]:
    """`related:` entries: mappings {role, outlet, url, title, published} or plain URL strings."""
    items = value if isinstance(value, list) else [value] if value else []
    links: list[RelatedLink] = []
    for item in items:
        if isinstance(item, Mapping):
            url = _text(item.get("url"))
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
        elif isinstance(item, str) and item.strip():
            url = item.strip()
            links.append(RelatedLink(url=url, outlet=outlet_from_url(url)))
    return tuple(links)


def normalize_date(value: object) -> str | None:
    """A date, datetime or date string as ISO "YYYY-MM-DD"; None when it cannot be read."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
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
    host = urlsplit(url if "//" in url else "//" + url).hostname
    if not host or "." not in host:
        return None
    return host.removeprefix("www.")


def _text(value: object) -> str | None:
    """A one-line string from a scalar or a list of scalars (several authors); None if empty."""
    if value is None or isinstance(value, Mapping):
        return None
    if isinstance(value, list):
        joined = ", ".join(t for t in (_text(v) for v in value) if t)
        return joined or None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text or None
