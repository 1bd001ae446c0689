"""The `watch` verbs: saved searches and what is new for them."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from coverage_search import (
    CoverageIndex,
    NoIndexError,
    WatchReport,
    add_watch,
    list_watches,
    remove_watch,
    run_watches,
)
from coverage_search.cli.options import (
    common,
    corpus_option,
    filter_options,
    literal_option,
    model_option,
)
from coverage_search.cli.output import emit, escaped, print_watch_reports, watch_line
from coverage_search.cli.searching import unknown_filters


def add_watch_verb(verbs: Any) -> None:
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
        corpus_option(sub)
        if index:
            common(sub)
            model_option(sub)
        else:
            sub.add_argument("--json", action="store_true", help="print JSON for machines")

    sub = actions.add_parser(
        "add",
        help="save a search (question and filters)",
        epilog='example:\n  coverage-search watch add "Anthropic IPO" --outlet Reuters '
        "--since 2026-01-01",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument("question", help="a question or keywords")
    filter_options(sub, results=False)
    literal_option(sub)
    options(sub, index=True)
    sub.set_defaults(run=cmd_watch_add)
    sub = actions.add_parser(
        "list",
        help="list the saved searches with their numbers",
        epilog="example:\n  coverage-search watch list --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options(sub, index=False)
    sub.set_defaults(run=cmd_watch_list)
    sub = actions.add_parser(
        "remove",
        help="forget a saved search, by number or question",
        epilog='example:\n  coverage-search watch remove "Anthropic IPO"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "which",
        metavar="N|QUESTION",
        help="its number in `watch list`, or its question (safe while others edit the list)",
    )
    options(sub, index=False)
    sub.set_defaults(run=cmd_watch_remove)
    sub = actions.add_parser(
        "run",
        help="run every saved search; list what is new",
        epilog="example:\n  coverage-search watch run   # after coverage-search update (cron)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options(sub, index=True)
    sub.set_defaults(run=cmd_watch_run)


def cmd_watch_add(args: argparse.Namespace) -> int:
    try:
        index: CoverageIndex | None = CoverageIndex.open(args.index, model=args.model)
    except NoIndexError:
        index = None  # no index yet: the first run reports everything it finds
    try:
        before = len(list_watches(args.corpus))
        watch = add_watch(
            args.corpus, args.question, mode=args.mode, outlets=args.outlet, since=args.since,
            until=args.until, language=args.language, index=index, literal=args.literal,
        )  # fmt: skip
        if index is not None and watch.seen == 0 and not args.json:
            unknown_filters(index, args)  # a mistyped outlet would watch nothing, and say nothing
    finally:
        if index is not None:
            index.close()
    if args.json:
        emit(dataclasses.asdict(watch))
    elif len(list_watches(args.corpus)) == before:  # the same search saved before
        print(f"Already saved as search {watch_line(watch)}.")
    else:
        now = f"; {watch.seen} matching passages now" if index is not None else ""
        print(f"Saved search {watch_line(watch)}{now}. Each update reports what is new.")
        if index is None:
            print(
                f"coverage-search: no index at {escaped(str(args.index))} yet, so the first "
                "run reports every article it finds.",
                file=sys.stderr,
            )
    return 0


def cmd_watch_list(args: argparse.Namespace) -> int:
    watches = list_watches(args.corpus)
    if args.json:
        emit([dataclasses.asdict(w) for w in watches])
    elif not watches:
        print('No saved searches. Add one: coverage-search watch add "question"')
    else:
        for w in watches:
            ran = f"last run {w.last_run}" if w.last_run else "not run yet"
            print(f"{watch_line(w)} — {ran}")
    return 0


def cmd_watch_remove(args: argparse.Namespace) -> int:
    which = args.which.strip()
    gone = remove_watch(args.corpus, int(which) if which.isdecimal() else which)
    if args.json:
        emit(dataclasses.asdict(gone))
    else:
        print(f"Removed saved search {watch_line(gone)}")
    return 0


def run_all_watches(args: argparse.Namespace) -> tuple[WatchReport, ...]:
    if not list_watches(args.corpus):
        return ()
    index = CoverageIndex.open(args.index, model=args.model)
    try:
        return run_watches(index, args.corpus)
    finally:
        index.close()


def cmd_watch_run(args: argparse.Namespace) -> int:
    reports = run_all_watches(args)
    if args.json:
        emit([r.to_dict() for r in reports])
    elif not reports:
        print('No saved searches. Add one: coverage-search watch add "question"')
    else:
        print_watch_reports(reports)
    return 0
