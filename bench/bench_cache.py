"""Embedding cache on disk: bytes per vector, write and read speed, and the 8-bit rounding error.

    .venv/bin/python bench/bench_cache.py [--vectors 100000]

Unit vectors of 384 dimensions (all-MiniLM-L6-v2's), written in the build's batches of 64 into
a fresh cache, then 10k of them read back by key in random order. The rounding error compares
cosines of 8-bit vectors (a scale and a byte a dimension) with the float32 ones.
Results: bench/results/cache.json/.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import REPO, print_machine, save, table

DIM = 384


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.build.embedding_cache import PAGE_SIZE, EmbeddingCache, as_cached

    info = print_machine()
    n = args.vectors
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    hashes = [f"{i:032x}" for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as scratch:
        path = Path(scratch) / "embeddings.sqlite"
        cache = EmbeddingCache(path)
        start = time.perf_counter()
        for lo in range(0, n, 64):
            cache.put("bench", list(zip(hashes[lo : lo + 64], vectors[lo : lo + 64], strict=True)))
        write_s = time.perf_counter() - start
        cache.close()
        size = path.stat().st_size
        cache = EmbeddingCache(path)
        picks = [hashes[i] for i in rng.permutation(n)[:10_000]]
        start = time.perf_counter()
        found = cache.get("bench", picks, DIM)
        read_s = time.perf_counter() - start
        cache.close()
    assert len(found) == len(picks)
    exact = vectors[:2000] @ vectors[2000:4000].T
    rounded = as_cached(vectors[:2000]) @ as_cached(vectors[2000:4000]).T
    error = float(np.abs(exact - rounded).max())
    load = os.getloadavg()[0]
    result = {
        "vectors": n,
        "page_size": PAGE_SIZE,
        "file_bytes": size,
        "bytes_per_vector": size / n,
        "float32_format_bytes_per_vector": 4700,  # the WITHOUT ROWID float32 table it replaces
        "write_s": write_s,
        "read_10k_s": read_s,
        "max_cosine_error": error,
        "load_1min_at_end": round(load, 2),
    }
    print(
        f"{n} vectors: {size / n:.1f} bytes a vector on disk ({size / 2**20:.1f} MiB), "
        f"written in {write_s:.1f} s, 10k read by key in {read_s:.2f} s, "
        f"max cosine error of 8-bit codes {error:.2e}, load {load:.2f}",
        flush=True,
    )
    md = table(
        ["vectors", "page size", "bytes/vector", "MiB", "write s", "read 10k s", "max cos error"],
        [
            [
                n,
                PAGE_SIZE,
                round(size / n, 1),
                round(size / 2**20, 1),
                round(write_s, 1),
                round(read_s, 2),
                f"{error:.1e}",
            ]
        ],
    )
    header = (
        "# Embedding cache on disk (8-bit rows with a scale, appended by id, 64-bit key table)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, "
        f"1-min load {info['load_1min_at_start']} at start, {load:.2f} at end. float16 rows "
        "took 799 bytes a vector (commit 4e56e7a); the float32 "
        "WITHOUT ROWID format it replaces took ~4.7 KB a vector (its 1.5 KB rows overflowed).\n\n"
    )
    save("cache", {"rows": [result]}, header + md)


if __name__ == "__main__":
    main()
