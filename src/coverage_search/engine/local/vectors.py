"""FAISS: passage vectors keyed by passage id. Nothing else in the package touches FAISS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Exact search takes 15 ms at 100k passages and 100 ms at 1M (bench/results/faiss_real.md, real
# MiniLM vectors); above FLAT_MAX, HNSW. efSearch 128 reached only 0.949 recall@10 at 1M, 256
# reaches 0.983 (p50 0.8 ms), so 256.
FLAT_MAX = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256


def _faiss() -> Any:
    import faiss

    return faiss


def choose_kind(count: int) -> str:
    """The index type for a corpus of `count` passages."""
    return "flat" if count <= FLAT_MAX else "hnsw"


class VectorIndex:
    """Inner-product search over unit vectors (= cosine), ids are passage ids."""

    def __init__(self, index: Any, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def create(
        cls, ids: np.ndarray, vectors: np.ndarray, *, kind: str | None = None
    ) -> VectorIndex:
        """A new index over `vectors` (rows are unit length), with `ids` as their labels."""
        faiss = _faiss()
        dim = int(vectors.shape[1])
        kind = kind or choose_kind(len(ids))
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            base.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown vector index kind {kind!r}")
        index = faiss.IndexIDMap2(base)
        if len(ids):
            index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64)
            )
        return cls(index, kind)

    @classmethod
    def load(cls, path: Path, *, kind: str) -> VectorIndex:
        return cls(_faiss().read_index(str(path)), kind)

    @classmethod
    def from_bytes(cls, data: bytes, *, kind: str) -> VectorIndex:
        """An index from the bytes of a saved one (read and checked once by the caller)."""
        return cls(_faiss().deserialize_index(np.frombuffer(data, dtype=np.uint8)), kind)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(
        self, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest passage ids with cosine scores, only among `allowed` ids when given."""
        if self.size == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        faiss = _faiss()
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.size if allowed is None else len(allowed))
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if self.kind == "hnsw":
                # A selective filter starves HNSW's beam; widen it so filtered results stay whole.
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=max(HNSW_EF_SEARCH, 4 * k)
                )
            else:
                params = faiss.SearchParameters(sel=selector)
        elif self.kind == "hnsw" and k > HNSW_EF_SEARCH:
            params = faiss.SearchParametersHNSW(efSearch=2 * k)
        # One query on one thread: OpenMP's two threads spin-wait on each other, and on a busy
        # 2-core machine a 100k Flat search took 121 ms on two threads against 27 ms on one.
        # The setting is per calling thread in OpenMP, so builds elsewhere keep both cores.
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            scores, labels = self._index.search(q, k, params=params)
        finally:
            faiss.omp_set_num_threads(before)
        return [(int(i), float(s)) for i, s in zip(labels[0], scores[0], strict=True) if i >= 0]
