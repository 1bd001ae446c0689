"""The engine's vector index kinds (float and 8-bit) on real MiniLM vectors: recall, speed, memory.

    .venv/bin/python bench/bench_vector_kinds.py [--sizes 100000] [--kinds flat_sq8 ivf_sq8]

Data as bench_faiss.py --data real (eval passage vectors from the bench embedding caches, with
jittered copies up to the size; SciFact claims as queries). Each kind is built through
VectorIndex, as a build does, and searched one query at a time for k=100; recall is against
exact float search, unfiltered and with a filter that allows 2% of the passages. Memory is the
growth of this process's RSS while the index is built (trustworthy for the first kind of a run
only: later ones reuse freed memory) and the size of the saved index.
Results: bench/results/vector_kinds*.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench_faiss
import numpy as np
from bench_faiss import recall, synthetic
from machine import REPO, print_machine, rss_mib, save, table

K = 100


def exact(xb: np.ndarray, xq: np.ndarray, k: int) -> np.ndarray:
    """Row indices of the true k nearest (inner product), in 10k-row slabs of the base."""
    scores = np.concatenate([xq @ xb[lo : lo + 10_000].T for lo in range(0, len(xb), 10_000)], 1)
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.take_along_axis(scores, top, 1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--kinds", nargs="+", default=["flat", "flat_sq8", "hnsw_sq8", "ivf_sq8"])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", help="suffix of the results file (vector_kinds_<out>)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.engine.local.vectors import VectorIndex

    info = print_machine()
    rng = np.random.default_rng(7)
    bench_faiss.REAL = bench_faiss.real_vectors(args.queries)
    seeds, xq = bench_faiss.REAL
    print(f"{len(seeds)} real passage vectors, {len(xq)} real query vectors", flush=True)
    rows: list[dict[str, Any]] = []
    for n in args.sizes:
        xb = synthetic(n, "real", rng)
        ids = np.arange(n, dtype=np.int64)
        truth = exact(xb, xq, K)
        allowed = np.sort(rng.permutation(n)[: max(n // 50, K)])
        truth_filtered = allowed[exact(xb[allowed], xq, 10)]
        for kind in args.kinds:
            gc.collect()
            before = rss_mib()
            start = time.perf_counter()
            index = VectorIndex.create(ids, xb, kind=kind)
            build = time.perf_counter() - start
            grown = rss_mib() - before
            with tempfile.TemporaryDirectory(prefix="bench-kinds-") as scratch:
                index.save(Path(scratch) / "v.faiss")  # stable where RSS growth is not
                file_mib = (Path(scratch) / "v.faiss").stat().st_size / 2**20
            labels = np.full((len(xq), K), -1, dtype=np.int64)
            filtered = np.full((len(xq), 10), -1, dtype=np.int64)
            times, filtered_times = [], []
            for i, q in enumerate(xq):
                t = time.perf_counter()
                hits = index.search(q, K)
                times.append((time.perf_counter() - t) * 1000)
                labels[i, : len(hits)] = [pid for pid, _ in hits]
                t = time.perf_counter()
                hits = index.search(q, 10, allowed=allowed)
                filtered_times.append((time.perf_counter() - t) * 1000)
                filtered[i, : len(hits)] = [pid for pid, _ in hits]
            load = os.getloadavg()[0]
            row = {
                "passages": n,
                "kind": kind,
                "build_s": build,
                "recall_at_10": recall(labels, truth, 10),
                "recall_at_100": recall(labels, truth, 100),
                "filtered_recall_at_10": recall(filtered, truth_filtered, 10),
                "p50_ms": float(np.percentile(times, 50)),
                "p95_ms": float(np.percentile(times, 95)),
                "filtered_p50_ms": float(np.percentile(filtered_times, 50)),
                "rss_mib": grown,
                "rss_mib_per_million": grown * 1e6 / n,
                "file_mib_per_million": file_mib * 1e6 / n,
                "load_1min": round(load, 2),
            }
            rows.append(row)
            print(
                f"{n:>8} {kind:>9}: recall@10 {row['recall_at_10']:.4f} @100 "
                f"{row['recall_at_100']:.4f}, filtered@10 {row['filtered_recall_at_10']:.4f}, "
                f"p50 {row['p50_ms']:.2f} ms p95 {row['p95_ms']:.2f} ms, filtered p50 "
                f"{row['filtered_p50_ms']:.2f} ms, build {build:.0f} s, "
                f"RSS +{grown:.0f} MiB ({row['rss_mib_per_million']:.0f} MiB per million, file "
                f"{row['file_mib_per_million']:.0f}), "
                f"load {load:.2f}",
                flush=True,
            )
            del index
    headers = ["passages", "kind", "build s", "recall@10", "recall@100", "filtered recall@10"]
    headers += ["p50 ms", "p95 ms", "filtered p50 ms", "RSS MiB", "RSS MiB/M", "file MiB/M", "load"]
    keys = ["passages", "kind", "build_s", "recall_at_10", "recall_at_100"]
    keys += ["filtered_recall_at_10", "p50_ms", "p95_ms", "filtered_p50_ms"]
    keys += ["rss_mib", "rss_mib_per_million", "file_mib_per_million"]
    md = table(headers, [[r[k] for k in keys] + [r["load_1min"]] for r in rows])
    header = (
        f"# Vector index kinds on real MiniLM vectors (k={K}, {len(xq)} SciFact claims one at a "
        "time, 1 search thread; filtered: 2% of passages allowed)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, 1-min load "
        f"{info['load_1min_at_start']} at start; the load column is at the end of each row.\n\n"
    )
    name = "vector_kinds" if args.out is None else f"vector_kinds_{args.out}"
    save(name, {"rows": rows}, header + md)


if __name__ == "__main__":
    main()
