"""The first filtered search after opening an index, with and without warm_up (the app's).

    .venv/bin/python bench/bench_first_query.py [--index DIR] [--rounds 3]

Each run is a fresh process (nothing cached in it; the files stay in the OS page cache, as
for an app restarted on the same machine): open the index, call warm_up() or not, then time
one hybrid search with an outlet filter and a second with another outlet. warm_up reads the
documents' passage runs, which the first filtered search otherwise reads (about half a second
at a million passages), and sets the refusal bar; the two variants alternate, round by round,
so the machine's load hits them alike. Default index: the 1M synthetic index that
bench_speed.py builds. Results: bench/results/first_query.json/.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from machine import REPO, WORK, heading, load1, print_machine, save, table

RUN = """
import json, sys, time
from coverage_search import CoverageIndex
t = time.perf_counter()
index = CoverageIndex.open(sys.argv[1])
opened = time.perf_counter() - t
t = time.perf_counter()
if sys.argv[2] == "warm":
    index.warm_up()
warm = time.perf_counter() - t
index.search("warm the model", k=1)  # the model's first run is not the filter's cost
times = []
for outlet in ("Outlet 3", "Outlet 7"):
    t = time.perf_counter()
    index.search("chip export rules and their effect on AI labs", k=10, outlets=[outlet])
    times.append(time.perf_counter() - t)
print(json.dumps({"open": opened, "warm_up": warm, "first": times[0], "second": times[1]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=WORK / "synthetic-1000000" / "index")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    info = print_machine()
    env = {"PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    loads = [load1()]
    for r in range(args.rounds):
        for variant in ("cold", "warm") if r % 2 == 0 else ("warm", "cold"):
            out = subprocess.run(
                [sys.executable, "-c", RUN, str(args.index), variant],
                capture_output=True, text=True, env=env, check=True,
            )  # fmt: skip
            runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(variant, runs[variant][-1], flush=True)
        loads.append(load1())
    medians = {
        v: {key: statistics.median(run[key] for run in rs) * 1000 for key in rs[0]}
        for v, rs in runs.items()
    }
    load = f"{min(loads):.1f}-{max(loads):.1f}"
    rows = [
        [v, f"{m['open']:.0f}", f"{m['warm_up']:.0f}", f"{m['first']:.0f}", f"{m['second']:.0f}"]
        for v, m in (("without warm_up", medians["cold"]), ("with warm_up", medians["warm"]))
    ]
    markdown = (
        heading("First filtered search after open", info, load, __doc__)
        + table(["", "open ms", "warm_up ms", "first filtered search ms", "second ms"], rows)
        + f"\n\nIndex: {args.index}; medians of {args.rounds} fresh processes each.\n"
    )
    save("first_query", {"index": str(args.index), "runs": runs, "medians_ms": medians}, markdown)
    print(markdown)


if __name__ == "__main__":
    main()
