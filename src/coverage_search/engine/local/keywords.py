"""The local engine's keyword index: tantivy (BM25 with block-max pruning of the top k).

FTS5's bm25() scores every passage that holds a query term before it can cut the top k
(374 ms at 1M passages); tantivy skips the blocks of postings that cannot reach the top k.
Passages are analyzed in Python (analyzer.py, FTS5's porter tokenizer) and indexed as
space-separated tokens, so the index and the query side share one analyzer. One field holds
title, heading and text, as FTS5's bm25() with weights 1, 1, 1 scores a row, and each term is
boosted so that its weight is FTS5's idf (see `_idf`): scores are FTS5's but for tantivy's
one-byte passage lengths. The filter
fields are the passage's own document's; an exact copy that passes is resolved in the
database into its document's row, as the Milvus engine does (see `filter_query`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage_search.engine.base import BuildContent
from coverage_search.engine.local.analyzer import analyzer, text_analyzer
from coverage_search.engine.local.sql import outlet_key
from coverage_search.records import SearchFilters

UNKNOWN_DAY = -1
WRITER_HEAP = 512 * 1024 * 1024  # bytes: fewer, larger segments (tantivy splits it by thread)
TOKENIZER = "whitespace"  # tokens arrive analyzed; tantivy only splits them


@dataclass(frozen=True, slots=True)
class KeywordRow:
    """One passage as the keyword index stores it."""

    id: int
    document: int  # the document row whose passages these are
    text: str  # title, heading and passage text
    outlet: str  # outlet key ("" when unknown)
    day: int  # published as YYYYMMDD, UNKNOWN_DAY when unknown
    language: str  # lowercased, "" when unknown


def day_number(published: str | None) -> int:
    """ "2026-05-20…" → 20260520, else UNKNOWN_DAY (sortable; dates before 1970 stay positive)."""
    value = (published or "")[:10]
    if len(value) == 10 and value[4] == value[7] == "-":
        digits = value[:4] + value[5:7] + value[8:]
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return UNKNOWN_DAY


def keyword_rows(content: BuildContent, ids: Sequence[int]) -> Iterator[KeywordRow]:
    """The rows of a build's passages, `ids[i]` the id of the i-th passage in flattened order."""
    flat = 0
    for row, (doc, group) in enumerate(zip(content.documents, content.passages, strict=True), 1):
        outlet, day, language = (
            outlet_key(doc.outlet) or "",
            day_number(doc.published),
            (doc.language or "").lower(),
        )
        for p in group:
            text = "\n".join(x for x in (doc.title, p.heading, p.text) if x)
            yield KeywordRow(ids[flat], row, text, outlet, day, language)
            flat += 1


def _tantivy() -> Any:
    import tantivy

    return tantivy


