"""Abbreviations spelled out in queries: BEIR nDCG@10 and QA dev sets, tune and confirm halves.

    .venv/bin/python bench/eval_abbreviations.py [--datasets scifact time1963] [--qa]

The table of abbreviations each corpus defines ("aldehyde dehydrogenase 1 (ALDH1)") is found
with passages.abbreviations over the corpus' documents; a query's short forms are then
followed by their long forms (query/abbreviations.py) for both retrievers ("both"), for the
dense side only or for the keyword side only, against the query as typed ("off"); "product"
is SearchSettings.abbreviations, the mean of the query's vector and the spelled-out one's. Writes
bench/results/abbreviations.{json,md}.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from evalkit import prepare, rankings, scores
from machine import REPO, SHARED_EVAL, WORK, print_machine, save, table

from coverage_search import CoverageIndex, SearchSettings
from coverage_search.evaluation import load_beir_folder, write_corpus
from coverage_search.evaluation.qa import QAScores, ask_all, load_qa
from coverage_search.passages.abbreviations import abbreviation_table
from coverage_search.query import search as search_module
from coverage_search.query.abbreviations import expand_abbreviations

VARIANTS = ("off", "both", "dense", "keyword", "product")
HERE = Path(__file__).resolve().parent


def reopened(index: CoverageIndex, variant: str) -> CoverageIndex:
    """The index opened again with the product's setting on ("product") or off (the rest)."""
    folder = index.index_dir
    index.close()
    return CoverageIndex.open(folder, settings=SearchSettings(abbreviations=variant == "product"))


@contextlib.contextmanager
def expanded(
    index: CoverageIndex, variant: str, abbreviations: Mapping[str, str]
) -> Iterator[None]:
    """Search (and answers, which search through the same Searcher) with `variant` on: the
    query spelled out for both retrievers, its vector alone or its keywords alone."""
    # Patched where Searcher looks them up, so every search and answer sees the variant.
    named, keyword = search_module.named_query, search_module.keyword_search  # type: ignore[attr-defined]
    encode = index.embedder.encode_query

    def grow(text: str) -> str:
        return expand_abbreviations(text, abbreviations)

    patches: dict[str, Any] = {}
    if variant == "both":
        patches["named_query"] = lambda t, **o: grow(named(t, **o))
    elif variant == "keyword":
        patches["keyword_search"] = lambda t, *a, **o: keyword(grow(t), *a, **o)
    elif variant == "dense":
        index.embedder.encode_query = lambda t: encode(grow(t))  # type: ignore[method-assign]
    for name, value in patches.items():
        setattr(search_module, name, value)
    try:
        yield
    finally:
        search_module.named_query = named
        setattr(search_module, "keyword_search", keyword)  # noqa: B010 - not exported
        index.embedder.encode_query = encode  # type: ignore[method-assign]


def corpus_texts(index: CoverageIndex) -> list[str]:
    """The documents' plain text as the build parsed it (titles included)."""
    ids = [doc_id for doc_id, _, _ in index.engine.documents()]
    documents = index.engine.documents_by_id(ids)
    return [f"{d.title}\n{d.text}" for d in documents.values()]


def beir(
    name: str, md: list[str], results: dict[str, Any], variants: tuple[str, ...] = VARIANTS
) -> None:
    prep = prepare(name, progress=False)
    abbreviations = abbreviation_table(corpus_texts(prep.index))
    queries = prep.tune + prep.confirm
    touched = sum(
        expand_abbreviations(prep.data.queries[q], abbreviations) != prep.data.queries[q]
        for q in queries
    )
    rows = []
    for variant in variants:
        row: dict[str, Any] = {"variant": variant}
        prep.index = reopened(prep.index, variant)
        with expanded(prep.index, variant, abbreviations):
            for mode in ("keyword", "semantic", "hybrid"):
                ranked = rankings(prep, queries, mode=mode)
                row[mode] = {
                    half: scores(prep, {q: ranked[q] for q in ids})["ndcg_at_10"]
                    for half, ids in (("tune", prep.tune), ("confirm", prep.confirm))
                }
        print(name, row, flush=True)
        rows.append(row)
    prep.index.close()
    results[name] = {
        "abbreviations": len(abbreviations),
        "queries_touched": touched,
        "queries": len(queries),
        "rows": rows,
    }
    md.append(
        f"\n## {name}: {len(abbreviations)} abbreviations defined, {touched} of {len(queries)} "
        "judged queries expanded (nDCG@10 tune / confirm)\n\n"
        + table(
            ["variant", "keyword", "semantic", "hybrid"],
            [
                [r["variant"]]
                + [
                    f"{r[m]['tune']:.4f} / {r[m]['confirm']:.4f}"
                    for m in ("keyword", "semantic", "hybrid")
                ]
                for r in rows
            ],
        )
    )


