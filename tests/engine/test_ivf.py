"""IVF cells found through numpy: the nearest centroid, k-means, and a filled FAISS index."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from coverage_search.engine.local import ivf


def _unit(rows: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, 64)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_nearest_is_the_highest_inner_product_across_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ivf, "BLOCK", 7)  # several blocks and a short last one
    data, centroids = _unit(50), _unit(9, seed=1)
    cells = ivf.nearest(data, centroids)
    assert cells.dtype == np.int64
    assert np.array_equal(cells, np.argmax(data @ centroids.T, axis=1))


def test_kmeans_finds_separated_clusters_with_unit_centroids() -> None:
    rng = np.random.default_rng(2)
    centres = _unit(4, seed=3)
    rows = centres[rng.integers(0, 4, 400)] + 0.05 * rng.normal(size=(400, 64))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    found = ivf.kmeans(rows, 4, rounds=10)
    assert found.shape == (4, 64) and found.dtype == np.float32
    assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)
    # Each true centre has a centroid almost on it.
    assert float((centres @ found.T).max(axis=1).min()) > 0.99


def test_kmeans_restarts_an_empty_cell_from_a_row() -> None:
    rows = np.repeat(_unit(2, seed=5), 30, axis=0)  # two distinct rows: most cells go empty
    found = ivf.kmeans(rows, 6, rounds=3)
    assert np.isfinite(found).all()
    assert np.allclose(np.linalg.norm(found, axis=1), 1.0, atol=1e-5)


def test_fill_builds_an_index_that_finds_every_row_with_its_id() -> None:
    data = _unit(3000, seed=6)
    ids = np.arange(100, 3100, dtype=np.int64)
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(64), 64, 20, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    ivf.fill(index, data, ids, np.ascontiguousarray(data[:800]), rounds=4)
    assert index.is_trained and index.ntotal == 3000
    index.nprobe = 20  # every cell: exact over the 8-bit codes
    scores, labels = index.search(data[[0, 1234, 2999]], 1)
    assert labels[:, 0].tolist() == [100, 1334, 3099]
    assert np.allclose(scores[:, 0], 1.0, atol=2e-2)


def test_fill_refuses_vectors_that_are_not_finite() -> None:
    data = _unit(500, seed=7)
    data[3, 0] = np.nan
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(64), 64, 4, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    with pytest.raises(ValueError, match="NaN or infinite"):
        ivf.fill(index, data, np.arange(500, dtype=np.int64), data[:200].copy(), rounds=2)
