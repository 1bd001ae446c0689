"""Keyword search leaves out query terms most passages hold, and stays exact and safe."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import write_doc
from coverage_search import CoverageIndex
from coverage_search.engine.local.store import Store, fts_query
from coverage_search.query.settings import SearchSettings
from coverage_search.query.terms import keyword_search, keyword_terms, prune_terms
from coverage_search.records import SearchFilters

# Eight one-passage documents. "daily" is in all eight, "market" in seven, "report" in six;
# "tokenized", "solana" and "giraffe" are each in one; share/shares/sharing in one each.
BODIES = [
    "Daily market report: tokenized stock trading grew.",
    "Daily market report: Solana fees fell again.",
    "Daily market report: the company shares rose.",
    "Daily market report: each partner will share the cost.",
    "Daily market report: data sharing rules were signed.",
    "Daily market report: chip exports slowed.",
    "Daily market notes: quiet trading on Friday.",
    "Daily notes: a giraffe escaped the zoo.",
]
TITLES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]
PRUNING = SearchSettings(keyword_max_df=0.5, hybrid_max_df=0.5, keyword_min_terms=2)
NO_PRUNING = SearchSettings(keyword_max_df=1.0, hybrid_max_df=1.0)


def build(root: Path, *, stemming: bool = True) -> Path:
    corpus = root / "corpus"
    for i, (title, body) in enumerate(zip(TITLES, BODIES, strict=True)):
        outlet = "Wire" if i < 4 else "Post"
        write_doc(corpus, f"{title.lower()}.md", body, title=title, outlet=outlet)
    index = root / "index"
    CoverageIndex.build(corpus, index, progress=False, stemming=stemming)
    return index


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, embedder) -> Path:
    return build(tmp_path_factory.mktemp("keyword"))


@pytest.fixture()
def index(built: Path) -> Iterator[CoverageIndex]:
    idx = CoverageIndex.open(built, settings=PRUNING)
    yield idx
    idx.close()


def database(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip() / "coverage.sqlite"


def titles(idx: CoverageIndex, query: str, *, k: int = 10, **options: Any) -> set[str]:
    hits = idx.search(query, k=k, mode="keyword", per_document=0, **options)
    return {h.title for h in hits}


def keyword_runs(
    idx: CoverageIndex, query: str, k: int, mode: str = "keyword"
) -> tuple[list[str], set[int]]:
    """The MATCH expressions a keyword search ran, and the passages it found."""
    runs: list[str] = []
    engine = idx.engine

    class Spy:
        """The index's engine, noting the terms each keyword search asks for."""

        def keyword(
            self, terms: list[str], filters: SearchFilters, *, limit: int
        ) -> list[tuple[int, float]]:
            runs.append(fts_query(terms) or "")
            return engine.keyword(terms, filters, limit=limit)

        def term_docs(self, terms: list[str]) -> tuple[list[int], int]:
            return engine.term_docs(terms)

    hits = keyword_search(
        query,
        idx.settings,
        mode=mode,
        k=k,
        engine=Spy(),  # type: ignore[arg-type]
        filters=SearchFilters(),
        limit=100,
    )
    return runs, {pid for pid, _ in hits}


def test_a_term_in_most_passages_is_dropped_and_the_rare_ones_kept(index: CoverageIndex) -> None:
    terms = keyword_terms("market tokenized giraffe")
    docs, passages = index.engine.term_docs(terms)
    assert (docs, passages) == ([7, 1, 1], 8)
    assert prune_terms(terms, docs, passages, max_df=0.5, min_terms=2) == ["tokenized", "giraffe"]
    runs, found = keyword_runs(index, "market tokenized giraffe", k=2)
    assert runs == ['"tokenized" OR "giraffe"'] and len(found) == 2
    assert titles(index, "market tokenized giraffe", k=2) == {"Alpha", "Hotel"}
    index.settings = NO_PRUNING
    runs, found = keyword_runs(index, "market tokenized giraffe", k=2)
    assert runs == ['"market" OR "tokenized" OR "giraffe"'] and len(found) == 8


def test_a_query_of_common_terms_keeps_its_rarest_and_finds_passages(
    index: CoverageIndex,
) -> None:
    terms = keyword_terms("daily market report")
    docs, passages = index.engine.term_docs(terms)
    assert docs == [8, 7, 6]
    assert prune_terms(terms, docs, passages, max_df=0.5, min_terms=2) == ["market", "report"]
    assert prune_terms(terms, docs, passages, max_df=0.5, min_terms=1) == ["report"]
    assert keyword_runs(index, "daily market report", k=5) == (
        ['"market" OR "report"'],
        set(range(1, 8)),
    )
    index.settings = replace(PRUNING, keyword_min_terms=1)
    assert titles(index, "daily market report", k=5) <= set(TITLES[:6])
    assert titles(index, "daily", k=8) == set(TITLES)  # one term is never pruned


