"""FAISS index type by size: recall and latency of HNSW against exact Flat at 100k and 1M vectors.

    .venv/bin/python bench/bench_faiss.py [--sizes 100000 1000000] [--data real|clustered|uniform]

Vectors are 384-dimensional and unit length, like all-MiniLM-L6-v2's. "real" (default): the
MiniLM vectors of the eval passages (run eval_fusion.py first), each repeated with jittered
copies up to the size, queried with real SciFact claims. "clustered": synthetic topics with a
decaying variance spectrum. "uniform" (random on the sphere): the worst case for graph indexes,
unlike any text embedding. Results: bench/results/faiss_<data>.json and .md.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from machine import print_machine, save, table

DIM = 384
REAL: tuple[np.ndarray, np.ndarray] = (np.zeros((0, DIM)), np.zeros((0, DIM)))


def real_vectors(queries: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """MiniLM vectors of the eval passages (from the eval work folders' embedding caches) and
    of the SciFact claims (encoded now): the seed of the "real" data set."""
    import sqlite3
    import sys

    from machine import REPO, SHARED_EVAL, WORK

    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.build.embedding_cache import from_blob

    rows: list[np.ndarray] = []
    for cache in sorted(WORK.glob("*/index/embeddings.sqlite")):
        if cache.parts[-3].startswith("synthetic-"):  # bench_speed.py's random vectors
            continue
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as conn:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
            if "vectors" in tables:  # 8-bit or float16 rows (the cache since format 2)
                rows += [
                    v
                    for (b,) in conn.execute("SELECT vector FROM vectors")
                    if (v := from_blob(b, DIM)) is not None
                ]
            else:
                sql = "SELECT vector FROM embeddings"
                rows += [np.frombuffer(b, dtype=np.float32) for (b,) in conn.execute(sql)]
    if not rows:
        sys.exit("No cached vectors: run bench/eval_fusion.py first (it embeds the eval corpora).")
    from coverage_search.embed.embedder import get_embedder
    from coverage_search.evaluation import load_beir_folder

    claims = list(load_beir_folder(SHARED_EVAL / "scifact").queries.values())
    claim_vectors = get_embedder().encode(claims[:queries])
    return np.unique(np.stack([r for r in rows if r.shape[0] == DIM]), axis=0), claim_vectors


def synthetic(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors: random on the sphere, a topic mixture with a power-law spectrum, or real
    passage vectors each with jittered copies (cosine ~0.7-0.9 to its seed: paraphrase-like)."""
    if kind == "real":
        seeds, _ = REAL
        picks = rng.integers(0, len(seeds), n)
        noise = rng.standard_normal((n, DIM), dtype=np.float32) / np.sqrt(DIM)
        sigma = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        x = seeds[picks] + sigma * noise
        x[: min(n, len(seeds))] = seeds[: min(n, len(seeds))]  # every real vector once, as is
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x
    if kind == "uniform":
        x = rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        scale = (np.arange(1, DIM + 1, dtype=np.float32) ** -0.6)[None, :]
        topics = max(n // 200, 8)
        centers = rng.standard_normal((topics, DIM), dtype=np.float32) * scale
        x = np.empty((n, DIM), dtype=np.float32)
        step = 100_000
        for lo in range(0, n, step):
            hi = min(lo + step, n)
            which = rng.integers(0, topics, hi - lo)
            x[lo:hi] = (
                centers[which] + 0.6 * rng.standard_normal((hi - lo, DIM), dtype=np.float32) * scale
            )
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(
        np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)])
    )


