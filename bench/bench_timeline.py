"""What a timeline (and the outlet facets) cost on top of the search, at 100k passages.

    .venv/bin/python bench/bench_timeline.py [--size 100000] [--queries 100]

The corpus is bench_milvus's synthetic one (60-word passages cut from SciFact and TIME 1963
texts, 5 to a document, 20 outlets, dates over 2020-2026), with every 20th document undated,
random unit vectors, stored by the real local writer. The real `CoverageIndex` opens it with a
random unit vector standing in for the query embedding (the model's cost is the same with or
without a timeline). Per SciFact claim, warm (10 first, not timed): `search` (k=5, what the list
shows), `coverage` (the timeline: the 100 best stories, or 200, of the same search, counted),
and both with a filter (one outlet, one year, where the facets need a second `coverage` without the
outlet). The 1-minute load is read before and after each figure. Writes
bench/results/timeline.json/.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_milvus import RandomQueries, content, load1
from machine import REPO, SHARED_EVAL, WORK, print_machine, save, table

sys.path.insert(0, str(REPO / "src"))

from coverage_search import CoverageIndex
from coverage_search.build.layout import FORMAT_VERSION
from coverage_search.engine.local.engine import LocalEngine, LocalWriter
from coverage_search.query.settings import SearchSettings


def prepare(size: int) -> tuple[Path, dict[str, Any]]:
    root = WORK / f"timeline-{size}-format{FORMAT_VERSION}"  # a new index format writes anew
    marker = root / "build.json"
    if marker.is_file():
        return root / "build-bench", dict(json.loads(marker.read_text()))
    shutil.rmtree(root, ignore_errors=True)
    data = content(size)
    docs = [
        dataclasses.replace(d, published=None) if i % 20 == 0 else d
        for i, d in enumerate(data.documents)
    ]
    data = dataclasses.replace(data, documents=docs)
    build = root / "build-bench"
    build.mkdir(parents=True)
    began = time.perf_counter()
    writer = LocalWriter(build)
    manifest = writer.write(data)
    writer.publish([build])
    print(f"  {size:,} passages written in {time.perf_counter() - began:.1f} s", flush=True)
    marker.write_text(json.dumps(manifest) + "\n")
    return build, manifest


def timed(fn: Callable[[str], object], queries: list[str]) -> dict[str, Any]:
    for q in queries[:10]:
        fn(q)
    before, times = load1(), []
    for q in queries[10:]:
        began = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - began) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(statistics.quantiles(times, n=20)[18], 1),
        "load": [before, load1()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    info = print_machine()
    build, manifest = prepare(args.size)
    full = {
        "model": "random", "dimension": 384, "built_at": "",
        "counts": {"passages": args.size, "documents": args.size // 5}, **manifest,
    }  # fmt: skip
    engine = LocalEngine(build, full)
    index = CoverageIndex(build, build, full, engine, RandomQueries(), SearchSettings())  # type: ignore[arg-type]
    claims = [
        json.loads(line)["text"]
        for line in (SHARED_EVAL / "scifact" / "queries.jsonl").read_text().splitlines()
    ][: args.queries + 10]
    one = {"outlets": ["Outlet 3"], "since": "2024-01-01", "until": "2024-12-31"}
    dates = {"since": "2024-01-01", "until": "2024-12-31"}
    runs: dict[str, Callable[[str], object]] = {
        "search (k=5)": lambda q: index.search(q, k=5),
        "timeline": lambda q: index.coverage(q),
        "timeline (depth 200)": lambda q: index.coverage(q, depth=200),
        "search + timeline": lambda q: (index.search(q, k=5), index.coverage(q)),
        "search, filtered": lambda q: index.search(q, k=5, **one),  # type: ignore[arg-type]
        "search + timeline + facets, filtered": lambda q: (
            index.search(q, k=5, **one),  # type: ignore[arg-type]
            index.coverage(q, **one),  # type: ignore[arg-type]
            index.coverage(q, **dates),
        ),
    }
    figures = {}
    for label, fn in runs.items():
        figures[label] = timed(fn, claims)
        f = figures[label]
        print(f"  {label:<38} p50 {f['p50_ms']:7.1f} ms  p95 {f['p95_ms']:7.1f} ms"
              f"  load {f['load'][0]}→{f['load'][1]}", flush=True)  # fmt: skip
    sample = index.coverage(claims[0])
    engine.close()
    extra = {
        "unfiltered_p50_ms": round(
            figures["search + timeline"]["p50_ms"] - figures["search (k=5)"]["p50_ms"], 1
        ),
        "filtered_p50_ms": round(
            figures["search + timeline + facets, filtered"]["p50_ms"]
            - figures["search, filtered"]["p50_ms"],
            1,
        ),
    }
    machine_line = (
        f"{info['nproc']} cores, {info['cpu']}, load {info['load_1min_at_start']} at start"
    )
    rows = [
        [label, f"{f['p50_ms']:.1f}", f"{f['p95_ms']:.1f}", f"{f['load'][0]} → {f['load'][1]}"]
        for label, f in figures.items()
    ]
    md = (
        f"# Timeline cost at {args.size:,} passages\n\n"
        f"`python bench/bench_timeline.py --size {args.size}` on {machine_line}; "
        f"{args.queries} SciFact claims, warm, local engine, random query vectors.\n\n"
        + table(["run", "p50 ms", "p95 ms", "load (1 min)"], rows)
        + f"\n\nThe timeline adds {extra['unfiltered_p50_ms']} ms (p50) to the search; with a "
        f"filter, timeline and facets together add {extra['filtered_p50_ms']} ms. A sample "
        f"timeline counted {sample.total} stories ({sample.undated} undated) by "
        f"{sample.period}.\n"
    )
    save("timeline", {"size": args.size, "figures": figures, "extra": extra}, md)


if __name__ == "__main__":
    main()
