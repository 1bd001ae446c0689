"""What every engine answers from a build's SQLite documents: passages, documents, copies, facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from coverage_search.engine.base import Engine, EngineFacts, PassageRow
from coverage_search.engine.local.store import Store
from coverage_search.errors import IndexCorruptError
from coverage_search.records import Document, SearchFilters, StoryCopy


class StoreBacked(Engine):
    """An engine whose documents and passage rows live in `self._store` (a build's SQLite).

    The local engine keeps its keyword index there too; the Milvus engine only the documents.
    Subclasses set `build_dir` and `_store`, and search however they search.
    """

    build_dir: Path
    _store: Store

    def warm_up(self) -> None:
        self._store.warm_up()

    def term_docs(self, terms: Sequence[str]) -> tuple[list[int], int]:
        return self._store.term_docs(terms)

    def owners(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        return self._store.owners(ids)

    def mean_cosines(self, doc_ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        return self._store.mean_cosines(doc_ids, vector)

    def abbreviations(self, shorts: Sequence[str]) -> dict[str, str]:
        return self._store.abbreviations(shorts)

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        return self._store.passages(ids)

    def document(self, doc_id: str) -> Document | None:
        return self._store.document(doc_id)

    def documents_by_id(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        return self._store.documents_by_id(doc_ids)

    def matching_copies(self, doc_ids: Sequence[str], filters: SearchFilters) -> dict[str, str]:
        return self._store.matching_copies(doc_ids, filters)

    def story_copies(self, story_ids: Sequence[str]) -> dict[str, list[StoryCopy]]:
        return self._store.story_copies(story_ids)

    def documents(self) -> list[tuple[str, str, str]]:
        return self._store.documents()

    def unreadable(self, problem: str) -> IndexCorruptError:
        """The error for build files gone under an open index: replaced by newer builds (the
        usual case: two builds since it was opened), else damaged."""
        if not self.build_dir.is_dir():
            return IndexCorruptError(
                f"The build of {self.build_dir.parent} this index opened was replaced by newer "
                "builds since: open the index again."
            )
        return IndexCorruptError.damaged(self.build_dir.parent, problem)

    def _facts(self, *, location: str, extra_bytes: int = 0) -> EngineFacts:
        """The store's counts, with the build folder's size plus `extra_bytes`."""
        facts = self._store.facts()
        try:
            size = sum(p.stat().st_size for p in self.build_dir.iterdir() if p.is_file())
        except OSError:  # the folder went away under an open index
            raise self.unreadable("its files cannot be read") from None
        return EngineFacts(
            documents=int(facts["documents"]),
            passages=int(facts["passages"]),
            outlets=facts["outlets"],
            languages=facts["languages"],
            earliest=facts["earliest"],
            latest=facts["latest"],
            bytes=size + extra_bytes,
            location=location,
        )
