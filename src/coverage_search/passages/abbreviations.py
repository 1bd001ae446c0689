"""Abbreviations the coverage defines ("Responsible Scaling Policy (RSP)"), found at build time.

A reader asks about "the RSP" or "ALDH1" where a document spelled it out once and then used
the short form; MiniLM knows neither, and keyword search misses passages that use only the
other form. The definitions are found with Schwartz and Hearst's algorithm (A simple algorithm
for identifying abbreviation definitions in biomedical text, PSB 2003): a short form in
parentheses, and the fewest words before it whose letters spell it, each short-form letter in
order and the first at the start of a word.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

__all__ = ["abbreviation_table", "definitions"]

_PARENTHESES = re.compile(r"\(([^()]{1,12})\)")
_WORD = re.compile(r"\S+")
# A sentence or clause boundary ends the search for the long form, as do LOOKBACK characters.
_BOUNDARIES = ".;:!?\n[]()"
_SPACE = re.compile(r"\s")
LOOKBACK = 200
# Parentheses read per document: bounds a build's time on a file of nothing but "(AB)".
MAX_PARENTHESES = 10_000
_CAPITALIZED_WORD = re.compile(r"[A-Z][a-z]+")
MAX_SHORT = 10
# A table entry is kept only when most of its definitions agree: "CI" is a confidence
# interval in one paper and a chief information officer in another.
MIN_AGREEMENT = 0.6
# Words a long form holds whose initials its short form usually leaves out ("Federal Bureau
# of Investigation (FBI)").
_GLUE = frozenset("a an and at by de del der des du for in la le of on the to und von".split())  # noqa: SIM905


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
    # Text all in capitals shows no abbreviation by its case: "THE PREHISTORIC NEWTS (TRITONS)"
    # spells the word in parentheses but abbreviates nothing. There every word but glue must
    # give the short form its initial, as "NORTHERN PEOPLE'S CONGRESS (NPC)" does.
    if long.isupper() and any(
        w[0] not in short.casefold() for w in long.casefold().split() if w not in _GLUE
    ):
        return None
    return long


def _clause_start(text: str, start: int) -> int:
    """Where the words that may spell the short form at `start` begin: after the last sentence
    or clause boundary of the `LOOKBACK` characters before it, and never mid-word."""
    low = max(0, start - LOOKBACK)
    # rfind per character: a Python scan of the window per parenthesis took 10 s on 1 MB of "(AB)".
    cut = max(text.rfind(c, low, start) for c in _BOUNDARIES) + 1
    if cut > low or low == 0 or text[low - 1].isspace():
        return max(cut, low)
    space = _SPACE.search(text, low, start)
    return space.end() if space else start


def definitions(text: str) -> list[tuple[str, str]]:
    """(short form, long form) for each abbreviation `text` defines, in order."""
    found = []
    for match in itertools.islice(_PARENTHESES.finditer(text), MAX_PARENTHESES):
        short = _short_form(match.group(1))
        if short is None:
            continue
        long = _long_form(short, text[_clause_start(text, match.start()) : match.start()])
        if long is not None:
            found.append((short, long))
    return found


def abbreviation_table(texts: Iterable[str]) -> dict[str, str]:
    """short form → the long form most documents give it, for abbreviations whose documents
    mostly agree (`MIN_AGREEMENT`). A document votes once per short form, for the long form it
    gives most often (whatever its case), so it can neither outvote nor veto the others."""
    votes: Mapping[str, Counter[str]] = defaultdict(Counter)
    shown: dict[tuple[str, str], str] = {}
    for text in texts:
        given: dict[str, Counter[str]] = defaultdict(Counter)
        for short, long in definitions(text):
            key = " ".join(long.casefold().split())
            given[short][key] += 1
            shown.setdefault((short, key), long)
        for short, forms in given.items():
            votes[short][forms.most_common(1)[0][0]] += 1
    table = {}
    for short, forms in votes.items():
        key, n = forms.most_common(1)[0]
        if n >= MIN_AGREEMENT * sum(forms.values()):
            table[short] = shown[(short, key)]
    return table
