"""Keyword confidence in hybrid fusion: nDCG@10 on ../shared/eval, tune and confirm halves.

    .venv/bin/python bench/eval_keyword_confidence.py [--datasets scifact time1963]
        [--values 0 0.5 0.75 1 1.5]

Min-max normalization gives the best keyword passage a score of 1 however little of the query
it holds. With `SearchSettings.keyword_confidence` = c > 0, the keyword side's weight is
scaled by min(1, best BM25 score / (c × the searched terms' idf mass)), so a keyword list
whose best match covers little of the query (a paraphrased question) counts for less and the
dense side decides (query/fusion.fuse). 0 is min-max as before. Default hybrid search
otherwise (alpha 0.5, document prior 0.35). Writes bench/results/keyword_confidence.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

from evalkit import prepare, rankings, scores
from machine import print_machine, save, table

from coverage_search import CoverageIndex, SearchSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    parser.add_argument("--values", type=float, nargs="+", default=[0, 0.5, 0.75, 1, 1.5])
    args = parser.parse_args()
    info = print_machine()
    results: dict[str, Any] = {}
    md = [
        f"# Keyword confidence in hybrid fusion (nDCG@10, document level)\n\nMachine: "
        f"{info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load at start "
        f"{info['load_1min_at_start']}. Tune = judged queries at even positions, confirm = odd.\n"
    ]
    for name in args.datasets:
        prep = prepare(name)
        folder = prep.index.index_dir
        prep.index.close()
        rows: list[dict[str, Any]] = []
        for value in args.values:
            index = CoverageIndex.open(folder, settings=SearchSettings(keyword_confidence=value))
            run = dataclasses.replace(prep, index=index)
            start = time.perf_counter()
            ranked = rankings(run, run.tune + run.confirm, mode="hybrid")
            row: dict[str, Any] = {"keyword_confidence": value}
            for half, ids in (("tune", run.tune), ("confirm", run.confirm)):
                row[half] = scores(run, {q: ranked[q] for q in ids})["ndcg_at_10"]
            row["all"] = scores(run, ranked)["ndcg_at_10"]
            row["seconds"] = round(time.perf_counter() - start, 1)
            index.close()
            rows.append(row)
            print(
                f"{name} c={value:g}: tune {row['tune']:.4f} confirm {row['confirm']:.4f} "
                f"all {row['all']:.4f} ({row['seconds']} s)",
                flush=True,
            )
        results[name] = rows
        md.append(f"\n## {name}\n")
        md.append(
            table(
                ["keyword confidence", "tune", "confirm", "all"],
                [
                    [f"{r['keyword_confidence']:g}", f"{r['tune']:.4f}", f"{r['confirm']:.4f}",
                     f"{r['all']:.4f}"]
                    for r in rows
                ],
            )
        )  # fmt: skip
    save("keyword_confidence", {"machine": info, "results": results}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
