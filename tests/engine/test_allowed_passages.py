"""A filter's allowed passages: from each document's run of passage ids, as SQL would join them."""

from __future__ import annotations

import itertools
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import faiss
import numpy as np
import pytest

from coverage_search.engine.base import BuildContent
from coverage_search.engine.local import vectors
from coverage_search.engine.local.sql import passing_documents
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.writer import write_content
from coverage_search.records import Document, Passage, SearchFilters

OUTLETS = ("Reuters", "The Verge", "Wired")


def _corpus(tmp_path: Path) -> Path:
    """40 documents over three outlets and three years, 1-4 passages each, and two exact
    copies: of a Reuters story under Wired and of a 2024 story dated 2026."""
    rng = np.random.default_rng(1)
    documents, passages, indexed_as = [], [], []
    for i in range(40):
        text = " ".join(f"Sentence {j} of story {i}." for j in range(int(rng.integers(1, 5))))
        cut = [0, *[m.end() for m in re.finditer(r"\. ", text)], len(text)]
        doc = Document(
            doc_id=f"d{i}.md",
            path=f"d{i}.md",
            title=f"Story {i}",
            text=text,
            format="markdown",
            content_hash=str(i),
            outlet=OUTLETS[i % 3],
            published=f"{2024 + i % 3}-0{1 + i % 9}-15",
        )
        spans = [(a, b) for a, b in itertools.pairwise(cut) if text[a:b].strip()]
        documents.append(doc)
        passages.append([Passage(doc.doc_id, n, text[a:b], a, b) for n, (a, b) in enumerate(spans)])
        indexed_as.append(i)
    for twin, outlet, day in ((0, "Wired", "2025-05-05"), (3, "Reuters", "2026-02-02")):
        original = documents[twin]
        documents.append(
            Document(
                doc_id=f"copy-of-{twin}.md",
                path=f"copy-of-{twin}.md",
                title=original.title,
                text=original.text,
                format="markdown",
                content_hash=original.content_hash,
                outlet=outlet,
                published=day,
            )
        )
        passages.append([])
        indexed_as.append(twin)
    count = sum(len(p) for p in passages)
    content = BuildContent(
        documents=documents,
        passages=passages,
        vectors=np.zeros((count, 4), dtype=np.float32),
        story_ids={},
        indexed_as=indexed_as,
        stemming=True,
        fingerprint="test",
    )
    path = tmp_path / "db.sqlite"
    write_content(path, content, keyword_index=False)
    return path


FILTERS = [
    SearchFilters(outlets=("Reuters",)),
    SearchFilters(outlets=("Wired", "the verge")),
    SearchFilters(since="2025-01-01", until="2025-12-31"),
    SearchFilters(outlets=("Reuters",), since="2026-01-01"),
    SearchFilters(until="2024-06-30"),
    SearchFilters(outlets=("Nobody",)),
]


def _joined(path: Path, filters: SearchFilters) -> list[int]:
    where, params = passing_documents(filters)
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(f"SELECT p.id FROM passages p WHERE {where}", params).fetchall()
    return sorted(r[0] for r in rows)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f)[14:60])
def test_allowed_passages_are_the_sql_join(tmp_path: Path, filters: SearchFilters) -> None:
    path = _corpus(tmp_path)
    store = Store(path)
    try:
        allowed = store.allowed_passages(filters)
    finally:
        store.close()
    assert allowed.dtype == np.int64
    assert allowed.tolist() == _joined(path, filters)


def test_a_copy_passing_a_filter_brings_its_originals_passages(tmp_path: Path) -> None:
    path = _corpus(tmp_path)
    store = Store(path)
    try:
        reuters_2026 = store.allowed_passages(
            SearchFilters(outlets=("Reuters",), since="2026-01-01")
        )
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as conn:
        own = [r[0] for r in conn.execute("SELECT id FROM passages WHERE document = 4")]
    assert own and set(own) <= set(reuters_2026.tolist())  # d3 itself is dated 2024


def test_passages_out_of_runs_fall_back_to_the_join(tmp_path: Path) -> None:
    path = _corpus(tmp_path)
    moved = tmp_path / "moved.sqlite"
    shutil.copy(path, moved)
    with closing(sqlite3.connect(moved)) as conn:  # d1's last passage handed to d0
        conn.execute(
            "UPDATE passages SET document = 1 WHERE id = (SELECT max(id) FROM passages"
            " WHERE document = 2)"
        )
        conn.commit()
    store = Store(moved)
    try:
        for filters in FILTERS:
            assert store.allowed_passages(filters).tolist() == _joined(moved, filters)
        assert store._passage_runs() is None
    finally:
        store.close()


def test_a_dense_filter_is_a_bitmap_and_a_sparse_one_a_set() -> None:
    dense, dense_selector = vectors._selector(faiss, np.arange(1, 5000, 3, dtype=np.int64))
    assert dense is not None and isinstance(dense_selector, faiss.IDSelectorBitmap)
    # FAISS reads n bytes of the bitmap: more would read past it for ids above the filter's.
    assert dense_selector.n == len(dense) == 4999 // 8 + 1
    members = [i for i in range(0, 6000) if dense_selector.is_member(i)]
    assert members == list(range(1, 5000, 3))
    sparse, sparse_selector = vectors._selector(faiss, np.array([7, 10**9], dtype=np.int64))
    assert sparse is None and isinstance(sparse_selector, faiss.IDSelectorBatch)
    empty, _ = vectors._selector(faiss, np.zeros(0, dtype=np.int64))
    assert empty is None


@pytest.mark.parametrize("kind", ["flat", "flat_sq8", "hnsw_sq8", "ivf_sq8"])
def test_bitmap_and_set_filters_find_the_same_passages(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(4)
    data = rng.normal(size=(3000, 32)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    ids = np.arange(1, 3001, dtype=np.int64)
    index = vectors.VectorIndex.create(ids, data, kind=kind)
    monkeypatch.setattr(vectors, "HNSW_SCAN_MAX", 0)  # HNSW through its selector too
    allowed = np.sort(rng.choice(ids, 600, replace=False))
    found = {}
    for spread in (10**6, 0):  # bitmap, then the set
        monkeypatch.setattr(vectors, "BITMAP_SPREAD", spread)
        found[spread] = [p for p, _ in index.search(data[5], 10, allowed=allowed)]
    assert found[10**6] == found[0]
    assert set(found[0]) <= set(allowed.tolist()) and len(found[0]) == 10


def test_warm_up_reads_the_runs_so_the_first_filtered_search_does_not(tmp_path: Path) -> None:
    path = _corpus(tmp_path)
    store = Store(path)
    asked: list[str] = []
    real = store._all

    def counting(sql: str, *args: object) -> list:  # type: ignore[type-arg]
        asked.append(sql)
        return real(sql, *args)

    store._all = counting  # type: ignore[method-assign]
    store.warm_up()
    assert [q for q in asked if "GROUP BY document" in q]
    asked.clear()
    store.allowed_passages(SearchFilters(outlets=("Wire",)))
    assert not [q for q in asked if "GROUP BY document" in q]
