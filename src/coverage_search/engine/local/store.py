"""Read access to one local build's database. All reading SQL of the local engine lives here."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.base import DocumentSource, PassageRow
from coverage_search.engine.local import centroids
from coverage_search.engine.local.sql import (
    batched,
    connect,
    filter_sql,
    passing,
    related_from_json,
)
from coverage_search.engine.local.terms import TermCounter
from coverage_search.errors import IndexCorruptError, QueryError
from coverage_search.records import Document, SearchFilters, StoryCopy

_DOCUMENT_COLUMNS = (
    "doc_id, path, title, text, format, content_hash, url, outlet, published, author, language,"
    " related, page_starts"
)


class Store(DocumentSource):
    """Read access to one finished build's database (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path, readonly=True)
        # One connection shared by Streamlit's threads; sqlite3 objects need serialized use.
        self._lock = threading.Lock()
        self._terms: TermCounter | None = None
        self._has_copies: bool | None = None
        self._has_centroids: bool | None = None
        self._has_abbreviations: bool | None = None
        # None: not read yet; False: some document's passages are not one run of ids.
        self._runs: tuple[np.ndarray, np.ndarray, np.ndarray] | bool | None = None
        self._closed = False
        self._all("SELECT count(*) FROM sqlite_master")  # damage shows now, not mid-search

    def close(self) -> None:
        self._closed = True
        self._conn.close()

    def _all(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            self._check_open()
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:  # the file changed under the open index
                raise IndexCorruptError.damaged(
                    self.path.parent.parent, f"{self.path.name} cannot be read: {exc}"
                ) from None

    def _check_open(self) -> None:
        if self._closed:
            raise QueryError("This index was closed: open it again (CoverageIndex.open).")

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        """How many passages hold each query term as the index tokenizes it, and the passage count.

        A term the tokenizer splits in several (`foo_bar`) counts as its rarest part; a term with
        no token, or one no passage holds, counts 0, and so may a term in fewer than
        1/TERM_DF_SHARE of the passages (term_df leaves those out). Should SQLite refuse the
        temp tables this needs, every count is 0: keyword search then keeps every term.
        """
        with self._lock:
            self._check_open()
            try:
                if self._terms is None:
                    self._terms = TermCounter(self._conn)
                return self._terms.docs(terms)
            except sqlite3.OperationalError:
                return [0] * len(terms), 0

    def copied_documents(self, filters: SearchFilters) -> list[int]:
        """Rows of indexed documents that have an exact copy (not themselves) passing `filters`."""
        if not self._any_copies():
            return []
        where, params = filter_sql(filters)
        rows = self._all(
            f"SELECT DISTINCT d.indexed_as FROM documents d WHERE d.indexed_as != d.id AND {where}",
            params,
        )
        return [int(r[0]) for r in rows]

    def allowed_passages(self, filters: SearchFilters) -> np.ndarray:
        """Ids of every passage that stands for a document passing the filters.

        The documents come from SQL, their passages from each document's run of passage ids,
        read once (0.5 s at a million passages, 24 bytes a document). With the bitmap filter
        of vectors.py, a hybrid search of one year of a million passages went 141-192 → 54-55
        ms p50 where SQL joined the passages (bench/bench_search_ab.py, README's Speed)."""
        where, params = filter_sql(filters)
        runs = self._passage_runs()
        if runs is None:  # a build whose documents' passages are not consecutive ids
            rows = self._all(f"SELECT p.id FROM passages p WHERE {passing(where)}", params)
            return np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        # No DISTINCT: SQLite then scans every document by indexed_as (330 ms for one year).
        rows = self._all(f"SELECT d.indexed_as FROM documents d WHERE {where}", params)
        wanted = np.unique(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        documents, firsts, counts = runs
        at = np.searchsorted(documents, wanted).clip(max=max(len(documents) - 1, 0))
        found = documents[at] == wanted if len(documents) else np.zeros(len(wanted), dtype=bool)
        starts, lengths = firsts[at[found]], counts[at[found]]
        if not len(lengths):
            return np.zeros(0, dtype=np.int64)
        # Every id of every run, without a Python loop over the documents.
        steps = np.ones(int(lengths.sum()), dtype=np.int64)
        ends = np.cumsum(lengths)
        steps[0] = starts[0]
        steps[ends[:-1]] = starts[1:] - (starts[:-1] + lengths[:-1]) + 1
        return np.cumsum(steps)

    def warm_up(self) -> None:
        """Read the passage runs now, not in the first filtered search (0.5 s at 1M)."""
        self._passage_runs()

    def _passage_runs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(document rows, first passage id, passage count), by document row, read once; None
        when some document's passages are not consecutive ids (a build writes them so)."""
        if self._runs is None:
            rows = self._all(
                "SELECT document, min(id), max(id), count(*) FROM passages GROUP BY document"
                " ORDER BY document"
            )
            table = np.array(rows, dtype=np.int64).reshape(-1, 4)
            consecutive = bool(np.all(table[:, 2] - table[:, 1] + 1 == table[:, 3]))
            self._runs = (table[:, 0], table[:, 1], table[:, 3]) if consecutive else False
        return None if isinstance(self._runs, bool) else self._runs

    def matching_copies(self, doc_ids: Sequence[str], filters: SearchFilters) -> dict[str, str]:
        """For indexed documents that fail the filters, the exact copy of each that passes them."""
        if not self._any_copies():
            return {}
        where, params = filter_sql(filters)
        own, own_params = filter_sql(filters, alias="o")
        ids = list(dict.fromkeys(doc_ids))
        # CROSS JOIN keeps SQLite's order, the few hits' documents first: with JOIN it started
        # from every document passing the filter (32 ms for one outlet of a million passages,
        # 0.7 ms so).
        rows = self._all(
            "SELECT o.doc_id, d.doc_id FROM documents o CROSS JOIN documents d"
            " ON d.indexed_as = o.id"
            f" WHERE o.doc_id IN ({', '.join('?' * len(ids))}) AND d.id != o.id AND {where}"
            f" AND NOT coalesce(({own}), 0) ORDER BY d.id",
            [*ids, *params, *own_params],
        )
        out: dict[str, str] = {}
        for own, copy in rows:
            out.setdefault(str(own), str(copy))
        return out

    def _any_copies(self) -> bool:
        """Whether any document is an exact copy of another (read once)."""
        if self._has_copies is None:
            self._has_copies = bool(
                self._all("SELECT 1 FROM documents WHERE indexed_as != id LIMIT 1")
            )
        return self._has_copies

    def owners(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(doc id, story id) of each passage, keyed by passage id."""
        id_list = list(dict.fromkeys(ids))
        out: dict[int, tuple[str, str]] = {}
        for chunk in batched(id_list):
            rows = self._all(
                "SELECT p.id, d.doc_id, d.story_id FROM passages p"
                " JOIN documents d ON d.id = p.document"
                f" WHERE p.id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update((r[0], (r[1], r[2])) for r in rows)
        return out

    def mean_cosines(self, doc_ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """Each document's mean passage cosine with unit `vector`, from its stored centroid."""
        if self._has_centroids is None:  # a build from before centroids: search without them
            self._has_centroids = bool(
                self._all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'centroids'")
            )
        if not self._has_centroids:
            return {}
        docs: list[str] = []
        blobs: list[bytes] = []
        for chunk in batched(list(dict.fromkeys(doc_ids))):
            rows = self._all(
                "SELECT d.doc_id, c.vector FROM documents d JOIN centroids c ON c.document = d.id"
                f" WHERE d.doc_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            docs.extend(str(r[0]) for r in rows)
            blobs.extend(r[1] for r in rows)
        found = zip(docs, centroids.cosines(blobs, vector), strict=True)
        return {doc: cos for doc, cos in found if cos is not None}

    def abbreviations(self, shorts: Sequence[str]) -> dict[str, str]:
        """The long form of each of `shorts` the build's documents define."""
        if self._has_abbreviations is None:  # a build from before them: nothing to spell out
            self._has_abbreviations = bool(
                self._all(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'abbreviations'"
                )
            )
        wanted = list(dict.fromkeys(shorts))
        if not self._has_abbreviations or not wanted:
            return {}
        out: dict[str, str] = {}
        for chunk in batched(wanted):
            marks = ", ".join("?" * len(chunk))
            rows = self._all(
                f"SELECT short, long FROM abbreviations WHERE short IN ({marks})", chunk
            )
            out.update((str(r[0]), str(r[1])) for r in rows)
        return out

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        """Passage rows with their documents, keyed by passage id."""
        id_list = list(dict.fromkeys(ids))
        out: dict[int, PassageRow] = {}
        for chunk in batched(id_list):
            sql = (
                'SELECT p.id, substr(d.text, p.start + 1, p."end" - p.start), p.heading,'
                ' p.start, p."end", p.page, p.ordinal, d.doc_id,'
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
                    related=related_from_json(r[15]),
                    story_id=r[16],
                )
                out[row.id] = row
        return out

    def story_copies(self, story_ids: Sequence[str]) -> dict[str, list[StoryCopy]]:
        """Every document of each story, oldest first."""
        out: dict[str, list[StoryCopy]] = {}
        ids = list(dict.fromkeys(story_ids))
        if not ids:
            return out
        rows = self._all(
            "SELECT story_id, doc_id, title, outlet, url, published FROM documents"
            f" WHERE story_id IN ({', '.join('?' * len(ids))}) ORDER BY published, doc_id",
            ids,
        )
        for r in rows:
            out.setdefault(str(r[0]), []).append(
                StoryCopy(doc_id=r[1], title=r[2], outlet=r[3], url=r[4], published=r[5])
            )
        return out

    def document(self, doc_id: str) -> Document | None:
        """All stored facts of one document, or None."""
        return self.documents_by_id([doc_id]).get(doc_id)

    def documents_by_id(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """All stored facts of the documents stored under these ids, by doc id."""
        out: dict[str, Document] = {}
        for chunk in batched(list(dict.fromkeys(doc_ids))):
            sql = (
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents"
                f" WHERE doc_id IN ({', '.join('?' * len(chunk))})"
            )
            for r in self._all(sql, chunk):
                out[str(r[0])] = Document(
                    doc_id=str(r[0]),
                    path=str(r[1]),
                    title=str(r[2]),
                    text=str(r[3]),
                    format=str(r[4]),
                    content_hash=str(r[5]),
                    url=r[6],
                    outlet=r[7],
                    published=r[8],
                    author=r[9],
                    language=r[10],
                    related=related_from_json(str(r[11])),
                    page_starts=tuple(json.loads(str(r[12]))),
                )  # headings are not stored: nothing reads them back
        return out

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
