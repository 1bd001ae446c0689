"""SQLite: documents, passages, FTS5 keyword search, and the embedding cache. All SQL lives here."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .records import Document, Passage, RelatedLink, SearchFilters

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    outlet TEXT,
    outlet_key TEXT,
    published TEXT,
    author TEXT,
    language TEXT,
    format TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    related TEXT NOT NULL,
    page_starts TEXT NOT NULL,
    story_id TEXT NOT NULL,
    indexed_as INTEGER NOT NULL,  -- the document whose passages stand for this one (exact copies)
    text TEXT NOT NULL
);
CREATE INDEX documents_outlet ON documents(outlet_key);
CREATE INDEX documents_published ON documents(published);
CREATE INDEX documents_story ON documents(story_id);
CREATE INDEX documents_indexed_as ON documents(indexed_as);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    document INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading TEXT,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER
);
CREATE INDEX passages_document ON passages(document);
"""

# Contentless: the text already lives in `passages`, FTS5 only needs its term statistics.
_FTS = "CREATE VIRTUAL TABLE passages_fts USING fts5(text, heading, title, content='', tokenize=?)"
STEMMED = "porter unicode61 remove_diacritics 2"
UNSTEMMED = "unicode61 remove_diacritics 2"
# term_df keeps the terms in at least 1/TERM_DF_SHARE of the passages: rarer ones are never
# pruned from a query, and leaving them out keeps the table small on a large vocabulary.
TERM_DF_SHARE = 1000


@dataclass(frozen=True, slots=True)
class PassageRow:
    """A passage joined with its document, as search needs it."""

    id: int
    text: str
    heading: str | None
    start: int
    end: int
    page: int | None
    ordinal: int
    doc_id: str
    path: str
    title: str
    url: str | None
    outlet: str | None
    published: str | None
    author: str | None
    language: str | None
    related: tuple[RelatedLink, ...]
    story_id: str


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a database; read-only connections treat the finished build as immutable."""
    if readonly:
        # A finished build never changes, so SQLite may skip locking (faster, no -wal files).
        conn = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=OFF")  # a killed build throws the whole folder away
        conn.execute("PRAGMA synchronous=OFF")  # the folder is fsynced once, before the switch
        conn.execute("PRAGMA cache_size=-65536")  # FTS5 merges its segments in memory
    return conn


def outlet_key(outlet: str | None) -> str | None:
    """Outlet names compare case- and space-insensitively."""
    return " ".join(outlet.casefold().split()) if outlet else None


def _related_json(related: Sequence[RelatedLink]) -> str:
    return json.dumps(
        [{k: v for k, v in asdict(r).items() if v is not None} for r in related], ensure_ascii=False
    )


def _related_from_json(raw: str) -> tuple[RelatedLink, ...]:
    return tuple(RelatedLink(**item) for item in json.loads(raw))


def write_build(
    path: Path,
    documents: Sequence[Document],
    passages: Sequence[Sequence[Passage]],
    *,
    story_ids: dict[str, str],
    indexed_as: Sequence[int],
    stemming: bool,
    meta: dict[str, str],
) -> list[int]:
    """Write a whole new database; returns passage ids in the order of the flattened passages."""
    ids: list[int] = []
    with closing(connect(path)) as conn, conn:
        conn.executescript(_SCHEMA)
        conn.execute(_FTS.replace("?", f"'{STEMMED if stemming else UNSTEMMED}'"))
        conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", sorted(meta.items()))
        next_id = 1
        for doc_row, (doc, doc_passages, twin) in enumerate(
            zip(documents, passages, indexed_as, strict=True), start=1
        ):
            conn.execute(
                "INSERT INTO documents(id, doc_id, path, title, url, outlet, outlet_key,"
                " published, author, language, format, content_hash, related, page_starts,"
                " story_id, indexed_as, text)"
                f" VALUES ({', '.join('?' * 17)})",
                (
                    doc_row,
                    doc.doc_id,
                    doc.path,
                    doc.title,
                    doc.url,
                    doc.outlet,
                    outlet_key(doc.outlet),
                    doc.published,
                    doc.author,
                    doc.language,
                    doc.format,
                    doc.content_hash,
                    _related_json(doc.related),
                    json.dumps(doc.page_starts),
                    story_ids.get(doc.doc_id, doc.doc_id),
                    twin + 1,  # row ids count from 1
                    doc.text,
                ),
            )
            rows = []
            fts = []
            for p in doc_passages:
                rows.append(
                    (next_id, doc_row, p.ordinal, p.text, p.heading, p.start, p.end, p.page)
                )
                fts.append((next_id, p.text, p.heading or "", doc.title))
                ids.append(next_id)
                next_id += 1
            conn.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            conn.executemany(
                "INSERT INTO passages_fts(rowid, text, heading, title) VALUES (?, ?, ?, ?)", fts
            )
        conn.execute("INSERT INTO passages_fts(passages_fts) VALUES ('optimize')")
        _write_term_df(conn)
    return ids


def _write_term_df(conn: sqlite3.Connection) -> None:
    """How many passages hold each common term (0.26 s and 0.1 MB at 100k passages)."""
    # A query looks a count up here instead of fts5vocab reading the term's whole posting
    # list (~2 ms per common term at 100k passages, growing with the index).
    conn.execute(
        "CREATE TABLE term_df (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    conn.execute("CREATE VIRTUAL TABLE temp.passage_terms USING fts5vocab(main, passages_fts, row)")
    total = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    conn.execute(
        "INSERT INTO term_df(term, docs) SELECT term, doc FROM temp.passage_terms WHERE doc >= ?",
        (max(1, total // TERM_DF_SHARE),),
    )
    conn.execute("DROP TABLE temp.passage_terms")


def filter_sql(filters: SearchFilters, alias: str = "d") -> tuple[str, list[object]]:
    """A WHERE fragment on documents (as `alias`) for the filters, with its bound values."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.outlets:
        keys = [outlet_key(o) for o in filters.outlets]
        clauses.append(f"{alias}.outlet_key IN ({', '.join('?' * len(keys))})")
        params.extend(keys)
    if filters.since:
        clauses.append(f"{alias}.published >= ?")
        params.append(filters.since)
    if filters.until:
        # Inclusive of the whole day, also when `published` carries a time.
        clauses.append(f"substr({alias}.published, 1, 10) <= ?")
        params.append(filters.until)
    if filters.language:
        clauses.append(f"lower({alias}.language) = lower(?)")
        params.append(filters.language)
    return (" AND ".join(clauses) or "1"), params


