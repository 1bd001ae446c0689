"""Query → dense and keyword candidates → fusion → story/document diversity → ranked hits."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from coverage_search.engine.base import Engine, PassageRow, Ranked, keyword_text
from coverage_search.errors import QueryError
from coverage_search.query.abbreviations import expand_abbreviations, short_forms
from coverage_search.query.aliases import expand_aliases
from coverage_search.query.diversity import diversify
from coverage_search.query.filters import valid_text
from coverage_search.query.fusion import fuse, retriever_ranks, with_document_prior
from coverage_search.query.links import passage_link
from coverage_search.query.questions import rewritten
from coverage_search.query.settings import SearchSettings
from coverage_search.query.terms import keyword_search
from coverage_search.records import RetrieverHit, SearchFilters, SearchHit
from coverage_search.sources.reading import visible

if TYPE_CHECKING:
    from coverage_search.embed.embedder import Embedder

MODES = ("hybrid", "semantic", "keyword")
MAX_QUERY_CHARS = 4_000
MAX_K = 10_000  # passages one search returns at most (and the most per document)
MAX_POOL = 200_000  # candidates asked of each retriever at most


def check_search(
    mode: str,
    k: int,
    per_document: int,
    alpha: float | None,
    prior: float | None = None,
    *,
    group_stories: object = True,
) -> None:
    """Raise QueryError naming the first search argument out of range."""
    if not isinstance(group_stories, bool):  # "no" is not False
        raise QueryError("group_stories must be True (one hit a story) or False.")
    if mode not in MODES:
        raise QueryError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QueryError(f"k must be a whole number from 1 to {MAX_K:,}.")
    if isinstance(per_document, bool) or not isinstance(per_document, int):
        per_document = -1
    if not 0 <= per_document <= MAX_K:
        raise QueryError(f"per_document must be a whole number from 0 (no limit) to {MAX_K:,}.")
    if alpha is not None and not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise QueryError("alpha must be a number from 0 (keyword only) to 1 (semantic only).")
    if prior is not None and not (
        isinstance(prior, (int, float)) and not isinstance(prior, bool) and 0.0 <= prior <= 1.0
    ):
        raise QueryError("document_prior must be a number from 0 (none) to 1.")


def clean_query(query: str) -> str:
    """The query as valid text without surrounding whitespace; refuses an empty one."""
    # Marks pasted inside a word ("Amo\u200bdei") go, for the names a question uses as well.
    # Spaces, controls and invisible format characters (zero-width spaces) alone are no query:
    # checked on the text as searched, after the marks inside words went and the cut.
    if isinstance(query, str):
        text = keyword_text(valid_text(query[: MAX_QUERY_CHARS * 2])).strip()
        text = text[:MAX_QUERY_CHARS].rstrip()
        if visible(text):
            return text
    raise QueryError("Type a question or some words to search for.")


def named_query(text: str, *, aliases: bool = True) -> str:
    """`text` with described companies named ("the ChatGPT maker" → OpenAI), or exactly as
    typed when `aliases` is False."""
    if not isinstance(aliases, bool):
        raise QueryError(
            "aliases must be True (name described companies) or False (the words as typed)."
        )
    return expand_aliases(text) if aliases else text


def searched_as(query: str, *, aliases: bool = True) -> str:
    """`query` as search runs it when naming described companies changed it, else ""."""
    text = clean_query(query)
    named = named_query(text, aliases=aliases)
    return named if named != text else ""


class Searcher:
    """Runs a query against one engine: candidates, fusion, diversity, hits with links."""

    def __init__(
        self, engine: Engine, embedder: Embedder, settings: SearchSettings, *, corpus_url: str
    ) -> None:
        self.engine = engine
        self.embedder = embedder
        self.settings = settings
        self.corpus_url = corpus_url

    def search(
        self,
        text: str,
        filters: SearchFilters,
        *,
        k: int,
        mode: str,
        per_document: int,
        group_stories: bool,
        settings: SearchSettings | None = None,
        aliases: bool = True,
    ) -> list[SearchHit]:
        """The k best passages for a cleaned query, filtered inside the engine before the cut.

        With `aliases` False the words are searched as typed (no description named, no
        abbreviation spelled out).
        """
        settings = settings or self.settings
        text = named_query(text, aliases=aliases)
        pool = max(settings.min_candidates, k * settings.candidates_per_hit * max(per_document, 1))
        pool = min(pool, MAX_POOL)
        semantic: Ranked = []
        keyword: Ranked = []
        mass = 0.0
        # As typed, a query's abbreviations are not spelled out either.
        vector = (
            self.query_vector(text, settings, spell_out=aliases)
            if mode in ("hybrid", "semantic")
            else None
        )
        if vector is not None:
            semantic = self.engine.dense(vector, filters, limit=pool)
        if mode in ("hybrid", "keyword"):
            keyword, mass = keyword_search(
                text, settings, mode=mode, k=k, engine=self.engine, filters=filters, limit=pool
            )
        ranked = (
            fuse(semantic, keyword, settings, keyword_mass=mass)
            if mode == "hybrid"
            else (semantic or keyword)
        )
        # Only the few chosen passages are read in full: at 1M passages reading all `pool`
        # candidates' rows took a third of a semantic search.
        owners = self.engine.owners(pid for pid, _ in ranked)
        if mode == "hybrid" and settings.fusion == "convex" and settings.document_prior:
            ranked = self._with_prior(ranked, owners, vector, settings.document_prior)
        copies = (
            self.engine.matching_copies([d for d, _ in owners.values()], filters)
            if filters.active
            else {}
        )
        doc_of = {pid: copies.get(doc, doc) for pid, (doc, _) in owners.items()}
        story_of = {pid: story for pid, (_, story) in owners.items()} if group_stories else None
        chosen = diversify(ranked, doc_of, story_of=story_of, k=k, per_group=per_document)
        rows = self.engine.passages(pid for pid, _ in chosen)
        if copies:
            rows = self._show_copies(rows, copies)
        chosen = [(pid, score) for pid, score in chosen if pid in rows]
        return self._hits(chosen, rows, retriever_ranks(semantic), retriever_ranks(keyword))

    def query_vector(
        self, text: str, settings: SearchSettings, *, spell_out: bool = True
    ) -> np.ndarray:
        """The unit vector dense search looks with: the query's own, or, where it uses an
        abbreviation the coverage defines, the mean of that and the spelled-out query's.

        The mean, not the spelled-out query alone: it won semantic nDCG@10 on both SciFact
        halves and hybrid's confirm half (tune even), where the spelled-out vector alone lost
        hybrid's tune half.
        """
        # The words as typed (spell_out False: `--literal`, the app's switch) are not rewritten.
        vector = self.question_vector(text, settings.question_rewrite if spell_out else "off")
        if not (settings.abbreviations and spell_out):
            return vector
        spelled = self.spelled_out(text)
        if spelled == text:
            return vector
        mean = vector + self.embedder.encode_query(spelled)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else vector

    def question_vector(self, text: str, rewrite: str) -> np.ndarray:
        """The query's own unit vector, or with `rewrite` (SearchSettings.question_rewrite) on
        and a question that it changes, the rewrite's, alone or averaged with the own."""
        vector = self.embedder.encode_query(text)
        other = rewritten(text, rewrite)
        if other == text:
            return vector
        if rewrite.endswith("-alone"):
            return self.embedder.encode_query(other)
        mean = vector + self.embedder.encode_query(other)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else vector

    def spelled_out(self, text: str) -> str:
        """`text` with the abbreviations this index's coverage defines spelled out."""
        return expand_abbreviations(text, self.engine.abbreviations(short_forms(text)))

    def searched_as(self, text: str, *, aliases: bool = True) -> str:
        """A cleaned query as search runs it, described companies named and (in its vector)
        abbreviations spelled out, when that changed it; else ""."""
        named = named_query(text, aliases=aliases)
        if aliases and self.settings.abbreviations:
            named = self.spelled_out(named)
        return named if named != text else ""

    def _with_prior(
        self,
        ranked: Ranked,
        owners: dict[int, tuple[str, str]],
        vector: np.ndarray | None,
        weight: float,
    ) -> Ranked:
        if vector is None or not ranked:
            return ranked
        document_of = {pid: doc for pid, (doc, _) in owners.items()}
        prior = self.engine.mean_cosines(list(dict.fromkeys(document_of.values())), vector)
        return with_document_prior(ranked, document_of, prior, weight)

    def _show_copies(
        self, rows: dict[int, PassageRow], copies: dict[str, str]
    ) -> dict[int, PassageRow]:
        """Passages of a document that fails the filters, shown as its exact copy that passes."""
        held = {r.doc_id for r in rows.values()}
        shown = {doc: self.engine.document(copy) for doc, copy in copies.items() if doc in held}
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
        chosen: Ranked,
        rows: dict[int, PassageRow],
        sem: dict[int, RetrieverHit],
        kw: dict[int, RetrieverHit],
    ) -> list[SearchHit]:
        stories = {rows[pid].story_id for pid, _ in chosen}
        copies = self.engine.story_copies(sorted(stories)) if stories else {}
        hits = []
        for rank, (pid, score) in enumerate(chosen, start=1):
            row = rows[pid]
            also = tuple(c for c in copies.get(row.story_id, []) if c.doc_id != row.doc_id)
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
                        row.url, row.path, row.text, page=row.page, corpus_url_base=self.corpus_url
                    ),
                    semantic=sem.get(pid),
                    keyword=kw.get(pid),
                    related=row.related,
                    also_in=also,
                )
            )
        return hits
