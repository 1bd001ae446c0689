"""How the command line prints reports, hits and tables: one line per item, names quoted."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coverage_search import AddReport, BuildReport, Coverage, SearchHit, Watch, WatchReport


def count(n: int, noun: str) -> str:
    """ "1 document", "2 documents", "1 story", "3 stories"."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {noun[:-1]}ies" if noun.endswith("y") else f"{n:,} {noun}s"


def print_build(report: BuildReport | None, index: Path) -> None:
    if report is None:
        print("Nothing new to index.")
    elif not report.changed:
        print(
            f"Index is up to date: {count(report.documents, 'document')}, "
            f"{count(report.passages, 'passage')}."
        )
    else:
        report_skipped(report)
        print(
            f"Indexed {count(report.documents, 'document')} into "
            f"{count(report.passages, 'passage')} (embedded {report.embedded}, removed "
            f"{report.removed}) → {index}"
        )


def print_added(report: AddReport, args: argparse.Namespace) -> int:
    if args.json:
        emit(report.to_dict())
        return 1 if report.failed else 0
    for item in report.added:
        where = ", ".join(x for x in (item.outlet, item.published) if x)
        print(f"added {shown(item.doc_id)}" + (f" ({where})" if where else ""))
    for item in report.duplicates:
        print(
            f"already in the corpus ({item.duplicate_of}): "
            f"{shown(item.source)} → {shown(item.doc_id)}"
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
        print(f"failed {shown(failed.source)}: {status}{failed.reason}", file=sys.stderr)
    print_build(report.build, args.index)
    return 1 if report.failed else 0


def emit(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def report_skipped(report: BuildReport) -> None:
    for item in report.skipped:
        label = "cannot read" if item.error else "skipped"
        print(f"{label} {item.path}: {item.reason}", file=sys.stderr)
    for note in report.notices:
        print(f"note {shown(note.path)}: {note.reason}", file=sys.stderr)


def format_hit(hit: SearchHit, *, explain: bool) -> str:
    where = ", ".join(
        x for x in (hit.outlet, hit.published, f"p. {hit.page}" if hit.page else None) if x
    )
    # Document text on the terminal: bidi overrides and other format characters the reading
    # kept (they belong to the text) print as spaces, so no line shows reversed.
    head = f"{hit.rank}. {hit.title}" + (f" — {where}" if where else "")
    lines = [one_line(head) + f"  [{hit.score:.3f}]"]
    if hit.heading:
        lines.append(f"   § {one_line(hit.heading)}")
    lines += textwrap.wrap(
        one_line(hit.text), width=96, initial_indent="   ", subsequent_indent="   "
    )
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


BAR_WIDTH = 40


def timeline_table(cov: Coverage) -> str:
    """Periods with a bar and a count, the undated count, then outlets by count."""
    of = f"of the {cov.depth} best" if cov.total >= cov.depth else "matching"
    lines = [f"{count(cov.total, 'story')} {of}, by {cov.period}:"]
    top = max((b.stories for b in cov.buckets), default=0) or 1
    label = {"day": "day", "week": "week of", "month": "month"}[cov.period]
    lines.append(f"  {label:<11} stories")
    for b in cov.buckets:
        bar = "█" * max(1, round(b.stories * BAR_WIDTH / top)) if b.stories else ""
        lines.append(f"  {b.label:<11} {b.stories:>7}" + (f"  {bar}" if bar else ""))
    if cov.undated:
        lines.append(f"  {'undated':<11} {cov.undated:>7}")
    if cov.outlets:
        width = min(max(len(o.outlet) for o in cov.outlets), 40)
        lines.append("")
        lines.append(f"  {'outlet':<{width}} stories")
        lines += [f"  {one_line(o.outlet)[:width]:<{width}} {o.stories:>7}" for o in cov.outlets]
    return "\n".join(lines)


def shown(text: str) -> str:
    """A file name, path or URL as typed or found, on one line: quoted with escapes if it holds
    a line break or control character (a name is shown exactly, never cleaned up)."""
    return text if text.isprintable() else repr(text)


def escaped(text: str) -> str:
    """A message for the terminal: every control character written as its escape (\\x1b),
    so names the user typed or a file held never recolour or rewrite the screen."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


_JOINERS = frozenset("\u00ad\u200c\u200d")  # soft hyphen, ZWNJ (Persian), ZWJ (emoji)


def one_line(text: str) -> str:
    """Text from a document on one terminal line: control characters and bidi overrides
    become spaces; the joiners words and emoji need are kept."""
    return "".join(c if c.isprintable() or c in _JOINERS else " " for c in text)


def watch_line(w: Watch) -> str:
    filters = [f"outlet {o}" for o in w.outlets]
    filters += [f"{name} {v}" for name, v in (("since", w.since), ("until", w.until),
                                                ("language", w.language)) if v]  # fmt: skip
    if w.mode != "hybrid":
        filters.append(f"{w.mode} mode")
    if w.literal:
        filters.append("as typed")
    where = f" ({', '.join(filters)})" if filters else ""
    return escaped(f"{w.number}. {one_line(w.question)}{where}")  # outlets as typed, too


def print_watch_reports(reports: Sequence[WatchReport]) -> None:
    for r in reports:
        head = f"Saved search {watch_line(r.watch)}"
        if r.error:
            print(f"{head}: could not run ({escaped(r.error)})", file=sys.stderr)
            continue
        since = f" since {r.watch.last_run}" if r.watch.last_run else ""
        if not r.new:
            print(f"{head}: nothing new{since}")
            continue
        print(f"{head}: {len(r.new)} new{since}")
        for hit in r.new:
            where = ", ".join(x for x in (hit.outlet, (hit.published or "undated")[:10]) if x)
            print(f"  - {one_line(hit.title)} — {one_line(where)}")
            print(f"    {one_line(hit.link)}")
