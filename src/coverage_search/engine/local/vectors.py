"""FAISS: passage vectors keyed by passage id. Nothing else in the package touches FAISS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.local import ivf

# Exact search takes 15 ms at 100k passages and 100 ms at 1M (bench/results/faiss_real.md, real
# MiniLM vectors). 8-bit codes (a byte a dimension, each dimension's range trained on the
# vectors) keep recall@10 0.996 at 100k in a quarter of the memory and search three times faster
# (bench/results/vector_kinds.md); under FLOAT_MAX float vectors cost little and stay exact.
# Exact search over the codes still grows with the corpus: 2.1 ms p50 at 50k and 6.1 ms at 100k
# (k=100, load 3-4) where HNSW over the same codes took 0.9 and 1.0 ms at recall@10 0.988, for
# 24 s of graph building at 100k, and 1.1 ms under a filter allowing 2% (IVF needed 45 s of
# training; bench/results/vector_kinds_ivf_vs_flat.md). So codes are searched exactly up to
# SQ8_EXACT_MAX, through HNSW up to GRAPH_MAX.
# Above GRAPH_MAX, IVF over 8-bit codes (~290 MiB per million vectors, where HNSW's links add
# 256 bytes a vector): nprobe 64 gave recall@10 0.964-0.979 at 100k and 0.985 at 1M, nprobe 128
# 0.988 and 0.989 (faiss_real.md) at 1.8 ms p50 at 1M, so 128. A filter widens the probe
# (IVF_FILTER_EXPONENT below).
FLOAT_MAX = 20_000
SQ8_EXACT_MAX = 50_000
GRAPH_MAX = 200_000
IVF_NPROBE = 128
# IVF training: k-means on a sample of IVF_TRAIN_PER_LIST vectors a cell for
# IVF_TRAIN_ITERATIONS rounds. At 1M (4,000 cells) FAISS's default, 64 vectors and 10 rounds,
# trained and added in 217 s at recall@10 0.990; 32 and 5 in 142 s at 0.996; 16 and 10 in 127 s
# at 0.986 (bench/bench_ivf_training.py, results/ivf_training.md of commit 9e72859, load 0.5-2).
# IVF was a third of a 1M build's wall time, so 32 and 5. Trained and filled through numpy's
# matrix product (ivf.py), the same 32 and 5 take 36 s against FAISS's 117 s, recall@10 0.987
# against 0.991 (results/ivf_training.md, one run, load 0.4-2.1; 32 and 10: 50 s at 0.988).
IVF_TRAIN_PER_LIST = 32
IVF_TRAIN_ITERATIONS = 5
# HNSW: builds from before the 8-bit kinds. efSearch 128 reached only 0.949 recall@10 at 1M, 256
# reaches 0.983 (p50 0.8 ms), so 256.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256
# With a filter, HNSW's beam meets few allowed vectors: efSearch 256 gave recall@10 0.88 with 2%
# of 100k allowed, and widening it 50-fold 0.99 at 237 ms. Up to HNSW_SCAN_MAX allowed vectors
# are decoded by id and scored exactly instead; above, efSearch grows with the filter, capped.
HNSW_SCAN_MAX = 20_000
BITMAP_SPREAD = 1024  # ids up to this many times their count: a filter's bitmap
HNSW_EF_FILTERED_MAX = 1024
# A filter allowing a share s of the passages probes nprobe * (1/s)**IVF_FILTER_EXPONENT cells.
# Probing in proportion (exponent 1) sees as many allowed vectors as an unfiltered search, more
# than the nearest allowed ones need: at 1M, for filters allowing 0.5-50% (random or topical),
# 0.75 kept recall@10 the same in all ten cases and recall@100 within 0.001, in 27-49% less
# time for 2-15% allowed (2%: 50 -> 34 ms p50); 0.5 lost up to 0.007 recall@10
# (bench/bench_ivf_filters.py, results/ivf_filters.md).
IVF_FILTER_EXPONENT = 0.75
KINDS = ("flat", "hnsw", "flat_sq8", "hnsw_sq8", "ivf_sq8")


def _faiss() -> Any:
    import faiss

    return faiss


def choose_kind(count: int) -> str:
    """The index type for a corpus of `count` passages."""
    if count <= FLOAT_MAX:
        return "flat"
    if count <= SQ8_EXACT_MAX:
        return "flat_sq8"
    return "hnsw_sq8" if count <= GRAPH_MAX else "ivf_sq8"


def ivf_lists(count: int) -> int:
    """IVF cells: ~4 sqrt(n), with at least 39 training vectors a cell as FAISS asks."""
    return max(1, min(int(4 * np.sqrt(count)), count // 39))


class VectorIndex:
    """Inner-product search over unit vectors (= cosine), ids are passage ids."""

    def __init__(self, index: Any, kind: str) -> None:
        self._index = index
        self.kind = kind
        self._codes: tuple[Any, np.ndarray, np.ndarray] | None = None  # hnsw_sq8: see _decode

    @classmethod
    def create(
        cls, ids: np.ndarray, vectors: np.ndarray, *, kind: str | None = None
    ) -> VectorIndex:
        """A new index over `vectors` (rows are unit length), with `ids` as their labels."""
        faiss = _faiss()
        dim = int(vectors.shape[1])
        kind = kind or choose_kind(len(ids))
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        ip = faiss.METRIC_INNER_PRODUCT
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind == "flat_sq8":
            base = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, ip)
        elif kind in ("hnsw", "hnsw_sq8"):
            if kind == "hnsw":
                base = faiss.IndexHNSWFlat(dim, HNSW_M, ip)
            else:
                base = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, ip)
            base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            base.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "ivf_sq8":  # ids live in the inverted lists: no id map needed
            lists = ivf_lists(len(ids))
            index = faiss.IndexIVFScalarQuantizer(
                faiss.IndexFlatIP(dim), dim, lists, faiss.ScalarQuantizer.QT_8bit, ip
            )
            index.nprobe = min(IVF_NPROBE, lists)
            if len(ids):
                picks = IVF_TRAIN_PER_LIST * lists
                sample = np.random.default_rng(0).permutation(len(ids))[:picks]
                ivf.fill(index, data, ids, data[np.sort(sample)], IVF_TRAIN_ITERATIONS)
            return cls(index, kind)
        else:
            raise ValueError(f"unknown vector index kind {kind!r}")
        index = faiss.IndexIDMap2(base)
        if len(ids):
            if not base.is_trained:  # SQ8: each dimension's range, from the vectors themselves
                base.train(data)
            index.add_with_ids(data, ids.astype(np.int64))
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
        # One query on one thread: OpenMP's two threads spin-wait on each other, and on a busy
        # 2-core machine a 100k Flat search took 121 ms on two threads against 27 ms on one
        # (decoding 2,000 filtered vectors: 8.1 ms against 3.8). The setting is per calling
        # thread in OpenMP, so builds elsewhere keep both cores.
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._search(faiss, q, k, allowed)
        finally:
            faiss.omp_set_num_threads(before)

    def _search(
        self, faiss: Any, q: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        params = None
        hnsw = self.kind in ("hnsw", "hnsw_sq8")
        if allowed is not None and hnsw and len(allowed) <= HNSW_SCAN_MAX:
            try:
                return self._scan(q[0], k, allowed)
            except RuntimeError:  # an id the index lacks: the selector below skips it
                pass
        bitmap = None  # held here: the selector keeps only a pointer to it
        if allowed is not None:
            bitmap, selector = _selector(faiss, np.ascontiguousarray(allowed, dtype=np.int64))
            if hnsw:
                # A selective filter starves HNSW's beam: widen it with the filter, up to a cap.
                wide = int(np.ceil(HNSW_EF_SEARCH * self.size / len(allowed)))
                params = faiss.SearchParametersHNSW(
                    sel=selector, efSearch=max(4 * k, min(wide, HNSW_EF_FILTERED_MAX))
                )
            elif self.kind == "ivf_sq8":
                # Probe more cells the fewer vectors a filter allows, so the nearest allowed ones
                # are still reached (a selective filter scans every cell: exact over the codes).
                lists = int(self._index.nlist)
                widen = (self.size / len(allowed)) ** IVF_FILTER_EXPONENT
                probes = int(np.ceil(self._index.nprobe * widen))
                params = faiss.SearchParametersIVF(sel=selector, nprobe=min(lists, probes))
            else:
                params = faiss.SearchParameters(sel=selector)
        elif hnsw and k > HNSW_EF_SEARCH:
            params = faiss.SearchParametersHNSW(efSearch=2 * k)
        scores, labels = self._index.search(q, k, params=params)
        del bitmap
        return [(int(i), float(s)) for i, s in zip(labels[0], scores[0], strict=True) if i >= 0]

    def _scan(self, query: np.ndarray, k: int, allowed: np.ndarray) -> list[tuple[int, float]]:
        """Exact scores of a few allowed vectors, decoded from the index by id."""
        ids = np.ascontiguousarray(allowed, dtype=np.int64)
        # einsum, not BLAS: OpenBLAS's two threads spin-wait on each other on a busy 2-core
        # machine, as OpenMP's do (a 2,000-row product took several ms through matmul).
        scores = np.einsum("ij,j->i", self._decode(ids), query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _decode(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of `ids` (RuntimeError for an id the index lacks).

        HNSW over 8-bit codes keeps its codes in one array in id order: they are decoded in
        bulk. With 2% of 100k allowed a filtered search took 14.6 ms p50 through one reconstruct
        call a vector and takes 1.1 ms so (bench_vector_kinds.py, the two runs of
        results/vector_kinds_ivf_vs_flat.md in git history)."""
        if self.kind != "hnsw_sq8":
            return np.asarray(self._index.reconstruct_batch(ids))
        faiss = _faiss()
        if self._codes is None:
            storage = faiss.downcast_index(faiss.downcast_index(self._index.index).storage)
            n, size = int(storage.ntotal), int(storage.code_size)
            labels = faiss.rev_swig_ptr(self._index.id_map.data(), n)
            codes = faiss.rev_swig_ptr(storage.codes.data(), n * size).reshape(n, size)
            if n > 1 and not bool(np.all(labels[1:] > labels[:-1])):
                return np.asarray(self._index.reconstruct_batch(ids))
            self._codes = (storage, labels, codes)  # views into the index's own memory
        storage, labels, codes = self._codes
        pos = np.searchsorted(labels, ids)
        if len(ids) and (int(pos.max()) >= len(labels) or not np.array_equal(labels[pos], ids)):
            raise RuntimeError("an allowed id is not in the index")
        return np.asarray(storage.sa_decode(np.ascontiguousarray(codes[pos])))


def _selector(faiss: Any, allowed: np.ndarray) -> tuple[np.ndarray | None, Any]:
    """FAISS's filter for `allowed` ids: a bitmap when the ids are dense enough, else a set.

    A bitmap answers each vector IVF scans with one bit where the set hashes its id, and a
    filter allowing many passages makes IVF scan most cells (with store.allowed_passages:
    README's Speed, bench/bench_search_ab.py). Passage ids are 1..n, so the bitmap is n/8
    bytes; ids far sparser than that keep the set.
    """
    top = int(allowed.max()) if len(allowed) else -1
    if len(allowed) == 0 or int(allowed.min()) < 0 or top >= BITMAP_SPREAD * len(allowed):
        return None, faiss.IDSelectorBatch(allowed)
    bits = np.zeros(top + 1, dtype=bool)
    bits[allowed] = True
    bitmap = np.packbits(bits, bitorder="little")  # id i is bit i % 8 of byte i // 8
    return bitmap, faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
