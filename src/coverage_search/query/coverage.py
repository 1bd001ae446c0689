"""A question's matching stories (copies folded) counted per day, week or month and per outlet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from coverage_search.errors import QueryError
from coverage_search.query.evidence import keyword_share
from coverage_search.records import SearchFilters, SearchHit

PERIODS = ("day", "week", "month")
DEPTH = 100  # stories a timeline looks at: the best-matching ones (100 ms budget, bench_timeline)
MAX_DEPTH = 2_000
MAX_PERIODS = 1_000  # empty periods are shown between the first and last, up to this many
CANDIDATES_PER_STORY = 2  # candidates asked of each retriever per story counted (bench_timeline)
MIN_COSINE = 0.3  # a hit only the dense retriever found counts as a match from this cosine up
# A keyword hit counts when it holds this share of the question's words, each weighed by its
# rarity (query/evidence.keyword_share, as the answer's features weigh them). Of 0.25, 1/3 and
# 1/2, the largest that still counted 99% of the judged-relevant stories among the 100 best on
# both tune halves (TIME 1.000, SciFact 0.991); TIME's timelines count 30% fewer stories (81
# → 57 a query). Confirm halves: TIME 0.988, SciFact 0.998 (bench/eval_timeline_match.py).
MATCH_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of a timeline: the stories first shown on a day, in a week or in a month."""

    start: str  # ISO date of the period's first day
    label: str  # "2026-05-20", "2026-05-18" (the Monday) or "2026-05"
    stories: int


@dataclass(frozen=True, slots=True)
class OutletCount:
    """How many matching stories one outlet carries (a copy in it counts)."""

    outlet: str
    stories: int


@dataclass(frozen=True, slots=True)
class Coverage:
    """The timeline and outlet counts of a question under filters, with the stories counted.

    `stories` holds one hit per matching story, best first; undated ones are counted apart in
    `undated` (never dropped). `depth` is how many of the best stories were looked at.
    """

    question: str
    period: str
    buckets: tuple[Bucket, ...]
    outlets: tuple[OutletCount, ...]
    undated: int
    stories: tuple[SearchHit, ...]
    depth: int
    filters: SearchFilters

    @property
    def total(self) -> int:
        return len(self.stories)

    def in_bucket(self, start: str) -> list[SearchHit]:
        """The stories counted in the bucket starting on `start` ("" for the undated ones)."""
        wanted = start or None
        return [
            h
            for h in self.stories
            if bucket_start(story_published(h, self.filters), self.period) == wanted
        ]

    def from_outlet(self, outlet: str) -> list[SearchHit]:
        """The stories an outlet carries (shown through its own copy or another)."""
        key = outlet.casefold().strip()
        return [
            h for h in self.stories if key in {o.casefold() for o in story_outlets(h, self.filters)}
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: counts only, plus the stories' doc ids in order."""
        return {
            "question": self.question,
            "period": self.period,
            "stories": self.total,
            "depth": self.depth,
            "buckets": [asdict(b) for b in self.buckets],
            "undated": self.undated,
            "outlets": [asdict(o) for o in self.outlets],
            "doc_ids": [h.doc_id for h in self.stories],
        }


def check_view(period: str | None, depth: int, mode: str) -> None:
    """QueryError for a period, depth or retrieval mode a timeline cannot take."""
    from coverage_search.query.search import MODES

    if period is not None and period not in PERIODS:
        raise QueryError(f"Unknown period {period!r}: use one of {', '.join(PERIODS)}.")
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise QueryError(f"depth must be a whole number from 1 to {MAX_DEPTH:,}.")
    if mode not in MODES:
        raise QueryError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.")


def is_match(hit: SearchHit, weights: Mapping[str, float] | None = None) -> bool:
    """True when the keyword retriever found the hit holding MATCH_SHARE of the question's
    `weights` (evidence.question_weights; any keyword hit counts without them), or the dense
    one found it close enough.

    Dense search always returns its nearest passages, related or not; counting those would put
    every story of a small corpus on every question's timeline. A keyword hit that holds one
    common word of the question is no match either: "How many moons does Jupiter have?"
    counted the story that said "many".
    """
    if hit.keyword is not None and (
        weights is None
        or keyword_share(weights, f"{hit.title} {hit.heading or ''} {hit.text}") >= MATCH_SHARE
    ):
        return True
    return hit.semantic is not None and hit.semantic.score >= MIN_COSINE


def day_of(published: str | None) -> date | None:
    """The publication day of an ISO date or datetime, or None when undated or unreadable."""
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10])
    except ValueError:
        return None


