"""IVF cells trained and filled through numpy's matrix product.

FAISS's own k-means and cell assignment (IndexFlatIP.search for each vector's nearest centroid)
ran about a third as fast on this machine's two cores as numpy's OpenBLAS does the same
products: at a million passages, training and filling 4,000 cells took 117 s through FAISS and
36 s here (bench/bench_ivf_training.py, results/ivf_training.md). So the centroids and every
vector's cell are found here, and FAISS is handed both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Rows per matrix product: 8,192 x 4,000 cells of float32 scores is 131 MB at a time.
BLOCK = 8192


def nearest(data: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's cell: the centroid of highest inner product (int64, as FAISS takes it)."""
    cells = np.empty(len(data), dtype=np.int64)
    for start in range(0, len(data), BLOCK):
        scores = data[start : start + BLOCK] @ centroids.T
        cells[start : start + BLOCK] = scores.argmax(axis=1)
    return cells


def kmeans(sample: np.ndarray, lists: int, rounds: int, seed: int = 0) -> np.ndarray:
    """Spherical k-means: `lists` unit centroids of unit rows, started from random rows.

    Centroids are renormalized each round because cells are chosen by inner product: an
    unnormalized mean is shorter for a loose cell, which would then lose rows it should keep.
    A cell left empty restarts from a random row, as FAISS splits its empty clusters.
    """
    rng = np.random.default_rng(seed)
    n, dim = sample.shape
    centroids = np.ascontiguousarray(sample[rng.choice(n, size=lists, replace=False)])
    for _ in range(rounds):
        cells = nearest(sample, centroids)
        order = np.argsort(cells, kind="stable")
        counts = np.bincount(cells, minlength=lists)
        sums = np.zeros((lists, dim), dtype=np.float64)
        filled = counts > 0
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[filled]
        sums[filled] = np.add.reduceat(sample[order], starts, axis=0, dtype=np.float64)
        empty = np.flatnonzero(~filled)
        sums[empty] = sample[rng.choice(n, size=len(empty), replace=False)]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = np.ascontiguousarray(sums / np.maximum(norms, 1e-12), dtype=np.float32)
    return centroids


def fill(index: Any, data: np.ndarray, ids: np.ndarray, sample: np.ndarray, rounds: int) -> None:
    """Train an empty IndexIVFScalarQuantizer on `sample` and add every row of `data`."""
    import faiss

    if not (np.isfinite(data).all() and np.isfinite(sample).all()):
        # FAISS refused these itself; argmax would put them all in one cell, found by nothing.
        raise ValueError("passage vectors hold NaN or infinite values")
    centroids = kmeans(sample, int(index.nlist), rounds)
    index.quantizer.add(centroids)
    # The 8-bit ranges are trained on the sample's residuals to their cells, as FAISS does.
    cells = nearest(sample, centroids)
    index.train_encoder(len(sample), faiss.swig_ptr(sample), faiss.swig_ptr(cells))
    index.is_trained = True
    # Each array is held by a name: swig_ptr keeps no reference to the memory it points at.
    labels = np.ascontiguousarray(ids, dtype=np.int64)
    assigned = nearest(data, centroids)
    index.add_core(
        len(data), faiss.swig_ptr(data), faiss.swig_ptr(labels), faiss.swig_ptr(assigned)
    )
