"""The public engine: `CoverageIndex` builds, opens and searches an index folder."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverage_search.arguments import folder_path, function_or_none, text_list
from coverage_search.build import layout
from coverage_search.build.refresh import ingest_folders as _ingest_folders
from coverage_search.build.refresh import refresh_index as _refresh_index
from coverage_search.errors import (
    CoverageSearchError,
    IndexCorruptError,
    IndexMismatchError,
    QueryError,
)
from coverage_search.query.context import passage_context
from coverage_search.query.coverage import (
    CANDIDATES_PER_STORY,
    DEPTH,
    Coverage,
    check_view,
    coverage_of,
)
from coverage_search.query.evidence import question_weights
from coverage_search.query.filters import make_filters, valid_text
from coverage_search.query.links import corpus_base
from coverage_search.query.names import unknown_names
from coverage_search.query.order import RECENCY_POOL, check_order, newest_first, with_recency
from coverage_search.query.search import MAX_K, Searcher, check_search, clean_query, named_query
from coverage_search.query.settings import SearchSettings
from coverage_search.records import IndexStats

if TYPE_CHECKING:
    from coverage_search.build.run import ProgressFn
    from coverage_search.embed.embedder import Embedder
    from coverage_search.engine.base import Engine
    from coverage_search.ingest.fetch import Fetcher
    from coverage_search.passages.chunking import ChunkSettings
    from coverage_search.records import (
        AddReport,
        Answer,
        BuildReport,
        Document,
        RemoveReport,
        SearchHit,
    )


class CoverageIndex:
    """A built index: search it, ask it questions, read its facts. Safe to share across threads."""

    def __init__(
        self,
        index_dir: Path,
        build_dir: Path,
        manifest: dict[str, Any],
        engine: Engine,
        embedder: Embedder,
        settings: SearchSettings,
    ) -> None:
        self.index_dir = index_dir
        self.build_dir = build_dir
        self.manifest = manifest
        self.embedder = embedder
        self.settings = settings
        self.engine = engine
        corpus = corpus_base(manifest.get("corpus_path"), manifest.get("corpus_dir"), index_dir)
        self._searcher = Searcher(engine, embedder, settings, corpus_url=corpus)
        self._floor: float | None = None  # refusal bar of this build, set by the first answer
        self._floor_lock = threading.Lock()

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
        engine: str | None = None,
        engine_uri: str | None = None,
    ) -> BuildReport:
        """Build or refresh the index; unchanged passages are never embedded again.

        `backend` runs the model with "onnx-int8" (default for a local model folder), "onnx"
        or "torch"; queries later use whatever the index was built with. `engine` stores it
        ("local", or "milvus": a Milvus Lite file in the index folder, or the server at
        `engine_uri`); later builds keep the engine of the live build.
        """
        from coverage_search.build.run import build_index

        return build_index(
            folder_path(corpus_dir, "corpus_dir"),
            folder_path(index_dir, "index_dir"),
            model=model,
            backend=backend,
            chunking=chunking,
            stemming=stemming,
            progress=progress,
            on_progress=function_or_none(on_progress, "on_progress", "(stage, done, total)"),
            force=force,
            engine=engine,
            engine_uri=engine_uri,
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
        timeout: float | None = None,
        fetcher: Fetcher | None = None,
    ) -> AddReport:
        """Save URLs, files and feed entries into corpus/ (subscribing to the feeds), then build."""
        from coverage_search.ingest.add import add_sources
        from coverage_search.ingest.fetch import fetcher_for

        sources, feeds = text_list(sources, "sources"), text_list(feeds, "feeds")
        corpus_dir, index_dir = _ingest_folders(corpus_dir, index_dir)
        fetcher = fetcher or fetcher_for(timeout)
        report = add_sources(sources, corpus_dir=corpus_dir, feeds=feeds, fetcher=fetcher,
                             progress=progress)  # fmt: skip
        # When every item failed, corpus/ is as it was: this run has nothing to bring in step.
        needed = bool(report.added or report.duplicates or not report.failed)
        build = _refresh_index(bool(report.added), needed=needed, corpus_dir=corpus_dir,
                               index_dir=index_dir, model=model, progress=progress)  # fmt: skip
        return dataclasses.replace(report, build=build)

    @classmethod
    def update(
        cls,
        *,
        corpus_dir: str | Path,
        index_dir: str | Path,
        model: str | None = None,
        progress: bool = True,
        timeout: float | None = None,
        fetcher: Fetcher | None = None,
    ) -> AddReport:
        """Fetch what is new in every subscribed feed into corpus/, then build."""
        from coverage_search.ingest.add import update_feeds
        from coverage_search.ingest.fetch import fetcher_for

        corpus_dir, index_dir = _ingest_folders(corpus_dir, index_dir)
        report = update_feeds(corpus_dir=corpus_dir, fetcher=fetcher or fetcher_for(timeout),
                              progress=progress)  # fmt: skip
        build = _refresh_index(bool(report.added), corpus_dir=corpus_dir, index_dir=index_dir,
                               model=model, progress=progress)  # fmt: skip
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
        from coverage_search.ingest.remove import remove_documents

        documents = text_list(documents, "documents")
        corpus_dir, index_dir = _ingest_folders(corpus_dir, index_dir)
        report = remove_documents(documents, corpus_dir=corpus_dir)
        build = _refresh_index(bool(report.removed), corpus_dir=corpus_dir, index_dir=index_dir,
                               model=model, progress=progress)  # fmt: skip
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
        from coverage_search.embed.embedder import get_embedder, resolve_model
        from coverage_search.engine.factory import open_engine

        folder = folder_path(index_dir, "index_dir")
        if not isinstance(settings, SearchSettings | None):
            raise QueryError(f"settings must be SearchSettings, not {type(settings).__name__}.")
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
            engine = open_engine(build_dir, manifest)
        except CoverageSearchError:
            raise  # the engine's own sentence (damaged, missing, not installed, unreachable)
        except Exception as exc:
            raise IndexCorruptError.damaged(folder, type(exc).__name__) from exc
        return cls(folder, build_dir, manifest, engine, embedder, settings or SearchSettings())

    def close(self) -> None:
        self.engine.close()

    @staticmethod
    def live_build_name(index_dir: str | Path) -> str:
        """The name of the build live in `index_dir` now, or "" when there is none."""
        return layout.live_build_name(folder_path(index_dir, "index_dir"))

    def warm_up(self) -> None:
        """Load the model, read ahead for filters, set the refusal bar: a fast first question."""
        self.embedder.encode_query("warm up")
        self.engine.warm_up()
        self.refusal_floor()

    def refusal_floor(self) -> float:
        """The best-sentence cosine below which `answer` quotes nothing, measured on this index.

        Computed once per opened build from unrelated probe questions (query/refusal.py):
        about 1-3 s, which warm_up spends ahead of the first question.
        """
        with self._floor_lock:
            if self._floor is None:
                from coverage_search.query import answer
                from coverage_search.query.refusal import probe_floor

                self._floor = probe_floor(
                    lambda q: self.search(
                        q, k=answer.ANSWER_POOL, per_document=answer.ANSWER_PER_DOCUMENT,
                        document_prior=answer.ANSWER_DOCUMENT_PRIOR,
                    ),
                    self.embedder,
                )  # fmt: skip
            return self._floor

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
        sort: str = "relevance",
        recency: float = 0.0,
        aliases: bool = True,
        document_prior: float | None = None,
    ) -> list[SearchHit]:
        """The k best passages for `query`: filtered before the cut, `per_document` per document.

        `sort="date"` lists those k newest first (undated last); `recency` (0 to 1) re-scores
        a deeper pool toward the newest coverage before the cut. `aliases=False` searches the
        words as typed: "the ChatGPT maker" is not searched as OpenAI (query/aliases.py).
        `document_prior` (0 to 1) overrides SearchSettings.document_prior (convex hybrid only).
        """
        text = clean_query(query)
        check_order(sort, recency)
        filters = make_filters(outlets, since, until, language)
        check_search(mode, k, per_document, alpha, document_prior, group_stories=group_stories)
        settings = self.settings.with_overrides(fusion, alpha, document_prior)
        hits = self._searcher.search(
            text,
            filters,
            k=min(k * RECENCY_POOL, MAX_K) if recency else k,
            mode=mode,
            per_document=per_document,
            group_stories=group_stories,
            settings=settings,
            aliases=aliases,
        )
        hits = with_recency(hits, recency, k=k) if recency else hits
        return newest_first(hits) if sort == "date" else hits

    def coverage(
        self,
        question: str,
        *,
        period: str | None = None,
        mode: str = "hybrid",
        outlets: Sequence[str] | str | None = None,
        since: str | date | None = None,
        until: str | date | None = None,
        language: str | None = None,
        depth: int = DEPTH,
        aliases: bool = True,
    ) -> Coverage:
        """The stories matching `question` under the filters, per day, week or month and outlet.

        Counted over the `depth` best stories of the same search (one passage each, copies
        folded); `period` None picks one from the span. Undated stories are counted apart.
        `aliases` as in `search`.
        """
        check_view(period, depth, mode)
        text, filters = clean_query(question), make_filters(outlets, since, until, language)
        # Fewer candidates per story than a result list takes: counting needs no reserve.
        settings = dataclasses.replace(self.settings, candidates_per_hit=CANDIDATES_PER_STORY)
        hits = self._searcher.search(
            text, filters, k=depth, mode=mode, per_document=1, group_stories=True,
            settings=settings, aliases=aliases,
        )  # fmt: skip
        weights = question_weights(self.engine, named_query(text, aliases=aliases))
        return coverage_of(text, hits, filters, period=period, depth=depth, weights=weights)

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
        recency: float = 0.0,
        aliases: bool = True,
    ) -> Answer:
        """An extractive answer: the best verbatim sentences from the top hits, each cited.

        `aliases` as in `search`.
        """
        from coverage_search.query import answer as a

        question = clean_query(question)
        check_search(mode, k, a.ANSWER_PER_DOCUMENT, None)  # k as asked, before the deeper pool
        hits = self.search(
            question, k=max(k, a.ANSWER_POOL), mode=mode, outlets=outlets, since=since,
            until=until, language=language, recency=recency, aliases=aliases,
            per_document=a.ANSWER_PER_DOCUMENT, document_prior=a.ANSWER_DOCUMENT_PRIOR,
        )  # fmt: skip
        weights = question_weights(self.engine, named_query(question, aliases=aliases))
        found = a.answer_from_hits(
            question, hits, self.embedder, keyword_weights=weights, show=k, aliases=aliases,
            filters=make_filters(outlets, since, until, language),
            unknown=unknown_names(self.engine, question, aliases=aliases) if hits else (),
            refuse_below=self.refusal_floor() if hits else 0.0,
        )  # fmt: skip
        return dataclasses.replace(found, searched_as=self.searched_as(question, aliases=aliases))

    def searched_as(self, query: str, *, aliases: bool = True) -> str:
        """`query` as search runs it when that differs from the words typed, else "": described
        companies named ("the ChatGPT maker" → OpenAI) and, in the query's vector, the
        abbreviations this coverage defines spelled out ("RSP (Responsible Scaling Policy)")."""
        return self._searcher.searched_as(clean_query(query), aliases=aliases)

    # -- documents and facts ----------------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        """A stored document with its text and metadata, or None."""
        if not isinstance(doc_id, str):
            raise QueryError("doc_id must be the document's path in the corpus, as text.")
        return self.engine.document(valid_text(doc_id))

    def passage_context(self, hit: SearchHit, *, chars: int = 600) -> tuple[str, str, str]:
        """(before, passage, after): the hit's passage with up to `chars` of text around it."""
        return passage_context(self.engine, hit, chars=chars)

    def stats(self) -> IndexStats:
        """Counts, outlets, date range, model and size of the live build."""
        facts, manifest = self.engine.facts(), self.manifest
        return IndexStats(
            documents=facts.documents, passages=facts.passages, outlets=facts.outlets,
            languages=facts.languages, earliest=facts.earliest, latest=facts.latest,
            model=str(manifest["model"]), dimension=int(manifest["dimension"]),
            vector_index=str(manifest.get("vector_index", "flat")),
            built_at=str(manifest["built_at"]), index_bytes=facts.bytes,
            index_dir=str(self.index_dir), version=str(manifest.get("package_version", "")),
            backend=self.embedder.backend, engine=self.engine.name,
            engine_location=facts.location,
        )  # fmt: skip