def _passing_documents(filters: SearchFilters) -> tuple[str, list[object]]:
    """A WHERE fragment on `p` (passages): it stands for a document (or exact copy) that passes."""
    where, params = filter_sql(filters)
    return f"p.document IN (SELECT d.indexed_as FROM documents d WHERE {where})", params


class Store:
    """Read access to one finished build's database (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path, readonly=True)
        # One connection shared by Streamlit's threads; sqlite3 objects need serialized use.
        self._lock = threading.Lock()
        self._terms: _TermCounter | None = None

    def close(self) -> None:
        self._conn.close()

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def meta(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self._all("SELECT key, value FROM meta")}

    def keyword(
        self, match: str, filters: SearchFilters, *, limit: int, weights: tuple[float, float, float]
    ) -> list[tuple[int, float]]:
        """Passage ids and bm25 scores (negated: higher is better) for an FTS5 MATCH expression."""
        sql = "SELECT f.rowid, bm25(passages_fts, ?, ?, ?) AS s FROM passages_fts f"
        params: list[object] = [*weights, match]
        if filters.active:
            where, values = _passing_documents(filters)
            sql += f" JOIN passages p ON p.id = f.rowid WHERE passages_fts MATCH ? AND {where}"
            params += values
        else:
            sql += " WHERE passages_fts MATCH ?"
        rows = self._all(sql + " ORDER BY s LIMIT ?", [*params, limit])
        return [(int(r[0]), -float(r[1])) for r in rows]

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        """How many passages hold each query term as the index tokenizes it, and the passage count.

        A term the tokenizer splits in several (`foo_bar`) counts as its rarest part; a term with
        no token, or one no passage holds, counts 0, and so may a term in fewer than
        1/TERM_DF_SHARE of the passages (term_df leaves those out). Should SQLite refuse the
        temp tables this needs, every count is 0: keyword search then keeps every term.
        """
        with self._lock:
            try:
                if self._terms is None:
                    self._terms = _TermCounter(self._conn)
                return self._terms.docs(terms)
            except sqlite3.OperationalError:
                return [0] * len(terms), 0

    def allowed_passages(self, filters: SearchFilters) -> np.ndarray:
        """Ids of every passage that stands for a document passing the filters."""
        where, params = _passing_documents(filters)
        rows = self._all(f"SELECT p.id FROM passages p WHERE {where}", params)
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def matching_copies(self, doc_ids: Sequence[str], filters: SearchFilters) -> dict[str, str]:
        """For indexed documents that fail the filters, the exact copy of each that passes them."""
        where, params = filter_sql(filters)
        own, own_params = filter_sql(filters, alias="o")
        ids = list(dict.fromkeys(doc_ids))
        rows = self._all(
            "SELECT o.doc_id, d.doc_id FROM documents o JOIN documents d ON d.indexed_as = o.id"
            f" WHERE o.doc_id IN ({', '.join('?' * len(ids))}) AND d.id != o.id AND {where}"
            f" AND NOT coalesce(({own}), 0) ORDER BY d.id",
            [*ids, *params, *own_params],
        )
        out: dict[str, str] = {}
        for own, copy in rows:
            out.setdefault(str(own), str(copy))
        return out

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """Passage rows with their documents, keyed by passage id."""
        id_list = list(dict.fromkeys(ids))
        out: dict[int, PassageRow] = {}
        for i in range(0, len(id_list), 500):
            chunk = id_list[i : i + 500]
            sql = (
                'SELECT p.id, p.text, p.heading, p.start, p."end", p.page, p.ordinal, d.doc_id,'
                " d.path, d.title, d.url, d.outlet, d.published, d.author, d.language, d.related,"
                " d.story_id FROM passages p JOIN documents d ON d.id = p.document"
                f" WHERE p.id IN ({', '.join('?' * len(chunk))})"
            )
            for r in self._all(sql, chunk):
                row = PassageRow(
                    id=r[0],
                    text=r[1],
                    heading=r[2],
                    start=r[3],
                    end=r[4],
                    page=r[5],
                    ordinal=r[6],
                    doc_id=r[7],
                    path=r[8],
                    title=r[9],
                    url=r[10],
                    outlet=r[11],
                    published=r[12],
                    author=r[13],
                    language=r[14],
                    related=_related_from_json(r[15]),
                    story_id=r[16],
                )
                out[row.id] = row
        return out

    def story_copies(
        self, story_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str, str | None, str | None, str | None]]]:
        """Every document of each story: (doc_id, title, outlet, url, published)."""
        out: dict[str, list[tuple[str, str, str | None, str | None, str | None]]] = {}
        ids = list(dict.fromkeys(story_ids))
        if not ids:
            return out
        rows = self._all(
            "SELECT story_id, doc_id, title, outlet, url, published FROM documents"
            f" WHERE story_id IN ({', '.join('?' * len(ids))}) ORDER BY published, doc_id",
            ids,
        )
        for r in rows:
            out.setdefault(str(r[0]), []).append(tuple(r[1:]))
        return out

    def document_text(self, doc_id: str) -> str | None:
        rows = self._all("SELECT text FROM documents WHERE doc_id = ?", (doc_id,))
        return str(rows[0][0]) if rows else None

    def document_row(self, doc_id: str) -> dict[str, Any] | None:
        """All stored facts of one document, or None."""
        with self._lock:
            cur = self._conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,))
            row = cur.fetchone()
            names = [c[0] for c in cur.description]
        if row is None:
            return None
        data = dict(zip(names, row, strict=True))
        data["related"] = _related_from_json(str(data["related"]))
        data["page_starts"] = tuple(json.loads(str(data["page_starts"])))
        return data

    def documents(self) -> list[tuple[str, str, str]]:
        """(doc_id, content_hash, story_id) of every document."""
        rows = self._all("SELECT doc_id, content_hash, story_id FROM documents ORDER BY id")
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    def facts(self) -> dict[str, Any]:
        """Counts, outlets, languages and date range for stats and the app's filters."""
        docs, first, last = self._all(
            "SELECT count(*), min(substr(published, 1, 10)), max(substr(published, 1, 10))"
            " FROM documents"
        )[0]
        passages = self._all("SELECT count(*) FROM passages")[0][0]
        outlets = [
            str(r[0])
            for r in self._all(
                "SELECT DISTINCT outlet FROM documents WHERE outlet IS NOT NULL"
                " ORDER BY outlet COLLATE NOCASE"
            )
        ]
        languages = [
            str(r[0])
            for r in self._all(
                "SELECT DISTINCT language FROM documents WHERE language IS NOT NULL"
                " ORDER BY language"
            )
        ]
        return {
            "documents": docs,
            "passages": passages,
            "earliest": first,
            "latest": last,
            "outlets": tuple(outlets),
            "languages": tuple(languages),
        }


