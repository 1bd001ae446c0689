"""Writes one build's database: documents, passages and, for the Milvus engine, term counts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from coverage_search.engine.base import BuildContent, keyword_text
from coverage_search.engine.local import centroids
from coverage_search.engine.local.sql import connect, outlet_key, related_json
from coverage_search.passages.abbreviations import abbreviation_table
from coverage_search.records import Document, Passage

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
-- The filter columns and indexed_as in both: a filter then never reads a document's row (its text
-- makes rows ~4 KB); +5 MB per million passages. At 1M the hybrid search with one outlet and
-- one year went 88.4 → 53.3 ms p50 (bench/bench_speed.py, results/scale.md).
CREATE INDEX documents_outlet ON documents(outlet_key, published, indexed_as, language);
CREATE INDEX documents_published ON documents(published, outlet_key, indexed_as, language);
CREATE INDEX documents_story ON documents(story_id);
CREATE INDEX documents_indexed_as ON documents(indexed_as);
-- A passage's text is its span of its document's text, read with substr(): not stored twice.
CREATE TABLE passages (
    id INTEGER PRIMARY KEY,
    document INTEGER NOT NULL REFERENCES documents(id),
    ordinal INTEGER NOT NULL,
    heading TEXT,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    page INTEGER
);
CREATE INDEX passages_document ON passages(document);
-- The mean of each document's passage vectors, 4-bit (centroids.py): search's document prior.
CREATE TABLE centroids (
    document INTEGER PRIMARY KEY REFERENCES documents(id),
    vector BLOB NOT NULL
);
-- Abbreviations the indexed documents define ("RSP" → "Responsible Scaling Policy"), which
-- search spells out in a query's vector (passages/abbreviations.py, query/abbreviations.py).
CREATE TABLE abbreviations (short TEXT PRIMARY KEY, long TEXT NOT NULL) WITHOUT ROWID;
"""

# Contentless: the text already lives in `passages`, FTS5 only needs its term statistics.
_FTS = (
    "CREATE VIRTUAL TABLE {schema}.passages_fts"
    " USING fts5(text, heading, title, content='', tokenize='{tokenizer}')"
)
STEMMED = "porter unicode61 remove_diacritics 2"
UNSTEMMED = "unicode61 remove_diacritics 2"
# term_df keeps the terms in at least 1/TERM_DF_SHARE of the passages: rarer ones are never
# pruned from a query, and leaving them out keeps the table small on a large vocabulary.
TERM_DF_SHARE = 1000


def _write_tables(
    path: Path,
    documents: Sequence[Document],
    passages: Sequence[Sequence[Passage]],
    *,
    story_ids: dict[str, str],
    indexed_as: Sequence[int],
    stemming: bool,
    meta: dict[str, str],
    keyword_index: bool = True,
    term_counts: bool = True,
    vectors: np.ndarray | None = None,
) -> list[int]:
    """Write a whole new database; returns passage ids in the order of the flattened passages.

    Without `keyword_index` (another engine searches the keywords) the FTS5 table lives in the
    temp schema, only long enough to count term_df, and the file records its tokenizer; with
    neither (the local engine: its keyword index counts terms itself) there is no FTS5 at all.
    """
    ids: list[int] = []
    tokenizer = STEMMED if stemming else UNSTEMMED
    schema = "main" if keyword_index else "temp"
    with_fts = keyword_index or term_counts
    with closing(connect(path)) as conn, conn:
        conn.executescript(_SCHEMA)
        if with_fts:
            conn.execute(_FTS.format(schema=schema, tokenizer=tokenizer))
        meta = {**meta, "tokenizer": tokenizer}
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
                    related_json(doc.related),
                    json.dumps(doc.page_starts),
                    story_ids.get(doc.doc_id, doc.doc_id),
                    twin + 1,  # row ids count from 1
                    doc.text,
                ),
            )
            rows = []
            fts = []
            for p in doc_passages:
                if doc.text[p.start : p.end] != p.text:  # the reader takes the text from there
                    raise ValueError(f"passage {p.ordinal} of {doc.doc_id} is not its span")
                rows.append((next_id, doc_row, p.ordinal, p.heading, p.start, p.end, p.page))
                # counted as keyword search reads words: a soft hyphen does not cut one
                fts.append(
                    (
                        next_id,
                        keyword_text(p.text),
                        keyword_text(p.heading or ""),
                        keyword_text(doc.title),
                    )
                )
                ids.append(next_id)
                next_id += 1
            conn.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            if not with_fts:
                continue
            conn.executemany(
                f"INSERT INTO {schema}.passages_fts(rowid, text, heading, title)"
                " VALUES (?, ?, ?, ?)",
                fts,
            )
        if vectors is not None and len(vectors):
            _write_centroids(conn, vectors, [len(p) for p in passages])
        # An exact copy (no passages of its own) would count its original's definitions twice.
        texts = (f"{d.title}\n{d.text}" for d, p in zip(documents, passages, strict=True) if p)
        conn.executemany(
            "INSERT INTO abbreviations VALUES (?, ?)", sorted(abbreviation_table(texts).items())
        )
        if with_fts:
            conn.execute(f"INSERT INTO {schema}.passages_fts(passages_fts) VALUES ('optimize')")
            _write_term_df(conn, schema)
    return ids


def _write_centroids(conn: sqlite3.Connection, vectors: np.ndarray, counts: Sequence[int]) -> None:
    rows = [i for i, n in enumerate(counts, start=1) if n]
    blobs = centroids.encode(centroids.document_means(vectors, counts))
    conn.executemany("INSERT INTO centroids VALUES (?, ?)", zip(rows, blobs, strict=True))


def _write_term_df(conn: sqlite3.Connection, schema: str) -> None:
    """How many passages hold each common term (0.26 s and 0.1 MB at 100k passages)."""
    # A query looks a count up here instead of fts5vocab reading the term's whole posting
    # list (~2 ms per common term at 100k passages, growing with the index).
    conn.execute(
        "CREATE TABLE term_df (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    conn.execute(
        f"CREATE VIRTUAL TABLE temp.passage_terms USING fts5vocab({schema}, passages_fts, row)"
    )
    total = conn.execute("SELECT count(*) FROM passages").fetchone()[0]
    conn.execute(
        "INSERT INTO term_df(term, docs) SELECT term, doc FROM temp.passage_terms WHERE doc >= ?",
        (max(1, total // TERM_DF_SHARE),),
    )
    conn.execute("DROP TABLE temp.passage_terms")


def write_content(
    path: Path, content: BuildContent, *, keyword_index: bool = True, term_counts: bool = True
) -> list[int]:
    """Write a build's content as a new database; returns passage ids in the flattened order."""
    return _write_tables(
        path,
        content.documents,
        content.passages,
        story_ids=content.story_ids,
        indexed_as=content.indexed_as,
        stemming=content.stemming,
        meta={"fingerprint": content.fingerprint},
        keyword_index=keyword_index,
        term_counts=term_counts,
        vectors=content.vectors,
    )
