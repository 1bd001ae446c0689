"""The local engine: one build folder's SQLite database and FAISS vectors behind the interface."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.base import (
    BuildContent,
    Engine,
    EngineFacts,
    EngineWriter,
    PassageRow,
    Ranked,
)
from coverage_search.engine.local.integrity import check_file, file_record
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.vectors import VectorIndex
from coverage_search.engine.local.writer import write_build
from coverage_search.errors import IndexCorruptError
from coverage_search.records import Document, SearchFilters, StoryCopy

DATABASE = "coverage.sqlite"
VECTORS = "vectors.faiss"


class LocalEngine(Engine):
    """SQLite (documents, passages, FTS5) and FAISS (vectors, by passage id) in one folder."""

    name = "local"

    def __init__(self, build_dir: Path, manifest: dict[str, Any]) -> None:
        self.build_dir = build_dir
        files = manifest.get("files")
        files = files if isinstance(files, dict) else {}
        # Both files are checked against the checksums written with them, before any use.
        check_file(build_dir / DATABASE, files.get(DATABASE))
        data = check_file(build_dir / VECTORS, files.get(VECTORS), whole=True)
        damaged = functools.partial(IndexCorruptError.damaged, build_dir.parent)
        try:
            vectors = VectorIndex.from_bytes(data, kind=str(manifest.get("vector_index", "flat")))
        except RuntimeError:  # what faiss raises for a file it cannot parse
            raise damaged(f"{VECTORS} cannot be read") from None
        del data
        dimension, passages = manifest.get("dimension"), manifest.get("counts", {}).get("passages")
        if vectors.dimension != dimension:
            raise damaged(
                f"{VECTORS} holds {vectors.dimension}-dimensional vectors, not {dimension}"
            )
        if vectors.size != passages:
            raise damaged(f"{VECTORS} holds {vectors.size} vectors for {passages} passages")
        self._vectors = vectors
        try:
            self._store = Store(build_dir / DATABASE)
        except sqlite3.Error:
            raise damaged(f"{DATABASE} cannot be opened") from None

    def keyword(self, terms: Sequence[str], filters: SearchFilters, *, limit: int) -> Ranked:
        return self._store.keyword(terms, filters, limit=limit)

    def dense(self, vector: np.ndarray, filters: SearchFilters, *, limit: int) -> Ranked:
        allowed = self._store.allowed_passages(filters) if filters.active else None
        return self._vectors.search(vector, limit, allowed=allowed)

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        return self._store.term_docs(terms)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        return self._store.passages(ids)

    def document(self, doc_id: str) -> Document | None:
        return self._store.document(doc_id)

    def matching_copies(self, doc_ids: Sequence[str], filters: SearchFilters) -> dict[str, str]:
        return self._store.matching_copies(doc_ids, filters)

    def story_copies(self, story_ids: Sequence[str]) -> dict[str, list[StoryCopy]]:
        return self._store.story_copies(story_ids)

    def documents(self) -> list[tuple[str, str, str]]:
        return self._store.documents()

    def facts(self) -> EngineFacts:
        facts = self._store.facts()
        size = sum(p.stat().st_size for p in self.build_dir.iterdir() if p.is_file())
        return EngineFacts(
            documents=int(facts["documents"]),
            passages=int(facts["passages"]),
            outlets=facts["outlets"],
            languages=facts["languages"],
            earliest=facts["earliest"],
            latest=facts["latest"],
            bytes=size,
            location=str(self.build_dir),
        )

    def close(self) -> None:
        self._store.close()


class LocalWriter(EngineWriter):
    """Writes the database and the vector file into a new build folder."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir

    def write(self, content: BuildContent) -> dict[str, Any]:
        ids = write_build(
            self.build_dir / DATABASE,
            content.documents,
            content.passages,
            story_ids=content.story_ids,
            indexed_as=content.indexed_as,
            stemming=content.stemming,
            meta={"fingerprint": content.fingerprint},
        )
        index = VectorIndex.create(np.asarray(ids, dtype=np.int64), content.vectors)
        index.save(self.build_dir / VECTORS)
        files = {name: file_record(self.build_dir / name) for name in (DATABASE, VECTORS)}
        return {"vector_index": index.kind, "files": files}
