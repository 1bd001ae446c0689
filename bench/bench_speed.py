"""Speed and scale of the engine: indexing throughput, incremental rebuild, latency, memory.

    .venv/bin/python bench/bench_speed.py throughput [--docs 1000]   # fresh build of SciFact docs
    .venv/bin/python bench/bench_speed.py incremental [--docs 5000]  # change one document, rebuild
    .venv/bin/python bench/bench_speed.py latency [--sizes 10000 100000 1000000]

throughput: a fresh build (empty embedding cache) of the first N SciFact abstracts; passages
and documents per second. incremental: a 5,000-document SciFact corpus (embedding cache seeded
from the eval work folder when there is one, else embedded once), then one document edited and
rebuilt; also a rebuild with nothing changed. latency: synthetic corpora of N passages (random
text over SciFact's vocabulary; random unit vectors placed in the embedding cache so nothing is
embedded) built by the real build, opened, and queried warm with SciFact claims in each mode;
p50/p95 and resident memory per million passages. Writes bench/results/speed_<part>.json/.md.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import REPO, SHARED_EVAL, WORK, print_machine, rss_mib, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search import CoverageIndex
from coverage_search.evaluation import load_beir_folder, write_corpus

MODES = ("keyword", "semantic", "hybrid")


def scifact_subset(docs: int) -> Any:
    from coverage_search.evaluation import BeirData

    data = load_beir_folder(SHARED_EVAL / "scifact")
    keep = dict(list(data.corpus.items())[:docs])
    return BeirData(f"scifact-{docs}", keep, data.queries, data.qrels)


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    data = scifact_subset(args.docs)
    work = WORK / f"throughput-{args.docs}"
    shutil.rmtree(work, ignore_errors=True)
    write_corpus(data, work / "corpus")
    start = time.perf_counter()
    report = CoverageIndex.build(work / "corpus", work / "index", progress=True)
    seconds = time.perf_counter() - start
    shutil.rmtree(work, ignore_errors=True)
    result = {
        "documents": report.documents,
        "passages": report.passages,
        "embedded": report.embedded,
        "seconds": seconds,
        "passages_per_s": report.passages / seconds,
        "documents_per_s": report.documents / seconds,
    }
    print(
        f"fresh build: {report.documents} documents, {report.passages} passages, {seconds:.1f} s: "
        f"{result['passages_per_s']:.1f} passages/s, {result['documents_per_s']:.1f} documents/s"
    )
    return result


def incremental(args: argparse.Namespace) -> dict[str, Any]:
    data = scifact_subset(args.docs)
    work = WORK / f"incremental-{args.docs}"
    names = write_corpus(data, work / "corpus")
    seed = WORK / "scifact" / "index" / "embeddings.sqlite"
    cache = work / "index" / "embeddings.sqlite"
    if seed.is_file() and not cache.is_file():
        cache.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(seed, cache)  # vectors of the eval build: the first build embeds little
    first = CoverageIndex.build(work / "corpus", work / "index", progress=True)
    print(
        f"initial build: {first.documents} documents, {first.passages} passages, "
        f"{first.embedded} embedded, {first.seconds:.1f} s"
    )
    same = CoverageIndex.build(work / "corpus", work / "index", progress=False)
    print(f"nothing changed: {same.seconds:.2f} s, {same.embedded} embedded")
    victim = work / "corpus" / sorted(names)[len(names) // 2]
    original = victim.read_text()
    victim.write_text(original.rstrip("\n") + f" Edited at {time.time():.0f} for the benchmark.\n")
    try:
        start = time.perf_counter()
        changed = CoverageIndex.build(work / "corpus", work / "index", progress=False)
        seconds = time.perf_counter() - start
    finally:
        victim.write_text(original)
    print(
        f"one document edited: {seconds:.2f} s, {changed.embedded} passages embedded, "
        f"{changed.reused} reused"
    )
    CoverageIndex.build(work / "corpus", work / "index", progress=False)  # back to the original
    return {
        "documents": first.documents,
        "passages": first.passages,
        "unchanged_s": same.seconds,
        "unchanged_embedded": same.embedded,
        "one_edit_s": seconds,
        "one_edit_embedded": changed.embedded,
    }


# -- latency at scale ------------------------------------------------------------------------


def vocabulary() -> tuple[list[str], np.ndarray]:
    """SciFact's words with Zipf-like weights (so bm25 sees realistic term statistics)."""
    counts: dict[str, int] = {}
    with (SHARED_EVAL / "scifact" / "corpus.jsonl").open() as lines:
        for i, line in enumerate(lines):
            for w in re.findall(r"[a-z]{3,}", json.loads(line)["text"].lower()):
                counts[w] = counts.get(w, 0) + 1
            if i > 3000:
                break
    words = sorted(counts, key=lambda w: -counts[w])
    weights = np.asarray([counts[w] for w in words], dtype=np.float64)
    return words, weights / weights.sum()


