"""The public engine: `CoverageIndex` builds, opens and searches an index folder."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .errors import IndexMismatchError, QueryError
from .records import (
    BuildReport,
    Document,
    IndexStats,
    SearchFilters,
    SearchHit,
    StoryCopy,
)
from .search import (
    MODES,
    SearchSettings,
    clean_query,
    diversify,
    fuse,
    keyword_search,
    retriever_ranks,
)

if TYPE_CHECKING:
    from .builder import ProgressFn
    from .chunking import ChunkSettings
    from .embedding import Embedder
    from .fetch import Fetcher
    from .ingest import AddReport, RemoveReport
    from .records import Answer
    from .store import PassageRow, Store
    from .vectors import VectorIndex

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_date(value: str | date | None, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        date.fromisoformat(text)
    except ValueError:
        raise QueryError(f"{name} must be a date like 2026-01-31, not {text!r}.") from None
    return text


def make_filters(
    outlets: Sequence[str] | str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    language: str | None = None,
) -> SearchFilters:
    """Validated filters; a bad date or an inverted range is a QueryError."""
    if isinstance(outlets, str):
        outlets = [outlets]
    if not isinstance(outlets, (list, tuple, set, frozenset, type(None))) or not all(
        isinstance(o, str) for o in outlets or ()
    ):
        raise QueryError("outlets must be an outlet name or a list of outlet names.")
    if language is not None and not isinstance(language, str):
        raise QueryError("language must be a language code such as 'en'.")
    chosen = tuple(o.strip() for o in outlets or () if o and o.strip())
    start, end = _check_date(since, "since"), _check_date(until, "until")
    if start and end and start > end:
        raise QueryError(f"since ({start}) is after until ({end}): swap them.")
    return SearchFilters(
        outlets=chosen, since=start, until=end, language=(language or "").strip() or None
    )


class CoverageIndex:
    """A built index: search it, ask it questions, read its facts. Safe to share across threads."""

    def __init__(
        self,
        index_dir: Path,
        build_dir: Path,
        manifest: dict[str, Any],
        store: Store,
        vectors: VectorIndex,
        embedder: Embedder,
        settings: SearchSettings,
    ) -> None:
        self.index_dir = index_dir
        self.build_dir = build_dir
        self.manifest = manifest
        self.embedder = embedder
        self.settings = settings
        self._store = store
        self._vectors = vectors

    # -- building and opening ----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        corpus_dir: str | Path,
        index_dir: str | Path,
        *,
        model: str | None = None,
        backend: str | None = None,
        chunking: ChunkSettings | None = None,
        stemming: bool = True,
        progress: bool = True,
        on_progress: ProgressFn | None = None,
        force: bool = False,
    ) -> BuildReport:
        """Build or refresh the index; unchanged passages are never embedded again.

        `backend` runs the model with "onnx-int8" (default for a local model folder), "onnx"
        or "torch"; queries later use whatever the index was built with.
        """
        from .builder import build_index

        return build_index(
            Path(corpus_dir),
            Path(index_dir),
            model=model,
            backend=backend,
            chunking=chunking,
            stemming=stemming,
            progress=progress,
            on_progress=on_progress,
            force=force,
        )

    # -- adding and removing coverage (ingest.py does the work) ------------------------------

    @classmethod
    def add(
        cls,
        sources: Sequence[str],
        *,
        corpus_dir: str | Path,
        index_dir: str | Path,
        feeds: Sequence[str] = (),
        model: str | None = None,
        progress: bool = True,
        fetcher: Fetcher | None = None,
    ) -> AddReport:
        """Save URLs, files and feed entries into corpus/ (subscribing to the feeds), then build."""
        from .ingest import add_sources, refresh_index

        report = add_sources(sources, corpus_dir=corpus_dir, feeds=feeds, fetcher=fetcher)
        build = refresh_index(
            bool(report.added),
            corpus_dir=corpus_dir,
            index_dir=index_dir,
            model=model,
            progress=progress,
        )
        return dataclasses.replace(report, build=build)

    @classmethod
    def update(
        cls,
        *,
        corpus_dir: str | Path,
        index_dir: str | Path,
        model: str | None = None,
        progress: bool = True,
        fetcher: Fetcher | None = None,
    ) -> AddReport:
        """Fetch what is new in every subscribed feed into corpus/, then build."""
        from .ingest import refresh_index, update_feeds

        report = update_feeds(corpus_dir=corpus_dir, fetcher=fetcher)
        build = refresh_index(
            bool(report.added),
            corpus_dir=corpus_dir,
            index_dir=index_dir,
            model=model,
            progress=progress,
        )
        return dataclasses.replace(report, build=build)

    @classmethod
    def remove(
        cls,
        documents: Sequence[str],
        *,
        corpus_dir: str | Path,
        index_dir: str | Path,
        model: str | None = None,
        progress: bool = True,
    ) -> RemoveReport:
        """Delete documents (by doc id, path or URL) from corpus/, then build without them."""
        from .ingest import refresh_index, remove_documents

        report = remove_documents(documents, corpus_dir=corpus_dir)
        build = refresh_index(
            bool(report.removed),
            corpus_dir=corpus_dir,
            index_dir=index_dir,
            model=model,
            progress=progress,
        )
        return dataclasses.replace(report, build=build)

    @classmethod
    def open(
        cls,
        index_dir: str | Path,
        *,
        model: str | None = None,
        settings: SearchSettings | None = None,
    ) -> CoverageIndex:
        """Open the live build; one-sentence errors if it is missing or was built differently."""
        from .embedding import get_embedder, resolve_model
        from .store import Store
        from .vectors import VectorIndex

        folder = Path(index_dir)
        build_dir, manifest = layout.require_live(folder)
        built_with = str(manifest.get("model"))
        if model is not None and resolve_model(model)[0] != built_with:
            raise IndexMismatchError(
                f"The index at {folder} was built with model {built_with!r}, not {model!r}. "
                f"Rebuild it: coverage-search build --model {model}"
            )
        # Queries go through the backend the passages went through (indexes from before
        # backends were recorded were embedded with torch).
        embedder = get_embedder(model or built_with, backend=str(manifest.get("backend", "torch")))
        try:
            store = Store(build_dir / layout.DATABASE)
            vectors = VectorIndex.load(
                build_dir / layout.VECTORS, kind=str(manifest["vector_index"])
            )
        except Exception as exc:
            from .errors import IndexCorruptError

            raise IndexCorruptError(
                f"The index at {folder} is damaged ({type(exc).__name__}). "
                "Run: coverage-search build"
            ) from exc
        return cls(
            folder, build_dir, manifest, store, vectors, embedder, settings or SearchSettings()
        )

    def close(self) -> None:
        self._store.close()

    # -- search ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        mode: str = "hybrid",
        outlets: Sequence[str] | str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        language: str | None = None,
        per_document: int = 2,
        group_stories: bool = True,
        fusion: str | None = None,
        alpha: float | None = None,
    ) -> list[SearchHit]:
        """The k best passages for `query`: filtered before the cut, `per_document` per document."""
        text = clean_query(query)
        if mode not in MODES:
            raise QueryError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
        if not isinstance(k, int) or k < 1:
            raise QueryError("k must be a whole number of at least 1.")
        filters = make_filters(outlets, since, until, language)
        settings = self.settings
        if alpha is not None and not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
            raise QueryError("alpha must be a number from 0 (keyword only) to 1 (semantic only).")
        if fusion is not None or alpha is not None:
            settings = dataclasses.replace(
                settings,
                fusion=fusion or settings.fusion,
                alpha=settings.alpha if alpha is None else alpha,
            )
        pool = max(settings.min_candidates, k * settings.candidates_per_hit * max(per_document, 1))
        allowed = self._store.allowed_passages(filters) if filters.active else None
        if allowed is not None and len(allowed) == 0:
            return []

        semantic: list[tuple[int, float]] = []
        keyword: list[tuple[int, float]] = []
        if mode in ("hybrid", "semantic"):
            semantic = self._vectors.search(self.embedder.encode_query(text), pool, allowed=allowed)
        if mode in ("hybrid", "keyword"):
            keyword = keyword_search(
                text,
                settings,
                mode=mode,
                k=k,
                term_docs=self._store.term_docs,
                run=lambda match: self._store.keyword(
                    match, filters, limit=pool, weights=settings.bm25_weights
                ),
            )
        ranked = fuse(semantic, keyword, settings) if mode == "hybrid" else (semantic or keyword)

        rows = self._store.passages(pid for pid, _ in ranked)
        if filters.active:
            rows = self._show_matching_copies(rows, filters)
        doc_of = {pid: row.doc_id for pid, row in rows.items()}
        story_of = {pid: row.story_id for pid, row in rows.items()} if group_stories else None
        chosen = diversify(ranked, doc_of, story_of=story_of, k=k, per_group=per_document)
        return self._hits(chosen, rows, retriever_ranks(semantic), retriever_ranks(keyword))

    def _show_matching_copies(
        self, rows: dict[int, PassageRow], filters: SearchFilters
    ) -> dict[int, PassageRow]:
        """Passages of a document that fails the filters, shown as its exact copy that passes."""
        copies = self._store.matching_copies([r.doc_id for r in rows.values()], filters)
        shown = {doc_id: self.document(copy) for doc_id, copy in copies.items()}
        out = {}
        for pid, row in rows.items():
            doc = shown.get(row.doc_id)
            if doc is not None:
                row = dataclasses.replace(
                    row,
                    doc_id=doc.doc_id,
                    path=doc.path,
                    title=doc.title,
                    url=doc.url,
                    outlet=doc.outlet,
                    published=doc.published,
                    author=doc.author,
                    language=doc.language,
                    related=doc.related,
                )
            out[pid] = row
        return out

    def _hits(
        self,
        chosen: list[tuple[int, float]],
        rows: dict[int, PassageRow],
        sem: dict[int, Any],
        kw: dict[int, Any],
    ) -> list[SearchHit]:
        from .links import passage_link

        stories = {rows[pid].story_id for pid, _ in chosen}
        copies = self._store.story_copies(sorted(stories)) if stories else {}
        corpus = str(self.manifest.get("corpus_dir") or "corpus")
        hits = []
        for rank, (pid, score) in enumerate(chosen, start=1):
            row = rows[pid]
            also = tuple(
                StoryCopy(doc_id=c[0], title=c[1], outlet=c[2], url=c[3], published=c[4])
                for c in copies.get(row.story_id, [])
                if c[0] != row.doc_id
            )
            hits.append(
                SearchHit(
                    rank=rank,
                    score=round(score, 6),
                    text=row.text,
                    passage_id=pid,
                    doc_id=row.doc_id,
                    title=row.title,
                    outlet=row.outlet,
                    published=row.published,
                    author=row.author,
                    url=row.url,
                    language=row.language,
                    heading=row.heading,
                    start=row.start,
                    end=row.end,
                    page=row.page,
                    link=passage_link(
                        row.url, row.path, row.text, page=row.page, corpus_url_base=corpus
                    ),
                    semantic=sem.get(pid),
                    keyword=kw.get(pid),
                    related=row.related,
                    also_in=also,
                )
            )
        return hits

    def answer(
        self,
        question: str,
        *,
        k: int = 5,
        mode: str = "hybrid",
        outlets: Sequence[str] | str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        language: str | None = None,
    ) -> Answer:
        """An extractive answer: the best verbatim sentences from the top hits, each cited."""
        from .answer import answer_from_hits

        hits = self.search(
            question, k=k, mode=mode, outlets=outlets, since=since, until=until, language=language
        )
        filters = make_filters(outlets, since, until, language)
        return answer_from_hits(question, hits, self.embedder, filters=filters)

    # -- documents and facts ----------------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        """A stored document with its text and metadata, or None."""
        row = self._store.document_row(doc_id)
        if row is None:
            return None
        return Document(
            doc_id=str(row["doc_id"]),
            path=str(row["path"]),
            title=str(row["title"]),
            text=str(row["text"]),
            format=str(row["format"]),
            content_hash=str(row["content_hash"]),
            url=row["url"],
            outlet=row["outlet"],
            published=row["published"],
            author=row["author"],
            language=row["language"],
            related=row["related"],
            page_starts=row["page_starts"],
        )

    def passage_context(self, hit: SearchHit, *, chars: int = 600) -> tuple[str, str, str]:
        """(before, passage, after): the hit's passage with up to `chars` of text around it."""
        text = self._store.document_text(hit.doc_id) or ""
        before = text[max(0, hit.start - chars) : hit.start]
        after = text[hit.end : hit.end + chars]
        return before, text[hit.start : hit.end] or hit.text, after

    def stats(self) -> IndexStats:
        """Counts, outlets, date range, model and size of the live build."""
        facts = self._store.facts()
        return IndexStats(
            documents=int(facts["documents"]),
            passages=int(facts["passages"]),
            outlets=facts["outlets"],
            languages=facts["languages"],
            earliest=facts["earliest"],
            latest=facts["latest"],
            model=str(self.manifest["model"]),
            dimension=int(self.manifest["dimension"]),
            vector_index=str(self.manifest.get("vector_index", "flat")),
            built_at=str(self.manifest["built_at"]),
            index_bytes=layout.folder_bytes(self.build_dir),
            index_dir=str(self.index_dir),
            version=str(self.manifest.get("package_version", "")),
            backend=self.embedder.backend,
        )
