"""The entry point: parse, run the verb, turn every named error into one line."""

from __future__ import annotations

import argparse
import errno
import io
import os
import sys
from collections.abc import Callable, Sequence

from coverage_search import MAX_QUERY_CHARS, CoverageSearchError, QueryError
from coverage_search.cli.output import escaped
from coverage_search.cli.parser import build_parser


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
        print(f"coverage-search: {escaped(str(exc))}", file=sys.stderr)
        return 2
    except CoverageSearchError as exc:
        print(f"coverage-search: {escaped(str(exc))}", file=sys.stderr)
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
            f"coverage-search: unexpected {type(exc).__name__}: {escaped(str(exc))} "
            "(set COVERAGE_SEARCH_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1
