"""Cached documents hold no text: it comes back from the live build, checked, or is read again."""

from __future__ import annotations

import shutil
import sqlite3
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from test_build_cache import _build, _corpus, _fresh, _hits, _tables

from coverage_search import CoverageIndex
from coverage_search.build import cache as buildcache
from coverage_search.build import layout
from coverage_search.build.embedding_cache import EmbeddingCache
from coverage_search.engine.local.engine import DATABASE
from coverage_search.records import Document
from coverage_search.sources import scan


def _live_db(index_dir: Path) -> Path:
    build = layout.live_build(index_dir)
    assert build is not None
    return build / DATABASE


def _unpublished(index_dir: Path) -> None:
    """The index folder as before its first build, but for its caches."""
    for build in index_dir.glob("build-*"):
        shutil.rmtree(build)
    (index_dir / layout.CURRENT).unlink()


def _readable(corpus: Path) -> list[str]:
    return sorted(d.doc_id for d in scan.scan_corpus(corpus) if isinstance(d, Document))


def _rebuilt_like_fresh(corpus: Path, index: Path, parsed: list[str]) -> list[str]:
    """Rebuild; check it equals a build with no build cache; the files the rebuild parsed."""
    parsed.clear()
    _build(corpus, index, force=True)
    rebuilt = sorted(parsed)
    fresh = _fresh(corpus, index)
    assert _tables(index) == _tables(fresh)
    assert _hits(index) == _hits(fresh)
    return rebuilt


def test_an_unchanged_rebuild_reads_no_file_and_equals_a_fresh_build(
    tmp_path: Path, embedder: Any, parsed: list[str]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    assert sorted(parsed) == sorted([*_readable(corpus), "empty.md"])  # a cold cache
    # Every document from the live build, empty.md's verdict (no text) from the cache.
    assert _rebuilt_like_fresh(corpus, index, parsed) == []
    with sqlite3.connect(index / buildcache.FILE) as conn:
        values = [zlib.decompress(v) for (v,) in conn.execute("SELECT value FROM documents")]
    assert len(values) == len(_readable(corpus)) + 1
    assert max(map(len, values)) < 2000  # hash and headings: the long article's text is not here
    assert not any(b"Compute report page one" in v for v in values)


@pytest.mark.parametrize(
    ("change", "doc_id"),
    [
        ("UPDATE documents SET text = 'Tampered.' WHERE doc_id = ?", "cooking.md"),
        ("UPDATE documents SET title = 'Other' WHERE doc_id = ?", "notes.txt"),
        ("DELETE FROM documents WHERE doc_id = ?", "report.pdf"),
    ],
    ids=["text-altered", "title-altered", "removed"],
)
def test_a_live_build_that_lost_a_document_gives_a_miss(
    tmp_path: Path, embedder: Any, parsed: list[str], change: str, doc_id: str
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    with sqlite3.connect(_live_db(index)) as conn:
        conn.execute(change, (doc_id,))
    assert _rebuilt_like_fresh(corpus, index, parsed) == [doc_id]


@pytest.mark.parametrize(
    "loss",
    [
        lambda index: shutil.rmtree(_live_db(index).parent),  # CURRENT names a missing build
        _unpublished,
        lambda index: _live_db(index).write_bytes(b"\0not a database\xff" * 300),
        lambda index: _live_db(index).unlink(),
    ],
    ids=["build-deleted", "no-live-build", "database-garbage", "database-missing"],
)
def test_without_a_readable_live_build_every_file_is_read_again(
    tmp_path: Path, embedder: Any, parsed: list[str], loss: Callable[[Path], object]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    loss(index)
    # Every readable file; empty.md's verdict needs no text, so it still comes from the cache.
    assert _rebuilt_like_fresh(corpus, index, parsed) == _readable(corpus)
    parsed.clear()
    _build(corpus, index, force=True)  # and the build just made serves the next one
    assert parsed == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda value: b"\0garbage" + value,
        lambda value: zlib.compress(b'{"sha256": 7, "headings": "no"}'),
        lambda value: zlib.compress(b'{"sha256": "' + b"0" * 64 + b'", "headings": []}'),
        lambda value: zlib.compress(b"[1, 2, 3]"),
    ],
    ids=["not-zlib", "wrong-types", "wrong-hash", "not-an-entry"],
)
def test_a_damaged_entry_with_a_sound_checksum_is_a_miss(
    tmp_path: Path, embedder: Any, parsed: list[str], damage: Callable[[bytes], bytes]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    with sqlite3.connect(index / buildcache.FILE) as conn:
        rows = conn.execute("SELECT key, value FROM documents").fetchall()
        damaged = [damage(v) for k, v in rows]
        conn.executemany(  # each damaged value with its own checksum: only decoding can tell
            "UPDATE documents SET value = ?, crc = ? WHERE key = ?",
            [
                (d, zlib.crc32(d), k)
                for d, (k, v) in zip(damaged, rows, strict=True)
                if b"error" not in zlib.decompress(v)
            ],
        )
    assert _rebuilt_like_fresh(corpus, index, parsed) == _readable(corpus)


def test_a_build_that_failed_before_its_switch_leaves_misses_not_wrong_documents(
    tmp_path: Path, embedder: Any, parsed: list[str]
) -> None:
    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    edited = corpus / "cooking.md"
    edited.write_text(edited.read_text() + "\n\nServe it with fresh pasta.\n")

    def fail(self: EmbeddingCache, *args: Sequence[object]) -> None:
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as failing:
        failing.setattr(EmbeddingCache, "put", fail)
        with pytest.raises(OSError, match="No space"):
            _build(corpus, index)  # its entry for the edited file names a text never made live
    parsed.clear()
    _build(corpus, index)
    assert parsed == ["cooking.md"]
    hits = CoverageIndex.open(index).search("fresh pasta", k=1, mode="keyword")
    assert hits[0].doc_id == "cooking.md" and "fresh pasta" in hits[0].text
    assert _tables(index) == _tables(_fresh(corpus, index))


def test_a_new_content_version_rebuilds_an_unchanged_corpus(
    tmp_path: Path, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a build stores changed (CONTENT_VERSION: centroids came in version 2): the next
    build writes it although no file changed, and embeds nothing again."""
    from coverage_search.build import run

    corpus = _corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    _build(corpus, index)
    assert not CoverageIndex.build(corpus, index, progress=False).changed
    monkeypatch.setattr(run, "CONTENT_VERSION", run.CONTENT_VERSION + 1)
    again = CoverageIndex.build(corpus, index, progress=False)
    assert again.changed and again.embedded == 0
    assert not CoverageIndex.build(corpus, index, progress=False).changed