class _TermCounter:
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


def damaged(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file is not a (sound) database, rather than busy or full."""
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class EmbeddingCache:
    """Vectors keyed by (model id, embedded-text hash); beside the builds, it outlives them.

    A damaged file is set aside and started afresh (its vectors are only ever a shortcut).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn = self._reset()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # each batch commits; a killed build keeps them
            # Reading 14k vectors by key took half the time through the mapped file.
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, hash TEXT NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
            )
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _reset(self) -> sqlite3.Connection:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        return self._open()

    def close(self) -> None:
        self._conn.close()

    def get(self, model: str, hashes: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """Cached vectors for the hashes that have one."""
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        try:
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                rows = self._conn.execute(
                    "SELECT hash, vector FROM embeddings WHERE model = ?"
                    f" AND hash IN ({', '.join('?' * len(chunk))})",
                    [model, *chunk],
                )
                for h, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == dim:
                        found[h] = vec
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()
            return {}
        return found

    def put(
        self, model: str, items: Iterator[tuple[str, np.ndarray]] | Sequence[tuple[str, np.ndarray]]
    ) -> None:
        """Store vectors in one transaction."""
        rows = [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items]
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO embeddings(model, hash, vector) VALUES (?, ?, ?)", rows
                )
        except sqlite3.DatabaseError as exc:
            if not damaged(exc):
                raise
            self._conn.close()
            self._conn = self._reset()
