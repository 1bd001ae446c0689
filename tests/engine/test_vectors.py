"""FAISS wrapper: both index kinds return the true neighbours, and filters keep to allowed ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverage_search.engine.local.vectors import VectorIndex, choose_kind


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_nearest_neighbours_and_filters(kind: str, tmp_path: Path) -> None:
    vectors = _unit(2000)
    ids = np.arange(10, 2010, dtype=np.int64)
    index = VectorIndex.create(ids, vectors, kind=kind)
    index.save(tmp_path / "v.faiss")
    index = VectorIndex.load(tmp_path / "v.faiss", kind=kind)
    top = index.search(vectors[7], 5)
    assert top[0][0] == 17 and top[0][1] == pytest.approx(1.0, abs=1e-5)
    allowed = np.array([11, 500, 1999], dtype=np.int64)
    filtered = index.search(vectors[7], 5, allowed=allowed)
    assert {pid for pid, _ in filtered} == {11, 500, 1999}
    assert index.search(vectors[7], 5, allowed=np.array([], dtype=np.int64)) == []


def test_kind_follows_size() -> None:
    assert choose_kind(10_000) == "flat"
    assert choose_kind(5_000_000) == "hnsw"
