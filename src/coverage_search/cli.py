"""The `coverage-search` command: build, search and inspect an index from the shell."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import io
import json
import math
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import (
    BACKENDS,
    ENGINES,
    FORMATS,
    MAX_QUERY_CHARS,
    MODES,
    PERIODS,
    SORTS,
    AddReport,
    BuildReport,
    Coverage,
    CoverageIndex,
    CoverageSearchError,
    NoIndexError,
    QueryError,
    RemoveReport,
    SearchHit,
    Watch,
    WatchReport,
    __version__,
    add_watch,
    evaluate,
    evaluate_qa,
    export_answer,
    list_feeds,
    list_watches,
    load_beir,
    load_qa,
    load_refusals,
    remove_watch,
    run_watches,
    searched_as,
)

EXAMPLES = """\
examples:
  coverage-search build
  coverage-search search "When did Dario Amodei leave OpenAI?"
  coverage-search search "tokenized pre-IPO shares" --outlet WindowsForum \\
      --since 2026-01-01 -k 3 --json
  coverage-search timeline "Anthropic tokenized shares" --by week
  coverage-search ask "Why did Dario Amodei leave OpenAI?" --format markdown > answer.md
  coverage-search watch add "Anthropic IPO" --since 2026-01-01
  coverage-search stats
  coverage-search add https://example.com/story.html --feed https://example.com/ai/rss.xml
  coverage-search update
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        type=Path,
        default=Path(os.environ.get("COVERAGE_SEARCH_INDEX", "index")),
        help="index folder (default: ./index, or $COVERAGE_SEARCH_INDEX)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON for machines instead of text"
    )


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=os.environ.get("COVERAGE_SEARCH_MODEL"),
        help="sentence-transformers model name or folder (default: $COVERAGE_SEARCH_MODEL, "
        "else the one the index was built with, else the bundled all-MiniLM-L6-v2)",
    )


def _backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("COVERAGE_SEARCH_BACKEND"),
        help="how the model runs: onnx-int8 (default for a model folder; 2.4x faster, same "
        "ranking quality), onnx or torch; queries use what the index was built with",
    )


def _engine_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="where the index is stored: local (SQLite + FAISS in the index folder, the "
        "default) or milvus; later builds keep the engine of the live build",
    )


def _corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("COVERAGE_SEARCH_CORPUS", "corpus")),
        help="corpus folder (default: ./corpus, or $COVERAGE_SEARCH_CORPUS)",
    )


def _sort_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sort", choices=SORTS, default="relevance",
        help="list the results by relevance (default) or by date, newest first (undated last)",
    )  # fmt: skip
    parser.add_argument(
        "--recency", type=float, default=0.0, metavar="W",
        help="favour newer coverage: 0 (off, the default) to 1; re-scores 4x k candidates "
        "(the app's switch uses 0.2; bench/results/recency.md)",
    )  # fmt: skip


def _literal_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--literal", action="store_true",
        help="search the words as typed: do not replace descriptions such as 'the ChatGPT "
        "maker' with names",
    )  # fmt: skip


