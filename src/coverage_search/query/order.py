"""The order of a result list: by relevance, newest first, or relevance nudged toward recency."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from coverage_search.errors import QueryError
from coverage_search.query.coverage import day_of
from coverage_search.records import SearchHit

SORTS = ("relevance", "date")
RECENCY_POOL = 4  # with recency, this many times k candidates are re-scored before the cut


def check_order(sort: str, recency: float) -> None:
    if sort not in SORTS:
        raise QueryError(f"Unknown sort {sort!r}: use one of {', '.join(SORTS)}.")
    if (
        isinstance(recency, bool)
        or not isinstance(recency, (int, float))
        or not (0.0 <= recency <= 1.0)
    ):
        raise QueryError("recency must be a number from 0 (off) to 1 (strongest).")


def newest_first(hits: Sequence[SearchHit]) -> list[SearchHit]:
    """Dated hits newest first (ties keep relevance order), then the undated ones, by relevance."""
    dated = [h for h in hits if day_of(h.published) is not None]
    undated = [h for h in hits if day_of(h.published) is None]
    dated.sort(key=lambda h: (h.published or "")[:10], reverse=True)  # sort is stable
    return dated + undated


def with_recency(hits: Sequence[SearchHit], weight: float, *, k: int) -> list[SearchHit]:
    """Re-score hits as relevance + weight × freshness, then renumber them and cut to k.

    Freshness runs from 0 (the oldest dated candidate) to 1 (the newest), so it means the same
    for a week of coverage as for ten years; scores are scaled to the best hit's first so
    `weight` means the same in every mode. Undated hits get no boost.
    """
    if not hits or weight <= 0:
        return list(hits)[:k]
    days = {h.passage_id: day_of(h.published) for h in hits}
    known = [d for d in days.values() if d is not None]
    newest, oldest = (max(known), min(known)) if known else (None, None)
    top = max(abs(h.score) for h in hits) or 1.0

    def boosted(hit: SearchHit) -> float:
        day = days[hit.passage_id]
        if day is None or newest is None or oldest is None:
            return hit.score / top
        span = (newest - oldest).days
        fresh = (day - oldest).days / span if span else 1.0
        return hit.score / top + weight * fresh

    ranked = sorted(hits, key=boosted, reverse=True)[:k]
    return [
        dataclasses.replace(h, rank=i, score=round(boosted(h), 6))
        for i, h in enumerate(ranked, start=1)
    ]
