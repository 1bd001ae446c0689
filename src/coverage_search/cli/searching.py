"""Verbs that read the index: search, ask, timeline, stats."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import textwrap
from typing import Any

from coverage_search import CoverageIndex, QueryError, export_answer
from coverage_search.cli.output import emit, escaped, format_hit, one_line, timeline_table


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    """What search and ask share: the mode, the filters and whether descriptions are named."""
    return {
        "mode": args.mode,
        "outlets": args.outlet,
        "since": args.since,
        "until": args.until,
        "language": args.language,
        "aliases": not args.literal,
    }


def cmd_search(args: argparse.Namespace) -> int:
    index = CoverageIndex.open(args.index, model=args.model)
    hits = index.search(
        args.query,
        k=args.k,
        **_filters(args),
        per_document=args.per_document,
        sort=args.sort,
        recency=args.recency,
    )
    named = index.searched_as(args.query, aliases=not args.literal)
    if args.json:
        # Facets: matching stories per outlet for this question and date range (not the outlet
        # filter itself, so every outlet one could pick is counted).
        facets = index.coverage(
            args.query, mode=args.mode, since=args.since, until=args.until,
            language=args.language, aliases=not args.literal,
        )  # fmt: skip
        emit(
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
        unknown_filters(index, args)
    else:
        print("\n\n".join(format_hit(h, explain=args.explain) for h in hits))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.export and (args.json or args.explain):  # each would be ignored without a word
        taken = "--json" if args.json else "--explain"
        raise QueryError(f"--format {args.export} prints a file's content; leave out {taken}.")
    index = CoverageIndex.open(args.index, model=args.model)
    answer = index.answer(args.question, k=args.k, **_filters(args))
    if args.export:
        sys.stdout.write(export_answer(answer, args.export))
        if not answer.hits:  # an export with no entry: say why on stderr, not in the file
            print(f"coverage-search: {escaped(answer.message)}", file=sys.stderr)
        return 0
    if args.json:
        emit(answer.to_dict())
        return 0
    if answer.searched_as:  # as search and timeline say it: before what was found
        print(f"Searched as: {answer.searched_as}\n")
    print(
        textwrap.fill(one_line(answer.text), width=96) if answer.found else escaped(answer.message)
    )
    if not answer.hits:
        unknown_filters(index, args)
    if args.explain and answer.found:
        print("\nWhy these sentences (combiner score; features):")
        for c in answer.sentences:
            parts = ", ".join(f"{name} {value:.2f}" for name, value in c.features)
            print(f"[{c.number}] {c.score:+.2f}: {parts}")
            print(textwrap.indent(textwrap.fill(one_line(c.sentence), width=90), "    "))
    if answer.hits:  # a refusal still shows what came closest, as such
        print("\nSources:" if answer.found else "\nClosest passages (none answers):")
    for number, hit in enumerate(answer.hits, start=1):
        where = ", ".join(x for x in (hit.outlet, (hit.published or "")[:10]) if x)
        print(one_line(f"[{number}] {hit.title}" + (f" — {where}" if where else "")))
        print(f"    {hit.link}")
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    index = CoverageIndex.open(args.index, model=args.model)
    cov = index.coverage(
        args.question, period=args.by, mode=args.mode, outlets=args.outlet, since=args.since,
        until=args.until, language=args.language, depth=args.depth, aliases=not args.literal,
    )  # fmt: skip
    named = index.searched_as(args.question, aliases=not args.literal)
    if args.json:
        emit({**cov.to_dict(), "searched_as": named})
        return 0
    if named:
        print(f"Searched as: {named}\n")
    if not cov.total:
        narrowed = args.outlet or args.since or args.until or args.language
        print(f"No stories match.{' Try fewer filters.' if narrowed else ''}")
        unknown_filters(index, args)
    else:
        print(timeline_table(cov))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    stats = CoverageIndex.open(args.index).stats()
    if args.json:
        emit(stats.to_dict())
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


def unknown_filters(index: CoverageIndex, args: argparse.Namespace) -> None:
    """After an empty result: name the --outlet or --language values no document has, and the
    ones the index holds."""
    stats = index.stats()
    language = getattr(args, "language", None)
    for name, asked, known in (
        ("outlet", args.outlet or (), stats.outlets),
        ("language", [language] if language else [], stats.languages),
    ):
        folded = {k.casefold() for k in known}
        missing = [a for a in asked if a.strip() and a.strip().casefold() not in folded]
        if missing:
            more = f" and {len(known) - 12} more" if len(known) > 12 else ""
            some = ", ".join(known[:12]) + more
            named = ", ".join(f"{a!r:.60}" for a in missing[:5])  # a pasted page is no name
            named += f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            print(
                escaped(f"No {name} named {named} in this index; its {name}s: {some or 'none'}."),
                file=sys.stderr,
            )
