"""The Milvus engine: keyword (BM25) and dense search in a Milvus collection, under filters."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.base import EngineFacts, Ranked
from coverage_search.engine.local.backed import StoreBacked
from coverage_search.engine.local.integrity import check_file
from coverage_search.engine.local.store import Store
from coverage_search.engine.milvus.client import (
    CALL_TIMEOUT,
    POOL,
    WRITE_TIMEOUT,
    display,
    failures,
    is_lite,
    lite_is_damaged,
    where,
)
from coverage_search.engine.milvus.filters import filter_expression
from coverage_search.engine.milvus.schema import MAX_LIMIT, dense_params
from coverage_search.errors import IndexCorruptError
from coverage_search.records import SearchFilters

DOCUMENTS = "documents.sqlite"
LITE_FILE = "milvus.db"  # the default: a Milvus Lite database in the index folder


class Documents(Store):
    """The side database: the local engine's documents, passages and term_df, no FTS5."""


def stored_uri(index_dir: Path, manifest: dict[str, Any]) -> str:
    """Where a build's collection lives; a relative Lite path is inside the index folder."""
    uri = str(manifest.get("milvus_uri") or LITE_FILE)
    if is_lite(uri) and not Path(uri).is_absolute():
        return str(index_dir / uri)
    return uri


class MilvusEngine(StoreBacked):
    """One build: its collection in Milvus and its side database in the build folder.

    Documents and passage rows (text, spans, metadata, stories, exact copies, term counts) are
    metadata: they sit beside the manifest in a small SQLite file with the local engine's
    tables, read by the local engine's own Store, so both engines show passages the same way.
    Milvus holds what search needs: the BM25 text, the vector and the filter fields.
    """

    _store: Documents

    name = "milvus"

    def __init__(self, build_dir: Path, manifest: dict[str, Any]) -> None:
        self.build_dir = build_dir
        self.uri = stored_uri(build_dir.parent, manifest)
        self.collection = str(manifest.get("milvus_collection") or "")
        self.kind = str(manifest.get("vector_index", "flat"))
        side = build_dir / DOCUMENTS
        if not self.collection or not side.is_file():
            raise IndexCorruptError(
                f"The index at {build_dir.parent} is damaged (no {DOCUMENTS} or collection "
                "name). Run: coverage-search build"
            )
        files = manifest.get("files")
        if isinstance(files, dict):  # builds before the side database was checksummed have none
            check_file(side, files.get(DOCUMENTS))
        if is_lite(self.uri) and (not Path(self.uri).is_file() or lite_is_damaged(Path(self.uri))):
            state = "damaged" if Path(self.uri).exists() else "missing"
            raise IndexCorruptError(f"The {where(self.uri)} is {state}. Run: coverage-search build")
        self._store = Documents(side)
        self._lock = threading.Lock()
        self._client: Any = None

    @classmethod
    def open(cls, build_dir: Path, manifest: dict[str, Any]) -> MilvusEngine:
        """The engine of a build; Milvus itself is reached at the first search."""
        return cls(build_dir, manifest)

    def _ready(self) -> Any:
        """The shared client, once the collection is known to be there and loaded."""
        with self._lock:
            if self._client is not None:
                return self._client
            client = POOL.acquire(self.uri)
            try:
                self._load(client)
            except BaseException:
                POOL.release(self.uri)
                raise
            self._client = client
            return client

    def _load(self, client: Any) -> None:
        # A reopened Milvus Lite database (or a restarted server) comes back not loaded.
        with failures(self.uri, f"find collection {self.collection}"):
            found = client.has_collection(self.collection, timeout=CALL_TIMEOUT)
            state = client.get_load_state(self.collection, timeout=CALL_TIMEOUT) if found else {}
        if not found:
            raise IndexCorruptError(
                f"The {where(self.uri)} has no collection {self.collection} for this index. "
                "Run: coverage-search build --force"
            )
        if getattr(state.get("state"), "name", "") == "Loaded":
            return
        try:
            with failures(self.uri, f"load collection {self.collection}"):
                client.load_collection(self.collection, timeout=WRITE_TIMEOUT)
        except Exception as exc:
            raise IndexCorruptError(
                f"{exc} (damaged?). Run: coverage-search build --force"
            ) from exc

    def _search_each(
        self,
        data: list[Any],
        field: str,
        params: dict[str, Any],
        filters: SearchFilters,
        limit: int,
    ) -> list[list[dict[str, Any]]]:
        """One search request for several queries: the hits of each, in order ([] when
        Milvus answers with nothing at all)."""
        if limit <= 0 or not data:
            return [[] for _ in data]
        expression = ""
        if filters.active:
            expression = filter_expression(filters, self._store.copied_documents(filters))
        client = self._ready()
        with failures(self.uri, "search"):
            result = client.search(
                self.collection,
                data=data,
                anns_field=field,
                limit=min(limit, MAX_LIMIT),
                filter=expression,
                search_params=params,
                output_fields=[],
                timeout=CALL_TIMEOUT,
            )
        return [list(hits) for hits in result] if result else []

    def keyword(self, terms: Sequence[str], filters: SearchFilters, *, limit: int) -> Ranked:
        """BM25 in Milvus: the terms go in as text (never syntax); any of them may match."""
        if not terms:
            return []
        text = [" ".join(terms)]
        found = self._search_each(text, "sparse", {"metric_type": "BM25"}, filters, limit)
        hits = found[0] if found else []
        # Milvus (2.5 and its Lite) gives BM25 as a positive distance; milvus-lite 3 negates it.
        return [(int(h["id"]), abs(float(h["distance"]))) for h in hits]

    def held_terms(self, terms: Sequence[str]) -> list[bool]:
        """The side database's counts, and the terms it counts 0 asked of Milvus in one request
        (it keeps only terms in a share of the passages, and a name asked about is rare)."""
        docs, _ = self.term_docs(terms)
        ask = [t for t, n in zip(terms, docs, strict=True) if n == 0]
        found = self._search_each(ask, "sparse", {"metric_type": "BM25"}, SearchFilters(), 1)
        if len(found) != len(ask):  # not one list per query: count them known, as names past
            return [True] * len(terms)  # MAX_NAMES are, rather than guess which is which
        held = {t for t, hits in zip(ask, found, strict=True) if hits}
        return [n > 0 or t in held for t, n in zip(terms, docs, strict=True)]

    def dense(self, vector: np.ndarray, filters: SearchFilters, *, limit: int) -> Ranked:
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        params = dense_params(self.kind, limit)
        found = self._search_each([query], "dense", params, filters, limit)
        hits = found[0] if found else []
        return [(int(h["id"]), float(h["distance"])) for h in hits]

    def facts(self) -> EngineFacts:
        # A Milvus Lite file also holds the previous build's collection: counted whole.
        try:
            extra = Path(self.uri).stat().st_size if is_lite(self.uri) else 0
        except OSError:
            state = "missing" if not Path(self.uri).exists() else "unreadable"
            raise IndexCorruptError(
                f"The {where(self.uri)} is {state}. Run: coverage-search build"
            ) from None
        location = f"{display(self.uri)}, collection {self.collection}"
        return self._facts(location=location, extra_bytes=extra)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client = None
                POOL.release(self.uri)
        self._store.close()
