"""Reading Markdown files: time per file with libyaml's YAML parser against PyYAML's own.

    .venv/bin/python bench/bench_reading.py [--files 2000] [--rounds 5]

Files: the synthetic Markdown documents of bench_speed.py (YAML front matter with a title,
outlet and date, then sections of SciFact's words; built there first, at
$COVERAGE_BENCH_WORK/synthetic-100000), read one at a time through the build's own
read_document, without a build cache, on one thread. The two parsers alternate round by round;
"pure Python" is the reader with every front matter sent down the path that deep or hostile
YAML takes. Writes bench/results/reading.json/.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from machine import REPO, WORK, heading, load1, print_machine, save, table


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from coverage_search.sources import reading
    from coverage_search.sources.scan import read_document

    root = WORK / "synthetic-100000" / "corpus"
    files = sorted(root.glob("*/*.md"))[: args.files]
    if not files:
        sys.exit(f"no synthetic corpus at {root}: run bench/bench_speed.py latency first")
    info = print_machine()
    shallow = reading._shallow
    variants = {"libyaml": shallow, "pure Python": lambda _source: False}
    times: dict[str, list[float]] = {name: [] for name in variants}
    yaml_share: dict[str, list[float]] = {name: [] for name in variants}
    loads = [load1()]
    for _ in range(args.rounds):
        for name, guard in variants.items():
            reading._shallow = guard
            start = time.perf_counter()
            for path in files:
                read_document(path, root)
            elapsed = time.perf_counter() - start
            text = [Path(p).read_text(encoding="utf-8") for p in files[:200]]
            t = time.perf_counter()
            for source in text:
                reading.split_front_matter(source)
            yaml_seconds = (time.perf_counter() - t) / len(text) * len(files)
            times[name].append(elapsed / len(files) * 1000)
            yaml_share[name].append(yaml_seconds / elapsed)
        loads.append(load1())
    reading._shallow = shallow
    rows = [
        {
            "parser": name,
            "ms_per_file_median": round(statistics.median(times[name]), 3),
            "ms_per_file_rounds": [round(t, 3) for t in times[name]],
            "front_matter_share": round(statistics.median(yaml_share[name]), 3),
        }
        for name in variants
    ]
    for row in rows:
        print(row)
    title = (
        f"Reading Markdown: libyaml against PyYAML's own parser ({len(files):,} files, "
        f"{args.rounds} rounds)"
    )
    md = heading(title, info, f"{min(loads)}-{max(loads)}", __doc__) + table(
        ["YAML parser", "ms a file (median of rounds)", "rounds", "front matter's share"],
        [
            [
                r["parser"],
                f"{r['ms_per_file_median']:.3f}",
                " ".join(f"{t:.3f}" for t in r["ms_per_file_rounds"]),
                f"{r['front_matter_share']:.0%}",
            ]
            for r in rows
        ],
    )
    save("reading", {"files": len(files), "rounds": args.rounds, "rows": rows}, md)


if __name__ == "__main__":
    main()
