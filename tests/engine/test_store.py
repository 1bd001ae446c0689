"""The build database keeps each passage as its span of the document's text, read back whole."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coverage_search.engine.base import BuildContent
from coverage_search.engine.local.store import Store
from coverage_search.engine.local.writer import write_content
from coverage_search.records import Document, Passage

TEXT = "Café naïve — 東京 in spring.\n\nA second paragraph, 🦒 giraffes and all.\n"


def content(passages: list[Passage]) -> BuildContent:
    doc = Document(
        doc_id="a.md", path="a.md", title="A", text=TEXT, format="markdown", content_hash="a"
    )
    return BuildContent(
        documents=[doc],
        passages=[passages],
        vectors=np.zeros((len(passages), 4), dtype=np.float32),
        story_ids={},
        indexed_as=[0],
        stemming=True,
        fingerprint="test",
    )


def span(ordinal: int, start: int, end: int) -> Passage:
    return Passage("a.md", ordinal, TEXT[start:end], start, end, heading=None)


def test_passage_text_is_read_from_its_span_of_the_document(tmp_path: Path) -> None:
    second = TEXT.index("A second")
    passages = [span(0, 0, second - 2), span(1, second, len(TEXT) - 1)]
    ids = write_content(tmp_path / "db.sqlite", content(passages), keyword_index=False)
    store = Store(tmp_path / "db.sqlite")
    rows = store.passages(ids)
    store.close()
    # Characters, not bytes: the spans start after accented letters, CJK and an emoji.
    assert [rows[i].text for i in ids] == [p.text for p in passages]
    assert [(rows[i].start, rows[i].end) for i in ids] == [(p.start, p.end) for p in passages]


def test_a_passage_that_is_not_its_span_is_refused(tmp_path: Path) -> None:
    wrong = Passage("a.md", 0, "Not in the document", 0, 19)
    with pytest.raises(ValueError, match="not its span"):
        write_content(tmp_path / "db.sqlite", content([wrong]), keyword_index=False)


def test_centroids_are_stored_per_document_and_an_older_build_has_none(tmp_path: Path) -> None:
    second = TEXT.index("A second")
    passages = [span(0, 0, second - 2), span(1, second, len(TEXT) - 1)]
    vectors = np.array([[0.6, 0.8, 0.0, 0.0], [0.0, 0.6, 0.8, 0.0]], dtype=np.float32)
    path = tmp_path / "db.sqlite"
    write_content(path, replace(content(passages), vectors=vectors), keyword_index=False)
    store = Store(path)
    query = np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    got = store.mean_cosines(["a.md", "a.md", "missing.md", "'; DROP TABLE documents; --"], query)
    assert list(got) == ["a.md"]
    assert got["a.md"] == pytest.approx(0.7, abs=0.06)  # (0.8 + 0.6) / 2, from 4-bit codes
    store.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DROP TABLE centroids")  # a build from before centroids
    store = Store(path)
    assert store.mean_cosines(["a.md"], query) == {}
    assert list(store.passages([1, 2])) == [1, 2]  # the rest reads as before
    store.close()