def _filter_options(parser: argparse.ArgumentParser, *, results: bool = True) -> None:
    if results:
        parser.add_argument("-k", type=int, default=5, help="number of results (default: 5)")
    parser.add_argument(
        "--mode", choices=MODES, default="hybrid", help="retrieval mode (default: hybrid)"
    )
    parser.add_argument(
        "--outlet",
        action="append",
        default=[],
        metavar="NAME",
        help="only this outlet (repeat for several)",
    )
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only coverage published on or after")
    parser.add_argument(
        "--until", metavar="YYYY-MM-DD", help="only coverage published on or before"
    )
    parser.add_argument(
        "--language", metavar="CODE", help="only documents in this language (e.g. en)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept apart so tests and docs can inspect every verb)."""
    parser = argparse.ArgumentParser(
        prog="coverage-search",
        description="Semantic search over news coverage, with answers that cite the exact passage.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"coverage-search {__version__}")
    verbs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = verbs.add_parser(
        "build",
        help="index the corpus folder (only changed passages are embedded)",
        description="Read corpus/, cut passages, embed what changed and switch the "
        "new index live atomically.",
        epilog="examples:\n  coverage-search build --corpus corpus --index index\n"
        "  coverage-search build --engine milvus --engine-uri http://milvus.internal:19530",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _corpus_option(p)
    _common(p)
    _model_option(p)
    _backend_option(p)
    _engine_option(p)
    p.add_argument(
        "--engine-uri",
        metavar="URI",
        default=os.environ.get("COVERAGE_SEARCH_ENGINE_URI"),
        help="with --engine milvus: a Milvus server (http://host:19530, token in "
        "$COVERAGE_SEARCH_ENGINE_TOKEN) or a Milvus Lite file (default: milvus.db in the index "
        "folder, or $COVERAGE_SEARCH_ENGINE_URI)",
    )
    p.add_argument("--force", action="store_true", help="write a new build even if nothing changed")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=cmd_build)

    p = verbs.add_parser(
        "search",
        help="find the passages that best match a query",
        epilog='example:\n  coverage-search search "Responsible Scaling Policy" -k 3',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", help="a question or keywords")
    _filter_options(p)
    p.add_argument(
        "--per-document",
        type=int,
        default=2,
        metavar="N",
        help="at most N passages from one document while other documents match; fewer "
        "matching documents than -k fill the list from the same ones (0: no limit; default: 2)",
    )
    p.add_argument("--explain", action="store_true", help="show each retriever's rank and score")
    _sort_options(p)
    _literal_option(p)
    _common(p)
    _model_option(p)
    p.set_defaults(run=cmd_search)

    p = verbs.add_parser(
        "timeline",
        help="count a question's matching stories per day, week or month and per outlet",
        description="Search as `search` does (same filters), take the best-matching stories "
        "(--depth, 100 by default; copies of a story folded into one) and count them per "
        "period and per outlet. A story counts for every outlet that carries a copy of it; "
        "undated stories are counted apart. Only stories found by keyword, or close in meaning "
        "(cosine 0.3 and up), count as matching.",
        epilog='example:\n  coverage-search timeline "Anthropic tokenized shares" --by week --json',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("question", help="a question or keywords")
    p.add_argument(
        "--by", choices=PERIODS, default=None,
        help="count per day, week (from Monday) or month (default: chosen by the span)",
    )  # fmt: skip
    p.add_argument(
        "--depth", type=int, default=100, metavar="N",
        help="how many of the best-matching stories to count (default: 100)",
    )  # fmt: skip
    _filter_options(p, results=False)
    _literal_option(p)
    _common(p)
    _model_option(p)
    p.set_defaults(run=cmd_timeline)

    p = verbs.add_parser(
        "ask",
        help="answer a question with verbatim, cited sentences from the coverage",
        description="Search, then quote the 1-4 sentences of the best passages that answer the "
        "question, each marked [n] for source n in the list below it. Nothing is generated: "
        "when no sentence is close enough, it says so. Sentences are chosen by a small fitted "
        "combiner of their own similarity to the question, their neighbour's, their passage's "
        "rank, the question's rare words they hold and what the question's kind asks for "
        "(--explain shows it).",
        epilog='examples:\n  coverage-search ask "Why did Dario Amodei leave OpenAI?" --json\n'
        '  coverage-search ask "Why did Dario Amodei leave OpenAI?" --format ris > cited.ris',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("question", help="a question in plain words")
    p.add_argument(
        "--explain", action="store_true", help="say why each sentence was chosen (its features)"
    )
    p.add_argument(
        "--format", choices=FORMATS, default=None, dest="export",
        help="print the answer and its passages as Markdown (with the deep links), CSV, or RIS "
        "entries of the cited articles, instead of text",
    )  # fmt: skip
    _filter_options(p)
    _literal_option(p)
    _common(p)
    _model_option(p)
    p.set_defaults(run=cmd_ask)

    p = verbs.add_parser(
        "stats",
        help="what is in the index",
        epilog="example:\n  coverage-search stats --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p)
    p.set_defaults(run=cmd_stats)
    _add_coverage_verbs(verbs)
    _add_watch_verb(verbs)
    _add_eval_verb(verbs)
    return parser


def _add_coverage_verbs(verbs: Any) -> None:
    """add, feeds, update, remove: bring coverage into corpus/ and keep the index in step."""

    def index_options(p: argparse.ArgumentParser) -> None:
        _corpus_option(p)
        _common(p)
        _model_option(p)
        p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = verbs.add_parser(
        "add",
        help="save article URLs, files or feeds into corpus/, then update the index",
        description="Fetch each URL (or copy each file) into corpus/ as Markdown with front "
        "matter, subscribe to each --feed and fetch its entries, then index what is new. "
        "Items already in the corpus (same URL or text) are skipped and reported.",
        epilog="examples:\n  coverage-search add https://www.axios.com/2026/06/16/anthropic "
        "notes/interview.md\n  coverage-search add --feed https://techcrunch.com/category/"
        "artificial-intelligence/feed/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sources", nargs="*", metavar="URL|FILE", help="article URLs or local files")
    p.add_argument(
        "--feed", action="append", default=[], metavar="URL", help="subscribe to an RSS/Atom feed"
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, metavar="S", help="seconds per request (default: 20)"
    )
    index_options(p)
    p.set_defaults(run=cmd_add)

    p = verbs.add_parser(
        "update",
        help="fetch what is new in every subscribed feed, then update the index",
        epilog="example (daily, from cron):\n  coverage-search update --quiet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, metavar="S", help="seconds per request (default: 20)"
    )
    index_options(p)
    p.set_defaults(run=cmd_update)

    p = verbs.add_parser(
        "feeds",
        help="list the subscribed feeds",
        epilog="example:\n  coverage-search feeds --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _corpus_option(p)
    p.add_argument("--json", action="store_true", help="print JSON for machines instead of text")
    p.set_defaults(run=cmd_feeds)

    p = verbs.add_parser(
        "remove",
        help="delete documents from corpus/ and the index",
        description="Delete each document, named by doc id (its path in corpus/), file path "
        "or URL, then rebuild the index without it.",
        epilog="example:\n  coverage-search remove wire-service-why-dario-amodei-left-openai.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("documents", nargs="+", metavar="DOC", help="doc id, file path or URL")
    index_options(p)
    p.set_defaults(run=cmd_remove)


def _timeout(args: argparse.Namespace) -> float:
    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise QueryError("--timeout must be a positive, finite number of seconds.")
    return float(args.timeout)


def _print_build(report: BuildReport | None, index: Path) -> None:
    if report is None:
        print("Nothing new to index.")
    elif not report.changed:
        print(f"Index is up to date: {report.documents} documents, {report.passages} passages.")
    else:
        _report_skipped(report)
        print(
            f"Indexed {report.documents} documents into {report.passages} passages "
            f"(embedded {report.embedded}, removed {report.removed}) → {index}"
        )


def _print_added(report: AddReport, args: argparse.Namespace) -> int:
    if args.json:
        _emit(report.to_dict())
        return 1 if report.failed else 0
    for item in report.added:
        where = ", ".join(x for x in (item.outlet, item.published) if x)
        print(f"added {_name(item.doc_id)}" + (f" ({where})" if where else ""))
    for item in report.duplicates:
        print(
            f"already in the corpus ({item.duplicate_of}): "
            f"{_name(item.source)} → {_name(item.doc_id)}"
        )
    for check in report.feeds:
        name = check.title or check.url
        if check.not_modified:
            print(f"feed {name}: not modified")
        elif check.ok or check.entries:
            more = f", {check.waiting} more next update" if check.waiting else ""
            print(
                f"feed {name}: {check.entries} entries, {check.new} new, {check.added} added{more}"
            )
    for failed in report.failed:
        status = f"HTTP {failed.status}: " if failed.status else ""
        print(f"failed {_name(failed.source)}: {status}{failed.reason}", file=sys.stderr)
    _print_build(report.build, args.index)
    return 1 if report.failed else 0


def cmd_add(args: argparse.Namespace) -> int:
    if not args.sources and not args.feed:
        raise QueryError("Give at least one URL, file or --feed URL to add.")
    report = CoverageIndex.add(
        args.sources,
        corpus_dir=args.corpus,
        index_dir=args.index,
        feeds=args.feed,
        model=args.model,
        progress=not (args.quiet or args.json),
        timeout=_timeout(args),
    )
    return _print_added(report, args)


def cmd_update(args: argparse.Namespace) -> int:
    report = CoverageIndex.update(
        corpus_dir=args.corpus,
        index_dir=args.index,
        model=args.model,
        progress=not (args.quiet or args.json),
        timeout=_timeout(args),
    )
    try:
        watches = _run_all_watches(args)
    except CoverageSearchError as exc:  # e.g. no index yet: the update itself went through
        print(f"coverage-search: saved searches not run: {exc}", file=sys.stderr)
        watches = ()
    if args.json:
        data = report.to_dict()
        data["watches"] = [w.to_dict() for w in watches]
        _emit(data)
        return 1 if report.failed else 0
    if not report.feeds:
        print("No feeds subscribed. Add one: coverage-search add --feed URL")
    code = _print_added(report, args)
    _print_watch_reports(watches)
    return code


def cmd_feeds(args: argparse.Namespace) -> int:
    feeds = list_feeds(args.corpus)
    if args.json:
        _emit([dataclasses.asdict(f) for f in feeds])
        return 0
    if not feeds:
        print("No feeds subscribed. Add one: coverage-search add --feed URL")
    for feed in feeds:
        checked = f"checked {feed.checked_at}" if feed.checked_at else "never checked"
        print(f"{feed.title or '(untitled)'} — {feed.url}")
        entries = "entry" if feed.seen == 1 else "entries"
        print(f"   {feed.seen} {entries} seen, {checked}")
        if feed.last_error:
            print(f"   last problem: {feed.last_error}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    report: RemoveReport = CoverageIndex.remove(
        args.documents,
        corpus_dir=args.corpus,
        index_dir=args.index,
        model=args.model,
        progress=not (args.quiet or args.json),
    )
    if args.json:
        _emit(report.to_dict())
        return 1 if report.failed else 0
    for doc_id in report.removed:
        print(f"removed {_name(doc_id)}")
    for failed in report.failed:
        print(f"failed {_name(failed.source)}: {failed.reason}", file=sys.stderr)
    if report.removed:
        _print_build(report.build, args.index)
    return 1 if report.failed else 0


def _emit(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _report_skipped(report: BuildReport) -> None:
    for item in report.skipped:
        label = "cannot read" if item.error else "skipped"
        print(f"{label} {item.path}: {item.reason}", file=sys.stderr)
    for note in report.notices:
        print(f"note {_name(note.path)}: {note.reason}", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    report = CoverageIndex.build(
        args.corpus,
        args.index,
        model=args.model,
        backend=args.backend,
        progress=not (args.quiet or args.json),
        force=args.force,
        engine=args.engine,
        engine_uri=args.engine_uri,
    )
    _report_skipped(report)
    if args.json:
        data = report.to_dict()
        _emit(
            {
                key: data[key]
                for key in (
                    "documents",
                    "passages",
                    "embedded",
                    "reused",
                    "removed",
                    "skipped",
                    "notices",
                    "seconds",
                    "changed",
                    "index_dir",
                )
            }
        )
    elif not report.changed:
        print(
            f"Index is up to date: {report.documents} documents, {report.passages} passages "
            f"({report.seconds:.1f} s)."
        )
    else:
        print(
            f"Indexed {report.documents} documents into {report.passages} passages in "
            f"{report.seconds:.1f} s: embedded {report.embedded}, reused {report.reused}, "
            f"removed {report.removed} documents, skipped {len(report.skipped)} files"
            f" → {args.index}"
        )
    return 0


def _format_hit(hit: SearchHit, *, explain: bool) -> str:
    where = ", ".join(
        x for x in (hit.outlet, hit.published, f"p. {hit.page}" if hit.page else None) if x
    )
    lines = [f"{hit.rank}. {hit.title}" + (f" — {where}" if where else "") + f"  [{hit.score:.3f}]"]
    if hit.heading:
        lines.append(f"   § {hit.heading}")
    lines += textwrap.wrap(hit.text, width=96, initial_indent="   ", subsequent_indent="   ")
    if explain:
        parts = [
            f"{name} #{r.rank} ({r.score:.3f})"
            for name, r in (("semantic", hit.semantic), ("keyword", hit.keyword))
            if r is not None
        ]
        lines.append("   found by: " + (", ".join(parts) or "—"))
    if hit.also_in:
        lines.append("   also in: " + ", ".join(c.outlet or c.title for c in hit.also_in))
    lines.append(f"   {hit.link}")
    return "\n".join(lines)


def cmd_search(args: argparse.Namespace) -> int:
    index = CoverageIndex.open(args.index, model=args.model)
    hits = index.search(
        args.query,
        k=args.k,
        mode=args.mode,
        outlets=args.outlet,
        since=args.since,
        until=args.until,
        language=args.language,
        per_document=args.per_document,
        sort=args.sort,
        recency=args.recency,
        aliases=not args.literal,
    )
    named = searched_as(args.query, aliases=not args.literal)
    if args.json:
        # Facets: matching stories per outlet for this question and date range (not the outlet
        # filter itself, so every outlet one could pick is counted).
        facets = index.coverage(
            args.query, mode=args.mode, since=args.since, until=args.until,
            language=args.language, aliases=not args.literal,
        )  # fmt: skip
        _emit(
            {
                "query": args.query,
                "searched_as": named,
                "hits": [hit.to_dict() for hit in hits],
                "facets": {
                    "stories": facets.total,
                    "undated": facets.undated,
                    "outlets": [dataclasses.asdict(o) for o in facets.outlets],
                },
            }
        )
        return 0
    if named:
        print(f"Searched as: {named}\n")
    if not hits:
        hint = (
            " Try fewer filters."
            if (args.outlet or args.since or args.until or args.language)
            else ""
        )
        print(f"No passages match.{hint}")
    else:
        print("\n\n".join(_format_hit(h, explain=args.explain) for h in hits))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    index = CoverageIndex.open(args.index, model=args.model)
    answer = index.answer(
        args.question,
        k=args.k,
        mode=args.mode,
        outlets=args.outlet,
        since=args.since,
        until=args.until,
        language=args.language,
        aliases=not args.literal,
    )
    if args.export:
        sys.stdout.write(export_answer(answer, args.export))
        if not answer.hits:  # an export with no entry: say why on stderr, not in the file
            print(f"coverage-search: {answer.message}", file=sys.stderr)
        return 0
    if args.json:
        _emit(answer.to_dict())
        return 0
    if answer.searched_as:  # as search and timeline say it: before what was found
        print(f"Searched as: {answer.searched_as}\n")
    print(textwrap.fill(answer.text, width=96) if answer.found else answer.message)
    if args.explain and answer.found:
        print("\nWhy these sentences (combiner score; features):")
        for c in answer.sentences:
            parts = ", ".join(f"{name} {value:.2f}" for name, value in c.features)
            print(f"[{c.number}] {c.score:+.2f}: {parts}")
            print(textwrap.indent(textwrap.fill(c.sentence, width=90), "    "))
    if answer.hits:
        print("\nSources:")
    for number, hit in enumerate(answer.hits, start=1):
        where = ", ".join(x for x in (hit.outlet, (hit.published or "")[:10]) if x)
        print(f"[{number}] {hit.title}" + (f" — {where}" if where else ""))
        print(f"    {hit.link}")
    return 0


BAR_WIDTH = 40


def _timeline_table(cov: Coverage) -> str:
    """Periods with a bar and a count, the undated count, then outlets by count."""
    of = f"of the {cov.depth} best" if cov.total >= cov.depth else "matching"
    lines = [f"{cov.total} stories {of}, by {cov.period}:"]
    top = max((b.stories for b in cov.buckets), default=0) or 1
    label = {"day": "day", "week": "week of", "month": "month"}[cov.period]
    lines.append(f"  {label:<11} stories")
    for b in cov.buckets:
        bar = "█" * max(1, round(b.stories * BAR_WIDTH / top))
        lines.append(f"  {b.label:<11} {b.stories:>7}  {bar}")
    if cov.undated:
        lines.append(f"  {'undated':<11} {cov.undated:>7}")
    if cov.outlets:
        width = min(max(len(o.outlet) for o in cov.outlets), 40)
        lines.append("")
        lines.append(f"  {'outlet':<{width}} stories")
        lines += [f"  {_one_line(o.outlet)[:width]:<{width}} {o.stories:>7}" for o in cov.outlets]
    return "\n".join(lines)


def _name(text: str) -> str:
    """A file name, path or URL as typed or found, on one line: quoted with escapes if it holds
    a line break or control character (a name is shown exactly, never cleaned up)."""
    return text if text.isprintable() else repr(text)


def _one_line(text: str) -> str:
    """Text from a document on one terminal line: control characters become spaces."""
    return "".join(c if c.isprintable() else " " for c in text)


def cmd_timeline(args: argparse.Namespace) -> int:
    index = CoverageIndex.open(args.index, model=args.model)
    cov = index.coverage(
        args.question, period=args.by, mode=args.mode, outlets=args.outlet, since=args.since,
        until=args.until, language=args.language, depth=args.depth, aliases=not args.literal,
    )  # fmt: skip
    named = searched_as(args.question, aliases=not args.literal)
    if args.json:
        _emit({**cov.to_dict(), "searched_as": named})
        return 0
    if named:
        print(f"Searched as: {named}\n")
    if not cov.total:
        hint = " Try fewer filters." if (args.outlet or args.since or args.until) else ""
        print(f"No stories match.{hint}")
    else:
        print(_timeline_table(cov))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    stats = CoverageIndex.open(args.index).stats()
    if args.json:
        _emit(stats.to_dict())
        return 0
    span = f"{stats.earliest} … {stats.latest}" if stats.earliest else "no dates"
    rows = [
        ("documents", f"{stats.documents:,}"),
        ("passages", f"{stats.passages:,}"),
        ("outlets", ", ".join(stats.outlets) or "—"),
        ("published", span),
        ("languages", ", ".join(stats.languages) or "—"),
        ("model", f"{stats.model} ({stats.backend}, {stats.dimension} dims)"),
        ("vectors", f"{stats.vector_index} index"),
        ("built at", stats.built_at),
        ("index size", f"{stats.index_bytes / 1e6:.1f} MB in {stats.index_dir}"),
        ("engine", f"{stats.engine}: {stats.engine_location}"),
    ]
    print("\n".join(f"{name:>11}  {value}" for name, value in rows))
    return 0


def _add_watch_verb(verbs: Any) -> None:
    """watch add|list|remove|run: saved searches that report what is new after each update."""
    p = verbs.add_parser(
        "watch",
        help="save searches; each update (or watch run) reports the articles new to them",
        description="Saved searches live in corpus/.watches.json beside the feeds, so a rebuild "
        "keeps them. After every `coverage-search update`, and on `watch run`, each one is "
        "searched again and the articles it has not reported before are listed, each by its "
        "best passage.",
        epilog='examples:\n  coverage-search watch add "Anthropic IPO" --outlet Bloomberg\n'
        "  coverage-search watch list\n  coverage-search watch run --json\n"
        "  coverage-search watch remove 2            # or by its question",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    def options(sub: argparse.ArgumentParser, *, index: bool) -> None:
        _corpus_option(sub)
        if index:
            _common(sub)
            _model_option(sub)
        else:
            sub.add_argument("--json", action="store_true", help="print JSON for machines")

    sub = actions.add_parser("add", help="save a search (question and filters)")
    sub.add_argument("question", help="a question or keywords")
    _filter_options(sub, results=False)
    options(sub, index=True)
    sub.set_defaults(run=cmd_watch_add)
    sub = actions.add_parser("list", help="list the saved searches with their numbers")
    options(sub, index=False)
    sub.set_defaults(run=cmd_watch_list)
    sub = actions.add_parser("remove", help="forget a saved search, by number or question")
    sub.add_argument(
        "which",
        metavar="N|QUESTION",
        help="its number in `watch list`, or its question (safe while others edit the list)",
    )
    options(sub, index=False)
    sub.set_defaults(run=cmd_watch_remove)
    sub = actions.add_parser("run", help="run every saved search; list what is new")
    options(sub, index=True)
    sub.set_defaults(run=cmd_watch_run)


def _watch_line(w: Watch) -> str:
    filters = [f"outlet {o}" for o in w.outlets]
    filters += [f"{name} {v}" for name, v in (("since", w.since), ("until", w.until),
                                                ("language", w.language)) if v]  # fmt: skip
    if w.mode != "hybrid":
        filters.append(f"{w.mode} mode")
    where = f" ({', '.join(filters)})" if filters else ""
    return f"{w.number}. {_one_line(w.question)}{where}"


def cmd_watch_add(args: argparse.Namespace) -> int:
    try:
        index: CoverageIndex | None = CoverageIndex.open(args.index, model=args.model)
    except NoIndexError:
        index = None  # no index yet: the first run reports everything it finds
    try:
        before = len(list_watches(args.corpus))
        watch = add_watch(
            args.corpus, args.question, mode=args.mode, outlets=args.outlet, since=args.since,
            until=args.until, language=args.language, index=index,
        )  # fmt: skip
    finally:
        if index is not None:
            index.close()
    if args.json:
        _emit(dataclasses.asdict(watch))
    elif len(list_watches(args.corpus)) == before:  # the same search saved before
        print(f"Already saved as search {_watch_line(watch)}.")
    else:
        now = f"; {watch.seen} matching passages now" if index is not None else ""
        print(f"Saved search {_watch_line(watch)}{now}. Each update reports what is new.")
    return 0


def cmd_watch_list(args: argparse.Namespace) -> int:
    watches = list_watches(args.corpus)
    if args.json:
        _emit([dataclasses.asdict(w) for w in watches])
    elif not watches:
        print('No saved searches. Add one: coverage-search watch add "question"')
    else:
        for w in watches:
            ran = f"last run {w.last_run}" if w.last_run else "not run yet"
            print(f"{_watch_line(w)} — {ran}")
    return 0


def cmd_watch_remove(args: argparse.Namespace) -> int:
    which = args.which.strip()
    gone = remove_watch(args.corpus, int(which) if which.isdecimal() else which)
    if args.json:
        _emit(dataclasses.asdict(gone))
    else:
        print(f"Removed saved search {_watch_line(gone)}")
    return 0


def _print_watch_reports(reports: Sequence[WatchReport]) -> None:
    for r in reports:
        head = f"Saved search {_watch_line(r.watch)}"
        if r.error:
            print(f"{head}: could not run ({r.error})", file=sys.stderr)
            continue
        since = f" since {r.watch.last_run}" if r.watch.last_run else ""
        if not r.new:
            print(f"{head}: nothing new{since}")
            continue
        print(f"{head}: {len(r.new)} new{since}")
        for hit in r.new:
            where = ", ".join(x for x in (hit.outlet, (hit.published or "undated")[:10]) if x)
            print(f"  - {_one_line(hit.title)} — {_one_line(where)}")
            print(f"    {_one_line(hit.link)}")


def _run_all_watches(args: argparse.Namespace) -> tuple[WatchReport, ...]:
    if not list_watches(args.corpus):
        return ()
    index = CoverageIndex.open(args.index, model=args.model)
    try:
        return run_watches(index, args.corpus)
    finally:
        index.close()


def cmd_watch_run(args: argparse.Namespace) -> int:
    reports = _run_all_watches(args)
    if args.json:
        _emit([r.to_dict() for r in reports])
    elif not reports:
        print('No saved searches. Add one: coverage-search watch add "question"')
    else:
        _print_watch_reports(reports)
    return 0


def _add_eval_verb(verbs: Any) -> None:
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
    p.add_argument("--corpus", type=Path, metavar="C.jsonl", help="BEIR corpus")
    p.add_argument("--queries", type=Path, metavar="Q.jsonl", help="BEIR queries")
    p.add_argument("--qrels", type=Path, metavar="R.tsv", help="relevance judgments (TSV)")
    p.add_argument(
        "--qa",
        type=Path,
        metavar="QA.jsonl",
        help='questions with an "answer_span" (optional "doc_id", "kind", "split")',
    )
    p.add_argument("--refuse", type=Path, metavar="Q.jsonl", help="off-topic questions (with --qa)")
    p.add_argument(
        "--index",
        type=Path,
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
        type=Path,
        metavar="DIR",
        help="build into DIR and keep it: a rerun embeds nothing (default: a temporary folder)",
    )
    p.add_argument("--json", action="store_true", help="print JSON for machines instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _model_option(p)
    _backend_option(p)
    _engine_option(p)
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
        build_options=_build_options(args),
    )
    if args.json:
        _emit(report.to_dict())
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


def _build_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """--backend and --engine for the throwaway index an evaluation builds."""
    options = {"backend": args.backend, "engine": getattr(args, "engine", None)}
    return {k: v for k, v in options.items() if v} or None


def cmd_eval_qa(args: argparse.Namespace) -> int:
    if (args.index is None) == (args.corpus is None):
        raise QueryError("With --qa, give --index DIR or --corpus C.jsonl (one of them).")
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
        build_options=_build_options(args),
        search_options={"mode": modes[0]},
    )
    if args.json:
        _emit(report.to_dict())
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage)."""
    for stream in (sys.stdout, sys.stderr):
        # A source given as bytes that are not UTF-8 (a file name) is echoed, never a crash.
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    typed = getattr(args, "query", None) or getattr(args, "question", None)
    if isinstance(typed, str) and len(typed.strip()) > MAX_QUERY_CHARS:
        print(
            f"coverage-search: only the first {MAX_QUERY_CHARS:,} characters are searched.",
            file=sys.stderr,
        )
    try:
        return run(args)
    except QueryError as exc:
        print(f"coverage-search: {exc}", file=sys.stderr)
        return 2
    except CoverageSearchError as exc:
        print(f"coverage-search: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("coverage-search: interrupted; the index was left as it was.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the trace only when asked for
        if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
            "database or disk is full" in str(exc)  # SQLite's words (storage stays unimported)
        ):  # a full disk, or /dev/full
            print("coverage-search: no space left on the disk: free some, then try again.",
                  file=sys.stderr)  # fmt: skip
            return 1
        if os.environ.get("COVERAGE_SEARCH_DEBUG"):
            raise
        print(
            f"coverage-search: unexpected {type(exc).__name__}: {exc} "
            "(set COVERAGE_SEARCH_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
