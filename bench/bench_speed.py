"""Speed and scale of the engine: indexing throughput, incremental rebuild, latency, memory.

    .venv/bin/python bench/bench_speed.py throughput [--docs 1000]   # fresh build of SciFact docs
    .venv/bin/python bench/bench_speed.py incremental [--docs 5000]  # change one document, rebuild
    .venv/bin/python bench/bench_speed.py latency [--sizes 10000 100000 1000000]

throughput: a fresh build (empty embedding cache) of the first N SciFact abstracts; passages
and documents per second. incremental: a 5,000-document SciFact corpus (embedding cache seeded
from the eval work folder when there is one, else embedded once), then one document edited and
rebuilt; also a rebuild with nothing changed.

latency: synthetic corpora of N passages (N/5 Markdown documents of 5 sections, one passage
each, words drawn at SciFact's frequencies); random unit vectors seeded straight into the
embedding cache under the current `vectors_key`; then the real `CoverageIndex.build`, with
embedding made to fail. A fresh process opens the index and asks SciFact claims warm in each
mode: p50/p95, and resident memory per million passages. Every size runs in its own processes;
corpus, seeding and build are reused under $COVERAGE_BENCH_WORK, so a rerun only measures
(1M passages: ~8 GB of disk, about an hour to prepare on 2 busy cores).
Writes bench/results/speed_<part>.json/.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import REPO, RESULTS, SHARED_EVAL, WORK, print_machine, rss_mib, save, table

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


SECTIONS = 5  # passages per synthetic document: one per "## Part" section
WORDS = 90  # per section: ~125 tokens with its title+heading prefix, under the 160-token target
CORPUS_FORMAT = 3  # bump when the synthetic text changes: the folder is then written anew


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


def synthetic_corpus(work: Path, passages: int) -> int:
    """`passages / SECTIONS` Markdown documents of SECTIONS short sections; reused when complete.

    Returns the number of documents. A folder of another size or format is deleted with its
    index (the cached vectors would belong to other passages).
    """
    folder = work / "corpus"
    marker = work / "corpus.json"
    wanted = {"passages": passages, "format": CORPUS_FORMAT}
    docs = max(passages // SECTIONS, 1)
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return docs
    shutil.rmtree(work, ignore_errors=True)
    rng = np.random.default_rng(passages)
    words, weights = vocabulary()
    vocab = np.asarray(words, dtype=object)
    per_folder, block = 1000, 2000
    started = time.perf_counter()
    for lo in range(0, docs, block):
        n = min(block, docs - lo)
        picks = vocab[rng.choice(len(words), size=(n, SECTIONS, WORDS), p=weights)]
        for j in range(n):
            d = lo + j
            parts = [f"---\ntitle: Synthetic document {d}\n---\n"]  # no H1: no extra passage
            for s in range(SECTIONS):
                row = picks[j, s]
                sentences = [
                    " ".join(row[i : i + 15]).capitalize() + "." for i in range(0, WORDS, 15)
                ]
                parts.append(f"## Part {s + 1}\n\n" + " ".join(sentences) + "\n")
            sub = folder / f"{d // per_folder:04d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"doc{d:07d}.md").write_text("\n".join(parts))
        if lo % 50_000 == 0:
            print(f"  writing synthetic corpus: {lo:,}/{docs:,} documents", flush=True)
    marker.write_text(json.dumps(wanted) + "\n")
    print(f"  {docs:,} documents written in {time.perf_counter() - started:.0f} s", flush=True)
    return docs


def vectors_key(embedder: Any) -> str:
    """The embedding-cache key the build looks vectors up under."""
    return str(getattr(embedder, "vectors_key", embedder.model_id))


def seed_vectors(work: Path) -> int:
    """Random unit vectors in the embedding cache for every passage the build will cut.

    The passages are cut exactly as the build cuts them (same scan, same chunker, same settings);
    vectors go in with one transaction per 100,000. A marker remembers a complete seeding for
    this cache key and these settings, so a rerun does not chunk the corpus again, and the
    passage hashes, so a new cache key (a new model version) only rewrites the vectors.
    """
    from coverage_search.build.embedding_cache import EmbeddingCache
    from coverage_search.embed.embedder import get_embedder, text_hash
    from coverage_search.passages.chunking import ChunkSettings, chunk_documents
    from coverage_search.records import Document
    from coverage_search.sources.scan import scan_corpus

    embedder = get_embedder()
    key = vectors_key(embedder)
    chunking = ChunkSettings().to_dict()
    done = {"key": key, "chunking": chunking}
    marker = work / "seeded.json"
    cache_file = work / "index" / "embeddings.sqlite"
    hashes_file = work / "passage-hashes.txt"  # of a finished seeding, for a new cache key
    seeded = json.loads(marker.read_text()) if marker.is_file() else {}
    if seeded.get("done") == done and cache_file.is_file():
        return int(seeded["passages"])
    started = time.perf_counter()
    if seeded.get("done", {}).get("chunking") == chunking and hashes_file.is_file():
        hashes = hashes_file.read_text().split()  # same passages, another key: no chunking
        count = int(seeded["passages"])
        chunked = started
        print(f"  {len(hashes):,} passage hashes reused from {hashes_file.name}", flush=True)
    else:
        docs = [d for d in scan_corpus(work / "corpus") if isinstance(d, Document)]
        scanned = time.perf_counter()
        passages = chunk_documents(docs, embedder, ChunkSettings())
        del docs
        chunked = time.perf_counter()
        hashes = list(dict.fromkeys(text_hash(p.embed_text or p.text) for p in passages))
        count = len(passages)
        del passages
        print(f"  scan {scanned - started:.0f} s, chunk {chunked - scanned:.0f} s", flush=True)
    rng = np.random.default_rng(count)
    cache = EmbeddingCache(cache_file)
    try:
        for lo in range(0, len(hashes), 100_000):
            part = hashes[lo : lo + 100_000]
            vectors = rng.standard_normal((len(part), embedder.dimension), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            cache.put(key, list(zip(part, vectors, strict=True)))
    finally:
        cache.close()
    print(
        f"  seeded {len(hashes):,} vectors under {key!r} in {time.perf_counter() - chunked:.0f} s",
        flush=True,
    )
    hashes_file.write_text("\n".join(hashes) + "\n")
    marker.write_text(json.dumps({"done": done, "passages": count}) + "\n")
    return count


def prepare_synthetic(size: int, *, rebuild: bool = False) -> dict[str, Any]:
    """Write, seed and build the synthetic corpus of `size` passages (each step reused if done).

    The build is the real `CoverageIndex.build`; embedding is made to fail, so a passage the
    seeding missed stops the bench instead of quietly embedding for hours.
    """
    from coverage_search.embed.embedder import Embedder

    work = WORK / f"synthetic-{size}"
    synthetic_corpus(work, size)
    seed_vectors(work)

    def refuse(self: Embedder, texts: Any, **_: Any) -> np.ndarray:
        (work / "seeded.json").unlink(missing_ok=True)  # the next run seeds again
        raise SystemExit(f"the build wanted to embed {len(texts)} passages: seeding missed them")

    Embedder.encode = refuse  # type: ignore[method-assign]
    start = time.perf_counter()
    report = CoverageIndex.build(work / "corpus", work / "index", progress=True, force=rebuild)
    seconds = time.perf_counter() - start
    if report.changed:
        print(f"  built {report.passages:,} passages in {seconds:.0f} s", flush=True)
    manifest = json.loads(
        (
            work / "index" / (work / "index" / "CURRENT").read_text().strip() / "manifest.json"
        ).read_text()
    )
    return {
        # a reused build took no time now: keep the figure of the run that built it
        "build_s_without_embedding": seconds if report.changed else None,
        "embedded": report.embedded,
        "cache_mb_on_disk": (work / "index" / "embeddings.sqlite").stat().st_size / 1e6,
        "backend": manifest.get("backend", "torch"),
        "built_at": manifest.get("built_at"),
    }


def measure_latency(size: int, queries: int, faiss_threads: int = 0) -> dict[str, Any]:
    """Open the built index in this fresh process; warm query latency per mode and its memory."""
    from coverage_search.embed.embedder import _cached_query, get_embedder

    if faiss_threads:  # an experiment: FAISS's OpenMP threads wait for each other under load
        import faiss

        faiss.omp_set_num_threads(faiss_threads)

    texts = list(load_beir_folder(SHARED_EVAL / "scifact").queries.values())
    random.Random(3).shuffle(texts)
    warm, timed = texts[:20], texts[20 : 20 + queries]
    folder = WORK / f"synthetic-{size}" / "index"
    manifest = json.loads(
        (folder / (folder / "CURRENT").read_text().strip() / "manifest.json").read_text()
    )
    embedder = get_embedder(manifest["model"], backend=manifest.get("backend", "torch"))
    embedder.encode_query("load the model before measuring memory")
    before = rss_mib()  # the model is resident: the growth is the index itself
    index = CoverageIndex.open(folder)
    assert index.embedder is embedder, "the index loaded a second model"
    stats = index.stats()
    for q in warm:
        for mode in MODES:
            index.search(q, mode=mode)
    row: dict[str, Any] = {
        "passages": stats.passages,
        "vector_index": stats.vector_index,
        "index_mb_on_disk": stats.index_bytes / 1e6,
        "faiss_threads": faiss_threads or "default",
    }
    # Modes take turns on each query (in a rotating order), so a burst of load from the other
    # processes on this shared machine lands on all of them alike. The query cache is emptied
    # before every search: each one pays for embedding its query.
    times: dict[str, list[float]] = {m: [] for m in ("embed", *MODES)}
    for n, q in enumerate(timed):
        _cached_query.cache_clear()
        t = time.perf_counter()
        embedder.encode_query(q)
        times["embed"].append((time.perf_counter() - t) * 1000)
        for mode in MODES[n % 3 :] + MODES[: n % 3]:
            _cached_query.cache_clear()
            t = time.perf_counter()
            index.search(q, mode=mode)
            times[mode].append((time.perf_counter() - t) * 1000)
    for name, values in times.items():
        row[f"{name}_p50_ms"] = statistics.median(values)
        row[f"{name}_p95_ms"] = float(np.percentile(values, 95))
    row["rss_mib"] = rss_mib() - before
    row["rss_mib_per_million"] = row["rss_mib"] / stats.passages * 1e6
    row["process_rss_mib"] = rss_mib()
    return row


def child(*argv: str) -> dict[str, Any]:
    """Run one step in a fresh process (so memory freed by an earlier step does not hide growth)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode:
        sys.exit(f"{' '.join(argv)} failed with exit code {out.returncode}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def latency(args: argparse.Namespace) -> dict[str, Any]:
    """Every size in its own processes: prepare (reused when done), then measure."""
    earlier = RESULTS / f"{args.name}.json"
    saved = earlier.read_text() if earlier.is_file() else ""
    previous = {r["passages"]: r for r in json.loads(saved).get("rows", [])} if saved else {}
    rows = []
    for size in args.sizes:
        built = child(
            "latency-build", "--size", str(size), *(["--rebuild"] if args.rebuild else [])
        )
        measured = child(
            "latency-one",
            *("--size", str(size), "--queries", str(args.queries)),
            *("--faiss-threads", str(args.faiss_threads)),
        )
        row = {**measured, **built}
        if row["build_s_without_embedding"] is None:  # the build was reused: keep its timing
            old = previous.get(row["passages"], {})
            if old.get("built_at") == row["built_at"]:
                row["build_s_without_embedding"] = old.get("build_s_without_embedding")
        rows.append(row)
        print(
            f"{row['passages']:>9,} passages ({row['vector_index']}): "
            + "  ".join(
                f"{m} p50 {row[f'{m}_p50_ms']:.1f} / p95 {row[f'{m}_p95_ms']:.1f} ms" for m in MODES
            )
            + f"  RSS +{row['rss_mib']:.0f} MiB",
            flush=True,
        )
    return {"queries": args.queries, "engine": engine_version(), "rows": rows}


def engine_version() -> str:
    """The commit of src/ measured ("+ changes" when src/ differs from it; a snapshot says so)."""
    import os

    if "COVERAGE_BENCH_COMMIT" in os.environ:  # a `git archive` snapshot has no .git
        return os.environ["COVERAGE_BENCH_COMMIT"]
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode:
        return "unknown"
    dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True, text=True)
    return head.stdout.strip() + (" + changes" if dirty.stdout.strip() else "")