def _schema() -> Any:
    tantivy = _tantivy()
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", fast=True)
    builder.add_unsigned_field("document", indexed=True)
    builder.add_text_field("body", tokenizer_name=TOKENIZER, index_option="freq")
    builder.add_text_field("outlet", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("day", fast=True)
    builder.add_text_field("language", tokenizer_name="raw", index_option="basic")
    return builder.build()


def write_keywords(folder: Path, rows: Iterable[KeywordRow], *, stemming: bool) -> None:
    """Write a new keyword index of `rows` into the empty `folder`, every file fsynced."""
    tantivy = _tantivy()
    folder.mkdir()
    index = tantivy.Index(_schema(), path=str(folder), reuse=False)
    writer = index.writer(WRITER_HEAP, 1)
    analyze = text_analyzer(stemming)
    for row in rows:
        doc = tantivy.Document()
        doc.add_unsigned("id", row.id)
        doc.add_unsigned("document", row.document)
        doc.add_text("body", analyze(row.text))
        doc.add_text("outlet", row.outlet)
        doc.add_integer("day", row.day)
        doc.add_text("language", row.language)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    index = tantivy.Index.open(str(folder))  # garbage-collect what merging left behind
    cleaner = index.writer(15_000_000, 1)
    cleaner.garbage_collect_files()
    cleaner.wait_merging_threads()
    for item in folder.iterdir():
        if item.name.endswith(".lock"):
            item.unlink()
    for item in sorted(folder.iterdir()):
        # tantivy writes meta.json 0600: readable by all, as the database beside it is, so a
        # service user reading the index is not told it is damaged.
        item.chmod(0o644)
        fd = os.open(item, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class KeywordIndex:
    """Read access to one build's keyword index (safe to share across threads)."""

    def __init__(self, folder: Path, *, stemming: bool) -> None:
        tantivy = _tantivy()
        self._index = tantivy.Index.open(str(folder))
        self._searcher = self._index.searcher()
        self._schema = self._index.schema
        self._analyze = analyzer(stemming)
        self.passages = int(self._searcher.num_docs)

    def tokens(self, terms: Sequence[str]) -> list[list[str]]:
        """Each term's tokens as the index holds them."""
        return [self._analyze(t) for t in terms]

    def search(
        self, terms: Sequence[str], filters: SearchFilters, copied: Sequence[int], *, limit: int
    ) -> list[tuple[int, float]]:
        """Passage ids and BM25 scores of the top `limit` passages holding any of the terms.

        `copied`: rows of documents with an exact copy that passes the filters (their passages
        pass too).
        """
        tantivy = _tantivy()
        tokens = sorted({tok for ts in self.tokens(terms) for tok in ts})
        clauses = []
        for token in tokens:
            docs = int(self._searcher.doc_freq("body", token))
            if docs == 0:
                continue
            term = tantivy.Query.term_query(self._schema, "body", token, index_option="freq")
            clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(term, self._idf(docs))))
        if not clauses or limit <= 0:
            return []
        query = tantivy.Query.boolean_query(clauses)
        if filters.active:
            allowed = self.filter_query(filters, copied)
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, query),
                    (tantivy.Occur.Must, tantivy.Query.const_score_query(allowed, 0.0)),
                ]
            )
        hits = self._searcher.search(query, limit, count=False).hits
        if not hits:
            return []
        ids = self._searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(i), float(score)) for (score, _), i in zip(hits, ids, strict=True)]

    def _idf(self, docs: int) -> float:
        """The boost that turns tantivy's idf, ln(1 + (N - n + 0.5) / (n + 0.5)), into FTS5's.

        FTS5's bm25() weighs a term by ln((N - n + 0.5) / (n + 0.5)), 1e-6 when that is not
        positive (a term in half the passages or more counts next to nothing); the rest of the
        formula (k1 1.2, b 0.75, the length of the whole row) is the same in both.
        """
        ratio = (self.passages - docs + 0.5) / (docs + 0.5)
        fts5 = math.log(ratio) if ratio > 1 else 1e-6
        return fts5 / math.log1p(ratio)

    def filter_query(self, filters: SearchFilters, copied: Sequence[int]) -> Any:
        """Passages whose own document passes every filter, or whose document is `copied`."""
        tantivy, schema = _tantivy(), self._schema
        clauses = []
        if filters.outlets:
            keys = sorted({outlet_key(o) or "" for o in filters.outlets} - {""})
            clauses.append(tantivy.Query.term_set_query(schema, "outlet", keys))
        if filters.since or filters.until:
            low = day_number(filters.since) if filters.since else 0
            high = day_number(filters.until) if filters.until else None
            clauses.append(
                tantivy.Query.range_query(schema, "day", tantivy.FieldType.Integer, low, high)
            )
        if filters.language:
            clauses.append(tantivy.Query.term_query(schema, "language", filters.language.lower()))
        own = tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])
        if not copied:
            return own
        rows = tantivy.Query.term_set_query(schema, "document", sorted(set(copied)))
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, own), (tantivy.Occur.Should, rows)]
        )

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        """How many passages hold each term (its rarest token; 0 without a token)."""
        counts: list[int] = []
        for tokens in self.tokens(terms):
            counts.append(min((int(self._searcher.doc_freq("body", t)) for t in tokens), default=0))
        return counts, self.passages
