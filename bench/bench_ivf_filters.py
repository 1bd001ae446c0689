"""IVF under a filter: how many cells to probe for the share a filter allows (recall, speed).

    .venv/bin/python bench/bench_ivf_filters.py [--size 1000000] [--exponents 1 0.75 0.5]

Data as bench_vector_kinds.py (real MiniLM passage vectors with jittered copies up to the
size; SciFact claims as queries), one `ivf_sq8` index built through VectorIndex as a build
builds it. A filter allowing a share s of the passages probes nprobe * (1/s)**exponent cells
(vectors.IVF_FILTER_EXPONENT; 1 probes in proportion, so as many allowed vectors are seen as
without a filter). Two kinds of filter: `random` (an outlet or year that covers every topic
alike) and `topical` (the passages closest to 20 random real passages: an outlet with a beat,
whose allowed vectors sit in a few regions, far from many queries). Recall is against exact
float search over the allowed vectors, k=10 and k=100 (hybrid search asks the dense side for
its pool); the exponents alternate query by query so load hits them alike.
Results: bench/results/ivf_filters.json/.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import bench_faiss
import numpy as np
from bench_faiss import recall, synthetic
from bench_vector_kinds import exact
from machine import REPO, heading, load1, print_machine, save, table

K = 100


def topical(
    xb: np.ndarray, seeds: np.ndarray, share: float, rng: np.random.Generator
) -> np.ndarray:
    anchors = seeds[rng.choice(len(seeds), 20, replace=False)]
    near = np.concatenate(
        [(xb[lo : lo + 100_000] @ anchors.T).max(1) for lo in range(0, len(xb), 100_000)]
    )
    keep = max(int(len(xb) * share), K)
    return np.sort(np.argpartition(-near, keep)[:keep])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--shares", type=float, nargs="+", default=[0.005, 0.02, 0.05, 0.15, 0.5])
    parser.add_argument("--exponents", type=float, nargs="+", default=[1.0, 0.75, 0.5])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.engine.local import vectors
    from coverage_search.engine.local.vectors import VectorIndex

    info = print_machine()
    load_start = load1()
    rng = np.random.default_rng(11)
    bench_faiss.REAL = bench_faiss.real_vectors(args.queries)
    seeds, xq = bench_faiss.REAL
    n = args.size
    xb = synthetic(n, "real", rng)
    start = time.perf_counter()
    index = VectorIndex.create(np.arange(n, dtype=np.int64), xb, kind="ivf_sq8")
    print(f"built ivf_sq8 over {n:,} vectors in {time.perf_counter() - start:.0f} s", flush=True)
    rows: list[dict[str, Any]] = []
    for kind in ("random", "topical"):
        for share in args.shares:
            if kind == "random":
                allowed = np.sort(rng.permutation(n)[: max(int(n * share), K)])
            else:
                allowed = topical(xb, seeds, share, rng)
            truth = allowed[exact(xb[allowed], xq, K)]
            found = {e: np.full((len(xq), K), -1, dtype=np.int64) for e in args.exponents}
            times: dict[float, list[float]] = {e: [] for e in args.exponents}
            for i, q in enumerate(xq):
                turn = (
                    args.exponents[i % len(args.exponents) :]
                    + args.exponents[: i % len(args.exponents)]
                )
                for e in turn:
                    vectors.IVF_FILTER_EXPONENT = e
                    t = time.perf_counter()
                    hits = index.search(q, K, allowed=allowed)
                    times[e].append((time.perf_counter() - t) * 1000)
                    found[e][i, : len(hits)] = [pid for pid, _ in hits]
            for e in args.exponents:
                widen = (n / len(allowed)) ** e
                row = {
                    "filter": kind,
                    "share": share,
                    "exponent": e,
                    "probes": min(
                        int(index._index.nlist), int(np.ceil(vectors.IVF_NPROBE * widen))
                    ),
                    "recall_at_10": recall(found[e], truth, 10),
                    "recall_at_100": recall(found[e], truth, 100),
                    "p50_ms": float(np.percentile(times[e], 50)),
                    "p95_ms": float(np.percentile(times[e], 95)),
                    "load_1min": round(os.getloadavg()[0], 2),
                }
                print(row, flush=True)
                rows.append(row)
    md = heading(
        f"IVF under a filter: cells probed against recall ({n:,} vectors, k={K})",
        info,
        f"{load_start}-{load1()}",
        __doc__,
    ) + table(
        [
            "filter",
            "share allowed",
            "exponent",
            "cells probed",
            "recall@10",
            "recall@100",
            "p50 ms",
            "p95 ms",
        ],
        [
            [
                r["filter"],
                r["share"],
                r["exponent"],
                r["probes"],
                f"{r['recall_at_10']:.4f}",
                f"{r['recall_at_100']:.4f}",
                f"{r['p50_ms']:.2f}",
                f"{r['p95_ms']:.2f}",
            ]
            for r in rows
        ],
    )
    save("ivf_filters", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
