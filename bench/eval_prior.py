"""The document prior: hybrid nDCG@10 on both halves of SciFact and TIME, at several weights.

    .venv/bin/python bench/eval_prior.py [--datasets scifact time1963] [--weights 0 0.25 0.35]

Each collection is built with the real `CoverageIndex.build` (evalkit; the build stores every
document's centroid) and ranked as the product ranks documents (evalkit.rankings: top 10 from
a k=10 search, one passage per document), with SearchSettings.document_prior set to each
weight: the mean cosine of a passage's whole document times the weight, added to its fused
score. Weight 0 is search without the prior. Keep a weight only if it wins on the tune half
of both collections and loses on neither confirm half. Writes bench/results/prior.json/.md.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from evalkit import prepare, rankings, scores
from machine import print_machine, save, table

WEIGHTS = (0.0, 0.1, 0.25, 0.35, 0.5)


def measure(name: str, weights: list[float]) -> list[dict[str, Any]]:
    prep = prepare(name)
    base = prep.index.settings
    rows = []
    for weight in weights:
        prep.index.settings = dataclasses.replace(base, document_prior=weight)
        row: dict[str, Any] = {"dataset": name, "weight": weight}
        for half, ids in (("tune", prep.tune), ("confirm", prep.confirm)):
            ranked = rankings(prep, ids, mode="hybrid")
            row[half] = round(scores(prep, ranked)["ndcg_at_10"], 4)
        print(row, flush=True)
        rows.append(row)
    prep.index.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    parser.add_argument("--weights", nargs="+", type=float, default=list(WEIGHTS))
    args = parser.parse_args()
    info = print_machine()
    rows = [r for name in args.datasets for r in measure(name, args.weights)]
    md = (
        "# Document prior: hybrid nDCG@10, tune / confirm\n\n"
        f"`python bench/eval_prior.py` ({info['nproc']} cores, load "
        f"{info['load_1min_at_start']} at start). Weight 0 is search without the prior.\n\n"
        + table(
            ["dataset", "weight", "tune", "confirm"],
            [[r["dataset"], r["weight"], f"{r['tune']:.4f}", f"{r['confirm']:.4f}"] for r in rows],
        )
        + "\n"
    )
    save("prior", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
