"""A query's abbreviations spelled out as the coverage defines them ("RSP" → "RSP (Responsible
Scaling Policy)"), so both retrievers see the words the passages use.

The table comes from the build (`passages.abbreviations`); only a token written exactly as a
defined short form, or its plural, is expanded, and only when the long form is not in the
query already.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["expand_abbreviations", "short_forms"]

_TOKEN = re.compile(r"(?<![\w-])[A-Za-z0-9][\w-]*(?<!-)")
MAX_SHORT = 10  # as passages.abbreviations stores them
MAX_FORMS = 64  # forms looked up for one query: a pasted paragraph asks no more


def _forms(token: str) -> tuple[str, ...]:
    """`token`, its plural and its singular ("RSPs" for a defined "RSP", "MSC" for "MSCs")."""
    return (token, token[:-1]) if token.endswith("s") else (token, token + "s")


def short_forms(text: str) -> list[str]:
    """What of `text` could be a defined abbreviation: words with a capital, as written."""
    found = [
        form
        for match in _TOKEN.finditer(text)
        if len(match.group()) <= MAX_SHORT and any(c.isupper() for c in match.group())
        for form in _forms(match.group())
    ]
    return list(dict.fromkeys(found))[:MAX_FORMS]


def _lookup(token: str, table: Mapping[str, str]) -> str | None:
    for form in _forms(token):
        if form in table:
            return table[form]
    return None


def expand_abbreviations(text: str, table: Mapping[str, str]) -> str:
    """`text` with each defined abbreviation followed by its long form in parentheses."""
    if not table:
        return text
    words = set(text.casefold().split())
    parts = []
    last = 0
    for match in _TOKEN.finditer(text):
        long = _lookup(match.group(), table)
        if long is None or set(long.casefold().split()) <= words:
            continue
        words |= set(long.casefold().split())
        parts.append(text[last : match.end()])
        parts.append(f" ({long})")
        last = match.end()
    return "".join(parts) + text[last:] if parts else text
