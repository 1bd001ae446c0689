"""Speed and scale of the engine: indexing throughput, incremental rebuild, latency, memory.

    .venv/bin/python bench/bench_speed.py throughput [--docs 1000]   # fresh build of SciFact docs
    .venv/bin/python bench/bench_speed.py incremental [--docs 5000]  # change one document, rebuild
    .venv/bin/python bench/bench_speed.py latency [--sizes 10000 100000 1000000] [--rebuild]

throughput: a fresh build (empty embedding cache) of the first N SciFact abstracts; passages
and documents per second. incremental: a 5,000-document SciFact corpus (embedding cache seeded
from the eval work folder when there is one, else embedded once), then one document edited and
rebuilt; also a rebuild with nothing changed.

latency (the scale table): synthetic corpora of N passages (N/5 Markdown documents of 5
sections, one passage each, words drawn at SciFact's frequencies, 20 outlets, dates 2020-2026);
MiniLM vectors of the eval passages with jittered copies (bench_faiss.synthetic "real", as
bench_vector_kinds.py uses; run bench/eval_fusion.py once first) seeded straight into the
embedding cache under the current `vectors_key` (random vectors, which HNSW and IVF index
far more slowly than real ones, until 2026-12-01);
then the real `CoverageIndex.build`, with embedding made to fail, each stage timed (phases.py).
A fresh process opens the index and asks SciFact claims warm in each mode and in hybrid under
one outlet and one year: p50/p95, resident memory, and disk per million passages (the live
build, the embedding cache and the build cache). Every size runs in its own processes; corpus,
seeding and build are reused under $COVERAGE_BENCH_WORK, so a rerun only measures (`--rebuild`
builds again from a cold build cache). The two largest sizes give 10M by a stated model
(`extrapolate`). Writes bench/results/scale.json/.md (latency) or speed_<part>.json/.md.
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
from machine import (
    REPO,
    RESULTS,
    SHARED_EVAL,
    WORK,
    PeakMemory,
    load1,
    print_machine,
    rss_mib,
    save,
    table,
)

sys.path.insert(0, str(REPO / "src"))

from coverage_search import CoverageIndex
from coverage_search.evaluation import load_beir_folder, write_corpus

MODES = ("keyword", "semantic", "hybrid")
FILTERED = "hybrid+filter"  # hybrid under FILTER: one outlet and one year


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
CORPUS_FORMAT = 4  # bump when the synthetic text changes: the folder is then written anew
# Format 4 added an outlet and a date to each document's front matter. Passages (and the text
# embedded) are those of format 3, so a format-3 folder is rewritten in place, its seeded
# vectors kept.
METADATA_ONLY = {3}
OUTLETS = 20  # "Outlet 0" .. "Outlet 19", as bench_milvus.py
FILTER: dict[str, Any] = {"outlets": ["Outlet 3"], "since": "2024-01-01", "until": "2024-12-31"}


def front_matter(d: int) -> str:
    """Title, outlet and date of synthetic document `d` (bench_milvus.py's outlets and days)."""
    day = f"{2020 + d % 7}-{1 + d % 12:02d}-{1 + d % 28:02d}"
    return (
        f"---\ntitle: Synthetic document {d}\noutlet: Outlet {d % OUTLETS}\npublished: {day}\n---\n"
    )


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
    found = json.loads(marker.read_text()) if marker.is_file() else {}
    if found == wanted:
        return docs
    if found.get("passages") == passages and found.get("format") in METADATA_ONLY:
        started = time.perf_counter()
        for path in sorted(folder.glob("*/doc*.md")):
            d = int(path.stem[3:])
            _, body = path.read_text().split("\n---\n", 1)
            path.write_text(front_matter(d) + body)
        marker.write_text(json.dumps(wanted) + "\n")
        print(
            f"  front matter of {docs:,} documents rewritten in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
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
            parts = [front_matter(d)]  # no H1: no extra passage
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
    """Real-like unit vectors in the embedding cache for every passage the build will cut.

    The passages are cut exactly as the build cuts them (same scan, same chunker, same settings);
    vectors go in with one transaction per 100,000. A marker remembers a complete seeding for
    this cache key and these settings, so a rerun does not chunk the corpus again, and the
    passage hashes, so a new cache key (a new model version) only rewrites the vectors.
    """
    from coverage_search.build.embedding_cache import EmbeddingCache
    from coverage_search.embed.embedder import get_embedder, text_hash
    from coverage_search.engine.local.sql import remove_database
    from coverage_search.passages.chunking import ChunkSettings, chunk_documents
    from coverage_search.records import Document
    from coverage_search.sources.scan import scan_corpus

    embedder = get_embedder()
    key = vectors_key(embedder)
    chunking = ChunkSettings().to_dict()
    rows = "8-bit and a scale"  # the cache's row format: another one is seeded afresh
    done = {"key": key, "chunking": chunking, "vectors": "real, jittered", "rows": rows}
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
    import bench_faiss

    rng = np.random.default_rng(count)
    if not len(bench_faiss.REAL[0]):
        bench_faiss.REAL = bench_faiss.real_vectors(1)
    # The cache holds only seeded vectors: started afresh, so its size is that of this format
    # (vectors rewritten in place keep the pages of the rows before).
    remove_database(cache_file)
    cache = EmbeddingCache(cache_file)
    try:
        for lo in range(0, len(hashes), 100_000):
            part = hashes[lo : lo + 100_000]
            vectors = bench_faiss.synthetic(len(part), "real", rng)
            if lo:  # each real vector once, as is, in the first part only; jittered after
                seeds = bench_faiss.REAL[0]
                m = min(len(part), len(seeds))
                jitter = rng.standard_normal((m, seeds.shape[1]), dtype=np.float32) / 20.0
                vectors[:m] = seeds[rng.integers(0, len(seeds), m)] + jitter
                vectors[:m] /= np.linalg.norm(vectors[:m], axis=1, keepdims=True)
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
    from phases import build_phases

    load = load1()
    if rebuild:  # the build cache too: every size is measured from the files up
        (work / "index" / "buildcache.sqlite").unlink(missing_ok=True)
    start = time.perf_counter()
    with PeakMemory() as memory, build_phases() as (spent, cpu):
        report = CoverageIndex.build(work / "corpus", work / "index", progress=True, force=rebuild)
    seconds = time.perf_counter() - start
    if report.changed:
        print(f"  built {report.passages:,} passages in {seconds:.0f} s", flush=True)
    manifest = json.loads(
        (
            work / "index" / (work / "index" / "CURRENT").read_text().strip() / "manifest.json"
        ).read_text()
    )
    live = work / "index" / (work / "index" / "CURRENT").read_text().strip()
    disk = {
        "build_mb": sum(p.stat().st_size for p in live.rglob("*") if p.is_file()) / 1e6,
        "embedding_cache_mb": (work / "index" / "embeddings.sqlite").stat().st_size / 1e6,
        "build_cache_mb": (work / "index" / "buildcache.sqlite").stat().st_size / 1e6,
    }
    return {
        "disk": disk,
        # a reused build took no time now: keep the figure of the run that built it
        "build_s_without_embedding": seconds if report.changed else None,
        "build_load": [load, load1()] if report.changed else None,
        "build_phases_s": {k: round(v, 1) for k, v in spent.items()} if report.changed else None,
        "build_phases_cpu_s": {k: round(v, 1) for k, v in cpu.items()} if report.changed else None,
        # the build's process and its workers, sampled every 0.5 s (seeding is not in it)
        "build_peak_rss_mib": round(memory.peak_mib) if report.changed else None,
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
        index.search(q, mode="hybrid", **FILTER)
    row: dict[str, Any] = {
        "passages": stats.passages,
        "vector_index": stats.vector_index,
        "index_mb_on_disk": stats.index_bytes / 1e6,
        "faiss_threads": faiss_threads or "default",
    }
    load = load1()
    # Modes take turns on each query (in a rotating order), so a burst of load from the other
    # processes on this shared machine lands on all of them alike. The query cache is emptied
    # before every search: each one pays for embedding its query.
    runs = (*MODES, FILTERED)
    times: dict[str, list[float]] = {m: [] for m in ("embed", *runs)}
    for n, q in enumerate(timed):
        _cached_query.cache_clear()
        t = time.perf_counter()
        embedder.encode_query(q)
        times["embed"].append((time.perf_counter() - t) * 1000)
        for run in runs[n % 4 :] + runs[: n % 4]:
            _cached_query.cache_clear()
            t = time.perf_counter()
            if run == FILTERED:
                index.search(q, mode="hybrid", **FILTER)
            else:
                index.search(q, mode=run)
            times[run].append((time.perf_counter() - t) * 1000)
    for name, values in times.items():
        row[f"{name}_p50_ms"] = statistics.median(values)
        row[f"{name}_p95_ms"] = float(np.percentile(values, 95))
    row["load"] = [load, load1()]
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
                for key in (
                    "build_s_without_embedding",
                    "build_load",
                    "build_phases_s",
                    "build_phases_cpu_s",
                ):
                    row[key] = old.get(key)
        rows.append(row)
        print(
            f"{row['passages']:>9,} passages ({row['vector_index']}): "
            + "  ".join(
                f"{m} p50 {row[f'{m}_p50_ms']:.1f} / p95 {row[f'{m}_p95_ms']:.1f} ms" for m in MODES
            )
            + f"  RSS +{row['rss_mib']:.0f} MiB",
            flush=True,
        )
    # Sizes not asked for now keep their rows from before (their builds are measured one size
    # at a time; a later run over every size measures all the queries together).
    rows += [r for n, r in previous.items() if n not in {r["passages"] for r in rows}]
    rows.sort(key=lambda r: int(r["passages"]))
    result = {"queries": args.queries, "engine": engine_version(), "rows": rows}
    result["extrapolated"] = extrapolate(rows)
    return result


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


def disk_mb(row: dict[str, Any]) -> float:
    """The index folder on disk: the live build, the embedding cache and the build cache."""
    return float(sum(row["disk"].values()))


def extrapolate(rows: list[dict[str, Any]], target: int = 10_000_000) -> dict[str, Any] | None:
    """Figures at `target` passages from the two largest sizes measured, by a stated cost model.

    Linear in passages (a fixed part plus a cost per passage, fitted on the two sizes): resident
    memory, disk, and every build stage but FAISS's. FAISS's IVF stage grows as n^1.5: its
    cells grow as sqrt(n), so k-means (a fixed sample per cell, times the cells) grows as n and
    assigning every vector to its cell as n * sqrt(n). Query time: keyword search as the power
    law through the two sizes (tantivy's block-max pruning reads a part of the posting lists
    that shrinks with size); dense search as sqrt(n) (nprobe cells of n / sqrt(n) vectors
    each); hybrid as the 1M figure plus both retrievers' growth (the rest, fetching and fusing
    the few hits, does not grow).
    """
    sized = sorted((r for r in rows if r.get("build_phases_s")), key=lambda r: r["passages"])
    if len(sized) < 2 or sized[-1]["vector_index"] != "ivf_sq8":
        return None
    a, b = sized[-2], sized[-1]
    na, nb = a["passages"], b["passages"]

    def linear(va: float, vb: float) -> float:
        return float(vb + (vb - va) / (nb - na) * (target - nb))

    def grown(figures: str) -> dict[str, float]:
        stages: dict[str, float] = {}
        for stage, vb in (b.get(figures) or {}).items():
            if stage in ("total", "other", "of which keyword analysis"):
                continue
            va = (a.get(figures) or {}).get(stage, 0.0)
            faiss = stage.startswith("FAISS train")
            stages[stage] = max(vb * (target / nb) ** 1.5 if faiss else linear(va, vb), 0.0)
        return stages

    stages, cpu = grown("build_phases_s"), grown("build_phases_cpu_s")
    out: dict[str, Any] = {
        "passages": target,
        "from": [na, nb],
        "build_s": sum(stages.values()),
        "build_stages_s": stages,
        "build_cpu_s": sum(cpu.values()),
        "build_stages_cpu_s": cpu,
        "rss_mib": linear(a["rss_mib"], b["rss_mib"]),
        "disk_mb": linear(disk_mb(a), disk_mb(b)),
    }
    growth = {}
    ka, kb = a["keyword_p50_ms"], b["keyword_p50_ms"]
    growth["keyword"] = kb * (target / nb) ** (np.log(kb / ka) / np.log(nb / na)) - kb
    growth["semantic"] = b["semantic_p50_ms"] * ((target / nb) ** 0.5 - 1)
    for mode in ("keyword", "semantic"):
        out[f"{mode}_p50_ms"] = b[f"{mode}_p50_ms"] + growth[mode]
    for mode in ("hybrid", FILTERED):
        out[f"{mode}_p50_ms"] = b[f"{mode}_p50_ms"] + growth["keyword"] + growth["semantic"]
    return out


def latency_markdown(result: dict[str, Any], machine_line: str) -> str:
    rows = result["rows"]
    backends = sorted({r["backend"] for r in rows})

    def secs(r: dict[str, Any]) -> str:
        v = r.get("build_s_without_embedding")
        load = r.get("build_load") or ["?"]
        peak = r.get("build_peak_rss_mib")
        at_peak = "" if peak is None else f", peak RSS {peak:,} MiB"
        return "-" if v is None else f"{v:.0f} (load {load[0]}{at_peak})"

    runs = (*MODES, FILTERED)
    body = table(
        [
            "passages",
            "vector index",
            *[f"{m} p50 / p95 ms" for m in runs],
            "query embedding p50 ms",
            "RSS MiB (per 1M)",
            "disk MB per 1M: build + embedding cache + build cache",
            "build s, no embedding (load, peak RSS with workers)",
            "query load",
        ],
        [
            [
                f"{r['passages']:,}",
                r["vector_index"],
                *[f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}" for m in runs],
                f"{r['embed_p50_ms']:.1f}",
                f"{r['rss_mib']:.0f} ({r['rss_mib_per_million']:.0f})",
                " + ".join(
                    f"{v / r['passages'] * 1e6:,.0f}"
                    for v in (
                        r["disk"]["build_mb"],
                        r["disk"]["embedding_cache_mb"],
                        r["disk"]["build_cache_mb"],
                    )
                )
                + f" = {disk_mb(r) / r['passages'] * 1e6:,.0f}",
                secs(r),
                f"{r['load'][0]}-{r['load'][1]}",
            ]
            for r in rows
        ],
    )
    phases = [r for r in rows if r.get("build_phases_s")]
    if phases:
        stages = list(phases[-1]["build_phases_s"])
        body += "\n\nWhere the build's time goes (wall s, CPU s of all threads):\n\n" + table(
            ["stage", *[f"{r['passages']:,}" for r in phases]],
            [
                [
                    stage,
                    *[
                        f"{r['build_phases_s'].get(stage, 0):.1f} / "
                        f"{(r.get('build_phases_cpu_s') or {}).get(stage, 0):.1f}"
                        for r in phases
                    ],
                ]
                for stage in stages
            ],
        )
    guess = result.get("extrapolated")
    if guess:
        body += (
            f"\n\n## {guess['passages']:,} passages, extrapolated\n\n"
            f"From the {guess['from'][0]:,} and {guess['from'][1]:,} rows. "
            + " ".join((extrapolate.__doc__ or "").split("\n\n")[1].split())
            + "\n\n"
            + table(
                ["figure", "10M (model)"],
                [
                    *[[f"{m} p50 ms", f"{guess[f'{m}_p50_ms']:.1f}"] for m in runs],
                    ["RSS MiB", f"{guess['rss_mib']:,.0f}"],
                    ["disk GB (build + caches)", f"{guess['disk_mb'] / 1e3:.1f}"],
                    [
                        "build, no embedding: wall s (CPU s)",
                        f"{guess['build_s']:,.0f} ({guess.get('build_cpu_s', 0):,.0f})",
                    ],
                    *[
                        [
                            f"  {k}",
                            f"{v:,.0f} ({guess.get('build_stages_cpu_s', {}).get(k, 0):,.0f})",
                        ]
                        for k, v in guess["build_stages_s"].items()
                    ],
                ],
            )
        )
    return (
        f"# Scale: 10k to 1M passages through the real build and search (k=5, defaults)\n\n"
        f"{machine_line}"
        f"Synthetic passages (SciFact's words at their frequencies, 20 outlets, dates 2020-2026; "
        f"MiniLM vectors of the eval passages with jittered copies seeded into the embedding "
        f"cache), built by the real build with "
        f"embedding disabled and a cold build cache; {result['queries']} SciFact claims, each "
        f"asked once per mode in turn, query embedding ({', '.join(backends)}) included. "
        f"hybrid+filter: one outlet and one year (1/140 of the documents). RSS is the growth of "
        f"the process from opening the index through the queries. Engine: "
        f"{result.get('engine', 'unknown')}.\n\n" + body
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
    p.add_argument("--name", default="scale", help="results file name")
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
