"""A query's abbreviations spelled out as the coverage defines them ("RSP" → "RSP (Responsible
Scaling Policy)"), for the query's vector (search.Searcher.query_vector): MiniLM reads the long
form, not the short one.

The table comes from the build (`passages.abbreviations`); only a token written exactly as a
defined short form, or its plural, is expanded, and only when the long form is not in the
query already.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["expand_abbreviations", "short_forms"]

# A word with what short forms hold inside: "IL-6", "R&D", "HER2+", "R.P.F.", "mTOR".
_TOKEN = re.compile(r"(?<![\w-])[^\W_][\w&+./-]*")
MAX_SHORT = 10  # as passages.abbreviations stores them
MAX_FORMS = 64  # forms looked up for one query: a pasted paragraph asks no more


def _words(token: str) -> tuple[str, ...]:
    """`token` as written and without a sentence's final stop ("RSP." → "RSP")."""
    return tuple(w for w in dict.fromkeys((token, token.rstrip(".,/-"))) if w)


def _forms(word: str) -> tuple[str, ...]:
    """`word` and its plural or singular ("RSPs" for a defined "RSP", "MSC" for "MSCs")."""
    return (word, word[:-1]) if word.endswith("s") and len(word) > 1 else (word, word + "s")


def short_forms(text: str) -> list[str]:
    """What of `text` could be a defined abbreviation: words with a capital, as written."""
    found = [
        form
        for match in _TOKEN.finditer(text)
        if len(match.group()) <= MAX_SHORT + 1 and any(c.isupper() for c in match.group())
        for word in _words(match.group())
        for form in _forms(word)
    ]
    return list(dict.fromkeys(found))[:MAX_FORMS]


def _lookup(token: str, table: Mapping[str, str]) -> tuple[str, int] | None:
    """The long form of `token` and how much of the token it spells out."""
    for word in _words(token):
        for form in _forms(word):
            if form in table:
                return table[form], len(word)
    return None


def expand_abbreviations(text: str, table: Mapping[str, str]) -> str:
    """`text` with each defined abbreviation followed by its long form in parentheses."""
    if not table:
        return text
    words = set(text.casefold().split())
    parts = []
    last = 0
    for match in _TOKEN.finditer(text):
        found = _lookup(match.group(), table)
        if found is None or set(found[0].casefold().split()) <= words:
            continue
        long, length = found
        words |= set(long.casefold().split())
        end = match.start() + length
        parts += [text[last:end], f" ({long})"]
        last = end
    return "".join(parts) + text[last:] if parts else text
