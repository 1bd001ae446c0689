"""Warm latency of a question in the app: `CoverageIndex.answer` (search + sentence scoring).

    PYTHONPATH=src .venv/bin/python bench/bench_app.py [--index index] [--corpus corpus] [--runs 20]
        [--torch-threads 1] [--question-rewrite off] [--name NAME]

Opens the index once (as the app does with st.cache_resource), warms it with one question, then
times `--runs` answers to different questions (so the query-vector cache never helps), split into
search and answer-building time, with the sentence-vector cache emptied and then filled. CPU
time is printed too: on a shared machine wall time swells with the load, CPU time does not.
Builds a throwaway index from --corpus when --index has none.
Results: bench/results/bench_app.json/.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from machine import REPO, print_machine, save, table

from coverage_search import CoverageIndex, NoIndexError, SearchSettings
from coverage_search.query.aliases import expand_aliases
from coverage_search.query.answer import (
    ANSWER_DOCUMENT_PRIOR,
    ANSWER_PER_DOCUMENT,
    ANSWER_POOL,
    answer_from_hits,
    clear_sentence_cache,
)
from coverage_search.query.evidence import question_weights

QUESTIONS = [
    "Why did Dario Amodei leave OpenAI?",
    "What did Anthropic say about tokenized shares?",
    "What is Anthropic's Responsible Scaling Policy?",
    "When did Amodei join OpenAI?",
    "Who left OpenAI with Dario Amodei?",
    "Is Anthropic against scaling?",
    "How does Claude compete with GPT models?",
    "What do critics say about AI safety policies?",
    "When did OpenAI announce Amodei was leaving?",
    "What are scaling laws?",
    "Why is OpenAI's structure under strain?",
    "Why are Windows users exposed to the AI rivalry?",
    "Who is Sam Altman?",
    "What is Anthropic's founding thesis?",
    "Does safety have veto power over deployment?",
    "Which companies compete with OpenAI?",
    "What happened in December 2020?",
    "How are enterprise buyers influenced by safety language?",
    "What is Claude Code?",
    "Are pre-IPO tokens the same as owning equity?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, default=REPO / "index")
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="torch intra-op threads (default: torch's own choice, one per core)",
    )
    parser.add_argument(
        "--question-rewrite",
        default=SearchSettings().question_rewrite,
        help="SearchSettings.question_rewrite (default: the product's); another writes "
        "results/bench_app_rewrite_<value>",
    )
    parser.add_argument("--name", default="", help="results file name (default: bench_app...)")
    args = parser.parse_args()
    settings = SearchSettings(question_rewrite=args.question_rewrite)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    info = print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            index = CoverageIndex.open(args.index, settings=settings)
        except NoIndexError:
            print(f"no index at {args.index}: building a throwaway one from {args.corpus}")
            CoverageIndex.build(args.corpus, Path(tmp) / "index", progress=False)
            index = CoverageIndex.open(Path(tmp) / "index", settings=settings)
        stats = index.stats()
        index.answer("warm up the model and the caches")
        search_ms, fresh_ms, cached_ms, cpu_ms = [], [], [], []
        for i in range(args.runs):
            question = QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" ({i})")
            c0, t0 = time.process_time(), time.perf_counter()
            # As CoverageIndex.answer does: the answer's pool is searched deeper than the 5 shown.
            hits = index.search(
                question,
                k=ANSWER_POOL,
                per_document=ANSWER_PER_DOCUMENT,
                document_prior=ANSWER_DOCUMENT_PRIOR,
            )
            weights = question_weights(index.engine, expand_aliases(question))
            t1 = time.perf_counter()
            clear_sentence_cache()  # as if these passages had never been shown before
            answer_from_hits(question, hits, index.embedder, keyword_weights=weights, show=5)
            t2, c2 = time.perf_counter(), time.process_time()
            answer_from_hits(question, hits, index.embedder, keyword_weights=weights, show=5)
            t3 = time.perf_counter()
            search_ms.append((t1 - t0) * 1000)
            fresh_ms.append((t2 - t1) * 1000)
            cached_ms.append((t3 - t2) * 1000)
            cpu_ms.append((c2 - c0) * 1000)
    steps = (
        (f"search (k={ANSWER_POOL}, the answer's pool; 5 shown)", search_ms),
        ("answer from hits, sentences new", fresh_ms),
        ("answer from hits, sentences cached", cached_ms),
        ("ask, new sentences", [a + b for a, b in zip(search_ms, fresh_ms, strict=True)]),
        ("ask, cached sentences", [a + b for a, b in zip(search_ms, cached_ms, strict=True)]),
        ("ask, new sentences: CPU time (all threads)", cpu_ms),
    )
    rows = [
        [
            name,
            f"{percentile(v, 0.5):.0f}",
            f"{percentile(v, 0.95):.0f}",
            f"{statistics.mean(v):.0f}",
        ]
        for name, v in steps
    ]
    md = (
        f"Warm `CoverageIndex.answer` latency, {args.runs} different questions, "
        f"{stats.documents} documents / {stats.passages} passages; "
        f"{info['nproc']} cores, {info['cpu']}, load {info['load_1min_at_start']}, "
        f"embedding backend {stats.backend}"
        + (f", torch threads {args.torch_threads}" if args.torch_threads else "")
        + ".\n\n"
        + table(["step", "p50 ms", "p95 ms", "mean ms"], rows)
    )
    print(md)
    name = f"bench_app_threads{args.torch_threads}" if args.torch_threads else "bench_app"
    if args.question_rewrite != SearchSettings().question_rewrite:
        name += f"_rewrite_{args.question_rewrite}"
    name = args.name or name
    save(
        name,
        {
            "torch_threads": args.torch_threads or None,
            "documents": stats.documents,
            "passages": stats.passages,
            "runs": args.runs,
            "search_ms": search_ms,
            "answer_new_ms": fresh_ms,
            "answer_cached_ms": cached_ms,
            "ask_new_cpu_ms": cpu_ms,
        },
        md,
    )


if __name__ == "__main__":
    main()
