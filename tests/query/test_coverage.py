"""Timeline, outlet facets and order of a question's matching stories, on a real index."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import SMALL_CORPUS, write_coverage_corpus, write_doc
from coverage_search import Coverage, CoverageIndex, QueryError
from coverage_search.query.coverage import bucket_start, pick_period
from coverage_search.query.order import newest_first, with_recency

QUESTION = "Why did Dario Amodei leave OpenAI?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, embedder) -> CoverageIndex:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("coverage")
    corpus = write_coverage_corpus(root / "corpus")
    CoverageIndex.build(corpus, root / "index", progress=False)
    return CoverageIndex.open(root / "index")


def test_stories_are_counted_once_per_day_with_copies_folded_and_undated_apart(
    index: CoverageIndex,
) -> None:
    cov = index.coverage(QUESTION)

    assert cov.period == "day"
    doc_ids = [h.doc_id for h in cov.stories]
    assert len(doc_ids) == len(set(doc_ids))
    # The Bloomberg copy and the Axios story are one story, dated when it first appeared.
    assert len({"bloomberg-copy.md", "openai-exit.md"} & set(doc_ids)) == 1
    assert {b.label: b.stories for b in cov.buckets} == {
        "2026-06-16": 1,
        "2026-06-17": 0,  # days without stories are shown, so the bars are days apart
        "2026-06-18": 1,
        "2026-06-19": 0,
        "2026-06-20": 1,
    }
    assert cov.undated == 1 and [h.doc_id for h in cov.in_bucket("")] == ["fortune-undated.md"]
    assert sum(b.stories for b in cov.buckets) + cov.undated == cov.total == 4
    # A story counts for every outlet carrying a copy; the unrelated recipe matches nothing.
    assert {o.outlet: o.stories for o in cov.outlets} == {
        "Axios": 1,
        "Bloomberg": 1,
        "El País": 1,
        "TechCrunch": 1,
        "Fortune": 1,
    }
    assert "cooking.md" not in doc_ids


def test_the_counts_agree_with_the_result_list_under_the_same_filters(
    index: CoverageIndex,
) -> None:
    for filters in ({}, {"since": "2026-06-17"}, {"outlets": ["Bloomberg"]}, {"language": "es"}):
        cov = index.coverage(QUESTION, **filters)  # type: ignore[arg-type]
        hits = index.search(QUESTION, k=50, per_document=1, **filters)  # type: ignore[arg-type]
        listed = {h.doc_id for h in hits if h.keyword or (h.semantic and h.semantic.score >= 0.3)}
        assert {h.doc_id for h in cov.stories} == listed, filters
        for bucket in cov.buckets:
            assert len(cov.in_bucket(bucket.start)) == bucket.stories
        for outlet in cov.outlets:
            assert len(cov.from_outlet(outlet.outlet)) == outlet.stories
    # Filtered to Bloomberg, the story is shown through the Bloomberg copy, on its own day.
    only = index.coverage(QUESTION, outlets=["Bloomberg"])
    assert [(b.label, b.stories) for b in only.buckets] == [("2026-06-17", 1)]
    assert [o.outlet for o in only.outlets] == ["Bloomberg"]


def test_a_facet_count_is_the_number_of_stories_the_outlet_filter_then_lists(
    index: CoverageIndex,
) -> None:
    facets = index.coverage(QUESTION)
    for outlet in facets.outlets:
        assert index.coverage(QUESTION, outlets=[outlet.outlet]).total == outlet.stories


def test_period_is_chosen_by_the_span_unless_given() -> None:
    days = [date(2026, 1, 1), date(2026, 2, 15)]
    assert pick_period(days) == "day"
    assert pick_period([date(2026, 1, 1), date(2026, 9, 1)]) == "week"
    assert pick_period([date(2024, 1, 1), date(2026, 9, 1)]) == "month"
    assert pick_period([]) == "day"
    assert bucket_start("2026-06-18T09:30:00Z", "week") == "2026-06-15"  # the Monday
    assert bucket_start("2026-06-18", "month") == "2026-06-01"
    assert bucket_start("sometime", "day") is None and bucket_start(None, "day") is None


def test_week_and_month_buckets(index: CoverageIndex) -> None:
    weeks = index.coverage(QUESTION, period="week")
    assert [(b.label, b.stories) for b in weeks.buckets] == [("2026-06-15", 3)]
    months = index.coverage(QUESTION, period="month")
    assert [(b.start, b.label, b.stories) for b in months.buckets] == [("2026-06-01", "2026-06", 3)]
    assert months.undated == 1


def test_bad_period_and_depth_are_query_errors(index: CoverageIndex) -> None:
    with pytest.raises(QueryError, match="Unknown period 'year'"):
        index.coverage(QUESTION, period="year")
    for depth in (0, -1, 10**9, True):
        with pytest.raises(QueryError, match="depth must be"):
            index.coverage(QUESTION, depth=depth)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        index.coverage("   ")


def test_sort_by_date_lists_the_same_hits_newest_first_undated_last(index: CoverageIndex) -> None:
    by_relevance = index.search("Amodei OpenAI", k=6, per_document=1)
    by_date = index.search("Amodei OpenAI", k=6, per_document=1, sort="date")
    assert sorted(h.passage_id for h in by_date) == sorted(h.passage_id for h in by_relevance)
    dates = [h.published for h in by_date]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[len(dated) :] == [None] * (len(dates) - len(dated))
    assert newest_first(by_date) == by_date  # already in order: unchanged
    with pytest.raises(QueryError, match="Unknown sort"):
        index.search("Amodei", sort="oldest")


def test_recency_moves_newer_coverage_up_and_is_off_by_default(index: CoverageIndex) -> None:
    plain = index.search("Amodei OpenAI", k=3, per_document=1)
    assert plain == index.search("Amodei OpenAI", k=3, per_document=1, recency=0.0)
    fresh = index.search("Amodei OpenAI", k=3, per_document=1, recency=1.0)
    assert [h.rank for h in fresh] == [1, 2, 3]
    assert fresh[0].published == "2026-06-20"  # the newest story leads at full weight
    assert [h.score for h in fresh] == sorted((h.score for h in fresh), reverse=True)
    for bad in (-0.1, 1.5, "strong", True):
        with pytest.raises(QueryError, match="recency must be"):
            index.search("Amodei", recency=bad)  # type: ignore[arg-type]
    assert with_recency([], 0.5, k=3) == []


def test_a_corpus_of_one_document(
    tmp_path: Path,
    build_index,  # type: ignore[no-untyped-def]
) -> None:
    body, meta = SMALL_CORPUS["openai-exit.md"]
    write_doc(tmp_path / "corpus", "only.md", body, **meta)
    index = CoverageIndex.open(build_index(tmp_path / "corpus"))
    cov = index.coverage(QUESTION)
    assert (cov.total, [(b.label, b.stories) for b in cov.buckets]) == (1, [("2026-06-16", 1)])
    assert [(o.outlet, o.stories) for o in cov.outlets] == [("Axios", 1)]
    nothing = index.coverage("slow-cooked tomato sauce with basil")
    assert nothing == Coverage(nothing.question, "day", (), (), 0, (), 100, nothing.filters)
    assert nothing.to_dict()["stories"] == 0


def test_a_story_holding_one_common_word_of_the_question_is_not_counted(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """ "How many moons does Jupiter have?" counted the story that said "many" (a keyword hit
    of any kind counted); a keyword hit must hold a quarter of the question, by rarity."""
    corpus = tmp_path / "corpus"
    chips = "Many analysts expect the chip export rules to tighten soon. " * 4
    write_doc(corpus, "chips.md", chips, title="Chip rules", outlet="Wire", published="2026-06-01")
    write_doc(corpus, "ipo.md", "Anthropic picked banks for an initial public offering. " * 4,
              title="Anthropic IPO", outlet="Desk", published="2026-06-02")  # fmt: skip
    CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    index = CoverageIndex.open(tmp_path / "index")
    try:
        hits = index.search("How many moons does Jupiter have?", mode="keyword")
        assert [h.doc_id for h in hits] == ["chips.md"]  # found, on "many" alone
        assert index.coverage("How many moons does Jupiter have?", mode="keyword").total == 0
        assert index.coverage("How many analysts expect chip rules?", mode="keyword").total == 1
    finally:
        index.close()


def test_every_period_between_the_first_and_last_is_listed() -> None:
    from coverage_search.query.coverage import MAX_PERIODS, _every_period

    assert _every_period(["2025-11-01", "2026-02-01"], "month") == [
        "2025-11-01", "2025-12-01", "2026-01-01", "2026-02-01"]  # fmt: skip
    assert _every_period(["2026-04-27", "2026-05-11"], "week") == [
        "2026-04-27", "2026-05-04", "2026-05-11"]  # fmt: skip
    assert _every_period([], "day") == []
    far = ["1900-01-01", "2026-01-01"]  # 46,000 days: only the days with stories
    assert _every_period(far, "day") == far and MAX_PERIODS < 46_000


def test_periods_end_at_the_last_date_there_is() -> None:
    """Stepping past 9999-12-31 raised OverflowError (a story dated in year 9999)."""
    from coverage_search.query.coverage import _every_period

    for period in ("day", "week", "month"):
        assert _every_period(["9999-12-01"], period) == ["9999-12-01"]
    assert _every_period(["9999-12-30", "9999-12-31"], "day") == ["9999-12-30", "9999-12-31"]
