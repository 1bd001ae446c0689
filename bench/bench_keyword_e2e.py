"""The local engine with tantivy keywords, end to end: keyword, semantic, hybrid at 100k/1M.

    .venv/bin/python bench/bench_keyword_e2e.py [--sizes 100000 1000000] [--queries 200]

Reuses bench_keyword.py's work folders ($COVERAGE_BENCH_WORK/keyword-<size>). Writes
bench/results/keyword_end_to_end.json/.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from typing import Any

from bench_keyword import child, load1
from machine import REPO, SHARED_EVAL, WORK, print_machine, rss_mib, save, table

sys.path.insert(0, str(REPO / "src"))


def end_to_end(sizes: list[int], queries: int) -> list[dict[str, Any]]:
    """The local engine as built now (tantivy keywords), through the real Searcher.

    bench_milvus.py's content and measure: LocalWriter stores the synthetic BuildContent
    (random unit vectors, the vector kind the engine picks by size), then keyword, semantic,
    hybrid and filtered hybrid searches (k=5, default settings, a random query vector standing
    in for the model) in a fresh process per size.
    """
    rows = []
    for size in sizes:
        rows.append(child("end-to-end", str(size), str(queries), script=__file__))
        print(f"  {size:,}: {json.dumps(rows[-1])}", flush=True)
    return rows


def end_to_end_one(size: int, queries: int) -> dict[str, Any]:
    from bench_milvus import content
    from bench_milvus import measure as measure_modes

    from coverage_search.build.layout import FORMAT_VERSION
    from coverage_search.engine.local.engine import LocalEngine, LocalWriter

    root = WORK / f"keyword-{size}" / f"engine-format{FORMAT_VERSION}"
    marker = root / "build.json"
    build_dir = root / "build-bench"
    if not marker.is_file():
        shutil.rmtree(root, ignore_errors=True)
        build_dir.mkdir(parents=True)
        data = content(size)
        began, load = time.perf_counter(), load1()
        manifest = LocalWriter(build_dir).write(data)
        written = {
            "manifest": {**manifest, "dimension": 384, "counts": {"passages": size}},
            "write_s": round(time.perf_counter() - began, 1),
            "write_load": [load, load1()],
        }
        del data
        marker.write_text(json.dumps(written) + "\n")
    written = json.loads(marker.read_text())
    claims = [
        json.loads(line)["text"]
        for line in (SHARED_EVAL / "scifact" / "queries.jsonl").read_text().splitlines()
    ][: queries + 10]
    before = rss_mib()
    engine = LocalEngine(build_dir, written["manifest"])
    try:
        figures = measure_modes(engine, claims)
    finally:
        engine.close()
    return {
        "passages": size,
        "vector_index": written["manifest"]["vector_index"],
        "write_s": written["write_s"],
        "write_load": written["write_load"],
        "rss_mib": round(rss_mib() - before, 1),
        **figures,
    }


def end_to_end_markdown(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    labels = ("keyword", "semantic", "hybrid", "hybrid+filter")
    return (
        "# The local engine with tantivy keywords, end to end (k=5, p50 / p95 ms, load)\n\n"
        f"Machine: {info['nproc']} cores, {info['cpu']}, load {info['load_1min_at_start']} at "
        f"start ({info['date']}), shared with other work.\n\n"
        + (end_to_end.__doc__ or "").split("\n\n")[1].replace("\n", " ").strip()
        + "\n\n"
        + table(
            ["passages", "vector index", *labels, "write s (load)", "RSS MiB"],
            [
                [
                    f"{r['passages']:,}",
                    r["vector_index"],
                    *[
                        f"{r[m]['p50_ms']:.1f} / {r[m]['p95_ms']:.1f} ({r[m]['load'][0]})"
                        for m in labels
                    ],
                    f"{r['write_s']:.0f} ({r['write_load'][0]})",
                    f"{r['rss_mib']:.0f}",
                ]
                for r in rows
            ],
        )
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "end-to-end":  # a child: one size
        with contextlib.redirect_stdout(sys.stderr):
            row = end_to_end_one(int(sys.argv[2]), int(sys.argv[3]))
        print(json.dumps(row))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    info = print_machine()
    rows = end_to_end(args.sizes, args.queries)
    save("keyword_end_to_end", {"rows": rows}, end_to_end_markdown(rows, info))


if __name__ == "__main__":
    main()
