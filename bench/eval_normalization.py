"""How convex fusion normalizes each retriever's scores: hybrid nDCG@10 on both halves.

    .venv/bin/python bench/eval_normalization.py [--datasets scifact time1963]

Convex fusion adds alpha × the dense score and (1 - alpha) × the keyword score after
normalizing each list of candidates (query/fusion._minmax). Min-max (the product) maps the
best candidate to 1 and the last of the pool to 0, so the scale depends on how deep the pool
reaches. Tried instead, by replacing that one function (no product change until one wins):

- z-score: (s - mean) / standard deviation of the list;
- distribution-based (DBSF, as Qdrant fuses): min-max between mean - 3 sd and mean + 3 sd;
- max: s / the best score (keyword scores and cosines are positive), no shift;
- min-max over the top 20 only (scores under the 20th clipped to 0).

Ranked as the product ranks documents (evalkit.rankings). Keep one only if it wins both tune
halves and loses neither confirm half. Writes bench/results/normalization.json/.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
from evalkit import prepare, rankings, scores
from machine import print_machine, save, table

from coverage_search.query import fusion

Normalize = Callable[[dict[int, float]], dict[int, float]]
_product: Normalize = fusion._minmax


def zscore(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    x = np.array(list(values.values()))
    sd = float(x.std())
    if sd < 1e-12:
        return dict.fromkeys(values, 1.0)
    mean = float(x.mean())
    return {i: (s - mean) / sd for i, s in values.items()}


def dbsf(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    x = np.array(list(values.values()))
    sd = float(x.std())
    if sd < 1e-12:
        return dict.fromkeys(values, 1.0)
    lo, hi = float(x.mean()) - 3 * sd, float(x.mean()) + 3 * sd
    return {i: min(1.0, max(0.0, (s - lo) / (hi - lo))) for i, s in values.items()}


def by_max(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    hi = max(values.values())
    return {i: s / hi for i, s in values.items()} if hi > 0 else dict.fromkeys(values, 1.0)


def top20(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    ordered = sorted(values.values(), reverse=True)
    hi, lo = ordered[0], ordered[min(19, len(ordered) - 1)]
    if hi - lo < 1e-12:
        return dict.fromkeys(values, 1.0)
    return {i: max(0.0, (s - lo) / (hi - lo)) for i, s in values.items()}


VARIANTS: dict[str, Normalize] = {
    "min-max (product)": _product,
    "z-score": zscore,
    "DBSF (mean ± 3 sd)": dbsf,
    "max": by_max,
    "min-max over the top 20": top20,
}


def measure(name: str) -> list[dict[str, Any]]:
    prep = prepare(name, progress=False)
    rows = []
    for label, normalize in VARIANTS.items():
        fusion._minmax = normalize  # type: ignore[assignment]
        row: dict[str, Any] = {"dataset": name, "variant": label}
        for half, ids in (("tune", prep.tune), ("confirm", prep.confirm)):
            ranked = rankings(prep, ids, mode="hybrid")
            row[half] = round(scores(prep, ranked)["ndcg_at_10"], 4)
        print(row, flush=True)
        rows.append(row)
    fusion._minmax = _product
    prep.index.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    args = parser.parse_args()
    info = print_machine()
    rows = [r for name in args.datasets for r in measure(name)]
    md = (
        "# Score normalization in convex fusion: hybrid nDCG@10, tune / confirm\n\n"
        f"`python bench/eval_normalization.py` ({info['nproc']} cores, {info['cpu']}, load "
        f"{info['load_1min_at_start']} at start, {info['date']}). Alpha 0.5 and the document "
        "prior 0.35 as in the product.\n\n"
        + table(
            ["dataset", "normalization", "tune", "confirm"],
            [[r["dataset"], r["variant"], f"{r['tune']:.4f}", f"{r['confirm']:.4f}"] for r in rows],
        )
        + "\n"
    )
    save("normalization", {"machine": info, "rows": rows}, md)


if __name__ == "__main__":
    main()
