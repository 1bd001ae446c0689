"""Fusion table: nDCG@10 of keyword, semantic, hybrid RRF and min-max convex on ../shared/eval.

    .venv/bin/python bench/eval_fusion.py [--datasets scifact time1963] [--alphas 0.3 0.5 0.7]

Document level (a document scores as its best passage), default chunking, the real build and
search path. Queries are split in two halves by position (even = tune, odd = confirm); the
default is picked on the tune half and checked on the confirm half. Writes
bench/results/fusion.json and fusion.md.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from evalkit import prepare, rankings, scores
from machine import print_machine, save, table


def variants(alphas: list[float], rrf_k: int) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [
        ("keyword", {"mode": "keyword"}),
        ("semantic", {"mode": "semantic"}),
    ]
    out.append((f"hybrid RRF k={rrf_k}", {"mode": "hybrid", "fusion": "rrf"}))
    out += [
        (f"hybrid convex a={a:g}", {"mode": "hybrid", "fusion": "convex", "alpha": a})
        for a in alphas
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["scifact", "time1963"])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7])
    args = parser.parse_args()
    info = print_machine()
    results: dict[str, Any] = {}
    md = [
        f"# Fusion on ../shared/eval (nDCG@10, document level)\n\nMachine: {info['nproc']} cores, "
        f"{info['cpu']}, {info['ram_gib']} GiB RAM. Tune = judged queries at even positions, "
        "confirm = odd positions.\n"
    ]
    for name in args.datasets:
        prep = prepare(name)
        rrf_k = prep.index.settings.rrf_k
        halves = {"tune": prep.tune, "confirm": prep.confirm}
        print(
            f"{name}: {prep.index.stats().passages} passages, "
            f"{len(prep.tune)}+{len(prep.confirm)} queries, "
            f"build {prep.build_seconds:.0f} s ({prep.embedded} embedded)",
            flush=True,
        )
        rows: list[dict[str, Any]] = []
        for label, options in variants(args.alphas, rrf_k):
            start = time.perf_counter()
            ranked = rankings(prep, prep.tune + prep.confirm, **options)
            row: dict[str, Any] = {"variant": label, **options}
            for half, ids in halves.items():
                row[half] = scores(prep, {q: ranked[q] for q in ids})
            row["all"] = scores(prep, ranked)
            row["seconds"] = time.perf_counter() - start
            rows.append(row)
            print(
                f"  {label:<22} tune {row['tune']['ndcg_at_10']:.4f}"
                f"  confirm {row['confirm']['ndcg_at_10']:.4f}"
                f"  all {row['all']['ndcg_at_10']:.4f}  R@100 {row['all']['recall_at_100']:.4f}"
                f"  ({row['seconds']:.0f} s)",
                flush=True,
            )
        hybrids = [r for r in rows if r["mode"] == "hybrid"]
        best = max(hybrids, key=lambda r: r["tune"]["ndcg_at_10"])
        print(
            f"  best on tune: {best['variant']} (confirm {best['confirm']['ndcg_at_10']:.4f})",
            flush=True,
        )
        results[name] = {
            "passages": prep.index.stats().passages,
            "documents": len(prep.data.corpus),
            "tune_queries": len(prep.tune),
            "confirm_queries": len(prep.confirm),
            "rows": rows,
            "best_on_tune": best["variant"],
        }
        md.append(
            f"\n## {name} ({len(prep.data.corpus)} documents, "
            f"{prep.index.stats().passages} passages, "
            f"{len(prep.tune)} tune + {len(prep.confirm)} confirm queries)\n"
        )
        md.append(
            table(
                [
                    "variant",
                    "nDCG@10 tune",
                    "nDCG@10 confirm",
                    "nDCG@10 all",
                    "Recall@100 all",
                    "MRR@10 all",
                ],
                [
                    [
                        r["variant"],
                        r["tune"]["ndcg_at_10"],
                        r["confirm"]["ndcg_at_10"],
                        r["all"]["ndcg_at_10"],
                        r["all"]["recall_at_100"],
                        r["all"]["mrr_at_10"],
                    ]
                    for r in rows
                ],
            )
        )
        md.append(f"\nBest hybrid on the tune half: **{best['variant']}**.\n")
        prep.index.close()
    save("fusion", results, "\n".join(md))


if __name__ == "__main__":
    main()
