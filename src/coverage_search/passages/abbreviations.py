"""Abbreviations the coverage defines ("Responsible Scaling Policy (RSP)"), found at build time.

A reader asks about "the RSP" or "ALDH1" where a document spelled it out once and then used
the short form; MiniLM knows neither, and keyword search misses passages that use only the
other form. The definitions are found with Schwartz and Hearst's algorithm (A simple algorithm
for identifying abbreviation definitions in biomedical text, PSB 2003): a short form in
parentheses, and the fewest words before it whose letters spell it, each short-form letter in
order and the first at the start of a word.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

__all__ = ["abbreviation_table", "definitions"]

_PARENTHESES = re.compile(r"\(([^()]{1,12})\)")
_WORD = re.compile(r"\S+")
# A sentence or clause boundary ends the search for the long form.
_BOUNDARY = re.compile(r"[.;:!?\n\[\]()]")
_CAPITALIZED_WORD = re.compile(r"[A-Z][a-z]+")
MAX_SHORT = 10
# A table entry is kept only when most of its definitions agree: "CI" is a confidence
# interval in one paper and a chief information officer in another.
MIN_AGREEMENT = 0.6


def _short_form(inside: str) -> str | None:
    """The abbreviation in a parenthesis, or None: "RSP", "IL-6", "mTOR"; not "2020", "Table"."""
    short = inside.split(";")[0].split(",")[0].strip()
    if not 2 <= len(short) <= MAX_SHORT or len(short.split()) > 1:
        return None
    if not short[0].isalnum() or not any(c.isupper() for c in short):
        return None
    if _CAPITALIZED_WORD.fullmatch(short):  # a plain word in parentheses, not an abbreviation
        return None
    return short


def _long_form(short: str, before: str) -> str | None:
    """The fewest final words of `before` that spell `short` (Schwartz and Hearst), or None."""
    words = _WORD.findall(before)
    letters = sum(c.isalnum() for c in short)
    words = words[-min(letters + 5, letters * 2) :]
    candidate = " ".join(words)
    s, l = len(short) - 1, len(candidate) - 1  # noqa: E741 - the paper's names
    while s >= 0:
        char = short[s].lower()
        if not char.isalnum():
            s -= 1
            continue
        # The first letter must open a word; the others may sit anywhere in one.
        while l >= 0 and (
            candidate[l].lower() != char or (s == 0 and l > 0 and candidate[l - 1].isalnum())
        ):
            l -= 1  # noqa: E741
        if l < 0:
            return None
        l -= 1  # noqa: E741
        s -= 1
    start = candidate.rfind(" ", 0, l + 1) + 1
    long = candidate[start:].strip(" ,-\"'“”‘’")
    if len(long) <= len(short) or short.casefold() in long.casefold().split():
        return None
    return long


def definitions(text: str) -> list[tuple[str, str]]:
    """(short form, long form) for each abbreviation `text` defines, in order."""
    found = []
    for match in _PARENTHESES.finditer(text):
        short = _short_form(match.group(1))
        if short is None:
            continue
        before = text[max(0, match.start() - 200) : match.start()]
        cut = max((m.end() for m in _BOUNDARY.finditer(before)), default=0)
        long = _long_form(short, before[cut:])
        if long is not None:
            found.append((short, long))
    return found


def abbreviation_table(texts: Iterable[str]) -> dict[str, str]:
    """short form → the long form most documents give it, for abbreviations whose documents
    mostly agree (`MIN_AGREEMENT`). Each document counts once per definition."""
    counts: Mapping[str, Counter[str]] = defaultdict(Counter)
    shown: dict[tuple[str, str], str] = {}
    for text in texts:
        for short, long in dict.fromkeys(definitions(text)):
            key = " ".join(long.casefold().split())
            counts[short][key] += 1
            shown.setdefault((short, key), long)
    table = {}
    for short, forms in counts.items():
        key, n = forms.most_common(1)[0]
        if n >= MIN_AGREEMENT * sum(forms.values()):
            table[short] = shown[(short, key)]
    return table
