"""Keyword search leaves out query terms most passages hold, and stays exact and safe."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import write_doc
from coverage_search import CoverageIndex, IndexCorruptError
from coverage_search.build import layout
from coverage_search.engine.base import BuildContent
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.writer import write_content
from coverage_search.query.settings import SearchSettings
from coverage_search.query.terms import keyword_search, keyword_terms, prune_terms
from coverage_search.records import Document, Passage, SearchFilters

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


def titles(idx: CoverageIndex, query: str, *, k: int = 10, **options: Any) -> set[str]:
    hits = idx.search(query, k=k, mode="keyword", per_document=0, **options)
    return {h.title for h in hits}


def keyword_runs(
    idx: CoverageIndex, query: str, k: int, mode: str = "keyword"
) -> tuple[list[list[str]], set[int]]:
    """The terms of each keyword search it ran, and the passages it found."""
    runs: list[list[str]] = []
    engine = idx.engine

    class Spy:
        """The index's engine, noting the terms each keyword search asks for."""

        def keyword(
            self, terms: list[str], filters: SearchFilters, *, limit: int
        ) -> list[tuple[int, float]]:
            runs.append(list(terms))
            return engine.keyword(terms, filters, limit=limit)

        def term_docs(self, terms: list[str]) -> tuple[list[int], int]:
            return engine.term_docs(terms)

    hits, _ = keyword_search(
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
    assert runs == [["tokenized", "giraffe"]] and len(found) == 2
    assert titles(index, "market tokenized giraffe", k=2) == {"Alpha", "Hotel"}
    index.settings = NO_PRUNING
    runs, found = keyword_runs(index, "market tokenized giraffe", k=2)
    assert runs == [["market", "tokenized", "giraffe"]] and len(found) == 8


def test_a_query_of_common_terms_keeps_its_rarest_and_finds_passages(
    index: CoverageIndex,
) -> None:
    terms = keyword_terms("daily market report")
    docs, passages = index.engine.term_docs(terms)
    assert docs == [8, 7, 6]
    assert prune_terms(terms, docs, passages, max_df=0.5, min_terms=2) == ["market", "report"]
    assert prune_terms(terms, docs, passages, max_df=0.5, min_terms=1) == ["report"]
    assert keyword_runs(index, "daily market report", k=5) == (
        [["market", "report"]],
        set(range(1, 8)),
    )
    index.settings = replace(PRUNING, keyword_min_terms=1)
    assert titles(index, "daily market report", k=5) <= set(TITLES[:6])
    assert titles(index, "daily", k=8) == set(TITLES)  # one term is never pruned


def test_pruning_that_leaves_too_few_hits_searches_every_term(index: CoverageIndex) -> None:
    runs, found = keyword_runs(index, "market tokenized giraffe", k=3)
    assert runs == [["tokenized", "giraffe"], ["market", "tokenized", "giraffe"]]
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
    assert keyword_runs(index, query, k=1)[0] == [["daily", "market", "report", "tokenized"]]
    assert keyword_runs(index, query, k=1, mode="hybrid")[0] == [["market", "report", "tokenized"]]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_results_equal_the_unpruned_ones_when_no_term_is_common(
    index: CoverageIndex, mode: str
) -> None:
    query = "tokenized solana giraffe shares"
    pruned = index.search(query, k=5, mode=mode, per_document=0)
    index.settings = NO_PRUNING
    assert index.search(query, k=5, mode=mode, per_document=0) == pruned
    assert pruned


def test_inflected_forms_count_under_their_stem(index: CoverageIndex, tmp_path: Path) -> None:
    assert index.engine.term_docs(["shares", "share", "sharing"]) == ([3, 3, 3], 8)
    unstemmed = CoverageIndex.open(build(tmp_path, stemming=False))
    assert unstemmed.engine.term_docs(["shares", "share", "sharing"]) == ([1, 1, 1], 8)
    unstemmed.close()


def term_database(path: Path, *, keyword_index: bool) -> Path:
    """BODIES as the Milvus engine's side database (keyword_index=False) or with FTS5 kept."""
    documents = [
        Document(
            doc_id=f"{t.lower()}.md",
            path=f"{t.lower()}.md",
            title=t,
            text=b,
            format="markdown",
            content_hash=t,
        )
        for t, b in zip(TITLES, BODIES, strict=True)
    ]
    content = BuildContent(
        documents=documents,
        passages=[[Passage(d.doc_id, 0, d.text, 0, len(d.text))] for d in documents],
        vectors=np.zeros((len(documents), 4), dtype=np.float32),
        story_ids={},
        indexed_as=list(range(len(documents))),
        stemming=True,
        fingerprint="test",
    )
    write_content(path, content, keyword_index=keyword_index)
    return path


def test_the_side_database_counts_terms_under_their_stem(tmp_path: Path) -> None:
    store = Store(term_database(tmp_path / "side.sqlite", keyword_index=False))
    assert store.term_docs(["shares", "share", "sharing", "daily"]) == ([3, 3, 3, 8], 8)
    store.close()


def test_terms_the_index_does_not_hold_count_zero(index: CoverageIndex) -> None:
    # "foo_bar" is one \w+ word but two tokens: it counts as its rarest part.
    terms = ["zyzzyva", "___", "giraffe_market", "日本語", "café"]
    assert index.engine.term_docs(terms) == ([0, 0, 1, 0, 0], 8)


def test_an_index_without_the_term_table_counts_through_fts5vocab(tmp_path: Path) -> None:
    new = term_database(tmp_path / "new.sqlite", keyword_index=True)
    copy = tmp_path / "old.sqlite"
    copy.write_bytes(new.read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TABLE term_df")
    terms = ["daily", "market", "reports", "shares", "giraffe", "zyzzyva"]
    new, old = Store(new), Store(copy)
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


def test_without_temp_tables_every_term_is_kept(built: Path, tmp_path: Path) -> None:
    store = Store(term_database(tmp_path / "side.sqlite", keyword_index=False))
    store._conn.execute("CREATE TEMP TABLE query_terms (taken)")  # the name it needs
    assert store.term_docs(["market", "giraffe"]) == ([0, 0], 0)
    idx = CoverageIndex.open(built, settings=PRUNING)
    idx.engine.term_docs = store.term_docs  # type: ignore[method-assign]
    runs, found = keyword_runs(idx, "market tokenized giraffe", k=2)
    assert runs == [["market", "tokenized", "giraffe"]] and len(found) == 8
    assert titles(idx, "market tokenized giraffe", k=2) == {"Alpha", "Hotel"}
    idx.close()
    store.close()


@pytest.mark.parametrize("damage", ["missing", "garbage", "unrecorded", "outside"])
def test_a_damaged_keyword_index_is_one_sentence_and_a_build_repairs_it(
    tmp_path: Path, damage: str, embedder
) -> None:
    index_dir = build(tmp_path)
    live = layout.live_build(index_dir)
    assert live is not None
    segment = max((live / "keywords").iterdir(), key=lambda p: p.stat().st_size)
    if damage == "missing":
        segment.unlink()
    elif damage == "garbage":
        segment.write_bytes(b"\x00garbage\xff" * (segment.stat().st_size // 9 + 1))
    elif damage == "unrecorded":  # a manifest that records no keyword file
        manifest = json.loads((live / layout.MANIFEST).read_text())
        manifest["files"] = {k: v for k, v in manifest["files"].items() if "/" not in k}
        (live / layout.MANIFEST).write_text(json.dumps(manifest))
    else:  # a manifest that points out of the build, with a checksum that would match
        manifest = json.loads((live / layout.MANIFEST).read_text())
        manifest["files"]["keywords/../coverage.sqlite"] = manifest["files"]["coverage.sqlite"]
        (live / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError) as caught:
        CoverageIndex.open(index_dir)
    message = str(caught.value)
    assert "\n" not in message and "keywords/" in message and "coverage-search build" in message
    CoverageIndex.build(tmp_path / "corpus", index_dir, progress=False)
    repaired = CoverageIndex.open(index_dir)
    assert titles(repaired, "giraffe") == {"Hotel"}
    repaired.close()


def test_a_full_stem_cache_starts_anew_without_losing_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from coverage_search.engine.local import analyzer as module

    monkeypatch.setattr(module, "STEM_CACHE", 3)
    for cached in (module.analyzer, module.text_analyzer, module._stemmer):
        cached.cache_clear()
    try:
        analyze, joined = module.analyzer(True), module.text_analyzer(True)
        assert analyze("alpha betas gamma delta") == ["alpha", "beta", "gamma", "delta"]
        # The cache is full: this text mixes a cached word with a new one.
        assert analyze("alpha epsilons") == ["alpha", "epsilon"]
        assert joined("gammas zetas alpha") == "gamma zeta alpha"
    finally:
        for cached in (module.analyzer, module.text_analyzer, module._stemmer):
            cached.cache_clear()


def test_the_analyzer_stems_as_fts5_porter_does() -> None:
    from coverage_search.engine.local.analyzer import analyzer, text_analyzer
    from coverage_search.engine.local.writer import STEMMED, UNSTEMMED

    ascii_text = (  # ASCII takes a faster path: every kind of separator, FTS5's words still
        " ".join(BODIES)
        + " Generalization relational conditional hopefulness ponies caresses agreed"
        " sky skies dying lying feet happily is as us ms s 5s technology assembly"
        " x1y2 COVID-19 foo_bar a.b,c;d:e!f?g(h)i[j]k{l}m<n>o/p\\q|r\"s'tAu\tv\nw\x00x\x7fy~z"
    )
    conn = sqlite3.connect(":memory:")
    for text in (ascii_text, ascii_text + " Café façade naïve Ærø"):
        for tokenizer, stemming in ((STEMMED, True), (UNSTEMMED, False)):
            conn.execute("DROP TABLE IF EXISTS t")
            conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{tokenizer}')")
            conn.execute("DROP TABLE IF EXISTS v")
            conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
            conn.execute("INSERT INTO t(x) VALUES (?)", (text,))
            fts5 = [r[0] for r in conn.execute("SELECT term FROM v ORDER BY offset")]
            assert analyzer(stemming)(text) == fts5
            # What the keyword index stores: the same tokens, joined by spaces.
            assert text_analyzer(stemming)(text).split() == fts5
    conn.close()


def test_tantivy_lock_files_are_never_recorded_and_a_recorded_one_may_go(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tantivy removes its lock files when a reader or writer is freed, at times after the build
    listed the folder: a manifest recording one made the index "damaged" once it went."""
    from coverage_search.engine.local import engine

    real = engine.write_keywords

    def leaving_a_lock(folder: Path, *args: Any, **kwargs: Any) -> None:
        real(folder, *args, **kwargs)
        (folder / ".tantivy-meta.lock").write_bytes(b"")  # still there when the folder is listed

    monkeypatch.setattr(engine, "write_keywords", leaving_a_lock)
    index_dir = build(tmp_path)
    live = layout.live_build(index_dir)
    assert live is not None
    manifest = json.loads((live / layout.MANIFEST).read_text())
    assert not [name for name in manifest["files"] if ".tantivy-" in name]
    # A build from before, which recorded the lock: its going is no damage.
    manifest["files"]["keywords/.tantivy-meta.lock"] = manifest["files"]["keywords/meta.json"]
    (live / layout.MANIFEST).write_text(json.dumps(manifest))
    (live / "keywords" / ".tantivy-meta.lock").unlink()
    assert titles(CoverageIndex.open(index_dir), "giraffe") == {"Hotel"}
