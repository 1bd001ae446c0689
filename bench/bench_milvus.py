"""The Milvus engine against the local one: query latency at 10k/100k passages, and TIME 1963.

    .venv/bin/python bench/bench_milvus.py [--sizes 10000 100000] [--queries 100] [--no-eval]

latency: passages of 60 consecutive words cut at random offsets from the SciFact and TIME 1963
texts (real words at real frequencies), 5 to a document, 20 outlets, dates over 2020-2026,
random unit vectors. Both engines' writers store the same BuildContent directly (no model);
the real Searcher then asks SciFact claims in each mode, with a random unit vector standing in
for the query embedding (so the figures are the engines' and fusion's, not the model's); one
filtered hybrid column (one outlet, one year). Warm: 10 queries first, not timed. The 1-minute
load average is read before and after every figure (the machine has 2 shared cores). Milvus is
Milvus Lite 2.5.1 (a `milvus` child process on a Unix socket); its RSS is that child's.

eval: `evaluate` (what `coverage-search eval` runs) on TIME 1963 with each engine in turn, the
embeddings cached in one kept index folder. Writes bench/results/milvus.json/.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from machine import REPO, SHARED_EVAL, WORK, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search.engine.base import BuildContent, Engine
from coverage_search.engine.local.engine import LocalEngine, LocalWriter
from coverage_search.engine.milvus import MilvusEngine, MilvusWriter
from coverage_search.query.search import Searcher
from coverage_search.query.settings import SearchSettings
from coverage_search.records import Document, Passage, SearchFilters

MODES = ("keyword", "semantic", "hybrid")
WORDS, PER_DOC, DIM = 60, 5, 384
OUTLETS = [f"Outlet {i}" for i in range(20)]
FILTER = SearchFilters(outlets=("Outlet 3",), since="2024-01-01", until="2024-12-31")


def word_stream() -> list[str]:
    words: list[str] = []
    for name in ("scifact", "time1963"):
        with (SHARED_EVAL / name / "corpus.jsonl").open() as lines:
            for line in lines:
                row = json.loads(line)
                words += f"{row.get('title', '')} {row['text']}".split()
    return words


def content(size: int) -> BuildContent:
    rng = np.random.default_rng(size)
    words = word_stream()
    documents, grouped = [], []
    for d in range(size // PER_DOC):
        texts = [
            " ".join(words[o : o + WORDS])
            for o in rng.integers(0, len(words) - WORDS, size=PER_DOC)
        ]
        text, passages, at = "", [], 0
        for i, t in enumerate(texts):
            passages.append(Passage(f"d{d}.md", i, t, at, at + len(t)))
            text += t + "\n\n"
            at = len(text)
        day = f"{2020 + d % 7}-{1 + d % 12:02d}-{1 + d % 28:02d}"
        documents.append(
            Document(
                doc_id=f"d{d}.md",
                path=f"d{d}.md",
                title=f"Story {d}",
                text=text,
                format="markdown",
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                outlet=OUTLETS[d % len(OUTLETS)],
                published=day,
                language="en",
            )
        )
        grouped.append(passages)
    vectors = rng.standard_normal((len(documents) * PER_DOC, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return BuildContent(
        documents=documents,
        passages=grouped,
        vectors=vectors,
        story_ids={},
        indexed_as=list(range(len(documents))),
        stemming=True,
        fingerprint=f"bench-{size}",
    )


def prepare(size: int) -> dict[str, dict[str, Any]]:
    """Both engines' builds of `size` passages (kept in $COVERAGE_BENCH_WORK for reruns)."""
    root = WORK / f"milvus-{size}"
    marker = root / "builds.json"
    if marker.is_file():
        return dict(json.loads(marker.read_text()))
    shutil.rmtree(root, ignore_errors=True)
    data = content(size)
    builds: dict[str, dict[str, Any]] = {}
    for name, make in (("local", LocalWriter), ("milvus", MilvusWriter)):
        build_dir = root / name / "build-bench"
        build_dir.mkdir(parents=True)
        writer = make(build_dir)
        began, load = time.perf_counter(), load1()
        manifest = writer.write(data)
        writer.publish()
        seconds = time.perf_counter() - began
        builds[name] = {
            "dir": str(build_dir),
            "manifest": manifest,
            "write_s": seconds,
            "write_load": [load, load1()],
        }
        print(f"  {name}: {size:,} passages written in {seconds:.1f} s", flush=True)
    marker.write_text(json.dumps(builds) + "\n")
    return builds