def latency_markdown(result: dict[str, Any], machine_line: str) -> str:
    rows = result["rows"]
    backends = sorted({r["backend"] for r in rows})

    def secs(v: float | None) -> str:
        return "-" if v is None else str(round(v))

    slope = ""
    if len(rows) >= 2 and rows[-1]["passages"] > rows[-2]["passages"]:
        a, b = rows[-2], rows[-1]
        per_million = (b["rss_mib"] - a["rss_mib"]) / (b["passages"] - a["passages"]) * 1e6
        slope = (
            f"\n\nResident memory grows by {per_million:,.0f} MiB per million passages "
            f"(from {a['passages']:,} to {b['passages']:,}; the smallest size is mostly fixed "
            "costs)."
        )
    return (
        f"# Query latency, warm, in-process (k=5, defaults)\n\n{machine_line}"
        f"Synthetic passages (SciFact's words at their frequencies, random unit vectors seeded "
        f"into the embedding cache, built by the real build with embedding disabled); "
        f"{result['queries']} SciFact claims per mode, each asked once, query embedding "
        f"({', '.join(backends)}) included. RSS is the growth of the process from opening the "
        f"index through the queries. Engine: {result.get('engine', 'unknown')}.\n\n"
        + table(
            [
                "passages",
                "vector index",
                *[f"{m} p50 / p95 ms" for m in MODES],
                "of which query embedding p50 ms",
                "RSS MiB",
                "MiB per 1M passages",
                "index MB on disk",
                "build s (no embedding)",
            ],
            [
                [
                    f"{r['passages']:,}",
                    r["vector_index"],
                    *[f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}" for m in MODES],
                    f"{r['embed_p50_ms']:.1f}",
                    round(r["rss_mib"]),
                    round(r["rss_mib_per_million"]),
                    round(r["index_mb_on_disk"]),
                    secs(r["build_s_without_embedding"]),
                ]
                for r in rows
            ],
        )
        + slope
    )


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
    p.add_argument("--faiss-threads", type=int, default=0, help="0: FAISS's default")
    p.add_argument("--name", default="speed_latency", help="results file name")
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="build again although the corpus is unchanged (after an engine change)",
    )
    p = parts.add_parser("latency-build")  # internal: one step of `latency`, in its own process
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--rebuild", action="store_true")
    p = parts.add_parser("latency-one")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--faiss-threads", type=int, default=0)
    args = parser.parse_args()
    if args.part in ("latency-build", "latency-one"):  # a child: notices on stderr, JSON out
        with contextlib.redirect_stdout(sys.stderr):
            if args.part == "latency-build":
                step = prepare_synthetic(args.size, rebuild=args.rebuild)
            else:
                step = measure_latency(args.size, args.queries, args.faiss_threads)
        print(json.dumps(step))
        return
    info = print_machine()
    result = {"throughput": throughput, "incremental": incremental, "latency": latency}[args.part](
        args
    )
    machine_line = (
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, "
        f"load {info['load_1min_at_start']} at start (shared with other work).\n\n"
    )
    if args.part == "latency":
        md = latency_markdown(result, machine_line)
    else:
        md = f"# {args.part}\n\n{machine_line}" + table(list(result), [list(result.values())])
    save(args.name if args.part == "latency" else f"speed_{args.part}", result, md)


if __name__ == "__main__":
    main()
