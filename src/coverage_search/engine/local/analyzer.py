"""Text → keyword tokens, as FTS5's "porter unicode61 remove_diacritics 2" makes them.

Words of letters and digits (anything else separates them, `_` too), casefolded, accents
removed, then Porter's stemmer (the original algorithm, as FTS5's porter; PyStemmer's
"porter"). The same function analyzes passages when a build is written and query terms when
it is searched, so both sides always agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
MAX_STEMMED = 64  # FTS5's porter leaves longer tokens as they are


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=2)
def analyzer(stemming: bool) -> Callable[[str], list[str]]:
    """The analyzer of a build with (or without) stemming."""
    stem: Callable[[list[str]], list[str]] | None = None
    if stemming:
        import Stemmer  # PyStemmer: Snowball's C stemmers

        stem = Stemmer.Stemmer("porter").stemWords

    def analyze(text: str) -> list[str]:
        words = _WORD.findall(text.casefold())
        if not text.isascii():
            words = [w if w.isascii() else _fold(w) for w in words]
        if stem is None:
            return words
        return [w if len(w) > MAX_STEMMED else s for w, s in zip(words, stem(words), strict=True)]

    return analyze
