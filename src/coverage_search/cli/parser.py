"""The argument parser: every verb, its options and its help."""

from __future__ import annotations

import argparse
from typing import Any

from coverage_search import FORMATS, PERIODS, __version__
from coverage_search.cli.corpus import cmd_add, cmd_build, cmd_feeds, cmd_remove, cmd_update
from coverage_search.cli.evaluating import add_eval_verb
from coverage_search.cli.options import (
    backend_option,
    common,
    corpus_option,
    engine_option,
    env_text,
    filter_options,
    literal_option,
    model_option,
    sort_options,
)
from coverage_search.cli.searching import cmd_ask, cmd_search, cmd_stats, cmd_timeline
from coverage_search.cli.watching import add_watch_verb

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
    corpus_option(p)
    common(p)
    model_option(p)
    backend_option(p)
    engine_option(p)
    p.add_argument(
        "--engine-uri",
        metavar="URI",
        default=env_text("COVERAGE_SEARCH_ENGINE_URI"),  # blanks are unset, as for the others
        help="with --engine milvus: a Milvus server (http://host:19530, token in "
        "$COVERAGE_SEARCH_ENGINE_TOKEN) or a Milvus Lite file (default: milvus.db in the index "
        "folder, or $COVERAGE_SEARCH_ENGINE_URI)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write a new build even if nothing changed, or if the corpus is empty",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=cmd_build)

    p = verbs.add_parser(
        "search",
        help="find the passages that best match a query",
        epilog='example:\n  coverage-search search "Responsible Scaling Policy" -k 3',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("query", help="a question or keywords")
    filter_options(p)
    p.add_argument(
        "--per-document",
        type=int,
        default=2,
        metavar="N",
        help="at most N passages from one document while other documents match; fewer "
        "matching documents than -k fill the list from the same ones (0: no limit; default: 2)",
    )
    p.add_argument("--explain", action="store_true", help="show each retriever's rank and score")
    sort_options(p)
    literal_option(p)
    common(p)
    model_option(p)
    p.set_defaults(run=cmd_search)

    p = verbs.add_parser(
        "timeline",
        help="count a question's matching stories per day, week or month and per outlet",
        description="Search as `search` does (same filters), take the best-matching stories "
        "(--depth, 100 by default; copies of a story folded into one) and count them per "
        "period and per outlet. A story counts for every outlet that carries a copy of it; "
        "undated stories are counted apart. Only stories found by keyword holding a quarter of "
        "the question's words (by rarity), or close in meaning (cosine 0.3 and up), count.",
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
    filter_options(p, results=False)
    literal_option(p)
    common(p)
    model_option(p)
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
    filter_options(p)
    literal_option(p)
    common(p)
    model_option(p)
    p.set_defaults(run=cmd_ask)

    p = verbs.add_parser(
        "stats",
        help="what is in the index",
        epilog="example:\n  coverage-search stats --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(p)
    p.set_defaults(run=cmd_stats)
    add_coverage_verbs(verbs)
    add_watch_verb(verbs)
    add_eval_verb(verbs)
    return parser


def add_coverage_verbs(verbs: Any) -> None:
    """add, feeds, update, remove: bring coverage into corpus/ and keep the index in step."""

    def index_options(p: argparse.ArgumentParser) -> None:
        corpus_option(p)
        common(p)
        model_option(p)
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
        help="list the subscribed feeds, or stop following one",
        epilog="examples:\n  coverage-search feeds --json\n"
        "  coverage-search feeds --unsubscribe https://example.com/rss   # its articles stay",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    corpus_option(p)
    p.add_argument(
        "--unsubscribe",
        metavar="URL",
        help="stop following this feed (as listed); the articles it brought stay indexed",
    )
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
