"""Query terms → their stems through the index's own FTS5 tokenizer → passage counts."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence

from coverage_search.engine.local.writer import UNSTEMMED


class TermCounter:
    """Query terms → their tokens (stems) through the index's own tokenizer → passage counts.

    The tokens come from a one-row-per-term FTS5 table in the connection's temp database (it
    is writable on the read-only connection too), read back through fts5vocab 'instance'.
    Counts come from term_df, or from fts5vocab 'row' (cached) for a build without that table.
    """

    _CACHE_LIMIT = 4096

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._cache: dict[str, int] = {}
        row = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'passages_fts'").fetchone()
        found = re.search(r"tokenize\s*=\s*'([\w ]+)'", str(row[0]) if row else "")
        if found is None:  # a database without a keyword index records its tokenizer in meta
            row = conn.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
            found = re.fullmatch(r"([\w ]+)", str(row[0]) if row else "")
        tokenizer = found.group(1) if found else UNSTEMMED
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.query_terms USING fts5(term, tokenize='{tokenizer}')"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE temp.query_tokens USING fts5vocab(temp, query_terms, instance)"
        )
        self._has_table = (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'term_df'"
            ).fetchone()
            is not None
        )
        if not self._has_table:
            conn.execute(
                "CREATE VIRTUAL TABLE temp.passage_terms USING fts5vocab(main, passages_fts, row)"
            )
        self.passages = int(conn.execute("SELECT count(*) FROM passages").fetchone()[0])

    def docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        with self._conn:
            self._conn.execute("DELETE FROM temp.query_terms")
            self._conn.executemany(
                "INSERT INTO temp.query_terms(rowid, term) VALUES (?, ?)", enumerate(terms)
            )
        tokens: dict[int, list[str]] = {}
        for i, token in self._conn.execute("SELECT doc, term FROM temp.query_tokens"):
            tokens.setdefault(int(i), []).append(str(token))
        counts = self._counts({t for ts in tokens.values() for t in ts})
        docs = [min((counts[t] for t in tokens.get(i, ())), default=0) for i in range(len(terms))]
        return docs, self.passages

    def _counts(self, tokens: set[str]) -> dict[str, int]:
        if not tokens:
            return {}
        if self._has_table:
            ordered = sorted(tokens)
            rows = self._conn.execute(
                f"SELECT term, docs FROM term_df WHERE term IN ({', '.join('?' * len(ordered))})",
                ordered,
            )
            found = {str(t): int(n) for t, n in rows}
            return {t: found.get(t, 0) for t in tokens}
        for token in tokens - self._cache.keys():
            if len(self._cache) >= self._CACHE_LIMIT:
                self._cache.clear()
            row = self._conn.execute(
                "SELECT doc FROM temp.passage_terms WHERE term = ?", (token,)
            ).fetchone()
            self._cache[token] = int(row[0]) if row else 0
        return {t: self._cache[t] for t in tokens}
