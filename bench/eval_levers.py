"""Quality levers on ../shared/eval: passage size, overlap, embedded context, stemming, bm25 column
passage pooling, candidate depth. Each is varied alone from the defaults.

    .venv/bin/python bench/eval_levers.py --group search     # no re-embedding: seconds
    .venv/bin/python bench/eval_levers.py --group stemming   # rebuilds SQLite only
    .venv/bin/python bench/eval_levers.py --group chunking [--datasets time1963] [--sizes 96 128]
    .venv/bin/python bench/eval_levers.py --group keyword    # query-term pruning: ~15 min
    .venv/bin/python bench/eval_levers.py --group keyword --datasets \
        --latency-index /tmp/coverage-search-bench/synthetic-100000/index   # its p50/p95

Settings are chosen on the tune half of the queries (even positions) and checked on the confirm
half (odd positions). Chunking variants re-embed (SciFact: ~15k passages, minutes to tens of
minutes on 2 cores); the embedding cache in the work folder makes a repeated variant free.
Writes bench/results/levers_<group>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from evalkit import Prepared, prepare, scores
from machine import RESULTS, SHARED_EVAL, machine, print_machine, save, table

from coverage_search.api import CoverageIndex
from coverage_search.evaluation import DEPTH, load_beir_folder, rank_documents
from coverage_search.passages.chunking import ChunkSettings
from coverage_search.query.settings import SearchSettings
from coverage_search.query.terms import keyword_terms, prune_terms

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
    # bm25 column weights were measured here before and changed nothing (results/levers_search.md);
    # the engine interface now fixes them inside the local engine.
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


def pruned_share(prep: Prepared, settings: SearchSettings) -> float:
    """The share of all query terms that keyword search leaves out under `settings`."""
    total = dropped = 0
    for q in prep.tune + prep.confirm:
        terms = keyword_terms(prep.data.queries[q])
        total += len(terms)
        if terms and settings.keyword_max_df < 1.0 and len(terms) > settings.keyword_min_terms:
            # The variants set keyword_max_df and hybrid_max_df alike.
            docs, passages = prep.index.engine.term_docs(terms)  # the engine's own counts
            kept = prune_terms(
                terms,
                docs,
                passages,
                max_df=settings.keyword_max_df,
                min_terms=settings.keyword_min_terms,
            )
            dropped += len(terms) - len(kept)
    return dropped / max(total, 1)


def run_keyword(
    name: str, fusion: dict[str, Any], max_dfs: Sequence[float], min_terms: Sequence[int]
) -> list[dict[str, Any]]:
    """Keyword and hybrid quality as query terms held by many passages are left out."""
    prep = prepare(name, progress=False)
    base = prep.index.settings
    variants = [(1.0, base.keyword_min_terms)]
    variants += [(d, base.keyword_min_terms) for d in max_dfs if d < 1.0]
    variants += [
        (d, m) for m in min_terms for d in max_dfs if d < 1.0 and m != base.keyword_min_terms
    ]
    rows = []
    for max_df, keep in variants:
        settings = replace(
            base, keyword_max_df=max_df, hybrid_max_df=max_df, keyword_min_terms=keep
        )
        with_settings(prep, settings)
        start = time.perf_counter()
        result = measure(prep, ("keyword", "hybrid"), pooled("max", **fusion))
        share = pruned_share(prep, settings)
        label = "no pruning" if max_df >= 1.0 else f"max_df {max_df:g}, min_terms {keep}"
        report(
            name,
            label,
            result,
            f"{share:.1%} of terms dropped ({time.perf_counter() - start:.0f} s)",
        )
        rows.append(
            {
                "dataset": name,
                "variant": label,
                "max_df": max_df,
                "min_terms": keep,
                "dropped_share": round(share, 4),
                **result,
            }
        )
    with_settings(prep, base)
    prep.index.close()
    return rows


def keyword_latency(folder: Path, max_dfs: Sequence[float], queries: int) -> dict[str, Any]:
    """Warm keyword and hybrid p50/p95 on a built index for each pruning threshold.

    SciFact claims as bench_speed.py asks them (same shuffle, 20 to warm up); the thresholds
    take turns on each query so bursts of load from other processes fall on all alike, and the
    query-embedding cache is emptied before every search.
    """
    from coverage_search.embed.embedder import _cached_query

    texts = list(load_beir_folder(SHARED_EVAL / "scifact").queries.values())
    random.Random(3).shuffle(texts)
    warm, timed = texts[:20], texts[20 : 20 + queries]
    index = CoverageIndex.open(folder)
    base = index.settings
    variants = [replace(base, keyword_max_df=d, hybrid_max_df=d) for d in (1.0, *max_dfs)]
    load_before = os.getloadavg()[0]
    for q in warm:
        for settings in variants:
            index.settings = settings
            for mode in ("keyword", "hybrid"):
                index.search(q, mode=mode)
    times: dict[tuple[int, str], list[float]] = {}
    for n, q in enumerate(timed):
        turn = n % len(variants)
        for i in [*range(turn, len(variants)), *range(turn)]:
            index.settings = variants[i]
            for mode in ("keyword", "hybrid"):
                _cached_query.cache_clear()
                start = time.perf_counter()
                index.search(q, mode=mode)
                times.setdefault((i, mode), []).append((time.perf_counter() - start) * 1000)
    rows = []
    for i, settings in enumerate(variants):
        row: dict[str, Any] = {"max_df": settings.keyword_max_df}
        for mode in ("keyword", "hybrid"):
            values = times[(i, mode)]
            row[f"{mode}_p50_ms"] = round(statistics.median(values), 1)
            row[f"{mode}_p95_ms"] = round(float(np.percentile(values, 95)), 1)
        rows.append(row)
        print(
            f"  latency max_df {settings.keyword_max_df:<5g} keyword p50 {row['keyword_p50_ms']}"
            f" / p95 {row['keyword_p95_ms']} ms, hybrid p50 {row['hybrid_p50_ms']}"
            f" / p95 {row['hybrid_p95_ms']} ms",
            flush=True,
        )
    result = {
        "command": " ".join(["python", *sys.argv]),
        "index": str(folder),
        "passages": index.stats().passages,
        "queries": len(timed),
        "min_terms": base.keyword_min_terms,
        "load_1min": [load_before, os.getloadavg()[0]],
        "rows": rows,
    }
    index.close()
    return result


TUNE_SLACK = 0.0  # a threshold may not lose nDCG@10 on the tune half...
CONFIRM_SLACK = 0.003  # ...nor more than this on the confirm half, on every dataset


def chosen_thresholds(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Per mode, the lowest max_df (most pruning) that passes the rule on every dataset."""
    base = {r["dataset"]: r for r in rows if r["max_df"] >= 1.0}
    out = {}
    for mode in ("keyword", "hybrid"):
        passing = []
        for max_df in sorted({r["max_df"] for r in rows}):
            tried = [r for r in rows if r["max_df"] == max_df and r["dataset"] in base]
            if tried and all(
                r[mode]["tune"] >= base[r["dataset"]][mode]["tune"] - TUNE_SLACK
                and r[mode]["confirm"] >= base[r["dataset"]][mode]["confirm"] - CONFIRM_SLACK
                for r in tried
            ):
                passing.append(max_df)
        out[mode] = min(passing, default=1.0)
    return out


