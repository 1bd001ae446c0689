"""Quality levers on ../shared/eval: passage size, overlap, embedded context, stemming, bm25 column
weights, passage pooling, candidate depth. Each is varied alone from the defaults.

    .venv/bin/python bench/eval_levers.py --group search     # no re-embedding: seconds
    .venv/bin/python bench/eval_levers.py --group stemming   # rebuilds SQLite only
    .venv/bin/python bench/eval_levers.py --group chunking [--datasets time1963] [--sizes 96 128]

Settings are chosen on the tune half of the queries (even positions) and checked on the confirm
half (odd positions). Chunking variants re-embed (SciFact: ~15k passages, minutes to tens of
minutes on 2 cores); the embedding cache in the work folder makes a repeated variant free.
Writes bench/results/levers_<group>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from evalkit import Prepared, prepare, scores
from machine import RESULTS, print_machine, save, table

from coverage_search.chunking import ChunkSettings
from coverage_search.evaluation import DEPTH, rank_documents
from coverage_search.search import SearchSettings

Ranker = Callable[[Prepared, str, str], list[str]]


def pooled(pooling: str, **options: Any) -> Ranker:
    """Rank documents from passage hits: best passage ("max"), sum, or best + half the second."""

    def rank(prep: Prepared, query: str, mode: str) -> list[str]:
        if pooling == "max":
            return rank_documents(prep.index, query, prep.names, mode=mode, **options)
        hits = prep.index.search(
            query, k=DEPTH, mode=mode, per_document=0, group_stories=False, **options
        )
        per_doc: dict[str, list[float]] = {}
        for h in hits:
            per_doc.setdefault(h.doc_id, []).append(h.score)
        if pooling == "sum":
            total = {d: sum(s) for d, s in per_doc.items()}
        else:  # "max+0.5second"
            total = {d: s[0] + 0.5 * (s[1] if len(s) > 1 else 0.0) for d, s in per_doc.items()}
        ordered = sorted(total, key=lambda d: -total[d])[:DEPTH]
        return [prep.names[d] for d in ordered]

    return rank


def measure(prep: Prepared, modes: Sequence[str], rank: Ranker) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in modes:
        ranked = {q: rank(prep, prep.data.queries[q], mode) for q in prep.tune + prep.confirm}
        out[mode] = {
            "tune": scores(prep, {q: ranked[q] for q in prep.tune})["ndcg_at_10"],
            "confirm": scores(prep, {q: ranked[q] for q in prep.confirm})["ndcg_at_10"],
            "all": scores(prep, ranked)["ndcg_at_10"],
            "recall_at_100": scores(prep, ranked)["recall_at_100"],
        }
    return out


def report(name: str, label: str, result: dict[str, Any], extra: str = "") -> None:
    cells = "  ".join(f"{m} {r['tune']:.4f}/{r['confirm']:.4f}" for m, r in result.items())
    print(f"  {name:<9} {label:<34} {cells} {extra}", flush=True)


def with_settings(prep: Prepared, settings: SearchSettings) -> None:
    prep.index.settings = settings


def run_search(name: str, fusion: dict[str, Any]) -> list[dict[str, Any]]:
    prep = prepare(name)
    base = prep.index.settings
    rows = []
    variants: list[tuple[str, SearchSettings, str, Sequence[str]]] = [
        ("default", base, "max", ("keyword", "semantic", "hybrid")),
        ("pooling sum", base, "sum", ("hybrid",)),
        ("pooling max+0.5*second", base, "max+0.5second", ("hybrid",)),
    ]
    for weights in [
        (1.0, 1.0, 1.0),
        (1.0, 0.5, 0.5),
        (1.0, 1.0, 2.0),
        (1.0, 1.0, 3.0),
        (1.0, 0.0, 0.0),
    ]:
        variants.append(
            (
                f"bm25 weights {weights}",
                replace(base, bm25_weights=weights),
                "max",
                ("keyword", "hybrid"),
            )
        )
    for depth in (50, 200, 400):
        variants.append(
            (f"min_candidates {depth}", replace(base, min_candidates=depth), "max", ("hybrid",))
        )
    for label, settings, pooling, modes in variants:
        with_settings(prep, settings)
        start = time.perf_counter()
        result = measure(prep, modes, pooled(pooling, **fusion))
        report(name, label, result, f"({time.perf_counter() - start:.0f} s)")
        rows.append({"dataset": name, "variant": label, **{m: r for m, r in result.items()}})
    with_settings(prep, base)
    prep.index.close()
    return rows


def run_build_variants(
    name: str, fusion: dict[str, Any], variants: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    rows = []
    for label, build_options in variants:
        prep = prepare(name, progress=False, **build_options)
        result = measure(prep, ("keyword", "semantic", "hybrid"), pooled("max", **fusion))
        passages = prep.index.stats().passages
        report(
            name,
            label,
            result,
            f"({passages} passages, build {prep.build_seconds:.0f} s, {prep.embedded} embedded)",
        )
        rows.append(
            {
                "dataset": name,
                "variant": label,
                "passages": passages,
                "build_seconds": prep.build_seconds,
                "embedded": prep.embedded,
                **result,
            }
        )
        prep.index.close()
    prepare(name, progress=False).index.close()  # leave the default build live
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--group", choices=["search", "stemming", "chunking"], required=True)
    parser.add_argument("--datasets", nargs="+", default=["time1963", "scifact"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[96, 128, 200, 256])
    parser.add_argument("--overlaps", type=int, nargs="*", default=[0, 2])
    parser.add_argument("--contexts", nargs="*", default=["heading", "none"])
    parser.add_argument(
        "--fusion", default=None, help="hybrid fusion to use (default: the engine's)"
    )
    parser.add_argument(
        "--alpha", type=float, default=None, help="convex weight (default: engine's)"
    )
    parser.add_argument("--render", action="store_true", help="only rewrite the .md from the .json")
    args = parser.parse_args()
    if args.render:
        args.datasets = []
    info = print_machine()
    fusion = {k: v for k, v in (("fusion", args.fusion), ("alpha", args.alpha)) if v is not None}
    default = ChunkSettings()
    rows: list[dict[str, Any]] = []
    for name in args.datasets:
        if args.group == "search":
            rows += run_search(name, fusion)
        elif args.group == "stemming":
            rows += run_build_variants(
                name,
                fusion,
                [("porter stemmer", {"stemming": True}), ("no stemmer", {"stemming": False})],
            )
        else:
            variants: list[tuple[str, dict[str, Any]]] = [("default " + repr(default), {})]
            variants += [
                (f"target_tokens {s}", {"chunking": replace(default, target_tokens=s)})
                for s in args.sizes
            ]
            variants += [
                (f"overlap_sentences {o}", {"chunking": replace(default, overlap_sentences=o)})
                for o in args.overlaps
            ]
            variants += [
                (f"context {c}", {"chunking": replace(default, context=c)}) for c in args.contexts
            ]
            rows += run_build_variants(name, fusion, variants)
    # Rows of collections not rerun this time are kept from the previous results file.
    previous = RESULTS / f"levers_{args.group}.json"
    provenance: dict[str, Any] = {}
    if previous.is_file():
        old = json.loads(previous.read_text())
        rows = [r for r in old.get("rows", []) if r["dataset"] not in args.datasets] + rows
        if args.render:  # keep the machine and command that produced the numbers
            provenance = {k: old[k] for k in ("machine", "command") if k in old}
    modes = ["keyword", "semantic", "hybrid"]
    md_rows = []
    for r in rows:
        md_rows.append(
            [r["dataset"], r["variant"]]
            + [f"{r[m]['tune']:.4f} / {r[m]['confirm']:.4f}" if m in r else "" for m in modes]
            + [r.get("passages", "")]
        )
    header = (
        f"# Levers: {args.group} (nDCG@10 tune / confirm, document = best passage unless "
        f"pooling says otherwise)\n\nMachine: {info['nproc']} cores, {info['cpu']}, "
        f"{info['ram_gib']} GiB RAM. Hybrid fusion: {fusion or 'engine default'}.\n\n"
    )
    save(
        f"levers_{args.group}",
        {"fusion": fusion, "rows": rows, **provenance},
        header + table(["dataset", "variant", *modes, "passages"], md_rows),
    )


if __name__ == "__main__":
    main()
