"""The `eval` verb: BEIR retrieval and QA answer evaluation."""

from __future__ import annotations

import argparse
from typing import Any

from coverage_search import (
    MODES,
    QueryError,
    evaluate,
    evaluate_qa,
    load_beir,
    load_qa,
    load_refusals,
)
from coverage_search.cli.options import backend_option, engine_option, model_option, path_value
from coverage_search.cli.output import emit


def add_eval_verb(verbs: Any) -> None:
    """eval: search quality on a BEIR collection, every mode side by side (evaluation.py)."""
    p = verbs.add_parser(
        "eval",
        help="measure search quality (BEIR: nDCG@10, recall, MRR) or answer quality (--qa)",
        description="Build a throwaway index of a BEIR corpus (written as Markdown files and "
        "built like any corpus), run every judged query in each mode and score documents: a "
        "document scores as its best passage. With --qa, ask each question of a QA file (of an "
        "existing --index, or of a --corpus) and report where the passage holding its "
        "answer_span ranks, whether the answer quotes it, and refusals; --refuse adds "
        "off-topic questions that must be refused.",
        epilog="examples:\n  coverage-search eval --corpus scifact/corpus.jsonl "
        "--queries scifact/queries.jsonl \\\n      --qrels scifact/qrels.tsv --mode hybrid --json\n"
        "  coverage-search eval --qa bench/data/qa_seed.jsonl --index index "
        "--refuse bench/data/qa_offtopic.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", type=path_value, metavar="C.jsonl", help="BEIR corpus")
    p.add_argument("--queries", type=path_value, metavar="Q.jsonl", help="BEIR queries")
    p.add_argument("--qrels", type=path_value, metavar="R.tsv", help="relevance judgments (TSV)")
    p.add_argument(
        "--qa",
        type=path_value,
        metavar="QA.jsonl",
        help='questions with an "answer_span" (optional "doc_id", "kind", "split")',
    )
    p.add_argument(
        "--refuse", type=path_value, metavar="Q.jsonl", help="off-topic questions (with --qa)"
    )
    p.add_argument(
        "--index",
        type=path_value,
        metavar="DIR",
        help="with --qa: ask this existing index instead of building one from --corpus",
    )
    p.add_argument(
        "--split", metavar="NAME", help='with --qa: only questions of this "split" (tune, confirm)'
    )
    p.add_argument(
        "--mode",
        action="append",
        choices=MODES,
        help="repeat for several (default: keyword, semantic and hybrid)",
    )
    p.add_argument(
        "--keep-index",
        type=path_value,
        metavar="DIR",
        help="build into DIR and keep it: a rerun embeds nothing (default: a temporary folder)",
    )
    p.add_argument("--json", action="store_true", help="print JSON for machines instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    model_option(p)
    backend_option(p)
    engine_option(p)
    p.set_defaults(run=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    if args.qa is not None:
        return cmd_eval_qa(args)
    if args.corpus is None or args.queries is None or args.qrels is None:
        raise QueryError("Give --corpus, --queries and --qrels (BEIR), or --qa (answers).")
    data = load_beir(args.corpus, args.queries, args.qrels)
    modes = list(dict.fromkeys(args.mode or ["keyword", "semantic", "hybrid"]))
    report = evaluate(
        data,
        modes=modes,
        model=args.model,
        index_dir=args.keep_index,
        progress=not (args.quiet or args.json),
        build_options=build_options(args),
    )
    if args.json:
        emit(report.to_dict())
        return 0
    print(
        f"{report.dataset}: {report.documents:,} documents, {report.passages:,} passages, "
        f"{report.queries} judged queries; built in {report.build_seconds:.1f} s"
    )
    print(f"{'mode':<9} {'nDCG@10':>8} {'R@10':>7} {'R@100':>7} {'MRR@10':>7} {'p50 ms':>7}")
    for m in report.modes:
        print(
            f"{m.mode:<9} {m.ndcg_at_10:>8.4f} {m.recall_at_10:>7.4f} {m.recall_at_100:>7.4f} "
            f"{m.mrr_at_10:>7.4f} {m.p50_ms:>7.1f}"
        )
    return 0


def build_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """--backend and --engine for the throwaway index an evaluation builds."""
    options = {"backend": args.backend, "engine": getattr(args, "engine", None)}
    return {k: v for k, v in options.items() if v} or None


def cmd_eval_qa(args: argparse.Namespace) -> int:
    if (args.index is None) == (args.corpus is None):
        raise QueryError("With --qa, give --index DIR or --corpus C.jsonl (one of them).")
    if args.index is not None and args.keep_index is not None:
        raise QueryError(
            "--keep-index keeps the index built of --corpus: with --index, leave it out."
        )
    questions = load_qa(args.qa)
    if args.split:
        questions = [q for q in questions if q.split == args.split]
        if not questions:
            raise QueryError(f"No question in {args.qa} has split {args.split!r}.")
    refusals = load_refusals(args.refuse) if args.refuse else []
    modes = list(dict.fromkeys(args.mode or ["hybrid"]))
    if len(modes) > 1:
        raise QueryError("With --qa, give one --mode.")
    report = evaluate_qa(
        questions,
        refusals=refusals,
        index_dir=args.index,
        corpus=args.corpus,
        keep_index=args.keep_index,
        model=args.model,
        progress=not (args.quiet or args.json),
        build_options=build_options(args),
        search_options={"mode": modes[0]},
    )
    if args.json:
        emit(report.to_dict())
        return 0
    print(
        f"{report.name}: {report.documents:,} documents, {report.passages:,} passages, "
        f"{report.overall.questions} questions; answer p50 {report.p50_ms:.0f} ms"
    )
    header = f"{'':<10} {'n':>4} {'psg@1':>6} {'psg@3':>6} {'psg@5':>6} {'doc@1':>6}"
    print(header + f" {'quoted':>6} {'refused':>7}")
    rows = [("all", report.overall), *report.by_split.items(), *report.by_kind.items()]
    for name, s in rows:
        print(
            f"{name:<10} {s.questions:>4} {s.passage_first:>6} {s.passage_top3:>6} "
            f"{s.passage_top5:>6} {s.document_first:>6} {s.quoted:>6} {s.refused:>7}"
        )
    if report.offtopic:
        print(f"off-topic: {report.false_answers} of {report.offtopic} answered (must be refused)")
    return 0
