"""IVF training at 1M vectors: time and recall@10 of ivf_sq8 by training sample and rounds.

    .venv/bin/python bench/bench_ivf_training.py [--size 1000000] [--variants faiss-32:5 32:5]

Data as bench_faiss.py --data real (eval passage vectors from the bench embedding caches, each
with jittered copies up to the size; SciFact claims as queries). Each variant is
"<training vectors per cell>:<k-means rounds>", built through the engine's VectorIndex.create
with those settings (k-means and cell assignment through numpy's matrix product,
engine/local/ivf.py); "faiss-" before it trains and adds through FAISS's own k-means and
assignment instead, as the engine did before. Recall@10 is against exact search, searches one
at a time on one thread (nprobe as the engine sets it). Writes bench/results/ivf_training.json/.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import bench_faiss
import numpy as np
from bench_vector_kinds import exact
from machine import REPO, heading, load1, print_machine, save, table


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--variants", nargs="+", default=["faiss-32:5", "32:5", "faiss-64:10"])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    import faiss

    from coverage_search.engine.local import vectors

    info = print_machine()
    rng = np.random.default_rng(7)
    bench_faiss.REAL = bench_faiss.real_vectors(args.queries)
    xb = bench_faiss.synthetic(args.size, "real", rng)
    xq = bench_faiss.REAL[1]
    ids = np.arange(args.size, dtype=np.int64)
    truth = exact(xb, xq, 10)
    rows: list[dict[str, Any]] = []
    for variant in args.variants:
        trainer = "faiss" if variant.startswith("faiss-") else "numpy"
        per_list, rounds = (int(v) for v in variant.removeprefix("faiss-").split(":"))
        vectors.IVF_TRAIN_PER_LIST, vectors.IVF_TRAIN_ITERATIONS = per_list, rounds
        load = load1()
        start = time.perf_counter()
        if trainer == "faiss":
            index = vectors.VectorIndex(faiss_trained(faiss, xb, ids, per_list, rounds), "ivf_sq8")
        else:
            index = vectors.VectorIndex.create(ids, xb, kind="ivf_sq8")
        seconds = time.perf_counter() - start
        faiss.omp_set_num_threads(1)
        found, times = [], []
        for q in xq:
            t = time.perf_counter()
            found.append([i for i, _ in index.search(q, 10)])
            times.append((time.perf_counter() - t) * 1000)
        faiss.omp_set_num_threads(2)
        shared = [len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]
        recall = float(np.mean(shared))
        rows.append(
            {
                "trainer": trainer,
                "per_list": per_list,
                "rounds": rounds,
                "train_and_add_s": round(seconds, 1),
                "load": [load, load1()],
                "recall_at_10": round(recall, 4),
                "p50_ms": round(float(np.percentile(times, 50)), 2),
            }
        )
        print(rows[-1], flush=True)
        del index
    title = (
        f"IVF training at {args.size:,} vectors (ivf_sq8, {vectors.ivf_lists(args.size)} cells, "
        f"nprobe {vectors.IVF_NPROBE})"
    )
    md = heading(title, info, f"{info['load_1min_at_start']} at start", __doc__) + table(
        [
            "k-means and assignment",
            "vectors a cell",
            "k-means rounds",
            "train + add s (load)",
            "recall@10",
            "p50 ms",
        ],
        [
            [
                r.get("trainer", "faiss"),
                r["per_list"],
                r["rounds"],
                f"{r['train_and_add_s']:.0f} ({r['load'][0]}-{r['load'][1]})",
                f"{r['recall_at_10']:.3f}",
                f"{r['p50_ms']:.2f}",
            ]
            for r in rows
        ],
    )
    save("ivf_training", {"size": args.size, "rows": rows}, md)


def faiss_trained(faiss: Any, xb: np.ndarray, ids: np.ndarray, per_list: int, rounds: int) -> Any:
    """ivf_sq8 trained and filled by FAISS itself (the engine's code before engine/local/ivf.py)."""
    from coverage_search.engine.local import vectors

    lists = vectors.ivf_lists(len(ids))
    index = faiss.IndexIVFScalarQuantizer(
        faiss.IndexFlatIP(xb.shape[1]),
        xb.shape[1],
        lists,
        faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT,
    )
    index.nprobe = min(vectors.IVF_NPROBE, lists)
    index.cp.niter = rounds
    index.cp.min_points_per_centroid = per_list
    sample = np.random.default_rng(0).permutation(len(ids))[: per_list * lists]
    index.train(xb[np.sort(sample)])
    index.add_with_ids(xb, ids)
    return index


if __name__ == "__main__":
    main()
