"""Verbs that change the corpus or the index: build, add, update, feeds, remove."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys

from coverage_search import (
    CoverageIndex,
    CoverageSearchError,
    QueryError,
    RemoveReport,
    list_feeds,
    unsubscribe_feed,
)
from coverage_search.cli.output import (
    count,
    emit,
    escaped,
    print_added,
    print_build,
    print_watch_reports,
    report_skipped,
    shown,
)
from coverage_search.cli.watching import run_all_watches


def timeout(args: argparse.Namespace) -> float:
    if not (args.timeout > 0 and math.isfinite(args.timeout)):
        raise QueryError("--timeout must be a positive, finite number of seconds.")
    return float(args.timeout)


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
        timeout=timeout(args),
    )
    return print_added(report, args)


def cmd_update(args: argparse.Namespace) -> int:
    report = CoverageIndex.update(
        corpus_dir=args.corpus,
        index_dir=args.index,
        model=args.model,
        progress=not (args.quiet or args.json),
        timeout=timeout(args),
    )
    try:
        watches = run_all_watches(args)
    except CoverageSearchError as exc:  # e.g. no index yet: the update itself went through
        print(f"coverage-search: saved searches not run: {escaped(str(exc))}", file=sys.stderr)
        watches = ()
    if args.json:
        data = report.to_dict()
        data["watches"] = [w.to_dict() for w in watches]
        emit(data)
        return 1 if report.failed else 0
    if not report.feeds:
        print("No feeds subscribed. Add one: coverage-search add --feed URL")
    code = print_added(report, args)
    print_watch_reports(watches)
    return code


def cmd_feeds(args: argparse.Namespace) -> int:
    if args.unsubscribe is not None:
        gone = unsubscribe_feed(args.corpus, args.unsubscribe)
        if args.json:
            emit(dataclasses.asdict(gone))
        else:
            print(f"Unsubscribed from {shown(gone.url)}; the articles it brought stay indexed.")
        return 0
    feeds = list_feeds(args.corpus)
    if args.json:
        emit([dataclasses.asdict(f) for f in feeds])
        return 0
    if not feeds:
        print("No feeds subscribed. Add one: coverage-search add --feed URL")
    for feed in feeds:
        checked = f"checked {escaped(feed.checked_at)}" if feed.checked_at else "never checked"
        print(f"{escaped(feed.title or '(untitled)')} — {shown(feed.url)}")
        entries = "entry" if feed.seen == 1 else "entries"
        print(f"   {feed.seen} {entries} seen, {checked}")
        if feed.last_error:  # a .feeds.json from before the checks may hold anything
            print(f"   last problem: {escaped(feed.last_error)}")
        if feed.given_up:
            lost = "entry" if feed.given_up == 1 else "entries"
            print(f"   {feed.given_up} {lost} given up (each reported by the update that did)")
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
        emit(report.to_dict())
        return 1 if report.failed else 0
    for doc_id in report.removed:
        print(f"removed {shown(doc_id)}")
    for failed in report.failed:
        print(f"failed {shown(failed.source)}: {failed.reason}", file=sys.stderr)
    if report.removed:
        print_build(report.build, args.index)
    return 1 if report.failed else 0


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
    report_skipped(report)
    if args.json:
        data = report.to_dict()
        emit(
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
            f"Index is up to date: {count(report.documents, 'document')}, "
            f"{count(report.passages, 'passage')} ({report.seconds:.1f} s)."
        )
    else:
        print(
            f"Indexed {count(report.documents, 'document')} into "
            f"{count(report.passages, 'passage')} in {report.seconds:.1f} s: embedded "
            f"{report.embedded}, reused {report.reused}, removed "
            f"{count(report.removed, 'document')}, skipped {count(len(report.skipped), 'file')}"
            f" → {args.index}"
        )
    return 0