def qa(md: list[str], results: dict[str, Any], variants: tuple[str, ...] = VARIANTS) -> None:
    time_corpus = WORK / "qa-time-corpus"
    write_corpus(load_beir_folder(SHARED_EVAL / "time1963"), time_corpus)
    sets: dict[str, tuple[Path, Path, Callable[[Any], str]]] = {
        "seed": (REPO / "corpus", WORK / "qa-seed-index", lambda h: h.doc_id),
        "time": (time_corpus, WORK / "qa-time-index", lambda h: h.doc_id.removesuffix(".md")),
    }
    rows_md = []
    for name, (corpus, folder, doc_of) in sets.items():
        if not (folder / "manifest.json").exists():
            CoverageIndex.build(corpus, folder, progress=False)
        index = CoverageIndex.open(folder)
        abbreviations = abbreviation_table(corpus_texts(index))
        questions = [
            q
            for f in (f"qa_{name}.jsonl", f"qa_{name}_train.jsonl", f"qa_{name}_fresh.jsonl")
            for q in load_qa(HERE / "data" / f)
        ]
        touched = sum(
            expand_abbreviations(q.question, abbreviations) != q.question for q in questions
        )
        for variant in variants:
            index = reopened(index, variant)
            with expanded(index, variant, abbreviations):
                outcomes, _, _ = ask_all(index, questions, [], doc_of=doc_of, progress=False)
            cells = []
            out = {}
            for half in ("tune", "confirm", "train", "fresh"):
                s = QAScores.of([o for o in outcomes if (o.split or "fresh") == half])
                out[half] = {"n": s.questions, "first": s.passage_first, "quoted": s.quoted}
                cells.append(f"{s.passage_first} / {s.quoted} of {s.questions}")
            results[f"qa_{name}_{variant}"] = {"touched": touched, **out}
            print(name, variant, out, flush=True)
            rows_md.append([name, variant, str(touched), *cells])
        index.close()
    md.append(
        "\n## QA: answer passage first / answer quotes the span\n\n"
        + table(
            ["set", "variant", "questions expanded", "tune", "confirm", "train", "fresh"], rows_md
        )
    )


def cost(names: list[str], md: list[str], results: dict[str, Any]) -> None:
    """What finding the definitions adds to a build: seconds over each collection's text."""
    rows = []
    for name in names:
        data = load_beir_folder(SHARED_EVAL / name)
        texts = [f"{title}\n{text}" for title, text in data.corpus.values()]
        megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        start = time.perf_counter()
        found = abbreviation_table(texts)
        seconds = time.perf_counter() - start
        results[f"cost_{name}"] = {"mb": megabytes, "seconds": seconds, "short_forms": len(found)}
        rows.append([name, f"{megabytes:.1f}", f"{seconds:.2f}", f"{megabytes / seconds:.0f}"])
    md.append(
        "\n## What finding the definitions costs a build (one core)\n\n"
        + table(["collection", "MB of text", "seconds", "MB/s"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="*", default=["scifact", "time1963"])
    parser.add_argument("--qa", action="store_true", help="the QA sets too")
    parser.add_argument("--cost", action="store_true", help="only time the definitions' search")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--name", default="abbreviations", help="results file name")
    args = parser.parse_args()
    if not SHARED_EVAL.is_dir():
        sys.exit(f"{SHARED_EVAL} is absent: the shared evaluation data is needed for this bench.")
    info = print_machine()
    md = [
        f"# Abbreviations spelled out in queries\n\n`{' '.join(sys.argv)}`. Machine: "
        f"{info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, load at start "
        f"{info['load_1min_at_start']}. Tune = judged queries at even positions, confirm = odd.\n"
    ]
    results: dict[str, Any] = {}
    if args.cost:
        cost(args.datasets, md, results)
        save("abbreviations_cost", {"machine": info, "results": results}, "\n".join(md) + "\n")
        return
    chosen = tuple(args.variants)
    for name in args.datasets:
        beir(name, md, results, chosen)
    if args.qa:
        qa(md, results, chosen)
    save(args.name, {"machine": info, "results": results}, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