def keyword_markdown(rows: Sequence[dict[str, Any]], quality_command: str | None) -> str:
    chosen = chosen_thresholds(rows)
    defaults = SearchSettings()
    return (
        f"\n\nRule: a threshold is kept when, on every dataset, it loses nothing on the tune "
        f"half and at most {CONFIRM_SLACK} on the confirm half against no pruning; the lowest "
        f"kept wins. Chosen: keyword {chosen['keyword']:g}, hybrid {chosen['hybrid']:g} "
        f"(engine defaults: keyword_max_df {defaults.keyword_max_df:g}, hybrid_max_df "
        f"{defaults.hybrid_max_df:g}). Command: `{quality_command}`."
    )


def latency_markdown(latency: dict[str, Any]) -> str:
    rows = [
        [
            "none" if r["max_df"] >= 1.0 else f"{r['max_df']:g}",
            f"{r['keyword_p50_ms']:.1f} / {r['keyword_p95_ms']:.1f}",
            f"{r['hybrid_p50_ms']:.1f} / {r['hybrid_p95_ms']:.1f}",
        ]
        for r in latency["rows"]
    ]
    before, after = latency["load_1min"]
    return (
        f"\n\n## Latency at {latency['passages']:,} passages\n\n{latency['queries']} SciFact "
        f"claims, warm, thresholds taking turns per query, min_terms {latency['min_terms']}; "
        f"index {latency['index']}; 1-minute load {before:.1f} before, {after:.1f} after. "
        f"Command: `{latency.get('command')}`.\n\n"
        + table(["max_df", "keyword p50 / p95 ms", "hybrid p50 / p95 ms"], rows)
    )


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
    parser.add_argument(
        "--group", choices=["search", "stemming", "chunking", "keyword"], required=True
    )
    parser.add_argument("--datasets", nargs="*", default=["time1963", "scifact"])
    parser.add_argument("--sizes", type=int, nargs="*", default=[96, 128, 200, 256])
    parser.add_argument("--overlaps", type=int, nargs="*", default=[0, 2])
    parser.add_argument("--contexts", nargs="*", default=["heading", "none"])
    parser.add_argument(
        "--max-dfs",
        type=float,
        nargs="*",
        default=[0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01],
        help="keyword group: prune terms in more than this share of passages",
    )
    parser.add_argument(
        "--min-terms",
        type=int,
        nargs="*",
        default=[],
        help="keyword group: also try keeping at least this many terms at every max-df",
    )
    parser.add_argument(
        "--latency-index",
        type=Path,
        default=None,
        help="keyword group: also time keyword and hybrid search on this built index",
    )
    parser.add_argument("--latency-queries", type=int, default=100)
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
        elif args.group == "keyword":
            rows += run_keyword(name, fusion, args.max_dfs, args.min_terms)
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
    latency: dict[str, Any] | None = None
    if args.group == "keyword" and args.latency_index and not args.render:
        latency = keyword_latency(args.latency_index, args.max_dfs, args.latency_queries)
    # Rows of collections not rerun this time are kept from the previous results file.
    previous = RESULTS / f"levers_{args.group}.json"
    provenance: dict[str, Any] = {}
    if previous.is_file():
        old = json.loads(previous.read_text())
        rows = [r for r in old.get("rows", []) if r["dataset"] not in args.datasets] + rows
        if args.render:  # keep the machine and command that produced the numbers
            provenance = {k: old[k] for k in ("machine", "command") if k in old}
        latency = latency or old.get("latency")
    keyword = args.group == "keyword"
    extra: dict[str, Any] = {"latency": latency} if latency else {}
    if keyword:
        quality = {"quality_command": " ".join(["python", *sys.argv]), "quality_machine": machine()}
        if (not args.datasets or args.render) and previous.is_file():
            quality = {k: old[k] for k in quality if k in old}
        extra.update(quality)
    modes = ["keyword", "hybrid"] if keyword else ["keyword", "semantic", "hybrid"]
    md_rows = []
    for r in rows:
        last = f"{r['dropped_share']:.1%}" if keyword else r.get("passages", "")
        md_rows.append(
            [r["dataset"], r["variant"]]
            + [f"{r[m]['tune']:.4f} / {r[m]['confirm']:.4f}" if m in r else "" for m in modes]
            + [last]
        )
    header = (
        f"# Levers: {args.group} (nDCG@10 tune / confirm, document = best passage unless "
        f"pooling says otherwise)\n\nMachine: {info['nproc']} cores, {info['cpu']}, "
        f"{info['ram_gib']} GiB RAM. Hybrid fusion: {fusion or 'engine default'}.\n\n"
    )
    save(
        f"levers_{args.group}",
        {"fusion": fusion, "rows": rows, **extra, **provenance},
        header
        + table(
            ["dataset", "variant", *modes, "query terms dropped" if keyword else "passages"],
            md_rows,
        )
        + (keyword_markdown(rows, extra.get("quality_command")) if keyword and rows else "")
        + (latency_markdown(latency) if latency else ""),
    )


if __name__ == "__main__":
    main()