class RandomQueries:
    """Stands in for the model: a fixed random unit vector per query text."""

    def encode_query(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
        return v / np.linalg.norm(v)


def load1() -> float:
    return round(os.getloadavg()[0], 2)


def milvus_rss_mib() -> float | None:
    """Resident memory of this process's `milvus` children (Milvus Lite), in MiB."""
    total, found = 0, False
    for pid in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != os.getpid() or "(milvus)" not in stat:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    found = True
        except (OSError, ValueError, IndexError):
            continue
    return round(total / 1024, 1) if found else None


def measure(engine: Engine, queries: list[str]) -> dict[str, Any]:
    searcher = Searcher(engine, RandomQueries(), SearchSettings(), corpus_url="corpus")  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    runs = [(m, SearchFilters()) for m in MODES] + [("hybrid+filter", FILTER)]
    for label, filters in runs:
        mode = label.split("+")[0]
        for q in queries[:10]:
            searcher.search(q, filters, k=5, mode=mode, per_document=2, group_stories=True)
        before, times = load1(), []
        for q in queries[10:]:
            began = time.perf_counter()
            searcher.search(q, filters, k=5, mode=mode, per_document=2, group_stories=True)
            times.append((time.perf_counter() - began) * 1000)
        cuts = statistics.quantiles(times, n=20)
        out[label] = {
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(cuts[18], 2),
            "load": [before, load1()],
        }
        print(
            f"    {label:<14} p50 {out[label]['p50_ms']:7.2f} ms  p95 {out[label]['p95_ms']:7.2f}"
            f" ms  load {before}→{out[label]['load'][1]}",
            flush=True,
        )
    return out


def latency(sizes: list[int], queries: int) -> list[dict[str, Any]]:
    claims = [
        json.loads(line)["text"]
        for line in (SHARED_EVAL / "scifact" / "queries.jsonl").read_text().splitlines()
    ][: queries + 10]
    rows = []
    for size in sizes:
        print(f"{size:,} passages", flush=True)
        builds = prepare(size)
        for name, opener in (("local", LocalEngine), ("milvus", MilvusEngine)):
            build = builds[name]
            engine = opener(Path(build["dir"]), build["manifest"])
            try:
                print(f"  {name}", flush=True)
                figures = measure(engine, claims)
                rss = milvus_rss_mib() if name == "milvus" else None
            finally:
                engine.close()
            rows.append(
                {
                    "passages": size,
                    "engine": name,
                    "write_s": round(build["write_s"], 1),
                    "write_load": build.get("write_load"),
                    "milvus_rss_mib": rss,
                    **figures,
                }
            )
    return rows


def evaluation() -> list[dict[str, Any]]:
    from coverage_search.evaluation import evaluate, load_beir_folder

    data = load_beir_folder(SHARED_EVAL / "time1963")
    keep = WORK / "milvus-eval" / "index"  # one folder: the second engine reuses the embeddings
    rows = []
    for engine in ("local", "milvus"):
        before = load1()
        report = evaluate(data, index_dir=keep, progress=False, build_options={"engine": engine})
        for m in report.modes:
            rows.append(
                {
                    "engine": engine,
                    "mode": m.mode,
                    "ndcg_at_10": round(m.ndcg_at_10, 4),
                    "recall_at_100": round(m.recall_at_100, 4),
                    "p50_ms": round(m.p50_ms, 1),
                    "load": [before, load1()],
                }
            )
            print(f"  {engine:<6} {m.mode:<8} nDCG@10 {m.ndcg_at_10:.4f}", flush=True)
    return rows


def markdown(info: dict[str, Any], lat: list[dict[str, Any]], ev: list[dict[str, Any]]) -> str:
    labels = [*MODES, "hybrid+filter"]

    def fig(row: dict[str, Any], label: str) -> str:
        f = row[label]
        return f"{f['p50_ms']:.1f} / {f['p95_ms']:.1f} (load {f['load'][0]}→{f['load'][1]})"

    lines = [
        "# Milvus engine vs local engine",
        "",
        f"Machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load "
        f"{info['load_1min_at_start']} at start ({info['date']}); the cores are shared with "
        "other work, so each figure carries the 1-minute load average before → after it.",
        "",
        "## Query latency, warm, in-process (k=5, default settings), p50 / p95 ms",
        "",
        "Passages"
        + __doc__.split("latency: passages", 1)[1].split("eval:", 1)[0].rstrip().replace("\n", " "),
        "",
        table(
            ["passages", "engine", *labels, "write s (once)", "milvus RSS MiB"],
            [
                [
                    f"{r['passages']:,}",
                    r["engine"],
                    *(fig(r, lb) for lb in labels),
                    f"{r['write_s']:.1f} (load {'→'.join(map(str, r['write_load'] or ['?']))})",
                    f"{r['milvus_rss_mib']:.0f}" if r["milvus_rss_mib"] else "—",
                ]
                for r in lat
            ],
        ),
    ]
    if ev:
        lines += [
            "",
            "## TIME 1963 (BEIR), `coverage-search eval --engine local|milvus`, same run",
            "",
            table(
                ["engine", "mode", "nDCG@10", "R@100", "p50 ms (with the model)", "load"],
                [
                    [
                        r["engine"],
                        r["mode"],
                        f"{r['ndcg_at_10']:.4f}",
                        f"{r['recall_at_100']:.4f}",
                        f"{r['p50_ms']:.1f}",
                        f"{r['load'][0]}→{r['load'][1]}",
                    ]
                    for r in ev
                ],
            ),
        ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--no-eval", action="store_true")
    args = p.parse_args()
    info = print_machine()
    lat = latency(args.sizes, args.queries)
    ev = [] if args.no_eval else evaluation()
    save("milvus", {"latency": lat, "eval": ev}, markdown(info, lat, ev))


if __name__ == "__main__":
    main()