def timed_search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, float, float]:
    """Labels and single-query latency p50/p95 in ms (queries one at a time, as the app asks)."""
    labels = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for i, q in enumerate(queries):
        start = time.perf_counter()
        _, lab = index.search(q[None, :], k)
        times.append((time.perf_counter() - start) * 1000)
        labels[i] = lab[0]
    return labels, float(np.percentile(times, 50)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--data", choices=["real", "clustered", "uniform"], default="real")
    parser.add_argument("--m", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ivf", nargs="*", default=["Flat", "SQ8"], help="IVF codecs to try")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument(
        "--search-threads",
        type=int,
        default=1,
        help="OpenMP threads while searching one query (1 avoids spin contention)",
    )
    args = parser.parse_args()

    import faiss

    info = print_machine()
    threads = faiss.omp_get_max_threads()
    print(
        f"faiss {faiss.__version__}, {threads} threads to build, {args.search_threads} to search, "
        f"data={args.data}",
        flush=True,
    )
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    global REAL
    if args.data == "real":
        REAL = real_vectors()
        print(f"{len(REAL[0])} real passage vectors, {len(REAL[1])} real query vectors", flush=True)
    for n in args.sizes:
        if args.data == "real":  # real claims as queries: what the index is asked in practice
            xb = synthetic(n, "real", rng)
            xq = REAL[1][rng.permutation(len(REAL[1]))[: args.queries]]
        else:
            base = synthetic(n + args.queries, args.data, rng)
            xb, xq = base[:n], base[n:]
        flat = faiss.IndexFlatIP(DIM)
        flat.add(xb)
        flat_mib = n * DIM * 4 / 2**20
        faiss.omp_set_num_threads(args.search_threads)
        truth, f50, f95 = timed_search(flat, xq, 100)
        faiss.omp_set_num_threads(threads)
        rows.append(
            {
                "passages": n,
                "index": "flat",
                "M": "-",
                "ef_construction": "-",
                "ef_search": "-",
                "build_s": 0.0,
                "recall_at_10": 1.0,
                "recall_at_100": 1.0,
                "p50_ms": f50,
                "p95_ms": f95,
                "index_mib": flat_mib,
            }
        )
        print(f"{n:>9} flat: p50 {f50:.2f} ms p95 {f95:.2f} ms, {flat_mib:.0f} MiB", flush=True)
        del flat
        for m in args.m:
            hnsw = faiss.IndexHNSWFlat(DIM, m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = args.ef_construction
            start = time.perf_counter()
            hnsw.add(xb)
            build = time.perf_counter() - start
            mib = len(faiss.serialize_index(hnsw)) / 2**20
            faiss.omp_set_num_threads(args.search_threads)
            for ef in args.ef_search:
                hnsw.hnsw.efSearch = ef
                labels, p50, p95 = timed_search(hnsw, xq, 100)
                row = {
                    "passages": n,
                    "index": "hnsw",
                    "M": m,
                    "ef_construction": args.ef_construction,
                    "ef_search": ef,
                    "build_s": build,
                    "recall_at_10": recall(labels, truth, 10),
                    "recall_at_100": recall(labels, truth, 100),
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "index_mib": mib,
                }
                rows.append(row)
                print(
                    f"{n:>9} hnsw M={m} efC={args.ef_construction} efS={ef}: recall@10 "
                    f"{row['recall_at_10']:.4f} @100 {row['recall_at_100']:.4f}, p50 {p50:.2f} ms "
                    f"p95 {p95:.2f} ms, build {build:.0f} s, {mib:.0f} MiB",
                    flush=True,
                )
            faiss.omp_set_num_threads(threads)
            del hnsw
        for factory in args.ivf:
            # IVF adds and removes ids without a rebuild (HNSW in FAISS cannot remove), which
            # matters for incremental builds at scale; nlist ~ 4*sqrt(n).
            nlist = int(4 * np.sqrt(n))
            ivf = faiss.index_factory(DIM, f"IVF{nlist},{factory}", faiss.METRIC_INNER_PRODUCT)
            start = time.perf_counter()
            ivf.train(xb[rng.permutation(n)[: min(n, 64 * nlist)]])
            ivf.add(xb)
            build = time.perf_counter() - start
            mib = len(faiss.serialize_index(ivf)) / 2**20
            faiss.omp_set_num_threads(args.search_threads)
            for nprobe in args.nprobe:
                ivf.nprobe = nprobe
                labels, p50, p95 = timed_search(ivf, xq, 100)
                row = {
                    "passages": n,
                    "index": f"ivf{nlist},{factory}",
                    "M": "-",
                    "ef_construction": "-",
                    "ef_search": f"nprobe {nprobe}",
                    "build_s": build,
                    "recall_at_10": recall(labels, truth, 10),
                    "recall_at_100": recall(labels, truth, 100),
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "index_mib": mib,
                }
                rows.append(row)
                print(
                    f"{n:>9} IVF{nlist},{factory} nprobe={nprobe}: recall@10 "
                    f"{row['recall_at_10']:.4f} @100 {row['recall_at_100']:.4f}, p50 {p50:.2f} ms "
                    f"p95 {p95:.2f} ms, build {build:.0f} s, {mib:.0f} MiB",
                    flush=True,
                )
            faiss.omp_set_num_threads(threads)
            del ivf
        del xb, xq
    headers = [
        "passages",
        "index",
        "M",
        "efConstruction",
        "efSearch",
        "build s",
        "recall@10",
        "recall@100",
        "p50 ms",
        "p95 ms",
        "MiB",
    ]
    md = table(
        headers,
        [
            [
                r["passages"],
                r["index"],
                r["M"],
                r["ef_construction"],
                r["ef_search"],
                round(r["build_s"]),
                r["recall_at_10"],
                r["recall_at_100"],
                round(r["p50_ms"], 2),
                round(r["p95_ms"], 2),
                round(r["index_mib"]),
            ]
            for r in rows
        ],
    )
    header = (
        f"# FAISS Flat vs HNSW ({args.data} synthetic vectors, {DIM} dims, k=100 searches, "
        f"{args.queries} queries one at a time, {args.search_threads} search thread)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, "
        f"{info['ram_gib']} GiB RAM.\n\n"
    )
    save(
        f"faiss_{args.data}",
        {"data": args.data, "search_threads": args.search_threads, "rows": rows},
        header + md,
    )


if __name__ == "__main__":
    main()