def synthetic_corpus(folder: Path, passages: int, rng: np.random.Generator) -> None:
    """~`passages` passages: documents of 5 paragraphs of ~110 words (one passage each)."""
    marker = folder / ".complete"
    if marker.is_file():
        return
    shutil.rmtree(folder, ignore_errors=True)
    words, weights = vocabulary()
    docs = max(passages // 5, 1)
    per_folder = 1000
    for d in range(docs):
        picks = rng.choice(len(words), size=5 * 110, p=weights)
        paragraphs = []
        for p in range(5):
            chunk = [words[i] for i in picks[p * 110 : (p + 1) * 110]]
            sentences = [" ".join(chunk[s : s + 22]).capitalize() + "." for s in range(0, 110, 22)]
            paragraphs.append(" ".join(sentences))
        sub = folder / f"{d // per_folder:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"doc{d:07d}.txt").write_text(
            f"---\ntitle: Synthetic document {d}\n---\n\n" + "\n\n".join(paragraphs) + "\n"
        )
        if d % 20000 == 0:
            print(f"  writing synthetic corpus: {d}/{docs} documents", flush=True)
    marker.write_text("ok\n")


def seed_vectors(corpus: Path, index: Path, rng: np.random.Generator) -> int:
    """Random unit vectors in the embedding cache for every passage the build will cut."""
    from coverage_search.chunking import ChunkSettings, chunk_documents
    from coverage_search.embedding import get_embedder, text_hash
    from coverage_search.records import Document
    from coverage_search.sources import scan_corpus
    from coverage_search.store import EmbeddingCache

    embedder = get_embedder()
    docs = [d for d in scan_corpus(corpus) if isinstance(d, Document)]
    passages = chunk_documents(docs, embedder, ChunkSettings())
    cache = EmbeddingCache(index / "embeddings.sqlite")
    try:
        hashes = [text_hash(p.embed_text or p.text) for p in passages]
        for lo in range(0, len(hashes), 50_000):
            part = hashes[lo : lo + 50_000]
            vectors = rng.standard_normal((len(part), embedder.dimension), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            cache.put(embedder.model_id, list(zip(part, vectors, strict=True)))
    finally:
        cache.close()
    return len(passages)


def latency(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    queries = [q for q in load_beir_folder(SHARED_EVAL / "scifact").queries.values()]
    random.Random(3).shuffle(queries)
    warm, timed = queries[:20], queries[20 : 20 + args.queries]
    rows = []
    for size in args.sizes:
        work = WORK / f"synthetic-{size}"
        start = time.perf_counter()
        synthetic_corpus(work / "corpus", size, rng)
        if not (work / "index" / "CURRENT").is_file():
            seeded = seed_vectors(work / "corpus", work / "index", rng)
            print(
                f"  {size}: {seeded} passages seeded in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        start = time.perf_counter()
        report = CoverageIndex.build(work / "corpus", work / "index", progress=True)
        build_s = time.perf_counter() - start
        from coverage_search.embedding import _cached_query, get_embedder

        get_embedder().encode(["load the model before measuring memory"])
        before = rss_mib()  # model and torch already resident: the delta is the index itself
        index = CoverageIndex.open(work / "index")
        stats = index.stats()
        for q in warm:
            for mode in MODES:
                index.search(q, mode=mode)
        row: dict[str, Any] = {
            "passages": stats.passages,
            "vector_index": stats.vector_index,
            "build_s_without_embedding": build_s,
            "embedded": report.embedded,
            "index_mb_on_disk": stats.index_bytes / 1e6,
        }
        for mode in MODES:
            _cached_query.cache_clear()  # every mode pays for embedding its queries
            times = []
            for q in timed:
                t = time.perf_counter()
                index.search(q, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
            row[f"{mode}_p50_ms"] = statistics.median(times)
            row[f"{mode}_p95_ms"] = float(np.percentile(times, 95))
        row["rss_mib"] = rss_mib() - before
        row["rss_mib_per_million"] = row["rss_mib"] / stats.passages * 1e6
        rows.append(row)
        print(
            f"{stats.passages:>9} passages ({stats.vector_index}): "
            + "  ".join(
                f"{m} p50 {row[f'{m}_p50_ms']:.1f} / p95 {row[f'{m}_p95_ms']:.1f} ms" for m in MODES
            )
            + f"  RSS +{row['rss_mib']:.0f} MiB",
            flush=True,
        )
        index.close()
        del index
    return {"queries": len(timed), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parts = parser.add_subparsers(dest="part", required=True)
    p = parts.add_parser("throughput")
    p.add_argument("--docs", type=int, default=1000)
    p = parts.add_parser("incremental")
    p.add_argument("--docs", type=int, default=5000)
    p = parts.add_parser("latency")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    info = print_machine()
    result = {"throughput": throughput, "incremental": incremental, "latency": latency}[args.part](
        args
    )
    machine_line = f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM.\n\n"
    if args.part == "latency":
        md = f"# Query latency, warm, in-process (k=5, defaults)\n\n{machine_line}" + table(
            [
                "passages",
                "vector index",
                *[f"{m} p50/p95 ms" for m in MODES],
                "RSS MiB",
                "MiB per 1M passages",
                "build s (no embedding)",
            ],
            [
                [
                    r["passages"],
                    r["vector_index"],
                    *[f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}" for m in MODES],
                    round(r["rss_mib"]),
                    round(r["rss_mib_per_million"]),
                    round(r["build_s_without_embedding"]),
                ]
                for r in result["rows"]
            ],
        )
    else:
        md = f"# {args.part}\n\n{machine_line}" + table(list(result), [list(result.values())])
    save(f"speed_{args.part}", result, md)


if __name__ == "__main__":
    main()
