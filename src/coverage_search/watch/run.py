"""Add, list, remove and run saved searches; a run reports the passages it has not shown before."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from coverage_search.arguments import folder_path
from coverage_search.engine.base import Engine
from coverage_search.errors import CoverageSearchError, QueryError
from coverage_search.query.coverage import is_match
from coverage_search.query.evidence import question_weights
from coverage_search.query.filters import make_filters
from coverage_search.query.search import MODES, clean_query, named_query
from coverage_search.records import SearchHit
from coverage_search.watch.store import Watch, WatchStore, new_state

WATCH_K = 20  # passages a saved search looks at each run (one per story)


class Searches(Protocol):
    """What a run needs of an open index (CoverageIndex)."""

    engine: Engine

    def search(
        self,
        query: str,
        *,
        k: int = ...,
        mode: str = ...,
        outlets: Sequence[str] | str | None = ...,
        since: Any = ...,
        until: Any = ...,
        language: str | None = ...,
        per_document: int = ...,
        aliases: bool = ...,
    ) -> list[SearchHit]: ...


@dataclass(frozen=True, slots=True)
class WatchReport:
    """What one saved search found that earlier runs had not: new articles, best passage each."""

    watch: Watch
    new: tuple[SearchHit, ...]
    error: str = ""  # why this search could not run (the others still did)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.watch.number,
            "question": self.watch.question,
            "last_run": self.watch.last_run,
            "new": [h.to_dict() for h in self.new],
            "error": self.error,
        }


def passage_key(hit: SearchHit) -> str:
    """A passage's identity across rebuilds: its document and a hash of its text."""
    digest = hashlib.sha256(hit.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{hit.doc_id}#{digest}"


def add_watch(
    corpus_dir: str | Path,
    question: str,
    *,
    mode: str = "hybrid",
    outlets: Sequence[str] | str | None = None,
    since: str | None = None,
    until: str | None = None,
    language: str | None = None,
    index: Searches | None = None,
    literal: bool = False,
) -> Watch:
    """Save a search; with an open `index`, what it finds now is not reported as new later.
    With `literal`, it is searched as typed ("the ChatGPT maker" is not searched as OpenAI).

    The same search saved again (question, mode, filters, literal) is the one saved before."""
    text = clean_query(question)
    store = WatchStore(folder_path(corpus_dir, "corpus_dir"))
    if index is not None:
        _check_index(index)  # before saving: a failure must not leave a search saved half-way
    if mode not in MODES:
        raise QueryError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")
    filters = make_filters(outlets, since, until, language)
    if not isinstance(literal, bool):
        raise QueryError("literal must be True (the words as typed) or False.")
    watch, added = store.add(
        new_state(
            text, mode=mode, outlets=list(filters.outlets), since=filters.since,
            until=filters.until, language=filters.language, literal=literal,
        )
    )  # fmt: skip
    if added and index is not None:  # a search saved before keeps what it has not reported
        store.record(watch, [passage_key(h) for h in _matches(index, watch)])
        watch = store.current(watch)
    return watch


def list_watches(corpus_dir: str | Path) -> list[Watch]:
    """The saved searches of a corpus, numbered as `watch remove` takes them."""
    return WatchStore(folder_path(corpus_dir, "corpus_dir")).watches()


def remove_watch(corpus_dir: str | Path, which: int | str | Watch) -> Watch:
    """Forget saved search `which`: its number, its question, or the `Watch` as listed (what
    another session's removal cannot shift); the ones after it move up by one."""
    if isinstance(which, bool) or not isinstance(which, int | str | Watch):
        raise QueryError(f"Name the saved search by its number or question, not {which!r:.40}.")
    return WatchStore(folder_path(corpus_dir, "corpus_dir")).remove(which)


def run_watches(index: Searches, corpus_dir: str | Path) -> tuple[WatchReport, ...]:
    """Run every saved search; report and remember the matching articles not reported before."""
    _check_index(index)
    store = WatchStore(folder_path(corpus_dir, "corpus_dir"))
    reports = []
    for watch in store.watches():
        try:
            hits = _matches(index, watch)
        except CoverageSearchError as exc:
            reports.append(WatchReport(watch, (), error=str(exc)))
            continue
        # An article already reported is not news again when another of its passages ranks
        # first: what is new is an article, shown through its best passage.
        reported = {key.rsplit("#", 1)[0] for key in store.seen(watch)}
        new = tuple(h for h in hits if h.doc_id not in reported)
        store.record(watch, [passage_key(h) for h in hits])
        reports.append(WatchReport(watch, new))
    return tuple(reports)


def _check_index(index: object) -> None:
    if not callable(getattr(index, "search", None)) or not hasattr(index, "engine"):
        raise QueryError(
            f"index must be an open index (CoverageIndex.open), not {type(index).__name__}."
        )


def _matches(index: Searches, watch: Watch) -> list[SearchHit]:
    hits = index.search(
        watch.question, k=WATCH_K, mode=watch.mode, outlets=list(watch.outlets) or None,
        since=watch.since, until=watch.until, language=watch.language, per_document=1,
        aliases=not watch.literal,
    )  # fmt: skip
    searched = named_query(watch.question, aliases=not watch.literal)
    weights = question_weights(index.engine, searched)  # as searched
    firsts: dict[str, SearchHit] = {}
    for hit in hits:
        if is_match(hit, weights):
            firsts.setdefault(hit.doc_id, hit)
    return list(firsts.values())
