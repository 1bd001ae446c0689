"""The embedding cache keeps 8-bit vectors in under 450 bytes each: speed, never results."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.build.embedding_cache import EmbeddingCache, as_cached
from coverage_search.build.embedding_cache import from_blob as embedding_cache_from_blob
from coverage_search.build.run import _embed, _Progress
from coverage_search.embed.embedder import text_hash
from coverage_search.records import Passage

MODEL = "all-MiniLM-L6-v2"


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vectors_come_back_as_the_8_bit_codes_round_them(tmp_path: Path) -> None:
    vectors = _unit(3)
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    cache.put(MODEL, [("a", vectors[0]), ("b", vectors[1])])
    cache.put("other-model", [("a", vectors[2])])
    cache.put(MODEL, [("b", vectors[2])])  # a new vector for a key replaces the old one
    found = cache.get(MODEL, ["a", "b", "c", "a"], 384)
    assert sorted(found) == ["a", "b"]
    assert np.array_equal(found["a"], as_cached(vectors[0]))
    assert np.array_equal(found["b"], as_cached(vectors[2]))
    assert found["a"].dtype == np.float32
    assert np.array_equal(cache.get("other-model", ["a"], 384)["a"], as_cached(vectors[2]))
    assert cache.get(MODEL, ["a"], 768) == {}  # another dimension is another model's
    cache.close()


def test_rounding_is_idempotent_and_close_to_the_vector() -> None:
    vectors = _unit(500, seed=3)
    cached = as_cached(vectors)
    assert np.array_equal(as_cached(cached), cached)  # a cached vector stores the same bytes
    assert np.array_equal(as_cached(vectors[7]), cached[7])  # alone or in a batch alike
    assert float(np.abs(np.sum(cached * vectors, axis=1) - 1).max()) < 0.002
    assert not as_cached(np.zeros(384, dtype=np.float32)).any()


def test_float16_rows_of_the_format_before_are_read_as_a_fresh_vector_would_be(
    tmp_path: Path,
) -> None:
    vector = _unit(1, seed=5)[0]
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    cache.put(MODEL, [("a", vector), ("b", vector)])
    cache.close()
    old = vector.astype(np.float16)
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as conn:
        conn.execute("UPDATE vectors SET vector = ? WHERE id = 1", (old.tobytes(),))
        conn.execute("UPDATE vectors SET vector = ? WHERE id = 2", (b"\1\2\3",))  # damaged row
    conn.close()
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    found = cache.get(MODEL, ["a", "b"], 384)
    cache.close()
    assert list(found) == ["a"]  # the damaged row is a miss: embedded again
    assert np.array_equal(found["a"], as_cached(old.astype(np.float32)))


def test_a_row_with_a_damaged_scale_is_a_miss(tmp_path: Path) -> None:
    vectors = _unit(5, seed=11)
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    cache.put(MODEL, [(f"h{i}", vectors[i]) for i in range(5)])
    cache.close()
    bad = [np.nan, np.inf, -0.01, 0.0, 1e30]  # each a float32 scale no unit vector has
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as conn:
        for row, scale in enumerate(bad[:4], start=1):
            (blob,) = conn.execute("SELECT vector FROM vectors WHERE id = ?", (row,)).fetchone()
            damaged = np.float32(scale).tobytes() + blob[4:]
            conn.execute("UPDATE vectors SET vector = ? WHERE id = ?", (damaged, row))
    conn.close()
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    found = cache.get(MODEL, [f"h{i}" for i in range(5)], 384)
    cache.close()
    assert sorted(found) == ["h4"]  # the four damaged rows will be embedded again
    assert np.array_equal(found["h4"], as_cached(vectors[4]))
    assert embedding_cache_from_blob(np.float32(1e30).tobytes() + bytes(384), 384) is None


def test_a_vector_takes_under_450_bytes_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    vectors = _unit(7000)
    sizes = []
    for count in (2000, 7000):  # the growth, without the few pages any file has
        cache = EmbeddingCache(path)
        for lo in range(count - 5000 if count > 2000 else 0, count, 64):  # as the build writes
            cache.put(MODEL, [(f"h{i}", vectors[i]) for i in range(lo, min(lo + 64, count))])
        cache.close()
        assert not Path(f"{path}-wal").exists()  # the last close checkpoints
        sizes.append(path.stat().st_size)
    assert (sizes[1] - sizes[0]) / 5000 < 450  # float16 rows took 799


def test_a_damaged_file_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"\0garbage" * 512)
    cache = EmbeddingCache(path)
    assert cache.get(MODEL, ["a"], 384) == {}
    cache.put(MODEL, [("a", _unit(1)[0])])
    assert list(cache.get(MODEL, ["a"], 384)) == ["a"]
    cache.close()


def test_a_cache_of_the_float32_format_is_started_afresh(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE embeddings (model TEXT NOT NULL, hash TEXT NOT NULL,"
            " vector BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO embeddings VALUES (?, 'a', ?)", (MODEL, _unit(1).tobytes()))
    conn.close()
    cache = EmbeddingCache(path)
    assert cache.get(MODEL, ["a"], 384) == {}
    cache.close()
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    conn.close()
    assert "embeddings" not in tables and "vectors" in tables


def test_fresh_vectors_equal_cached_ones_exactly(tmp_path: Path, embedder: Any) -> None:
    texts = ["Kennedy spoke in Berlin.", "The Fed held rates.", "Kennedy spoke in Berlin."]
    passages = [
        Passage(doc_id=f"d{i}", ordinal=0, text=t, start=0, end=len(t)) for i, t in enumerate(texts)
    ]
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    quiet = _Progress(False, None)
    fresh, embedded, hashes = _embed(passages, embedder, cache, quiet)
    cached, again, _ = _embed(passages, embedder, cache, quiet)
    cache.close()
    assert (embedded, again) == (2, 0)
    assert hashes == [text_hash(t) for t in texts]  # what a sweep keeps
    assert fresh.dtype == np.float32 and np.array_equal(fresh, cached)
    assert np.array_equal(fresh, as_cached(embedder.encode(texts)))


def test_a_sweep_drops_the_oldest_unused_vectors_past_twice_the_used_ones(tmp_path: Path) -> None:
    from coverage_search.build import embedding_cache

    vectors = _unit(40, seed=9)
    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    for i in range(40):  # one at a time: h0 is the oldest
        cache.put(MODEL, [(f"h{i}", vectors[i])])
    slack = embedding_cache.SWEEP_SLACK
    try:
        embedding_cache.SWEEP_SLACK = 0
        assert cache.sweep(MODEL, [f"h{i}" for i in range(14)]) == 0  # 26 unused ≤ 2 × 14
        assert cache.sweep(MODEL, []) == 0  # an empty build never sweeps
        used = [f"h{i}" for i in range(30, 40)]
        assert cache.sweep(MODEL, used, keep_at_least=100) == 0  # the build before was larger
        assert cache.sweep(MODEL, used) == 10  # 30 unused, 20 allowed: the 10 oldest go
        assert sorted(cache.get(MODEL, [f"h{i}" for i in range(40)], 384)) == sorted(
            f"h{i}" for i in range(10, 40)
        )
        assert cache.sweep("other-model", ["x"]) == 28  # none of its vectors: 2 are allowed
    finally:
        embedding_cache.SWEEP_SLACK = slack
    found = cache.get(MODEL, [f"h{i}" for i in range(40)], 384)
    assert sorted(found) == ["h38", "h39"]  # the newest
    assert np.array_equal(found["h39"], as_cached(vectors[39]))
    cache.put(MODEL, [("new", vectors[3])])  # the freed rows' ids do not clash
    assert np.array_equal(cache.get(MODEL, ["new"], 384)["new"], as_cached(vectors[3]))
    assert np.array_equal(cache.get(MODEL, ["h38"], 384)["h38"], as_cached(vectors[38]))
    cache.close()


def test_a_build_of_a_small_folder_keeps_the_vectors_of_the_build_before(
    tmp_path: Path, embedder: Any, monkeypatch: Any
) -> None:
    from coverage_search import CoverageIndex
    from coverage_search.build import embedding_cache

    monkeypatch.setattr(embedding_cache, "SWEEP_SLACK", 0)
    big, small, index = tmp_path / "big", tmp_path / "small", tmp_path / "index"
    for folder, count in ((big, 12), (small, 1)):
        folder.mkdir()
        for i in range(count):
            text = f"Story {i} of {folder.name}: the chip maker shipped {i} new parts this week."
            (folder / f"s{i}.md").write_text(f"# Story {i}\n\n{text}\n", encoding="utf-8")
    assert CoverageIndex.build(big, index, progress=False).embedded == 12
    assert CoverageIndex.build(small, index, progress=False).embedded == 1  # 12 unused are kept
    assert CoverageIndex.build(big, index, progress=False).embedded == 0
    assert CoverageIndex.build(small, index, progress=False).embedded == 0
    assert CoverageIndex.build(small, index, force=True, progress=False).embedded == 0
    # Now the build before held one passage too: the old vectors past 2 x 1 go, oldest first.
    cache = EmbeddingCache(index / "embeddings.sqlite")
    (count,) = cache._conn.execute("SELECT count(*) FROM vector_keys").fetchone()
    cache.close()
    assert count == 3


def test_a_sweep_that_fails_never_fails_the_live_build(
    tmp_path: Path, embedder: Any, monkeypatch: Any
) -> None:
    from coverage_search import CoverageIndex

    def busy(*_: Any, **__: Any) -> int:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(EmbeddingCache, "sweep", busy)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.md").write_text("# Chips\n\nThe chip maker shipped new parts this week.\n")
    report = CoverageIndex.build(corpus, tmp_path / "index", progress=False)
    assert report.embedded == 1
    index = CoverageIndex.open(tmp_path / "index")
    assert index.search("chip maker", k=1)[0].doc_id == "a.md"
    index.close()