def bucket_start(published: str | None, period: str) -> str | None:
    day = day_of(published)
    if day is None:
        return None
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    return day.isoformat()


def pick_period(days: Sequence[date]) -> str:
    """Days for a span of up to two months, weeks up to a year and a half, else months."""
    if not days:
        return "day"
    span = (max(days) - min(days)).days
    return "day" if span <= 62 else "week" if span <= 548 else "month"


def story_published(hit: SearchHit, filters: SearchFilters | None) -> str | None:
    """When the story first appeared: the earliest date of the hit and its passing copies."""
    wanted = {o.casefold() for o in filters.outlets} if filters else set()
    dates = [hit.published] + [
        c.published
        for c in hit.also_in
        if not (wanted and (c.outlet or "").casefold() not in wanted)
        and (filters is None or _in_range(c.published, filters))
    ]
    days = sorted((d.isoformat(), text) for text in dates if (d := day_of(text)) is not None)
    return days[0][1] if days else None


def story_outlets(hit: SearchHit, filters: SearchFilters | None) -> list[str]:
    """The outlets that carry the hit's story: its own, and its copies' that pass the filters."""
    names = [hit.outlet] if hit.outlet else []
    wanted = {o.casefold() for o in filters.outlets} if filters else set()
    for copy in hit.also_in:
        if not copy.outlet or (wanted and copy.outlet.casefold() not in wanted):
            continue
        if filters and not _in_range(copy.published, filters):
            continue
        names.append(copy.outlet)
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _in_range(published: str | None, filters: SearchFilters) -> bool:
    if not (filters.since or filters.until):
        return True
    text = (published or "")[:10]
    if not text:
        return False
    return not (filters.since and text < filters.since) and not (
        filters.until and text > filters.until
    )


def _every_period(starts: Sequence[str], period: str) -> list[str]:
    """The periods from the first to the last of `starts`, those without stories included (a
    timeline with gaps left out reads as if the stories were consecutive); `starts` alone when
    that would be more than MAX_PERIODS."""
    if not starts:
        return []
    day, last = date.fromisoformat(starts[0]), date.fromisoformat(starts[-1])
    out: list[str] = []
    while day <= last and len(out) <= MAX_PERIODS:
        out.append(day.isoformat())
        if day == last:  # the next period may lie past date.max (year 9999)
            break
        if period == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if period == "week" else 1)
    return out if len(out) <= MAX_PERIODS else list(starts)


def coverage_of(
    question: str,
    hits: Sequence[SearchHit],
    filters: SearchFilters,
    *,
    period: str | None,
    depth: int,
    weights: Mapping[str, float] | None = None,
) -> Coverage:
    """Count the matching hits (is_match, by the question's `weights`) into periods and
    outlets, once per story (its first hit)."""
    firsts: dict[str, SearchHit] = {}
    for hit in hits:  # a short list is filled with more passages of the same documents
        if is_match(hit, weights):
            firsts.setdefault(hit.doc_id, hit)
    stories = tuple(firsts.values())
    published = {h.doc_id: story_published(h, filters) for h in stories}
    days = [d for text in published.values() if (d := day_of(text)) is not None]
    chosen = period or pick_period(days)
    per_bucket: dict[str, int] = {}
    for hit in stories:
        start = bucket_start(published[hit.doc_id], chosen)
        if start is not None:
            per_bucket[start] = per_bucket.get(start, 0) + 1
    buckets = tuple(
        Bucket(start, start[:7] if chosen == "month" else start, per_bucket.get(start, 0))
        for start in _every_period(sorted(per_bucket), chosen)
    )
    per_outlet: dict[str, int] = {}
    names: dict[str, str] = {}
    for hit in stories:
        for name in story_outlets(hit, filters):
            key = name.casefold()
            names.setdefault(key, name)
            per_outlet[key] = per_outlet.get(key, 0) + 1
    outlets = tuple(
        OutletCount(names[key], n)
        for key, n in sorted(per_outlet.items(), key=lambda item: (-item[1], item[0]))
    )
    undated = sum(1 for text in published.values() if day_of(text) is None)
    return Coverage(question, chosen, buckets, outlets, undated, stories, depth, filters)
