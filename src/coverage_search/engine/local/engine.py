"""The local engine: one build folder's SQLite database and FAISS vectors behind the interface."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.base import (
    BuildContent,
    EngineFacts,
    EngineWriter,
    Ranked,
)
from coverage_search.engine.local.backed import StoreBacked
from coverage_search.engine.local.integrity import check_file, file_record
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.vectors import VectorIndex
from coverage_search.engine.local.writer import write_content
from coverage_search.errors import IndexCorruptError
from coverage_search.records import SearchFilters

DATABASE = "coverage.sqlite"
VECTORS = "vectors.faiss"


class LocalEngine(StoreBacked):
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

    def facts(self) -> EngineFacts:
        return self._facts(location=str(self.build_dir))

    def close(self) -> None:
        self._store.close()


class LocalWriter(EngineWriter):
    """Writes the database and the vector file into a new build folder."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir

    def write(self, content: BuildContent) -> dict[str, Any]:
        ids = write_content(self.build_dir / DATABASE, content)
        index = VectorIndex.create(np.asarray(ids, dtype=np.int64), content.vectors)
        index.save(self.build_dir / VECTORS)
        files = {name: file_record(self.build_dir / name) for name in (DATABASE, VECTORS)}
        return {"vector_index": index.kind, "files": files}
