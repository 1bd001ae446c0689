"""The `coverage-search` command: build, search and inspect an index from the shell."""

from coverage_search.cli.main import main
from coverage_search.cli.parser import build_parser

__all__ = ["build_parser", "main"]
