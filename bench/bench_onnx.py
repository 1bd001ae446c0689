"""Embedding backends: torch vs ONNX Runtime fp32 vs ONNX Runtime dynamic int8 (per-channel).

    .venv/bin/pip install onnxruntime onnx onnxscript      # the optional [onnx] extra
    .venv/bin/python bench/bench_onnx.py [--passages 600] [--ndcg scifact]

Throughput on real SciFact passages (default chunking, title context, as the build embeds
them), cosine of each backend's vectors to torch fp32, and with --ndcg the document-level
nDCG@10 of a whole index built with each backend (separate work folders, so no vector is
shared between backends). Writes bench/results/onnx.json and onnx.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
from machine import REPO, RESULTS, SHARED_EVAL, print_machine, save, table

BACKENDS = ("torch", "onnx", "onnx-int8")


def sample_passages(count: int) -> list[str]:
    """Embedded texts of the first SciFact documents' passages, cut by the real chunker."""
    from coverage_search.embed.embedder import get_embedder
    from coverage_search.passages.chunking import ChunkSettings, chunk_documents
    from coverage_search.records import Document

    docs = []
    with (SHARED_EVAL / "scifact" / "corpus.jsonl").open() as lines:
        for line in lines:
            row = json.loads(line)
            docs.append(
                Document(
                    doc_id=row["_id" if "_id" in row else "id"],
                    path="x",
                    title=row["title"],
                    text=row["text"],
                    format="text",
                    content_hash="x",
                )
            )
            if len(docs) >= count:
                break
    passages = chunk_documents(docs, get_embedder(), ChunkSettings())
    return [p.embed_text or p.text for p in passages][:count]


def use_backend(backend: str) -> None:
    """Make every build and open in this process embed with `backend` (bench-only switch)."""
    import coverage_search.build.run as builder
    import coverage_search.embed.embedder as embedding

    original = embedding.__dict__.setdefault("_original_get_embedder", embedding.get_embedder)

    def chosen(model: str | None = None, *, backend_: str = backend, **_: Any) -> Any:
        return original(model, backend=backend_)

    embedding.get_embedder = chosen
    builder.get_embedder = chosen  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ndcg", nargs="*", default=[], help="collections to score per backend")
    args = parser.parse_args()
    info = print_machine()
    import sys

    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.embed.embedder import Embedder

    texts = sample_passages(args.passages)
    lengths = Embedder().count_tokens(texts)
    print(f"{len(texts)} passages, mean {np.mean(lengths):.0f} word pieces", flush=True)
    rows: list[dict[str, Any]] = []
    embedders = {}
    for backend in BACKENDS:
        start = time.perf_counter()
        embedders[backend] = Embedder(backend=backend)
        embedders[backend].encode(texts[:8])  # load (and on first use export) the model
        rows.append({"backend": backend, "load_s": time.perf_counter() - start})
    # Interleaved rounds, so load from other processes on a shared machine hits every backend.
    timings: dict[str, list[float]] = {b: [] for b in BACKENDS}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for backend in BACKENDS:
            start = time.perf_counter()
            vectors[backend] = embedders[backend].encode(texts)
            timings[backend].append(time.perf_counter() - start)
    reference = vectors["torch"]
    for row in rows:
        backend = row["backend"]
        seconds = float(np.median(timings[backend]))
        cos = (vectors[backend] * reference).sum(axis=1)
        row.update(
            {
                "passages_per_s": len(texts) / seconds,
                "cosine_min": float(cos.min()),
                "cosine_mean": float(cos.mean()),
                "cosine_p01": float(np.percentile(cos, 1)),
            }
        )
        print(
            f"  {backend:<10} load {row['load_s']:5.1f} s  {row['passages_per_s']:6.1f} passages/s"
            f"  cosine to torch min {cos.min():.4f} mean {cos.mean():.4f}",
            flush=True,
        )
    base = rows[0]["passages_per_s"]
    for row in rows:
        row["speedup"] = row["passages_per_s"] / base
    quality: list[dict[str, Any]] = []
    previous = RESULTS / "onnx.json"
    from coverage_search.embed.onnx import VECTORS_VERSION

    if not args.ndcg and previous.is_file():  # keep the (slow) quality rows of the last --ndcg run
        quality = [  # ... if they were measured on the vectors the backend makes now
            q
            for q in json.loads(previous.read_text()).get("quality", [])
            if q.get("vectors_version") == VECTORS_VERSION
        ]
    for name in args.ndcg:
        from evalkit import prepare, rankings, scores

        # fp32 ONNX vectors equal torch's to 1e-5 (cosine above), so only int8 gets its own index.
        for backend in ("torch", "onnx-int8"):
            use_backend(backend)
            prep = prepare(name, label="index" if backend == "torch" else f"index-{backend}")
            entry: dict[str, Any] = {
                "dataset": name,
                "backend": backend,
                "build_s": prep.build_seconds,
                "embedded": prep.embedded,
                "vectors_version": VECTORS_VERSION,
            }
            for mode in ("semantic", "hybrid"):
                ids = prep.tune + prep.confirm
                entry[mode] = scores(prep, rankings(prep, ids, mode=mode))["ndcg_at_10"]
            quality.append(entry)
            print(
                f"  {name} {backend:<10} semantic {entry['semantic']:.4f} hybrid "
                f"{entry['hybrid']:.4f} (build {prep.build_seconds:.0f} s)",
                flush=True,
            )
            prep.index.close()
    md = (
        f"# Embedding backends (bundled all-MiniLM-L6-v2)\n\nMachine: {info['nproc']} cores, "
        f"{info['cpu']}, {info['ram_gib']} GiB RAM; {len(texts)} SciFact passages, mean "
        f"{np.mean(lengths):.0f} word pieces; {os.cpu_count()} threads; 1-minute load "
        f"{info['load_1min_at_start']} at start, {os.getloadavg()[0]:.2f} at the end; int8 "
        f"vectors version {VECTORS_VERSION}.\n\n"
    )
    md += table(
        [
            "backend",
            "passages/s",
            "speed-up",
            "cosine min",
            "cosine 1st pct",
            "cosine mean",
            "load s",
        ],
        [
            [
                r["backend"],
                round(r["passages_per_s"], 1),
                f"{r['speedup']:.2f}x",
                f"{r['cosine_min']:.4f}",
                f"{r['cosine_p01']:.4f}",
                f"{r['cosine_mean']:.4f}",
                round(r["load_s"], 1),
            ]
            for r in rows
        ],
    )
    if quality:
        md += "\n\nnDCG@10, all judged queries:\n\n" + table(
            ["dataset", "backend", "semantic", "hybrid"],
            [[q["dataset"], q["backend"], q["semantic"], q["hybrid"]] for q in quality],
        )
    save(
        "onnx",
        {
            "passages": len(texts),
            "load_1min_after": round(os.getloadavg()[0], 2),
            "vectors_version": VECTORS_VERSION,
            "rows": rows,
            "quality": quality,
        },
        md,
    )


if __name__ == "__main__":
    main()
