"""Search p50 per mode for the code of two source folders, in alternation, at one synthetic size.

    .venv/bin/python bench/bench_search_ab.py OLD_SRC NEW_SRC [--size 1000000] [--rounds 3]

Modes: semantic, hybrid, keyword, and hybrid with one outlet and one year; `--modes` may add
hybrid+outlet (one outlet) and hybrid+year (one year). For an A/B of a
search change on this shared machine: each round runs one fresh process per source folder
(`git worktree add /tmp/old <commit>` gives the old one's `src`), over the index bench_speed.py
built for that size, 200 SciFact claims a mode, query embedding included (its cache emptied
before every search). The two sides take turns, so the load lands on both alike.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import SHARED_EVAL, WORK

MODES = ("semantic", "hybrid", "keyword", "hybrid+filter")
# bench_speed.py's filter: one outlet and one year (1/140 of the documents); with
# --modes, also one outlet (1/20) or one year (1/7) alone.
FILTERS: dict[str, dict[str, object]] = {
    "hybrid+filter": {"outlets": ["Outlet 3"], "since": "2024-01-01", "until": "2024-12-31"},
    "hybrid+outlet": {"outlets": ["Outlet 3"]},
    "hybrid+year": {"since": "2024-01-01", "until": "2024-12-31"},
}


def _options(mode: str) -> dict[str, object]:
    return {"mode": "hybrid", **FILTERS[mode]} if mode in FILTERS else {"mode": mode}


def measure(src: str, size: int, modes: tuple[str, ...] = MODES) -> None:
    """In a child: the p50s of the code in `src`, printed as one line."""
    sys.path.insert(0, src)
    from coverage_search.api import CoverageIndex
    from coverage_search.embed.embedder import _cached_query
    from coverage_search.evaluation import load_beir_folder

    texts = list(load_beir_folder(SHARED_EVAL / "scifact").queries.values())
    random.Random(3).shuffle(texts)
    index = CoverageIndex.open(WORK / f"synthetic-{size}" / "index")
    for q in texts[:20]:
        for m in modes:
            index.search(q, **_options(m))  # type: ignore[arg-type]
    times: dict[str, list[float]] = {m: [] for m in modes}
    start = os.getloadavg()[0]
    for q in texts[20:220]:
        for m in modes:
            _cached_query.cache_clear()
            t = time.perf_counter()
            index.search(q, **_options(m))  # type: ignore[arg-type]
            times[m].append((time.perf_counter() - t) * 1000)
    p50 = {m: round(statistics.median(v), 2) for m, v in times.items()}
    print(f"{src}: {p50} load {start:.2f}-{os.getloadavg()[0]:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs=2, help="two src folders: the old code, then the new")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=[*MODES, *FILTERS])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.child, args.size, tuple(args.modes))
        return
    folder = WORK / f"synthetic-{args.size}" / "index"
    if not (folder / "CURRENT").is_file():
        sys.exit(f"No index at {folder}: run bench/bench_speed.py latency --sizes {args.size}.")
    for _ in range(args.rounds):
        for src in args.sources:
            me = str(Path(__file__).resolve())
            cmd = [sys.executable, me, *args.sources, "--size", str(args.size)]
            cmd += ["--modes", *args.modes, "--child", src]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
