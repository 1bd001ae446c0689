"""The local engine: one build folder's SQLite database, tantivy keywords and FAISS vectors."""

from __future__ import annotations

import functools
import re
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
from coverage_search.engine.local.keywords import KeywordIndex, keyword_rows, write_keywords
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.vectors import VectorIndex
from coverage_search.engine.local.writer import write_content
from coverage_search.errors import IndexCorruptError
from coverage_search.records import SearchFilters

DATABASE = "coverage.sqlite"
VECTORS = "vectors.faiss"
KEYWORDS = "keywords"  # the tantivy index's folder; its files are recorded as keywords/<name>


_KEYWORD_FILE = re.compile(rf"{KEYWORDS}/(?!\.\.?$)[^/\\\x00]+")
_TANTIVY_LOCK = re.compile(r"\.tantivy-[a-z]+\.lock")


class LocalEngine(StoreBacked):
    """SQLite (documents, passages), tantivy (keywords) and FAISS (vectors) in one folder."""

    name = "local"

    def __init__(self, build_dir: Path, manifest: dict[str, Any]) -> None:
        self.build_dir = build_dir
        files = manifest.get("files")
        files = files if isinstance(files, dict) else {}
        # Both files are checked against the checksums written with them, before any use.
        check_file(build_dir / DATABASE, files.get(DATABASE))
        keyword_files = [n for n in files if n.startswith(f"{KEYWORDS}/")]
        if any(not _KEYWORD_FILE.fullmatch(n) for n in keyword_files):
            # Only plain names inside keywords/: a manifest never points outside the build.
            raise IndexCorruptError.damaged(
                build_dir.parent, f"the manifest names a file outside {KEYWORDS}/"
            )
        if not keyword_files:
            check_file(build_dir / KEYWORDS / "meta.json", None, name=f"{KEYWORDS}/meta.json")
        for name in keyword_files:
            if not _TANTIVY_LOCK.fullmatch(name.split("/", 1)[1]):  # builds that recorded one
                check_file(build_dir / name, files[name], name=name)
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
            self._keywords = KeywordIndex(
                build_dir / KEYWORDS, stemming=bool(manifest.get("stemming", True))
            )
        except ValueError as exc:  # what tantivy raises for an index it cannot open
            if "Lockfile" in str(exc) and (
                "PermissionDenied" in str(exc) or "ReadOnly" in str(exc)
            ):
                raise IndexCorruptError(  # tantivy writes a lock file even to read
                    f"The index at {build_dir.parent} is read-only, and reading its keyword index "
                    f"writes a lock file in {build_dir / KEYWORDS}: make the index folder writable."
                ) from None
            raise damaged(f"{KEYWORDS}/ cannot be read") from None
        try:
            self._store = Store(build_dir / DATABASE)
        except sqlite3.Error:
            raise damaged(f"{DATABASE} cannot be opened") from None

    def keyword(self, terms: Sequence[str], filters: SearchFilters, *, limit: int) -> Ranked:
        copied = self._store.copied_documents(filters) if filters.active else []
        return self._keywords.search(terms, filters, copied, limit=limit)

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        return self._keywords.term_docs(terms)

    def held_terms(self, terms: Sequence[str]) -> list[bool]:
        # tantivy's document frequencies are exact: a 0 needs no second look
        return [n > 0 for n in self.term_docs(terms)[0]]

    def dense(self, vector: np.ndarray, filters: SearchFilters, *, limit: int) -> Ranked:
        allowed = self._store.allowed_passages(filters) if filters.active else None
        return self._vectors.search(vector, limit, allowed=allowed)

    def facts(self) -> EngineFacts:
        try:
            keywords = sum(p.stat().st_size for p in (self.build_dir / KEYWORDS).iterdir())
        except OSError:  # removed or unreadable under an open index (it searches from memory)
            raise self.unreadable(f"{KEYWORDS}/ cannot be read") from None
        return self._facts(location=str(self.build_dir), extra_bytes=keywords)

    def close(self) -> None:
        self._store.close()


class LocalWriter(EngineWriter):
    """Writes the database, the keyword index and the vector file into a new build folder."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir

    def write(self, content: BuildContent) -> dict[str, Any]:
        ids = write_content(
            self.build_dir / DATABASE, content, keyword_index=False, term_counts=False
        )
        folder = self.build_dir / KEYWORDS
        write_keywords(folder, keyword_rows(content, ids), stemming=content.stemming)
        index = VectorIndex.create(np.asarray(ids, dtype=np.int64), content.vectors)
        index.save(self.build_dir / VECTORS)
        # tantivy's lock files come and go (it removes them when a reader or writer is freed,
        # which may be after this listing): recorded, a later open found one "missing".
        kept = (p.name for p in sorted(folder.iterdir()) if not _TANTIVY_LOCK.fullmatch(p.name))
        names = [DATABASE, VECTORS, *(f"{KEYWORDS}/{name}" for name in kept)]
        files = {name: file_record(self.build_dir / name) for name in names}
        return {"vector_index": index.kind, "files": files}
