"""SearchFilters as a Milvus boolean expression, every value quoted (no input is syntax)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from coverage_search.engine.local.sql import outlet_key
from coverage_search.records import SearchFilters

UNKNOWN_DAY = -1
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


# Milvus' lexer takes no raw line break inside a string literal and unescapes only \\ and \",
# so a value holding one cannot be said. It matches nothing, as in the local engine: outlet
# keys have their whitespace folded, and no language code holds a line break.
_UNSAYABLE = re.compile(r"[\r\n]")
NOTHING = "id < 0"  # passage ids count from 1; Milvus has no usable `false`


def outlet_value(outlet: str | None) -> str:
    """The stored outlet: the local engine's key (casefolded, spaces folded), "" when unknown."""
    return outlet_key(outlet) or ""


def language_value(language: str | None) -> str:
    return (language or "").lower()


def day_number(published: str | None) -> int:
    """ "2026-05-20…" → 20260520 (sortable, and dates before 1970 stay positive), else -1."""
    found = _DAY.match(published or "")
    return int("".join(found.groups())) if found else UNKNOWN_DAY


def quote(value: str) -> str | None:
    """A Milvus string literal that stays one string whatever `value` holds, or None."""
    if _UNSAYABLE.search(value):
        return None
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def own_expression(filters: SearchFilters) -> str:
    """The filters on a passage's own document fields ("" when there are none)."""
    clauses: list[str] = []
    if filters.outlets:
        keys = {outlet_value(o) for o in filters.outlets}
        quoted = sorted(q for q in map(quote, keys) if q)
        clauses.append(f"outlet in [{', '.join(quoted)}]" if quoted else NOTHING)
    if filters.since:
        clauses.append(f"published >= {day_number(filters.since)}")
    if filters.until:
        # Inclusive of the whole day; an unknown date (-1) passes no date filter, as in SQL.
        clauses.append(f"published >= 0 and published <= {day_number(filters.until)}")
    if filters.language:
        value = quote(language_value(filters.language))
        clauses.append(f"language == {value}" if value else NOTHING)
    return " and ".join(clauses)


def filter_expression(filters: SearchFilters, copied: Sequence[int] = ()) -> str:
    """The expression a passage must pass: its own document passes, or one of its exact copies.

    `copied` are the (side database) rows of indexed documents with an exact copy that passes
    the filters; every value in it is an int, so nothing from the user reaches it unquoted.

    Why not arrays of the copies' outlets, dates and languages on each passage: one copy must
    pass every filter at once (outlet A from one copy and a date from another is no match),
    which array_contains_any on separate arrays cannot say. Why not one row per (passage,
    copy): it stores each vector again and changes BM25's passage count and lengths, so
    scores would drift from the local engine's. Exact copies are few, so the list is short.
    """
    own = own_expression(filters)
    if not own or not copied:
        return own
    rows = ", ".join(str(int(r)) for r in sorted(set(copied)))
    return f"({own}) or doc in [{rows}]"