def test_pruning_that_leaves_too_few_hits_searches_every_term(index: CoverageIndex) -> None:
    runs, found = keyword_runs(index, "market tokenized giraffe", k=3)
    assert runs == ['"tokenized" OR "giraffe"', '"market" OR "tokenized" OR "giraffe"']
    assert len(found) == 8
    # The rare terms are in Wire documents only: the filter leaves them nothing, so the search
    # runs again with "market" rather than come back empty while Post passages match.
    assert titles(index, "market tokenized solana", outlets=["Post"]) == {
        "Echo",
        "Foxtrot",
        "Golf",
    }


def test_hybrid_search_prunes_by_its_own_threshold(index: CoverageIndex) -> None:
    index.settings = replace(PRUNING, keyword_max_df=1.0, hybrid_max_df=0.9)
    query = "daily market report tokenized"
    assert keyword_runs(index, query, k=1)[0] == ['"daily" OR "market" OR "report" OR "tokenized"']
    assert keyword_runs(index, query, k=1, mode="hybrid")[0] == [
        '"market" OR "report" OR "tokenized"'
    ]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_results_equal_the_unpruned_ones_when_no_term_is_common(
    index: CoverageIndex, mode: str
) -> None:
    query = "tokenized solana giraffe shares"
    pruned = index.search(query, k=5, mode=mode, per_document=0)
    index.settings = NO_PRUNING
    assert index.search(query, k=5, mode=mode, per_document=0) == pruned
    assert pruned


def test_inflected_forms_count_under_their_stem(built: Path, tmp_path: Path, embedder) -> None:
    store = Store(database(built))
    assert store.term_docs(["shares", "share", "sharing"]) == ([3, 3, 3], 8)
    store.close()
    unstemmed = Store(database(build(tmp_path, stemming=False)))
    assert unstemmed.term_docs(["shares", "share", "sharing"]) == ([1, 1, 1], 8)
    unstemmed.close()


def test_terms_the_index_does_not_hold_count_zero(index: CoverageIndex) -> None:
    # "foo_bar" is one \w+ word but two tokens: it counts as its rarest part.
    terms = ["zyzzyva", "___", "giraffe_market", "日本語", "café"]
    assert index.engine.term_docs(terms) == ([0, 0, 1, 0, 0], 8)


def test_an_index_without_the_term_table_counts_through_fts5vocab(
    built: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "old.sqlite"
    copy.write_bytes(database(built).read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE term_df")
    terms = ["daily", "market", "reports", "shares", "giraffe", "zyzzyva"]
    new, old = Store(database(built)), Store(copy)
    assert old.term_docs(terms) == new.term_docs(terms) == ([8, 7, 6, 3, 1, 0], 8)
    assert old.term_docs(terms[:2]) == ([8, 7], 8)  # cached counts
    new.close()
    old.close()


HOSTILE = [
    "NEAR(market report)",
    'market "report',
    '"',
    "*",
    "market*",
    "text:market report daily",
    "title:alpha",
    "daily AND market OR report NOT giraffe",
    "AND OR NOT",
    "- ^ + : ( ) { }",
    "café 日本語 🤖 ß ﬁnance",
    "'; DROP TABLE term_df; --",
    "daily market report " * 250,  # 5,000 characters
    "x" * 5_000,
    "!!! ??? ...",
]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_hostile_queries_never_raise(index: CoverageIndex, query: str, mode: str) -> None:
    index.settings = replace(PRUNING, keyword_max_df=0.01, hybrid_max_df=0.01, keyword_min_terms=1)
    hits = index.search(query, k=3, mode=mode)
    assert isinstance(hits, list)
    if mode == "keyword" and query == "!!! ??? ...":
        assert hits == []


@pytest.mark.parametrize("term", ['"', "a*", "col:term", "NEAR(a b)", "x\x00y", "", " "])
def test_term_counts_take_any_text(index: CoverageIndex, term: str) -> None:
    docs, passages = index.engine.term_docs([term, "daily"])
    assert docs[1] == 8 and passages == 8


def test_prune_terms_keeps_query_order_and_the_rarest_on_ties() -> None:
    terms = ["a", "b", "c", "d"]
    assert prune_terms(terms, [90, 5, 90, 5], 100, max_df=0.5, min_terms=1) == ["b", "d"]
    assert prune_terms(terms, [90, 80, 95, 70], 100, max_df=0.5, min_terms=2) == ["b", "d"]
    assert prune_terms(terms, [90, 90, 90, 90], 100, max_df=0.5, min_terms=1) == ["a"]
    assert prune_terms(terms, [90, 90, 90, 80], 100, max_df=0.5, min_terms=0) == ["d"]
    assert prune_terms(terms, [0, 0, 0, 0], 0, max_df=0.5, min_terms=2) == terms


def test_without_temp_tables_every_term_is_kept(built: Path) -> None:
    idx = CoverageIndex.open(built, settings=PRUNING)
    idx.engine._store._conn.execute("CREATE TEMP TABLE query_terms (taken)")  # the name it needs
    assert idx.engine.term_docs(["market", "giraffe"]) == ([0, 0], 0)
    runs, found = keyword_runs(idx, "market tokenized giraffe", k=2)
    assert runs == ['"market" OR "tokenized" OR "giraffe"'] and len(found) == 8
    assert titles(idx, "market tokenized giraffe", k=2) == {"Alpha", "Hotel"}
    idx.close()
