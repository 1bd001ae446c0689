"""Search filters from user input: outlets, a date range and a language, checked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from coverage_search.errors import QueryError
from coverage_search.records import SearchFilters

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """`value` with every lone surrogate replaced by U+FFFD (the one policy for input text).

    Python hands over bytes that are not UTF-8 (a shell argument, a file name) as lone
    surrogates; the tokenizer, SQLite and the terminal all refuse those, so they become the
    replacement character, which simply matches nothing.
    """
    return _SURROGATE.sub("\ufffd", value)


def _check_date(value: str | date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    text = value.isoformat() if isinstance(value, date) else valid_text(str(value)).strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name} must be a date like 2026-01-31, not {text!r}.") from None
    return text


def make_filters(
    outlets: Sequence[str] | str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    language: str | None = None,
) -> SearchFilters:
    """Validated filters; a bad date or an inverted range is a QueryError."""
    if isinstance(outlets, str):
        outlets = [outlets]
    if not isinstance(outlets, (list, tuple, set, frozenset, type(None))) or not all(
        isinstance(o, str) for o in outlets or ()
    ):
        raise QueryError("outlets must be an outlet name or a list of outlet names.")
    if language is not None and not isinstance(language, str):
        raise QueryError("language must be a language code such as 'en'.")
    chosen = tuple(valid_text(o).strip() for o in outlets or () if o and o.strip())
    start, end = _check_date(since, "since"), _check_date(until, "until")
    if start and end and start > end:
        raise QueryError(f"since ({start}) is after until ({end}): swap them.")
    return SearchFilters(
        outlets=chosen,
        since=start,
        until=end,
        language=valid_text(language or "").strip() or None,
    )
