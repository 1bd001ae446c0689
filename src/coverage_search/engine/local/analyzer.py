"""Text → keyword tokens as FTS5's "porter unicode61 remove_diacritics 2" makes them.

Words of letters and digits (anything else separates them, `_` too), casefolded, accents
removed, then stemmed by FTS5's own Porter stemmer: each distinct word goes once through an
in-memory FTS5 table and its stem is remembered, so the cost is per word of the vocabulary,
not per word of the text. (Snowball's "porter" differs on about 0.1% of SciFact's words:
FTS5 keeps Porter's later "logi" → "log" and "bli" → "ble".) The same function analyzes
passages when a build is written and query terms when it is searched. Unlike FTS5, a soft
hyphen or zero-width space inside a word does not cut it (engine.base.keyword_text).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

from coverage_search.engine.base import keyword_text
from coverage_search.engine.local.writer import STEMMED

_WORD = re.compile(r"[^\W_]+")
# ASCII text: everything but letters and digits becomes a space, then split on spaces: the same
# words as _WORD finds, 1.7x faster than a regex of [a-z0-9]+ (on SciFact abstracts).
_ASCII_SPACES = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isascii() and chr(c).isalnum())}
)
STEM_CACHE = 1_000_000  # words: a large corpus's vocabulary, each word stemmed once
_BATCH = 5_000  # words per trip through FTS5


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text`, casefolded and without accents (FTS5's unicode61), a soft hyphen
    or zero-width space inside a word not cutting it."""
    if text.isascii():
        return text.lower().translate(_ASCII_SPACES).split()
    found: list[str] = _WORD.findall(keyword_text(text).casefold())
    return [w if w.isascii() else _fold(w) for w in found]


class _Fts5Stems:
    """Words → their tokens through FTS5's porter tokenizer (one in-memory table)."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE w USING fts5(x, tokenize='{STEMMED}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(w, instance)")
        self._lock = threading.Lock()

    def tokens(self, batch: Sequence[str]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in batch]
        with self._lock, self._conn:
            self._conn.execute("DELETE FROM w")
            self._conn.executemany("INSERT INTO w(rowid, x) VALUES (?, ?)", enumerate(batch))
            for doc, term in self._conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                out[doc].append(str(term))
        return out


class _Stemmer:
    """Words → their tokens, each distinct word through FTS5 once and then remembered."""

    def __init__(self) -> None:
        self._fts5 = _Fts5Stems()
        # word → its tokens joined by spaces ("" for none). A full cache is replaced, never
        # cleared, so a search in another thread keeps reading the one it took.
        self._stems: dict[str, str] = {}

    def _holding(self, found: Sequence[str]) -> dict[str, str]:
        """The cache, made to hold every word of `found`."""
        stems = self._stems
        new = list(dict.fromkeys(w for w in found if w not in stems))
        if new:
            if len(stems) > STEM_CACHE:
                # The fresh cache must hold every word of this text, not only the unseen ones.
                stems = self._stems = {}
                new = list(dict.fromkeys(found))
            for i in range(0, len(new), _BATCH):
                part = new[i : i + _BATCH]
                for word, tokens in zip(part, self._fts5.tokens(part), strict=True):
                    stems[word] = " ".join(tokens)
        return stems

    def tokens(self, text: str) -> list[str]:
        found = words(text)
        stems = self._holding(found)
        return [t for w in found for t in stems[w].split()]

    def joined(self, text: str) -> str:
        found = words(text)
        try:  # every word seen before: the common case once a build is under way
            return " ".join(map(self._stems.__getitem__, found))
        except KeyError:
            return " ".join(map(self._holding(found).__getitem__, found))


@lru_cache(maxsize=1)
def _stemmer() -> _Stemmer:
    return _Stemmer()


@lru_cache(maxsize=2)
def analyzer(stemming: bool) -> Callable[[str], list[str]]:
    """The analyzer of a build with (or without) stemming: text → its tokens."""
    return _stemmer().tokens if stemming else words


@lru_cache(maxsize=2)
def text_analyzer(stemming: bool) -> Callable[[str], str]:
    """Text → its tokens joined by spaces, as the keyword index stores a passage.

    The same tokens as `analyzer`'s, 3-4x faster per passage: the cache holds each word's
    tokens already joined (a word with none adds only a space, which the index skips).
    """
    if stemming:
        return _stemmer().joined
    return lambda text: " ".join(words(text))
