"""Irregular word forms in keyword search: nDCG@10 on ../shared/eval, tune and confirm halves.

    .venv/bin/python bench/eval_inflections.py [--datasets scifact time1963]

With `SearchSettings.inflections`, keyword search also asks for each query term's irregular
forms ("leave" → "left", "man" → "men"; query/inflections.py), which the Porter stemmer cannot
join. Keyword-only and default hybrid search, off against on. Writes
bench/results/inflections.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from evalkit import prepare, rankings, scores
from machine import print_machine, save, table

from coverage_search import CoverageIndex, SearchSettings
from coverage_search.query.inflections import with_inflections
from coverage_search.query.terms import keyword_terms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    args = parser.parse_args()
    info = print_machine()
    results: dict[str, Any] = {}
    md = [
        f"# Irregular forms in keyword search (nDCG@10, document level)\n\nMachine: "
        f"{info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load at start "
        f"{info['load_1min_at_start']}. Tune = judged queries at even positions, confirm = odd.\n"
    ]
    rows_md = []
    for name in args.datasets:
        prep = prepare(name, progress=False)
        folder = prep.index.index_dir
        queries = prep.tune + prep.confirm
        touched = sum(
            len(with_inflections(t := keyword_terms(prep.data.queries[q]))) > len(t)
            for q in queries
        )
        prep.index.close()
        rows: list[dict[str, Any]] = []
        for on in (False, True):
            index = CoverageIndex.open(folder, settings=SearchSettings(inflections=on))
            run = dataclasses.replace(prep, index=index)
            row: dict[str, Any] = {"inflections": on}
            for mode in ("keyword", "hybrid"):
                ranked = rankings(run, queries, mode=mode)
                row[mode] = {
                    half: scores(run, {q: ranked[q] for q in ids})["ndcg_at_10"]
                    for half, ids in (("tune", run.tune), ("confirm", run.confirm))
                }
            index.close()
            rows.append(row)
            print(name, row, flush=True)
            rows_md.append(
                [name, "on" if on else "off", f"{touched} of {len(queries)}"]
                + [f"{row[m]['tune']:.4f} / {row[m]['confirm']:.4f}" for m in ("keyword", "hybrid")]
            )
        results[name] = {"rows": rows, "queries_touched": touched, "queries": len(queries)}
    md.append(
        "\n"
        + table(
            ["dataset", "inflections", "queries with a form added", "keyword", "hybrid"], rows_md
        )
    )
    save("inflections", {"machine": info, "results": results}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
